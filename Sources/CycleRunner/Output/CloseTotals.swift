import Invoicing

/// The totals of one close, for the terminal summary and `close --json`; computed from the
/// ledger's rows of the run, like the report, so a rerun prints the same numbers.
public struct CloseTotals: Codable, Sendable, Hashable {
    public struct Money: Codable, Sendable, Hashable {
        public var currency: String
        public var invoices: Int
        public var creditNotes: Int
        /// Totals with tax, in minor units, and as decimal text for people.
        public var invoicedMinor: Int64
        public var creditedMinor: Int64
        public var taxMinor: Int64
        public var invoiced: String
        public var credited: String
        public var tax: String
    }

    public var periodsClosed: Int
    public var orgs: Int
    public var invoices: Int
    public var creditNotes: Int
    public var creditsGranted: Int64
    public var creditsUsed: Int64
    public var creditsOverdrawn: Int64
    public var creditsRolledOver: Int64
    public var creditsExpiredByCap: Int64
    public var creditsExpiredByAge: Int64
    public var creditsExpiredTopUp: Int64
    public var money: [Money]
    public var rejected: Int
    /// Reason code → rows.
    public var rejectedByReason: [String: Int]
    public var ledgerFingerprint: String
    public var filesWritten: Int

    init(
        periods: [PeriodRecord], documents: [Document], rejected: [RejectedRow], ledgerFingerprint: String,
        filesWritten: Int
    ) {
        periodsClosed = periods.count
        orgs = Set(periods.map(\.orgId)).count
        creditsGranted = periods.reduce(0) { $0 + $1.freshCredits + $1.prorationCredits + $1.topUpCredits }
        creditsUsed = periods.reduce(0) { $0 + $1.usageCredits }
        creditsOverdrawn = periods.reduce(0) { $0 + $1.overdraft }
        creditsRolledOver = periods.reduce(0) { $0 + $1.rolledOver }
        creditsExpiredByCap = periods.reduce(0) { $0 + $1.expiredCap }
        creditsExpiredByAge = periods.reduce(0) { $0 + $1.expiredAge }
        creditsExpiredTopUp = periods.reduce(0) { $0 + $1.expiredTopUp }
        var money: [String: Money] = [:]
        // Invoices are counted in this loop: `filter` copied every invoice (dozens of references
        // each) to count them.
        var invoices = 0
        for document in documents {
            var entry =
                money[document.currencyCode]
                ?? Money(
                    currency: document.currencyCode, invoices: 0, creditNotes: 0, invoicedMinor: 0, creditedMinor: 0,
                    taxMinor: 0, invoiced: "", credited: "", tax: "")
            if document.kind == .invoice {
                invoices += 1
                entry.invoices += 1
                entry.invoicedMinor += document.totalMinor
                entry.taxMinor += document.taxMinor
            } else {
                entry.creditNotes += 1
                entry.creditedMinor += document.totalMinor
                entry.taxMinor -= document.taxMinor
            }
            money[document.currencyCode] = entry
        }
        self.invoices = invoices
        creditNotes = documents.count - invoices
        self.money = money.keys.sorted(by: utf8Less).map { code in
            var entry = money[code]!
            let scale = Currency(code: code)?.exponent ?? 2
            entry.invoiced = DecimalText.format(entry.invoicedMinor, scale: scale)
            entry.credited = DecimalText.format(entry.creditedMinor, scale: scale)
            entry.tax = DecimalText.format(entry.taxMinor, scale: scale)
            return entry
        }
        self.rejected = rejected.count
        var reasons: [String: Int] = [:]
        for row in rejected { reasons[row.rejection.reason.rawValue, default: 0] += 1 }
        rejectedByReason = reasons
        self.ledgerFingerprint = ledgerFingerprint
        self.filesWritten = filesWritten
    }
}
