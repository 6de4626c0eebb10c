import Foundation
import GRDB
import Invoicing

/// The ledger's own encoding of the records it writes by the ten thousand: org states, period
/// records and documents. As sorted-key JSON they were 2.0, 2.2 and 1 KB each, 92 MB at 10,000
/// orgs and three months, most of it member names (and the ten most expensive events' keys);
/// writing, hashing and logging those bytes was most of the ledger's part of a close that does
/// not grow with usage rows. Compact, the same records are about a quarter of that size. Org
/// profiles are compact too: decoding 10,000 of them from JSON with Foundation was most of
/// opening a large ledger for the next month's close.
///
/// A record is a SQLite BLOB: one format byte (`formatVersion`), then the value's fields in the
/// fixed order of its `writeCompact`, which its `init(compact:)` reads in the same order.
/// - integers: zigzag LEB128 varints (small magnitudes, either sign, take one or two bytes);
/// - texts: a varint byte count, then the UTF-8 bytes;
/// - dates: year (zigzag), month and day varints; instants: microseconds as an integer;
/// - booleans: one byte, 0 or 1; an optional: a byte 0 (absent) or 1, then the value;
/// - lists: a varint count, then the items; maps: a count, then key and value pairs in UTF-8
///   key order, so that the same value always gives the same bytes.
///
/// Ledgers written before this format hold the same records as JSON TEXT; both are read
/// (`StoredRecord`), and a rerun of an old close renders from either. A change of layout takes
/// a new format byte and keeps reading the old ones: every stored row is part of the chain.
enum CompactRecord {
    static let formatVersion: UInt8 = 1

    /// The record of `value`, in a buffer of its own (a ledger row's value).
    static func encoded<Value: CompactWritable>(_ value: Value) -> OwnedText {
        var out = CompactOut(capacity: 1024)
        out.byte(formatVersion)
        value.writeCompact(to: &out)
        return out.takeBytes()
    }

    /// The bytes of `encoded(value)`, as an array.
    static func bytes<Value: CompactWritable>(_ value: Value) -> [UInt8] {
        let owned = encoded(value)
        return Array(owned.bytes)
    }

    /// Decodes a whole record; a wrong format byte, a value out of range, a truncation or bytes
    /// left over are errors, never a crash.
    static func decode<Value: CompactReadable>(_ type: Value.Type, _ bytes: UnsafeRawBufferPointer) throws -> Value {
        var input = CompactIn(bytes)
        let format = try input.byte()
        guard format == formatVersion else { throw input.failure("unknown record format \(format)") }
        let value = try Value(compact: &input)
        guard input.isAtEnd else { throw input.failure("bytes after the record") }
        return value
    }

    static func decode<Value: CompactReadable>(_ type: Value.Type, _ bytes: [UInt8]) throws -> Value {
        try bytes.withUnsafeBytes { try decode(type, $0) }
    }
}

/// A stored record that is not what its format says: the ledger file was changed outside
/// CycleRunner, or is damaged.
struct CompactRecordError: Error, CustomStringConvertible {
    var reason: String
    var offset: Int

    var description: String { "a ledger record cannot be read: \(reason) at byte \(offset)" }
}

protocol CompactWritable {
    func writeCompact(to out: inout CompactOut)
}

protocol CompactReadable {
    init(compact input: inout CompactIn) throws
}

