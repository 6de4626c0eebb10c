// Proves the hand-written JSON writers of the ledger's period records, org states and documents and of the statements write exactly Foundation's sorted-key bytes, on the rows of real closes and on awkward texts.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

struct DirectJSONTests {
    /// The value's hand-written JSON next to Foundation's, plain and pretty.
    static func compare<Value: JSONWritable & Encodable>(_ value: Value) throws {
        for (pretty, slashes) in [(false, true), (true, false), (true, true)] {
            let ours = JSONOut.encode(value, prettyPrinted: pretty, escapesSlashes: slashes)
            let theirs = Array(try Fixtures.foundationEncoder(pretty: pretty, escapesSlashes: slashes).encode(value))
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self))
        }
    }

    /// The samples (plan changes, top-ups, refunds, late rows, a queue) and a generated input
    /// with overdrafts: every period record, org state and statement their closes store or write.
    static let closes: [String] = {
        let samples = TestPaths.temporaryFolder("direct-json-samples")
        _ = try! ClosePipeline.close(
            CloseOptions(
                through: CivilDate.parse("2026-11-30")!, inputFolder: TestPaths.repository.path + "/samples",
                outputFolder: samples))
        let (input, last) = try! Fixtures.generatedInput(seed: 21, orgs: 12, months: 4, events: 30)
        let generated = TestPaths.temporaryFolder("direct-json-generated")
        _ = try! Fixtures.close(input, generated, through: last)
        return [samples, generated]
    }()

    @Test(arguments: 0..<2)
    func periodRecordsAndOrgProfilesAndStatesMatchFoundation(close: Int) throws {
        let ledger = try Ledger(path: Self.closes[close] + "/ledger.sqlite", readOnly: true)
        var periods = 0
        var states = 0
        for run in try ledger.allRunIds() {
            for period in try ledger.periods(run: run) {
                try Self.compare(period)
                periods += 1
            }
        }
        for org in try ledger.orgs() {
            try Self.compare(org.profile)
            if let state = org.state {
                try Self.compare(state)
                states += 1
            }
        }
        #expect(periods > 20 && states > 5)
    }

    @Test(arguments: 0..<2)
    func documentsMatchFoundation(close: Int) throws {
        let ledger = try Ledger(path: Self.closes[close] + "/ledger.sqlite", readOnly: true)
        var documents: [Document] = []
        for run in try ledger.allRunIds() { documents += try ledger.documents(run: run) }
        for document in documents { try Self.compare(document) }
        #expect(documents.count > 10)
        // Every optional both present and absent, whatever the closes held.
        var document = try #require(documents.first)
        for present in [false, true] {
            let text: String? = present ? "a/\"b\" é" : nil
            let date: CivilDate? = present ? CivilDate.parse("2026-02-01")! : nil
            document.buyerReference = text
            document.referencedNumber = text
            document.referencedSourceId = text
            document.periodStart = date
            document.periodEnd = date
            document.payment.iban = text
            for party in [\Document.buyer, \Document.seller] {
                document[keyPath: party].vatId = text
                document[keyPath: party].endpointId = text
            }
            document.lines = document.lines.map { line in
                var line = line
                line.note = text
                line.periodStart = date
                line.periodEnd = date
                return line
            }
            try Self.compare(document)
        }
    }

    @Test(arguments: 0..<2)
    func statementsMatchFoundationAndTheWrittenFiles(close: Int) throws {
        let folder = Self.closes[close]
        let paths = ReportFixture.files(in: folder, endingWith: ".json").filter { $0.hasPrefix("statements/") }
        for path in paths {
            let file = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path)))
            let statement = try JSONDecoder().decode(Statement.self, from: Data(file))
            try Self.compare(statement)
            #expect(JSONOut.encode(statement, prettyPrinted: true, escapesSlashes: false) + [0x0A] == file)
        }
        #expect(paths.count > 20)
    }

    /// Dates are written digit by digit, not through their description: years of fewer than
    /// four digits are padded, and a year beyond 9999 is written as its description is.
    @Test(arguments: [(1, 1, 1), (999, 12, 31), (2026, 2, 28), (2024, 2, 29), (9999, 12, 31), (10_000, 1, 1)])
    func datesMatchFoundation(year: Int, month: Int, day: Int) throws {
        let date = CivilDate(year: year, month: month, day: day)
        try Self.compare(date)
        try Self.compare([date, date])
        #expect(String(decoding: JSONOut.encode(date), as: UTF8.self) == "\"\(date.description)\"")
    }

    /// The states and statements of real closes rarely hold a queue, a proration, a pending
    /// plan or texts that need escaping; these are made so here.
    @Test func awkwardTextsAndRareMembersMatchFoundation() throws {
        let ledger = try Ledger(path: Self.closes[0] + "/ledger.sqlite", readOnly: true)
        let texts = ["", "a/b", "\"quoted\" \\ back", "tab\tnew\nline\r\u{01}\u{1F}\u{7F}", "é 日本 🎉", "e\u{301}"]
        var profile = try #require(ledger.orgs().first?.profile)
        for text in texts {
            profile.name = text
            profile.street = text
            profile.vatId = text
            profile.endpointId = text
            profile.buyerReference = text
            profile.customTerms = CustomTerms(monthlyCredits: Int64.min, bankCap: 0, priceMinor: Int64.max)
            try Self.compare(profile)
        }
        profile.vatId = nil
        profile.endpointId = nil
        profile.buyerReference = nil
        profile.customTerms = nil
        try Self.compare(profile)
        var state = try #require(ledger.orgs().compactMap(\.state).first { $0.period != nil })
        state.pendingPlan = PlanID("plan/" + texts[3])
        state.purchases = [PurchaseID(texts[4]): .refunded, PurchaseID(texts[5]): .touched, PurchaseID("/"): .expired]
        state.period?.prorations = [
            ProrationCharge(
                at: Instant(microseconds: -1), fromPlan: PlanID(texts[2]), toPlan: PlanID(""), amountMinor: -5,
                credits: Int64.min)
        ]
        state.period?.usageByAction = Dictionary(
            uniqueKeysWithValues: texts.map { ($0, ActionUsage(events: 1, credits: Int64.max)) })
        state.topUps = [
            TopUpLot(
                purchaseId: PurchaseID(texts[1]), packId: PackID(texts[2]), purchasedAt: Instant(microseconds: 0),
                expiresAt: nil, amount: 0, priceMinor: 1),
            TopUpLot(
                purchaseId: PurchaseID("p"), packId: PackID("k"), purchasedAt: Instant(microseconds: 5),
                expiresAt: Instant(microseconds: 9), amount: 3, priceMinor: 0),
        ]
        try Self.compare(state)
        // Absent optionals are left out; the closes above cannot show a writer that writes
        // them, since their rows are read back from what that writer wrote.
        state.pendingPlan = nil
        try Self.compare(state)
        state.period = nil
        try Self.compare(state)
        let paths = ReportFixture.files(in: Self.closes[0], endingWith: ".json").filter { $0.hasPrefix("statements/") }
        var statement = try JSONDecoder().decode(
            Statement.self, from: Data(contentsOf: URL(fileURLWithPath: Self.closes[0] + "/" + paths[0])))
        // The usual summary keys are written in a precomputed order; the same number of other
        // keys, one swapped for another, must fall back to sorting them.
        try Self.compare(statement)
        var swapped = statement
        let overdraft = swapped.summary.removeValue(forKey: "overdraft")
        #expect(overdraft != nil)
        swapped.summary["a_key_sorted_first"] = overdraft ?? 0
        #expect(swapped.summary.count == statement.summary.count)
        try Self.compare(swapped)
        for text in texts {
            statement.orgName = text
            statement.summary[text] = -7
            statement.mostExpensiveEvents.append(
                NotableEvent(
                    eventId: text, occurredAt: Instant(microseconds: 7), action: text, user: text, credits: 2,
                    late: true))
            statement.forecast.queue = Forecast.Queue(
                asOf: CivilDate.parse("2026-02-28")!, balance: 4,
                jobs: [Forecast.QueuedLine(jobId: text, action: "a", label: text, credits: 9)],
                credits: 9, covered: false, shortfall: 5, balanceAfter: -5, runOutDateAfter: nil)
            statement.invoices = []
            try Self.compare(statement)
        }
        let date = CivilDate.parse("2026-03-31")!
        for present in [false, true] {
            statement.forecast.daysLeft = present ? 3 : nil
            statement.forecast.runOutDate = present ? date : nil
            statement.forecast.queue?.runOutDateAfter = present ? date : nil
            statement.bankLots = [Statement.BankLotLine(bankedOn: date, amount: 1, expiresOn: present ? date : nil)]
            try Self.compare(statement)
        }
        statement.forecast.queue = nil
        try Self.compare(statement)
    }
}
