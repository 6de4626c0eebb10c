import Invoicing

/// A statement of one org and closed period: the summary row plus what a person needs to
/// understand it. Rendered from the ledger as JSON and HTML.
public struct Statement: Codable, Sendable {
    public struct InvoiceRef: Codable, Sendable {
        public var number: String
        public var kind: String
        public var issueDate: String
        public var currency: String
        public var total: String
        public var totalMinor: Int64
    }

    public struct Flags: Codable, Sendable {
        public var overdraft: Bool
        public var bankBelowBuffer: Bool
        public var eventsWithoutPermission: Int64
        public var eventsByUnknownMembers: Int64
    }

    public struct ActionLine: Codable, Sendable {
        public var action: String
        public var label: String
        public var events: Int64
        public var credits: Int64
    }

    public var orgId: String
    public var orgName: String
    public var periodStart: String
    public var periodEnd: String
    public var plan: String
    public var summary: [String: Int64]
    public var usageByAction: [ActionLine]
    public var bankLots: [BankLot]
    public var topUpLots: [TopUpLot]
    public var flags: Flags
    public var mostExpensiveEvents: [NotableEvent]
    public var invoices: [InvoiceRef]

    init(record: PeriodRecord, profile: OrgProfile?, documents: [DocumentSummary], catalog: Catalog?) {
        orgId = record.orgId.rawValue
        orgName = profile?.name ?? record.orgId.rawValue
        periodStart = record.periodStart.description
        periodEnd = record.periodEnd.description
        plan = record.planId.rawValue
        var summary: [String: Int64] = [:]
        for (name, value) in zip(PeriodRecord.csvHeader.dropFirst(4), record.numbers) { summary[name] = value }
        self.summary = summary
        let labels = Dictionary(
            (catalog?.actions ?? []).map { ($0.id.rawValue, $0.label) }, uniquingKeysWith: { first, _ in first })
        usageByAction = record.usageByAction.keys.sorted(by: utf8Less).map { action in
            let usage = record.usageByAction[action]!
            return ActionLine(
                action: action, label: labels[action] ?? action, events: usage.events, credits: usage.credits)
        }
        bankLots = record.bankLotsAfter
        topUpLots = record.topUpLotsAfter
        flags = Flags(
            overdraft: record.overdraft > 0, bankBelowBuffer: record.bankBelowBuffer,
            eventsWithoutPermission: record.eventsWithoutPermission,
            eventsByUnknownMembers: record.eventsByUnknownMembers)
        mostExpensiveEvents = record.mostExpensive
        invoices = documents.map { document in
            InvoiceRef(
                number: document.number, kind: document.kind.rawValue, issueDate: document.issueDate.description,
                currency: document.currencyCode,
                total: DecimalText.format(
                    document.totalMinor, scale: Currency(code: document.currencyCode)?.exponent ?? 2),
                totalMinor: document.totalMinor)
        }
    }
}