/// The bytes of a record being written, in a buffer of the writer's own that `takeBytes` hands
/// over without a copy (as `JSONOut` does for JSON).
struct CompactOut: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        start = OwnedText.reallocate(nil, self.capacity)
    }

    deinit { free(start) }

    consuming func takeBytes() -> OwnedText {
        let bytes = OwnedText(shrinking: start, count: count)
        discard self
        return bytes
    }

    @inline(__always)
    private mutating func reserve(_ more: Int) {
        if count + more > capacity { OwnedText.grow(&start, capacity: &capacity, toHold: count + more) }
    }

    mutating func byte(_ value: UInt8) {
        reserve(1)
        start[count] = value
        count += 1
    }

    @inline(__always)
    mutating func unsigned(_ value: UInt64) {
        reserve(10)
        var rest = value
        while rest >= 0x80 {
            start[count] = UInt8(truncatingIfNeeded: rest) | 0x80
            count += 1
            rest >>= 7
        }
        start[count] = UInt8(truncatingIfNeeded: rest)
        count += 1
    }

    @inline(__always)
    mutating func integer(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func bool(_ value: Bool) { byte(value ? 1 : 0) }

    mutating func text(_ value: String) {
        // A native string's bytes are read where they are; only a bridged one is copied first.
        if value.utf8.withContiguousStorageIfAvailable({ utf8 in text(utf8: utf8) }) != nil { return }
        var value = value
        value.withUTF8 { utf8 in text(utf8: utf8) }
    }

    private mutating func text(utf8: UnsafeBufferPointer<UInt8>) {
        unsigned(UInt64(utf8.count))
        guard let source = utf8.baseAddress, !utf8.isEmpty else { return }
        reserve(utf8.count)
        (start + count).update(from: source, count: utf8.count)
        count += utf8.count
    }

    mutating func text<Identifier: StringIdentifier>(_ value: Identifier) { text(value.rawValue) }

    mutating func date(_ value: CivilDate) {
        integer(value.year)
        unsigned(UInt64(value.month))
        unsigned(UInt64(value.day))
    }

    mutating func instant(_ value: Instant) { integer(value.microseconds) }

    mutating func list<Item: CompactWritable>(_ items: [Item]) {
        unsigned(UInt64(items.count))
        // Read in place: `for item in items` copied each, retaining and releasing its texts.
        items.withUnsafeBufferPointer { items in
            for index in items.indices { items[index].writeCompact(to: &self) }
        }
    }
}

/// A record being read, with the position in its bytes.
struct CompactIn {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    func failure(_ reason: String) -> CompactRecordError { CompactRecordError(reason: reason, offset: position) }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw failure("the record ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func unsigned() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            // The tenth byte holds only the top bit of a 64-bit value.
            guard shift < 63 || next <= 1 else { throw failure("an integer longer than 64 bits") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    mutating func integer() throws -> Int64 {
        let zigzag = try unsigned()
        return Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1)))
    }

    mutating func int() throws -> Int { Int(try integer()) }

    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("a boolean that is neither 0 nor 1")
        }
    }

    /// A count of items or bytes; every item takes at least one byte, so a count larger than
    /// the bytes left is damage, found before anything is allocated for it. An item takes up to
    /// about a hundred times more memory than its smallest encoding, so room is reserved for at
    /// most `reservedItemsLimit` items up front: a damaged count cannot make a small record ask
    /// for gigabytes (a 250 MB blob claiming 250 M document lines asked for 32 GB and aborted).
    mutating func count() throws -> Int {
        let value = try unsigned()
        guard value <= UInt64(bytes.count - position) else { throw failure("a count past the record's end") }
        return Int(value)
    }

    mutating func text() throws -> String {
        let length = try count()
        let utf8 = UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
        guard let value = String(validating: utf8, as: UTF8.self) else { throw failure("a text that is not UTF-8") }
        position += length
        return value
    }

    mutating func text<Identifier: StringIdentifier>(_ type: Identifier.Type) throws -> Identifier {
        Identifier(try text())
    }

    mutating func date() throws -> CivilDate {
        let year = try integer()
        let month = try unsigned()
        let day = try unsigned()
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= CivilDate.daysIn(year: Int(year), month: Int(month))
        else { throw failure("not a calendar date") }
        return CivilDate(year: Int(year), month: Int(month), day: Int(day))
    }

    mutating func instant() throws -> Instant { Instant(microseconds: try integer()) }

    mutating func optional<Value>(_ read: (inout CompactIn) throws -> Value) throws -> Value? {
        try bool() ? try read(&self) : nil
    }

    static let reservedItemsLimit = 256

    mutating func list<Item: CompactReadable>(_ type: Item.Type) throws -> [Item] {
        let items = try count()
        var result: [Item] = []
        result.reserveCapacity(min(items, CompactIn.reservedItemsLimit))
        for _ in 0..<items { result.append(try Item(compact: &self)) }
        return result
    }
}

// MARK: The ledger's records

extension BankLot: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.date(bankedOn)
        out.integer(amount)
    }

    init(compact input: inout CompactIn) throws {
        self.init(bankedOn: try input.date(), amount: try input.integer())
    }
}

extension TopUpLot: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(purchaseId)
        out.text(packId)
        out.instant(purchasedAt)
        out.bool(expiresAt != nil)
        if let expiresAt { out.instant(expiresAt) }
        out.integer(amount)
        out.integer(priceMinor)
    }

    init(compact input: inout CompactIn) throws {
        self.init(
            purchaseId: try input.text(PurchaseID.self), packId: try input.text(PackID.self),
            purchasedAt: try input.instant(), expiresAt: try input.optional { try $0.instant() },
            amount: try input.integer(), priceMinor: try input.integer())
    }
}

