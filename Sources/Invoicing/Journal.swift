/// The general-ledger accounts the journal export posts to (SPEC §8 `journal.csv`). The codes
/// are the accounting system's, so they are configuration; the defaults follow a common
/// chart of accounts (12xx receivables, 22xx tax liabilities, 40xx revenue).
public struct JournalAccounts: Codable, Sendable, Hashable {
    public var receivable: String
    public var subscriptionRevenue: String
    public var prorationRevenue: String
    public var overageRevenue: String
    public var packRevenue: String
    public var vatPayable: String

    public init(
        receivable: String, subscriptionRevenue: String, prorationRevenue: String, overageRevenue: String,
        packRevenue: String, vatPayable: String
    ) {
        self.receivable = receivable
        self.subscriptionRevenue = subscriptionRevenue
        self.prorationRevenue = prorationRevenue
        self.overageRevenue = overageRevenue
        self.packRevenue = packRevenue
        self.vatPayable = vatPayable
    }

    public static let defaults = JournalAccounts(
        receivable: "1200", subscriptionRevenue: "4000", prorationRevenue: "4010", overageRevenue: "4020",
        packRevenue: "4030", vatPayable: "2200")

    /// The revenue account of a line kind.
    public func revenueAccount(for kind: LineKind) -> String {
        switch kind {
        case .subscription: subscriptionRevenue
        case .proration: prorationRevenue
        case .overage: overageRevenue
        case .pack: packRevenue
        }
    }
}

/// One posting of a document: exactly one of `debitMinor` and `creditMinor` is non-zero
/// (both are zero only for a zero amount), and both are never negative.
public struct JournalLine: Sendable, Hashable {
    public var documentNumber: String
    public var kind: DocumentKind
    public var orgId: String
    public var date: CivilDate
    public var account: String
    public var description: String
    public var debitMinor: Int64
    public var creditMinor: Int64
    public var currencyCode: String

    public init(
        documentNumber: String, kind: DocumentKind, orgId: String, date: CivilDate, account: String,
        description: String, debitMinor: Int64, creditMinor: Int64, currencyCode: String
    ) {
        self.documentNumber = documentNumber
        self.kind = kind
        self.orgId = orgId
        self.date = date
        self.account = account
        self.description = description
        self.debitMinor = debitMinor
        self.creditMinor = creditMinor
        self.currencyCode = currencyCode
    }
}

/// Turns documents into balanced double-entry postings for the accounting system.
public enum Journal {
    /// The columns of `journal.csv`, without a line terminator.
    public static let csvHeader = "date,document_number,kind,org_id,account,description,debit,credit,currency"

    /// The postings of one document, dated on its issue date.
    ///
    /// An invoice debits the receivable with the document total and credits revenue per line
    /// kind (summed, in `LineKind.allCases` order, kinds without lines left out) and VAT
    /// payable with the tax (left out when zero). A credit note posts exactly the reverse.
    /// A negative amount moves to the other side, so every posting is non-negative and the
    /// debits always equal the credits.
    public static func lines(for document: Document, accounts: JournalAccounts) -> [JournalLine] {
        let reverses = document.kind == .creditNote
        let label = reverses ? "Credit note" : "Invoice"
        func posting(account: String, description: String, debitMinor amountMinor: Int64) -> JournalLine {
            // `amountMinor` is the debit of an invoice; a credit note or a negative amount flips it.
            let signed = reverses ? -amountMinor : amountMinor
            return JournalLine(
                documentNumber: document.number, kind: document.kind, orgId: document.orgId, date: document.issueDate,
                account: account, description: description, debitMinor: max(signed, 0),
                creditMinor: max(-signed, 0), currencyCode: document.currencyCode)
        }

        var postings = [
            posting(
                account: accounts.receivable, description: "\(label) \(document.number) receivable",
                debitMinor: document.totalMinor)
        ]
        for kind in LineKind.allCases {
            let kindLines = document.lines.filter { $0.kind == kind }
            guard !kindLines.isEmpty else { continue }
            let revenueMinor = kindLines.reduce(0) { $0 + $1.amountMinor }
            postings.append(
                posting(
                    account: accounts.revenueAccount(for: kind), description: "\(revenueLabel(kind)) revenue",
                    debitMinor: -revenueMinor))
        }
        for subtotal in document.taxSubtotals where subtotal.taxMinor != 0 {
            let treatment = subtotal.treatment
            postings.append(
                posting(
                    account: accounts.vatPayable,
                    description: "VAT \(treatment.categoryCode) \(treatment.rateText)%",
                    debitMinor: -subtotal.taxMinor))
        }
        return postings
    }

    /// One CSV row (RFC 4180, no line terminator) in the order of `csvHeader`; both amounts
    /// are decimals with the currency's exponent (`34.80` and `0.00`, JPY `1748` and `0`).
    public static func csvRow(_ line: JournalLine) -> String {
        var bytes: [UInt8] = []
        appendCSVRow(line, to: &bytes)
        bytes.removeLast()
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `csvRow` and its line feed, appended as bytes: a close's journal has a few lines per
    /// document, and joining each row's texts as strings cost 15,000 instructions a row.
    /// Fields are quoted by `CSVText`'s rule: an account name or a document prefix from
    /// plans.yaml that a spreadsheet would run as a formula gets a leading apostrophe; amounts
    /// and dates never start with one of those.
    public static func appendCSVRow(_ line: JournalLine, to bytes: inout [UInt8]) {
        guard let currency = Currency(code: line.currencyCode) else {
            // A guessed exponent would misstate the amount by a power of ten.
            preconditionFailure("journal line in unknown currency \(line.currencyCode)")
        }
        CSVText.appendLine(
            [
                line.date.description, line.documentNumber, line.kind.rawValue, line.orgId, line.account,
                line.description, DecimalText.format(line.debitMinor, scale: currency.exponent),
                DecimalText.format(line.creditMinor, scale: currency.exponent), line.currencyCode,
            ], to: &bytes)
    }

    private static func revenueLabel(_ kind: LineKind) -> String {
        switch kind {
        case .subscription: "Subscription"
        case .proration: "Proration"
        case .overage: "Overage"
        case .pack: "Credit pack"
        }
    }
}
