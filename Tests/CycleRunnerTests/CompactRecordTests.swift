// Proves the ledger's compact records: every org profile and state, period record and document
// reads back equal, the same value always gives the same bytes, a damaged record is an error and
// never a crash, and a ledger whose records an earlier version stored as JSON reads and closes on
// as before.
import Foundation
import GRDB
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct CompactRecordTests {
    // MARK: Random values touching every field

    /// Integers of every size, the extremes among them, so each varint length is written.
    static func number(_ random: inout SeededRandom) -> Int64 {
        switch random.int(0...5) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1, 63, -64, 64, 127, 128][random.int(0...9)]
        case 1: return Int64(random.int(-200...200))
        case 2: return Int64(bitPattern: random.next())
        default: return Int64(random.int(0...100_000))
        }
    }

    static func text(_ random: inout SeededRandom) -> String {
        let pieces = ["", "a", "video_final", "é", "e\u{301}", "日本", "🎬", "\"", "\\", "\u{0}", ",", "\n", "Studio 7"]
        return (0..<random.int(0...4)).map { _ in pieces[random.int(0...pieces.count - 1)] }.joined()
    }

    static func date(_ random: inout SeededRandom) -> CivilDate {
        CivilDate(daysSinceEpoch: Int64(random.int(-719_000...2_900_000)))
    }

    static func instant(_ random: inout SeededRandom) -> Instant { Instant(microseconds: number(&random)) }

    static func list<Item>(_ random: inout SeededRandom, _ make: (inout SeededRandom) -> Item) -> [Item] {
        (0..<random.int(0...4)).map { _ in make(&random) }
    }

    static func usage(_ random: inout SeededRandom) -> [String: ActionUsage] {
        var usage: [String: ActionUsage] = [:]
        for _ in 0..<random.int(0...5) {
            usage[text(&random)] = ActionUsage(events: number(&random), credits: number(&random))
        }
        return usage
    }

    static func notable(_ random: inout SeededRandom) -> NotableEvent {
        NotableEvent(
            eventId: text(&random), occurredAt: instant(&random), action: text(&random), user: text(&random),
            credits: number(&random), late: random.chance(50))
    }

    static func topUp(_ random: inout SeededRandom) -> TopUpLot {
        TopUpLot(
            purchaseId: PurchaseID(text(&random)), packId: PackID(text(&random)), purchasedAt: instant(&random),
            expiresAt: random.chance(50) ? instant(&random) : nil, amount: number(&random),
            priceMinor: number(&random))
    }

    static func bankLot(_ random: inout SeededRandom) -> BankLot {
        BankLot(bankedOn: date(&random), amount: number(&random))
    }

    static func period(_ random: inout SeededRandom) -> PeriodRecord {
        PeriodRecord(
            orgId: OrgID(text(&random)), periodStart: date(&random), periodEnd: date(&random),
            planId: PlanID(text(&random)), openingCurrent: number(&random), openingBank: number(&random),
            openingTopUp: number(&random), openingDeficit: number(&random), usageEvents: number(&random),
            usageCredits: number(&random), fromCurrent: number(&random), fromBank: number(&random),
            fromTopUp: number(&random), overdraft: number(&random), prorationCredits: number(&random),
            topUpCredits: number(&random), deficitRepaid: number(&random), expiredTopUp: number(&random),
            refundedCredits: number(&random), closingCurrent: number(&random), closingBank: number(&random),
            closingTopUp: number(&random), closingDeficit: number(&random), expiredAge: number(&random),
            rolledOver: number(&random), expiredCap: number(&random), freshCredits: number(&random),
            deficitSettled: number(&random), overageBilled: number(&random), nextCurrent: number(&random),
            nextBank: number(&random), nextTopUp: number(&random), nextDeficit: number(&random),
            lateEvents: number(&random), planName: text(&random), monthlyCreditsNext: number(&random),
            usageByAction: usage(&random), mostExpensive: list(&random, notable),
            eventsWithoutPermission: number(&random), creditsWithoutPermission: number(&random),
            eventsByUnknownMembers: number(&random), bankLotsAfter: list(&random, bankLot),
            topUpLotsAfter: list(&random, topUp))
    }

    static func state(_ random: inout SeededRandom) -> OrgState {
        var state = OrgState(orgId: OrgID(text(&random)), startDate: date(&random), plan: PlanID(text(&random)))
        state.started = random.chance(50)
        state.periodIndex = Int(number(&random))
        state.pendingPlan = random.chance(50) ? PlanID(text(&random)) : nil
        state.current = number(&random)
        state.bank = list(&random, bankLot)
        state.topUps = list(&random, topUp)
        state.deficit = number(&random)
        let statuses: [PurchaseStatus] = [.untouched, .touched, .expired, .refunded]
        for _ in 0..<random.int(0...4) { state.purchases[PurchaseID(text(&random))] = statuses[random.int(0...3)] }
        if random.chance(75) {
            var period = PeriodAccumulator(start: date(&random), end: date(&random))
            period.openingCurrent = number(&random)
            period.openingBank = number(&random)
            period.openingTopUp = number(&random)
            period.openingDeficit = number(&random)
            period.usageEvents = number(&random)
            period.usageCredits = number(&random)
            period.fromCurrent = number(&random)
            period.fromBank = number(&random)
            period.fromTopUp = number(&random)
            period.overdraft = number(&random)
            period.prorationCredits = number(&random)
            period.topUpCredits = number(&random)
            period.deficitRepaid = number(&random)
            period.expiredTopUp = number(&random)
            period.refundedCredits = number(&random)
            period.lateEvents = number(&random)
            period.usageByAction = usage(&random)
            period.mostExpensive = list(&random, notable)
            period.eventsWithoutPermission = number(&random)
            period.creditsWithoutPermission = number(&random)
            period.eventsByUnknownMembers = number(&random)
            period.prorations = list(&random) { random in
                ProrationCharge(
                    at: instant(&random), fromPlan: PlanID(text(&random)), toPlan: PlanID(text(&random)),
                    amountMinor: number(&random), credits: number(&random))
            }
            state.period = period
        }
        return state
    }

    static func optionalText(_ random: inout SeededRandom) -> String? { random.chance(50) ? text(&random) : nil }

    static func optionalDate(_ random: inout SeededRandom) -> CivilDate? { random.chance(50) ? date(&random) : nil }

    static func party(_ random: inout SeededRandom) -> Party {
        Party(
            name: text(&random), street: text(&random), city: text(&random), postalCode: text(&random),
            countryCode: text(&random), vatId: optionalText(&random), endpointId: optionalText(&random))
    }

    static func document(_ random: inout SeededRandom) -> Document {
        let kinds: [LineKind] = [.subscription, .proration, .overage, .pack]
        return Document(
            number: text(&random), kind: random.chance(50) ? .invoice : .creditNote,
            source: [DocumentSource.renewal, .topUp, .refund][random.int(0...2)], sourceId: text(&random),
            orgId: text(&random), issueInstant: instant(&random), issueDate: date(&random), dueDate: date(&random),
            currencyCode: text(&random), seller: party(&random), buyer: party(&random),
            buyerReference: optionalText(&random),
            payment: PaymentDetails(iban: optionalText(&random), paymentTermsDays: Int(number(&random))),
            tax: TaxTreatment(categoryCode: text(&random), rateHundredths: number(&random)),
            lines: list(&random) { random in
                DocumentLine(
                    kind: kinds[random.int(0...3)], itemName: text(&random), note: optionalText(&random),
                    quantity: number(&random), unitPrice: UnitPrice(scaledAmount: number(&random)),
                    amountMinor: number(&random), periodStart: optionalDate(&random), periodEnd: optionalDate(&random))
            }, periodStart: optionalDate(&random), periodEnd: optionalDate(&random),
            referencedNumber: optionalText(&random), referencedSourceId: optionalText(&random),
            isDraft: random.chance(50))
    }

    static func profile(_ random: inout SeededRandom) -> OrgProfile {
        OrgProfile(
            id: OrgID(text(&random)), name: text(&random), firstPlanId: PlanID(text(&random)),
            startDate: date(&random), currencyCode: text(&random), countryCode: text(&random),
            street: text(&random), city: text(&random), postalCode: text(&random),
            tax: TaxTreatment(categoryCode: text(&random), rateHundredths: number(&random)),
            vatId: optionalText(&random), endpointId: optionalText(&random), buyerReference: optionalText(&random),
            customTerms: random.chance(50)
                ? CustomTerms(monthlyCredits: number(&random), bankCap: number(&random), priceMinor: number(&random))
                : nil)
    }

    // MARK: Round trips

    @Test func periodRecordsReadBackEqual() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SeededRandom(seed: UInt64(seed))
            let period = Self.period(&random)
            let bytes = CompactRecord.bytes(period)
            #expect(bytes.first == CompactRecord.formatVersion)
            let decoded = try? CompactRecord.decode(PeriodRecord.self, bytes)
            #expect(decoded == period)
            // `==` takes canonically equivalent texts for equal: the bytes must come back too.
            #expect(decoded.map(CompactRecord.bytes) == bytes)
            let brief = try? bytes.withUnsafeBytes { try PeriodRecord.brief($0) }
            #expect(brief?.planId == period.planId && brief?.usageCredits == period.usageCredits)
        }
    }

    @Test func orgStatesReadBackEqual() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SeededRandom(seed: UInt64(seed))
            let state = Self.state(&random)
            let bytes = CompactRecord.bytes(state)
            let decoded = try? CompactRecord.decode(OrgState.self, bytes)
            #expect(decoded == state)
            #expect(decoded.map(CompactRecord.bytes) == bytes)
        }
    }

    @Test func documentsReadBackEqual() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SeededRandom(seed: UInt64(seed))
            let document = Self.document(&random)
            let bytes = CompactRecord.bytes(document)
            let decoded = try? CompactRecord.decode(Document.self, bytes)
            #expect(decoded == document)
            #expect(decoded.map(CompactRecord.bytes) == bytes)
        }
    }

    /// The stored properties of every type in a compact record, as its layout writes them: a
    /// property added to a type fails here until the layout has it (under a new format byte),
    /// since the round trips above cannot see a property neither side knows of.
    @Test func everyStoredPropertyIsInTheLayout() {
        func labels(_ value: Any) -> Set<String> { Set(Mirror(reflecting: value).children.compactMap(\.label)) }
        var random = SeededRandom(seed: 1)
        let period = Self.period(&random)
        #expect(labels(period).count == 43)
        var state = Self.state(&random)
        state.period = PeriodAccumulator(start: state.startDate, end: state.startDate)
        #expect(
            labels(state) == [
                "orgId", "startDate", "started", "periodIndex", "plan", "pendingPlan", "current", "bank", "topUps",
                "deficit", "purchases", "period",
            ])
        #expect(labels(state.period!).count == 24)
        #expect(labels(Self.topUp(&random)).count == 6)
        #expect(labels(Self.bankLot(&random)).count == 2)
        #expect(labels(Self.notable(&random)).count == 6)
        #expect(labels(ActionUsage()).count == 2)
        let charge = ProrationCharge(
            at: Instant(microseconds: 0), fromPlan: PlanID("a"), toPlan: PlanID("b"), amountMinor: 0, credits: 0)
        #expect(labels(charge).count == 5)
        let document = Self.document(&random)
        // A document keeps its fields in a shared box.
        let box = Mirror(reflecting: document).children.first!.value
        let fields = Mirror(reflecting: box).children.first!.value
        #expect(labels(fields).count == 20)
        #expect(labels(document.seller).count == 7)
        #expect(labels(document.payment).count == 2)
        #expect(labels(document.tax).count == 2)
        let line = DocumentLine.single(kind: .pack, itemName: "x", amountMinor: 1)
        #expect(labels(line).count == 8)
        #expect(labels(line.unitPrice).count == 1)
        var profile = Self.profile(&random)
        profile.customTerms = CustomTerms(monthlyCredits: 1, bankCap: 2, priceMinor: 3)
        #expect(labels(profile).count == 14)
        #expect(labels(profile.customTerms!).count == 3)
    }

    @Test func orgProfilesReadBackEqual() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SeededRandom(seed: UInt64(seed))
            let profile = Self.profile(&random)
            let bytes = CompactRecord.bytes(profile)
            let decoded = try? CompactRecord.decode(OrgProfile.self, bytes)
            #expect(decoded == profile)
            #expect(decoded.map(CompactRecord.bytes) == bytes)
        }
    }

    /// Two fields swapped in the layout would still read back equal if both held the same
    /// value: every field of this record holds a different one.
    @Test func everyNumberOfAPeriodKeepsItsPlace() throws {
        var random = SeededRandom(seed: 7)
        var period = Self.period(&random)
        let paths: [WritableKeyPath<PeriodRecord, Int64>] = [
            \.openingCurrent, \.openingBank, \.openingTopUp, \.openingDeficit, \.usageEvents, \.usageCredits,
            \.fromCurrent, \.fromBank, \.fromTopUp, \.overdraft, \.prorationCredits, \.topUpCredits,
            \.deficitRepaid, \.expiredTopUp, \.refundedCredits, \.closingCurrent, \.closingBank, \.closingTopUp,
            \.closingDeficit, \.expiredAge, \.rolledOver, \.expiredCap, \.freshCredits, \.deficitSettled,
            \.overageBilled, \.nextCurrent, \.nextBank, \.nextTopUp, \.nextDeficit, \.lateEvents,
            \.monthlyCreditsNext, \.eventsWithoutPermission, \.creditsWithoutPermission, \.eventsByUnknownMembers,
        ]
        for (index, path) in paths.enumerated() { period[keyPath: path] = Int64(1_000 + index) }
        let decoded = try CompactRecord.decode(PeriodRecord.self, CompactRecord.bytes(period))
        for (index, path) in paths.enumerated() { #expect(decoded[keyPath: path] == Int64(1_000 + index)) }
        #expect(decoded == period)
    }

    @Test func theSameStateGivesTheSameBytesInAnyInsertionOrder() throws {
        var first = OrgState(orgId: OrgID("o1"), startDate: CivilDate(year: 2026, month: 1, day: 1), plan: PlanID("b"))
        var second = first
        let ids = (1...40).map { "p\($0)" }
        for id in ids { first.purchases[PurchaseID(id)] = .touched }
        for id in ids.reversed() { second.purchases[PurchaseID(id)] = .touched }
        var period = PeriodAccumulator(start: first.startDate, end: CivilDate(year: 2026, month: 2, day: 1))
        var reversed = period
        let actions = (1...30).map { "action\($0)" }
        for action in actions { period.usageByAction[action] = ActionUsage(events: 1, credits: 2) }
        for action in actions.reversed() { reversed.usageByAction[action] = ActionUsage(events: 1, credits: 2) }
        first.period = period
        second.period = reversed
        #expect(CompactRecord.bytes(first) == CompactRecord.bytes(second))
    }

    /// The layout of format 1, pinned: the bytes of records drawn from a fixed seed. A ledger
    /// holds records of every layout it was ever written with, so a layout is never changed in
    /// place: a change takes a new format byte, a reader for it beside this one, and a new pin.
    @Test func formatOneIsPinned() {
        var random = SeededRandom(seed: 2026)
        var hash = SHA256()
        for _ in 0..<50 {
            hash.update(CompactRecord.bytes(Self.period(&random)))
            hash.update(CompactRecord.bytes(Self.state(&random)))
            hash.update(CompactRecord.bytes(Self.document(&random)))
            hash.update(CompactRecord.bytes(Self.profile(&random)))
        }
        #expect(hash.hexDigest() == "4105a92fcaef97e350bf0c512fa28751db083231dafca9229f1d554da7187f96")
    }

    // MARK: Damage

    /// Every shorter prefix of a record, and the record with a byte more, is refused.
    @Test func truncatedOrExtendedRecordsAreErrors() {
        var random = SeededRandom(seed: 11)
        for _ in 0..<20 {
            let bytes = CompactRecord.bytes(Self.state(&random))
            for length in 0..<bytes.count {
                #expect(throws: CompactRecordError.self) {
                    try CompactRecord.decode(OrgState.self, Array(bytes[0..<length]))
                }
            }
            #expect(throws: CompactRecordError.self) { try CompactRecord.decode(OrgState.self, bytes + [0]) }
            let document = CompactRecord.bytes(Self.document(&random))
            for length in 0..<document.count {
                #expect(throws: CompactRecordError.self) {
                    try CompactRecord.decode(Document.self, Array(document[0..<length]))
                }
            }
        }
    }

    /// Random damage either reads as some record or is an error; it never traps.
    @Test func damagedRecordsNeverCrash() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...Int.max), Gen.int(in: 1...8)) { seed, changes in
            var random = SeededRandom(seed: UInt64(seed))
            var periodBytes = CompactRecord.bytes(Self.period(&random))
            var stateBytes = CompactRecord.bytes(Self.state(&random))
            var documentBytes = CompactRecord.bytes(Self.document(&random))
            var profileBytes = CompactRecord.bytes(Self.profile(&random))
            for _ in 0..<changes {
                profileBytes[random.int(1...profileBytes.count - 1)] = UInt8(random.int(0...255))
                periodBytes[random.int(1...periodBytes.count - 1)] = UInt8(random.int(0...255))
                stateBytes[random.int(1...stateBytes.count - 1)] = UInt8(random.int(0...255))
                documentBytes[random.int(1...documentBytes.count - 1)] = UInt8(random.int(0...255))
            }
            _ = try? CompactRecord.decode(PeriodRecord.self, periodBytes)
            _ = try? CompactRecord.decode(OrgState.self, stateBytes)
            _ = try? CompactRecord.decode(Document.self, documentBytes)
            _ = try? CompactRecord.decode(OrgProfile.self, profileBytes)
        }
    }

    /// Each damage is refused by the check meant for it (a case that another check would also
    /// catch further on cannot tell whether its own check works).
    @Test(arguments: [
        ("an unknown format", [UInt8(2)], "unknown record format"),
        ("a varint past 64 bits", [1] + Array(repeating: 0xFF, count: 9) + [0x02], "longer than 64 bits"),
        ("a text count past the end", [1, 0x7F, 0x61], "a count past the record's end"),
        ("a text that is not UTF-8", [1, 2, 0xC3, 0x28], "not UTF-8"),
        ("month 13", [1, 1, 0x61, 0xA4, 0x1F, 13, 1], "not a calendar date"),
        ("February 30", [1, 1, 0x61, 0xA4, 0x1F, 2, 30], "not a calendar date"),
        ("a boolean 2", [1, 1, 0x61, 0xA4, 0x1F, 1, 1, 2], "a boolean"),
    ])
    func malformedRecordsAreRefused(_ what: String, _ bytes: [UInt8], _ reason: String) {
        do {
            _ = try CompactRecord.decode(OrgState.self, bytes)
            Issue.record("\(what) was read as a record")
        } catch let error as CompactRecordError {
            #expect(error.reason.contains(reason), "\(what): \(error.reason)")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    /// A count is checked against the bytes left, one byte an item, but an item takes far more
    /// memory than that: a record claiming 250 M document lines over 250 MB of zero bytes asked
    /// for 32 GB up front and aborted the process. It is an error now, like any other damage.
    @Test func aHugeCountDoesNotReserveMemoryForIt() throws {
        var random = SeededRandom(seed: 3)
        var document = Self.document(&random)
        document.lines = []
        document.periodStart = nil
        document.periodEnd = nil
        document.referencedNumber = nil
        document.referencedSourceId = nil
        document.isDraft = false
        // The lines' count (0), then four absent optionals and a false.
        let bytes = CompactRecord.bytes(document)
        #expect(Array(bytes.suffix(6)) == [0, 0, 0, 0, 0, 0])
        var head = Array(bytes.dropLast(6))
        let claimed = 250_000_000
        var count = UInt64(claimed)
        while count >= 0x80 {
            head.append(UInt8(truncatingIfNeeded: count) | 0x80)
            count >>= 7
        }
        head.append(UInt8(count))
        // Zero bytes made at once (appending them one by one took 40 s in a debug build).
        var hostile = [UInt8](repeating: 0, count: head.count + claimed)
        hostile.replaceSubrange(0..<head.count, with: head)
        #expect(throws: CompactRecordError.self) { try CompactRecord.decode(Document.self, hostile) }
    }

    /// A document's kind is stored by name; a name no version wrote is refused.
    @Test func anUnknownDocumentKindIsRefused() throws {
        var random = SeededRandom(seed: 5)
        var document = Self.document(&random)
        document.number = "N"
        document.kind = .invoice
        var bytes = CompactRecord.bytes(document)
        // The format byte, the number (a count and "N"), then the kind: 7 and "invoice".
        #expect(Array(bytes[3..<11]) == [7] + Array("invoice".utf8))
        bytes[4] = UInt8(ascii: "I")
        #expect(throws: CompactRecordError.self) { try CompactRecord.decode(Document.self, bytes) }
    }

    // MARK: Ledgers

    /// An earlier version stored the same records as JSON text: a ledger holding them reads the
    /// same records, writes the same files when its close is run again, and closes the next
    /// months exactly as a ledger in the compact format does.
    @Test func aLedgerWithJSONRecordsReadsAndClosesOnAsBefore() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 83, orgs: 6, months: 3, events: 10)
        let firstMonth = CivilDate(year: 2026, month: 2, day: 28)
        let compact = TestPaths.temporaryFolder("compact-records")
        let json = TestPaths.temporaryFolder("json-records")
        _ = try Fixtures.close(input, compact, through: firstMonth)
        _ = try Fixtures.close(input, json, through: firstMonth)
        let rewritten = try Ledger(path: json + "/ledger.sqlite").storeRecordsAsJSON()
        #expect(rewritten >= 12, "six org states and at least a period each")

        let compactLedger = try Ledger(path: compact + "/ledger.sqlite", readOnly: true)
        let jsonLedger = try Ledger(path: json + "/ledger.sqlite", readOnly: true)
        let run = try #require(try compactLedger.allRunIds().first)
        #expect(try jsonLedger.periods(run: run) == compactLedger.periods(run: run))
        #expect(try jsonLedger.documents(run: run) == compactLedger.documents(run: run))
        #expect(try !compactLedger.documents(run: run).isEmpty)
        #expect(try jsonLedger.verify().problems.contains { $0.contains("cannot be read") } == false)
        #expect(try jsonLedger.orgs().map(\.state) == compactLedger.orgs().map(\.state))
        #expect(try jsonLedger.orgs().map(\.profile) == compactLedger.orgs().map(\.profile))
        let org = try #require(try compactLedger.orgs().first?.profile.id)
        #expect(try jsonLedger.periods(org: org) == compactLedger.periods(org: org))
        let since = CivilDate(year: 2025, month: 1, day: 1)
        #expect(try jsonLedger.periodBriefs(since: since) == compactLedger.periodBriefs(since: since))
        #expect(try !compactLedger.periodBriefs(since: since).isEmpty)

        let before = Fixtures.snapshot(json)
        _ = try Fixtures.close(input, json, through: firstMonth)
        #expect(Fixtures.snapshot(json) == before)

        _ = try Fixtures.close(input, compact, through: last)
        _ = try Fixtures.close(input, json, through: last)
        // A close report shows the ledger's fingerprint, which covers the rows as they are
        // stored; every other file is the same.
        let compactFiles = Fixtures.snapshot(compact).filter { !$0.key.hasSuffix("report.html") }
        let jsonFiles = Fixtures.snapshot(json).filter { !$0.key.hasSuffix("report.html") }
        #expect(compactFiles.count > 10)
        #expect(compactFiles == jsonFiles)
    }

    /// A ledger holds records of the layouts its versions wrote, and a version reads only the
    /// layouts it knows: a ledger with a migration this version does not know is refused by
    /// every command, and left as it was.
    @Test func aLedgerFromANewerVersionIsRefusedUnchanged() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 85, orgs: 3, months: 2, events: 4)
        let output = TestPaths.temporaryFolder("newer-ledger")
        _ = try Fixtures.close(input, output, through: CivilDate(year: 2026, month: 1, day: 31))
        let path = output + "/ledger.sqlite"
        try Ledger(path: path).execute(
            unchecked: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-a-later-version')")
        #expect(throws: LedgerVersionError.self) { try Ledger(path: path) }
        #expect(throws: LedgerVersionError.self) { try Ledger(path: path, readOnly: true) }
        let close = try CLI.run(["close", "--through", last.description, "--input", input, "--output", output])
        #expect(close.status != 0 && close.stderr.contains("newer version of CycleRunner"), "\(close.stderr)")
        let verify = try CLI.run(["verify", "--output", output])
        #expect(verify.status == 4 && verify.stderr.contains("newer version of CycleRunner"), "\(verify.stderr)")
        let balances = try CLI.run(["balances", "--output", output])
        #expect(balances.status != 0 && balances.stderr.contains("newer version of CycleRunner"))
        let runs = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") }
        #expect(runs == 1)
    }
}