extension NotableEvent: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(eventId)
        out.instant(occurredAt)
        out.text(action)
        out.text(user)
        out.integer(credits)
        out.bool(late)
    }

    init(compact input: inout CompactIn) throws {
        self.init(
            eventId: try input.text(), occurredAt: try input.instant(), action: try input.text(),
            user: try input.text(), credits: try input.integer(), late: try input.bool())
    }
}

extension ProrationCharge: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.instant(at)
        out.text(fromPlan)
        out.text(toPlan)
        out.integer(amountMinor)
        out.integer(credits)
    }

    init(compact input: inout CompactIn) throws {
        self.init(
            at: try input.instant(), fromPlan: try input.text(PlanID.self), toPlan: try input.text(PlanID.self),
            amountMinor: try input.integer(), credits: try input.integer())
    }
}

extension CompactOut {
    /// Usage by action, in UTF-8 key order.
    mutating func usage(_ usage: [String: ActionUsage]) {
        unsigned(UInt64(usage.count))
        for (action, used) in usage.sorted(by: { utf8Less($0.key, $1.key) }) {
            text(action)
            integer(used.events)
            integer(used.credits)
        }
    }
}

extension CompactIn {
    mutating func usage() throws -> [String: ActionUsage] {
        let entries = try count()
        var usage: [String: ActionUsage] = [:]
        usage.reserveCapacity(min(entries, CompactIn.reservedItemsLimit))
        for _ in 0..<entries {
            let action = try text()
            guard usage[action] == nil else { throw failure("an action listed twice") }
            usage[action] = ActionUsage(events: try integer(), credits: try integer())
        }
        return usage
    }
}

extension PeriodAccumulator: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.date(start)
        out.date(end)
        for number in [
            openingCurrent, openingBank, openingTopUp, openingDeficit, usageEvents, usageCredits, fromCurrent,
            fromBank, fromTopUp, overdraft, prorationCredits, topUpCredits, deficitRepaid, expiredTopUp,
            refundedCredits, lateEvents, eventsWithoutPermission, creditsWithoutPermission, eventsByUnknownMembers,
        ] {
            out.integer(number)
        }
        out.usage(usageByAction)
        out.list(mostExpensive)
        out.list(prorations)
    }

    init(compact input: inout CompactIn) throws {
        self.init(start: try input.date(), end: try input.date())
        openingCurrent = try input.integer()
        openingBank = try input.integer()
        openingTopUp = try input.integer()
        openingDeficit = try input.integer()
        usageEvents = try input.integer()
        usageCredits = try input.integer()
        fromCurrent = try input.integer()
        fromBank = try input.integer()
        fromTopUp = try input.integer()
        overdraft = try input.integer()
        prorationCredits = try input.integer()
        topUpCredits = try input.integer()
        deficitRepaid = try input.integer()
        expiredTopUp = try input.integer()
        refundedCredits = try input.integer()
        lateEvents = try input.integer()
        eventsWithoutPermission = try input.integer()
        creditsWithoutPermission = try input.integer()
        eventsByUnknownMembers = try input.integer()
        usageByAction = try input.usage()
        mostExpensive = try input.list(NotableEvent.self)
        prorations = try input.list(ProrationCharge.self)
    }
}

extension OrgState: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(orgId)
        out.date(startDate)
        out.bool(started)
        out.integer(periodIndex)
        out.text(plan)
        out.bool(pendingPlan != nil)
        if let pendingPlan { out.text(pendingPlan) }
        out.integer(current)
        out.list(bank)
        out.list(topUps)
        out.integer(deficit)
        out.unsigned(UInt64(purchases.count))
        for (purchase, status) in purchases.sorted(by: { utf8Less($0.key.rawValue, $1.key.rawValue) }) {
            out.text(purchase)
            out.byte(status.compactCode)
        }
        out.bool(period != nil)
        if let period { period.writeCompact(to: &out) }
    }

    init(compact input: inout CompactIn) throws {
        self.init(orgId: try input.text(OrgID.self), startDate: try input.date(), plan: PlanID(""))
        started = try input.bool()
        periodIndex = try input.int()
        plan = try input.text(PlanID.self)
        pendingPlan = try input.optional { try $0.text(PlanID.self) }
        current = try input.integer()
        bank = try input.list(BankLot.self)
        topUps = try input.list(TopUpLot.self)
        deficit = try input.integer()
        let purchaseCount = try input.count()
        for _ in 0..<purchaseCount {
            let purchase = try input.text(PurchaseID.self)
            guard purchases[purchase] == nil else { throw input.failure("a purchase listed twice") }
            purchases[purchase] = try PurchaseStatus(compactCode: input.byte(), input)
        }
        period = try input.optional { try PeriodAccumulator(compact: &$0) }
    }
}

