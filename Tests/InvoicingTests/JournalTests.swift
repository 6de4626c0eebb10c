// Proves the journal balances: debits equal credits, the receivable is the document total, and credit notes reverse invoices.
import Invoicing
import PropertyBased
import Testing

@Suite struct JournalTests {
    /// A random line: any kind, an amount that is occasionally negative (a correction), a quantity.
    static let lineGenerator = zip(Gen<LineKind>.case, Gen.int64(in: -10_000...50_000_000), Gen.int64(in: 1...5000))
        .map { input in
            DocumentLine(
                kind: input.0, itemName: "\(input.0.rawValue) line", quantity: input.2,
                unitPrice: UnitPrice(scaledAmount: 0), amountMinor: input.1)
        }

    /// One of `values`, never nil (the library's `element(of:)` yields optionals).
    static func pick<Value: Sendable>(_ values: [Value]) -> Generator<Value, Shrink.Integer<Int>> {
        Gen.int(in: 0...(values.count - 1)).map { values[$0] }
    }

    static let taxGenerator = zip(pick(["S", "Z", "E", "AE", "K", "G", "O"]), Gen.int64(in: 1...2700))
        .map { input in TaxTreatment(categoryCode: input.0, rateHundredths: input.0 == "S" ? input.1 : 0) }

    static let documentGenerator = zip(
        lineGenerator.array(of: 1...8), taxGenerator, pick(["USD", "EUR", "GBP", "JPY", "BHD"]),
        pick([DocumentKind.invoice, .creditNote])
    ).map { input in
        var document = Fixtures.renewalUSD
        document.lines = input.0
        document.tax = input.1
        document.currencyCode = input.2
        document.kind = input.3
        return document
    }

    @Test func debitsEqualCreditsAndTheReceivableIsTheTotal() async {
        await propertyCheck(input: Self.documentGenerator) { document in
            let lines = Journal.lines(for: document, accounts: .defaults)
            #expect(lines.reduce(0) { $0 + $1.debitMinor } == lines.reduce(0) { $0 + $1.creditMinor })
            #expect(lines.allSatisfy { $0.debitMinor >= 0 && $0.creditMinor >= 0 })
            #expect(lines.allSatisfy { $0.debitMinor == 0 || $0.creditMinor == 0 })
            let receivable = lines.filter { $0.account == JournalAccounts.defaults.receivable }
            #expect(receivable.count == 1)
            let signedReceivable = (receivable.first?.debitMinor ?? 0) - (receivable.first?.creditMinor ?? 0)
            #expect(signedReceivable == (document.kind == .invoice ? document.totalMinor : -document.totalMinor))
            #expect(lines.allSatisfy { $0.currencyCode == document.currencyCode && $0.date == document.issueDate })
        }
    }

    @Test func aCreditNoteReversesTheSameInvoice() async {
        await propertyCheck(input: Self.documentGenerator) { document in
            var invoice = document
            invoice.kind = .invoice
            var creditNote = document
            creditNote.kind = .creditNote
            let invoiceLines = Journal.lines(for: invoice, accounts: .defaults)
            let creditLines = Journal.lines(for: creditNote, accounts: .defaults)
            #expect(invoiceLines.map(\.account) == creditLines.map(\.account))
            #expect(invoiceLines.map(\.debitMinor) == creditLines.map(\.creditMinor))
            #expect(invoiceLines.map(\.creditMinor) == creditLines.map(\.debitMinor))
        }
    }

    @Test func revenueIsSummedPerKindInDeclarationOrder() {
        var document = Fixtures.renewalUSD
        document.lines.append(.single(kind: .subscription, itemName: "Second seat", amountMinor: 100))
        let lines = Journal.lines(for: document, accounts: .defaults)
        #expect(lines.map(\.account) == ["1200", "4000", "4010", "4020", "2200"])
        #expect(lines.map(\.debitMinor) == [8081, 0, 0, 0, 0])
        #expect(lines.map(\.creditMinor) == [0, 5000, 1234, 500, 1347])
    }

    @Test func zeroTaxHasNoVatLine() {
        let lines = Journal.lines(for: Fixtures.reverseChargeEUR, accounts: .defaults)
        #expect(lines.map(\.account) == ["1200", "4000"])
    }

    @Test func accountsComeFromTheConfiguration() {
        var accounts = JournalAccounts.defaults
        accounts.packRevenue = "4100"
        accounts.receivable = "1210"
        let lines = Journal.lines(for: Fixtures.topUpEUR, accounts: accounts)
        #expect(lines.map(\.account) == ["1210", "4100", "2200"])
    }

    @Test func csvRowsUseTheCurrencyExponent() {
        #expect(Journal.csvHeader == "date,document_number,kind,org_id,account,description,debit,credit,currency")
        let usd = Journal.lines(for: Fixtures.renewalUSD, accounts: .defaults).map(Journal.csvRow)
        #expect(
            usd.first
                == "2026-03-01,INV-2026-000042,invoice,osaka-soehne,1200,Invoice INV-2026-000042 receivable,79.61,0.00,USD"
        )
        #expect(usd.last == "2026-03-01,INV-2026-000042,invoice,osaka-soehne,2200,VAT S 20.00%,0.00,13.27,USD")
        let jpy = Journal.lines(for: Fixtures.renewalJPY, accounts: .defaults).map(Journal.csvRow)
        #expect(jpy.first?.hasSuffix(",17706,0,JPY") == true)
        let credit = Journal.lines(for: Fixtures.creditNoteEUR, accounts: .defaults).map(Journal.csvRow)
        #expect(
            credit.first
                == "2026-03-10,CN-2026-000001,credit_note,kraftwerk,1200,Credit note CN-2026-000001 receivable,0.00,50.40,EUR"
        )
    }

    @Test func csvFieldsAreQuotedWhenNeeded() {
        var line = Journal.lines(for: Fixtures.topUpEUR, accounts: .defaults)[0]
        line.description = "Pack, \"5k\""
        #expect(Journal.csvRow(line).contains(",\"Pack, \"\"5k\"\"\","))
    }
}