extension Ledger {
    /// Rewrites every compact org profile and state, period record and document as the JSON text
    /// an earlier version stored (rows already JSON stay), and returns how many rows it rewrote;
    /// tests only.
    func storeRecordsAsJSON() throws -> Int {
        try pool.writeWithoutTransaction { db in
            var rewritten = 0
            for row in try Row.fetchAll(db, sql: "SELECT rowid, record FROM periods WHERE typeof(record) = 'blob'") {
                let bytes: Data = row["record"]
                let period = try CompactRecord.decode(PeriodRecord.self, [UInt8](bytes))
                try db.execute(
                    sql: "UPDATE periods SET record = ? WHERE rowid = ?",
                    arguments: [JSONOut.encodedText(period).string, row["rowid"] as Int64])
                rewritten += 1
            }
            for row in try Row.fetchAll(db, sql: "SELECT rowid, state FROM orgs WHERE typeof(state) = 'blob'") {
                let bytes: Data = row["state"]
                let state = try CompactRecord.decode(OrgState.self, [UInt8](bytes))
                try db.execute(
                    sql: "UPDATE orgs SET state = ? WHERE rowid = ?",
                    arguments: [JSONOut.encodedText(state).string, row["rowid"] as Int64])
                rewritten += 1
            }
            let profiles = "SELECT rowid, profile FROM orgs WHERE typeof(profile) = 'blob'"
            for row in try Row.fetchAll(db, sql: profiles) {
                let bytes: Data = row["profile"]
                let profile = try CompactRecord.decode(OrgProfile.self, [UInt8](bytes))
                try db.execute(
                    sql: "UPDATE orgs SET profile = ? WHERE rowid = ?",
                    arguments: [JSONOut.encodedText(profile).string, row["rowid"] as Int64])
            }
            let documents = "SELECT rowid, document FROM documents WHERE typeof(document) = 'blob'"
            for row in try Row.fetchAll(db, sql: documents) {
                let bytes: Data = row["document"]
                let document = try CompactRecord.decode(Document.self, [UInt8](bytes))
                try db.execute(
                    sql: "UPDATE documents SET document = ? WHERE rowid = ?",
                    arguments: [JSONOut.encodedText(document).string, row["rowid"] as Int64])
                rewritten += 1
            }
            return rewritten
        }
    }
}