extension PurchaseStatus {
    /// The status's byte in a compact record: its place in the declaration, which never changes.
    var compactCode: UInt8 {
        switch self {
        case .untouched: 0
        case .touched: 1
        case .expired: 2
        case .refunded: 3
        }
    }

    init(compactCode: UInt8, _ input: CompactIn) throws {
        switch compactCode {
        case 0: self = .untouched
        case 1: self = .touched
        case 2: self = .expired
        case 3: self = .refunded
        default: throw input.failure("an unknown purchase status \(compactCode)")
        }
    }
}

extension PeriodRecord: CompactWritable, CompactReadable {
    /// The plan and the credits used come first: the burn rate and the report read only them
    /// (`PeriodRecord.brief`).
    func writeCompact(to out: inout CompactOut) {
        out.text(planId)
        out.integer(usageCredits)
        out.text(orgId)
        out.date(periodStart)
        out.date(periodEnd)
        for number in [
            openingCurrent, openingBank, openingTopUp, openingDeficit, usageEvents, fromCurrent, fromBank, fromTopUp,
            overdraft, prorationCredits, topUpCredits, deficitRepaid, expiredTopUp, refundedCredits, closingCurrent,
            closingBank, closingTopUp, closingDeficit, expiredAge, rolledOver, expiredCap, freshCredits,
            deficitSettled, overageBilled, nextCurrent, nextBank, nextTopUp, nextDeficit, lateEvents,
            monthlyCreditsNext, eventsWithoutPermission, creditsWithoutPermission, eventsByUnknownMembers,
        ] {
            out.integer(number)
        }
        out.text(planName)
        out.usage(usageByAction)
        out.list(mostExpensive)
        out.list(bankLotsAfter)
        out.list(topUpLotsAfter)
    }

    /// The plan and the credits used of a compact period record, read without the rest.
    static func brief(_ bytes: UnsafeRawBufferPointer) throws -> (planId: PlanID, usageCredits: Int64) {
        var input = CompactIn(bytes)
        let format = try input.byte()
        guard format == CompactRecord.formatVersion else { throw input.failure("unknown record format \(format)") }
        return (try input.text(PlanID.self), try input.integer())
    }

    init(compact input: inout CompactIn) throws {
        let planId = try input.text(PlanID.self)
        let usageCredits = try input.integer()
        let orgId = try input.text(OrgID.self)
        let periodStart = try input.date()
        let periodEnd = try input.date()
        var numbers: [Int64] = []
        numbers.reserveCapacity(33)
        for _ in 0..<33 { numbers.append(try input.integer()) }
        let planName = try input.text()
        let usageByAction = try input.usage()
        let mostExpensive = try input.list(NotableEvent.self)
        let bankLotsAfter = try input.list(BankLot.self)
        let topUpLotsAfter = try input.list(TopUpLot.self)
        self.init(
            orgId: orgId, periodStart: periodStart, periodEnd: periodEnd, planId: planId,
            openingCurrent: numbers[0], openingBank: numbers[1], openingTopUp: numbers[2], openingDeficit: numbers[3],
            usageEvents: numbers[4], usageCredits: usageCredits, fromCurrent: numbers[5], fromBank: numbers[6],
            fromTopUp: numbers[7], overdraft: numbers[8], prorationCredits: numbers[9], topUpCredits: numbers[10],
            deficitRepaid: numbers[11], expiredTopUp: numbers[12], refundedCredits: numbers[13],
            closingCurrent: numbers[14], closingBank: numbers[15], closingTopUp: numbers[16],
            closingDeficit: numbers[17], expiredAge: numbers[18], rolledOver: numbers[19], expiredCap: numbers[20],
            freshCredits: numbers[21], deficitSettled: numbers[22], overageBilled: numbers[23],
            nextCurrent: numbers[24], nextBank: numbers[25], nextTopUp: numbers[26], nextDeficit: numbers[27],
            lateEvents: numbers[28], planName: planName, monthlyCreditsNext: numbers[29],
            usageByAction: usageByAction, mostExpensive: mostExpensive, eventsWithoutPermission: numbers[30],
            creditsWithoutPermission: numbers[31], eventsByUnknownMembers: numbers[32], bankLotsAfter: bankLotsAfter,
            topUpLotsAfter: topUpLotsAfter)
    }
}

extension CompactOut {
    mutating func optionalText(_ value: String?) {
        bool(value != nil)
        if let value { text(value) }
    }

    mutating func optionalDate(_ value: CivilDate?) {
        bool(value != nil)
        if let value { date(value) }
    }
}

extension CompactIn {
    mutating func optionalText() throws -> String? { try optional { try $0.text() } }

    mutating func optionalDate() throws -> CivilDate? { try optional { try $0.date() } }

    /// A value of a string enum, stored as its raw value.
    mutating func named<Value: RawRepresentable<String>>(_ type: Value.Type) throws -> Value {
        let name = try text()
        guard let value = Value(rawValue: name) else { throw failure("an unknown \(type) \"\(name)\"") }
        return value
    }
}

extension Party: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(name)
        out.text(street)
        out.text(city)
        out.text(postalCode)
        out.text(countryCode)
        out.optionalText(vatId)
        out.optionalText(endpointId)
    }

    init(compact input: inout CompactIn) throws {
        let name = try input.text()
        let street = try input.text()
        let city = try input.text()
        let postalCode = try input.text()
        let countryCode = try input.text()
        let vatId = try input.optionalText()
        let endpointId = try input.optionalText()
        self.init(
            name: name, street: street, city: city, postalCode: postalCode, countryCode: countryCode, vatId: vatId,
            endpointId: endpointId)
    }
}

extension DocumentLine: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(kind.rawValue)
        out.text(itemName)
        out.optionalText(note)
        out.integer(quantity)
        out.integer(unitPrice.scaledAmount)
        out.integer(amountMinor)
        out.optionalDate(periodStart)
        out.optionalDate(periodEnd)
    }

    init(compact input: inout CompactIn) throws {
        let kind = try input.named(LineKind.self)
        let itemName = try input.text()
        let note = try input.optionalText()
        let quantity = try input.integer()
        let unitPrice = UnitPrice(scaledAmount: try input.integer())
        let amountMinor = try input.integer()
        let periodStart = try input.optionalDate()
        let periodEnd = try input.optionalDate()
        self.init(
            kind: kind, itemName: itemName, note: note, quantity: quantity, unitPrice: unitPrice,
            amountMinor: amountMinor, periodStart: periodStart, periodEnd: periodEnd)
    }
}

extension Document: CompactWritable, CompactReadable {
    // The fields are read where they are (`withFields`): read one by one, each was copied.
    func writeCompact(to out: inout CompactOut) {
        withFields { fields in
            out.text(fields.pointee.number)
            out.text(fields.pointee.kind.rawValue)
            out.text(fields.pointee.source.rawValue)
            out.text(fields.pointee.sourceId)
            out.text(fields.pointee.orgId)
            out.instant(fields.pointee.issueInstant)
            out.date(fields.pointee.issueDate)
            out.date(fields.pointee.dueDate)
            out.text(fields.pointee.currencyCode)
            fields.pointee.seller.writeCompact(to: &out)
            fields.pointee.buyer.writeCompact(to: &out)
            out.optionalText(fields.pointee.buyerReference)
            out.optionalText(fields.pointee.payment.iban)
            out.integer(fields.pointee.payment.paymentTermsDays)
            out.text(fields.pointee.tax.categoryCode)
            out.integer(fields.pointee.tax.rateHundredths)
            out.list(fields.pointee.lines)
            out.optionalDate(fields.pointee.periodStart)
            out.optionalDate(fields.pointee.periodEnd)
            out.optionalText(fields.pointee.referencedNumber)
            out.optionalText(fields.pointee.referencedSourceId)
            out.bool(fields.pointee.isDraft)
        }
    }

    init(compact input: inout CompactIn) throws {
        let number = try input.text()
        let kind = try input.named(DocumentKind.self)
        let source = try input.named(DocumentSource.self)
        let sourceId = try input.text()
        let orgId = try input.text()
        let issueInstant = try input.instant()
        let issueDate = try input.date()
        let dueDate = try input.date()
        let currencyCode = try input.text()
        let seller = try Party(compact: &input)
        let buyer = try Party(compact: &input)
        let buyerReference = try input.optionalText()
        let payment = PaymentDetails(iban: try input.optionalText(), paymentTermsDays: try input.int())
        let tax = TaxTreatment(categoryCode: try input.text(), rateHundredths: try input.integer())
        let lines = try input.list(DocumentLine.self)
        let periodStart = try input.optionalDate()
        let periodEnd = try input.optionalDate()
        let referencedNumber = try input.optionalText()
        let referencedSourceId = try input.optionalText()
        let isDraft = try input.bool()
        self.init(
            number: number, kind: kind, source: source, sourceId: sourceId, orgId: orgId,
            issueInstant: issueInstant, issueDate: issueDate, dueDate: dueDate, currencyCode: currencyCode,
            seller: seller, buyer: buyer, buyerReference: buyerReference, payment: payment, tax: tax, lines: lines,
            periodStart: periodStart, periodEnd: periodEnd, referencedNumber: referencedNumber,
            referencedSourceId: referencedSourceId, isDraft: isDraft)
    }
}

extension OrgProfile: CompactWritable, CompactReadable {
    func writeCompact(to out: inout CompactOut) {
        out.text(id)
        out.text(name)
        out.text(firstPlanId)
        out.date(startDate)
        out.text(currencyCode)
        out.text(countryCode)
        out.text(street)
        out.text(city)
        out.text(postalCode)
        out.text(tax.categoryCode)
        out.integer(tax.rateHundredths)
        out.optionalText(vatId)
        out.optionalText(endpointId)
        out.optionalText(buyerReference)
        out.bool(customTerms != nil)
        if let customTerms {
            out.integer(customTerms.monthlyCredits)
            out.integer(customTerms.bankCap)
            out.integer(customTerms.priceMinor)
        }
    }

    init(compact input: inout CompactIn) throws {
        let id = try input.text(OrgID.self)
        let name = try input.text()
        let firstPlanId = try input.text(PlanID.self)
        let startDate = try input.date()
        let currencyCode = try input.text()
        let countryCode = try input.text()
        let street = try input.text()
        let city = try input.text()
        let postalCode = try input.text()
        let tax = TaxTreatment(categoryCode: try input.text(), rateHundredths: try input.integer())
        let vatId = try input.optionalText()
        let endpointId = try input.optionalText()
        let buyerReference = try input.optionalText()
        let customTerms = try input.optional { input in
            CustomTerms(
                monthlyCredits: try input.integer(), bankCap: try input.integer(), priceMinor: try input.integer())
        }
        self.init(
            id: id, name: name, firstPlanId: firstPlanId, startDate: startDate, currencyCode: currencyCode,
            countryCode: countryCode, street: street, city: city, postalCode: postalCode, tax: tax, vatId: vatId,
            endpointId: endpointId, buyerReference: buyerReference, customTerms: customTerms)
    }
}

/// A record as a ledger row holds it: compact (a BLOB) since the compact format, JSON (TEXT)
/// in ledgers written before it.
enum StoredRecord: Sendable {
    case compact([UInt8])
    case json(String)

    /// The record in `value`, or nil for NULL (an org not started has no state).
    init?(_ value: DatabaseValue) throws {
        switch value.storage {
        case .null: return nil
        case .blob(let data): self = .compact([UInt8](data))
        case .string(let text): self = .json(text)
        case .int64, .double: throw CompactRecordError(reason: "a number where a record belongs", offset: 0)
        }
    }

    func decoded<Value: CompactReadable & Decodable>(_ type: Value.Type) throws -> Value {
        switch self {
        case .compact(let bytes): try CompactRecord.decode(type, bytes)
        case .json(let text): try decode(type, text)
        }
    }

    /// The record a row holds where one always is (a profile, a period's, a document's).
    static func present(_ value: DatabaseValue) throws -> StoredRecord {
        guard let stored = try StoredRecord(value) else {
            throw CompactRecordError(reason: "a row without its record", offset: 0)
        }
        return stored
    }

    static func required<Value: CompactReadable & Decodable>(_ type: Value.Type, _ value: DatabaseValue) throws
        -> Value
    {
        try present(value).decoded(type)
    }
}
