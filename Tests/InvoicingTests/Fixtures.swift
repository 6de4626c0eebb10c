// Sample documents shared by the golden, schema and journal tests: one per shape the close issues.
import Foundation
import Invoicing

enum Fixtures {
    /// The issuer of SPEC §3's plans.yaml.
    static let seller = Party(
        name: "ACT 3 Studios Ltd", street: "1 Stage Road", city: "London", postalCode: "EC1A 1AA",
        countryCode: "GB", vatId: "GB123456789", endpointId: "0088:5060000000009")

    static let payment = PaymentDetails(iban: "GB29NWBK60161331926819", paymentTermsDays: 14)

    /// A buyer whose name needs every kind of escaping and a non-Latin script.
    static let osakaBuyer = Party(
        name: "Ōsaka & <Söhne> \"株式会社\"", street: "1-2-3 Umeda, Kita-ku", city: "Ōsaka", postalCode: "530-0001",
        countryCode: "JP", endpointId: "0088:4912345000019")

    static let berlinBuyer = Party(
        name: "Kraftwerk Studios GmbH", street: "Torstraße 12", city: "Berlin", postalCode: "10119",
        countryCode: "DE", vatId: "DE123456789", endpointId: "0088:4000001000005")

    static let tokyoBuyer = Party(
        name: "株式会社アニメ工房", street: "2-11-3 Meguro", city: "Tokyo", postalCode: "153-0063",
        countryCode: "JP", endpointId: "0088:4567890000016")

    static let brusselsBuyer = Party(
        name: "Bruxelles Média SPRL", street: "Rue de la Loi 16", city: "Bruxelles", postalCode: "1000",
        countryCode: "BE", vatId: "BE0123456789")

    static let londonBuyer = Party(
        name: "Camden Film School", street: "5 Pratt Street", city: "London", postalCode: "NW1 0AB",
        countryCode: "GB", vatId: "GB987654321")

    static let parisBuyer = Party(
        name: "Studio Lumière SAS", street: "8 Rue de Rivoli", city: "Paris", postalCode: "75004",
        countryCode: "FR", vatId: "FR12345678901")

    static let austinBuyer = Party(
        name: "Lone Star Pictures LLC", street: "100 Congress Ave", city: "Austin", postalCode: "78701",
        countryCode: "US")

    static let manamaBuyer = Party(
        name: "Gulf Animation W.L.L.", street: "Building 1, Road 2", city: "Manama", postalCode: "317",
        countryCode: "BH", vatId: "BH200000000000002")

    static func date(_ text: String) -> CivilDate {
        guard let date = CivilDate.parse(text) else { fatalError("bad fixture date \(text)") }
        return date
    }

    static func document(
        number: String, kind: DocumentKind = .invoice, source: DocumentSource = .renewal, orgId: String,
        issued: String, currency: String, buyer: Party, buyerReference: String? = nil,
        tax: TaxTreatment, lines: [DocumentLine], period: (String, String)? = nil,
        referencedNumber: String? = nil, isDraft: Bool = false
    ) -> Document {
        let issueDate = date(issued)
        return Document(
            number: number, kind: kind, source: source, sourceId: "\(source.rawValue):\(issued)", orgId: orgId,
            issueInstant: Instant(date: issueDate), issueDate: issueDate,
            dueDate: issueDate.addingDays(payment.paymentTermsDays), currencyCode: currency, seller: seller,
            buyer: buyer, buyerReference: buyerReference, payment: payment, tax: tax, lines: lines,
            periodStart: period.map { date($0.0) }, periodEnd: period.map { date($0.1) },
            referencedNumber: referencedNumber, isDraft: isDraft)
    }

    static let standard20 = TaxTreatment(categoryCode: "S", rateHundredths: 2000)

    static func subscription(_ amountMinor: Int64, _ name: String, _ start: String, _ end: String) -> DocumentLine {
        .single(
            kind: .subscription, itemName: name, amountMinor: amountMinor, periodStart: date(start),
            periodEnd: date(end))
    }

    /// An overage line as the engine builds it: quantity × unit price, rounded once.
    static func overage(credits: Int64, unitPrice: String, currency: String) -> DocumentLine {
        let exponent = Currency(code: currency)!.exponent
        let scaled = try! DecimalText.parse(unitPrice, scale: exponent + UnitPrice.extraDigits).get()
        let price = UnitPrice(scaledAmount: scaled)
        return DocumentLine(
            kind: .overage, itemName: "Overage credits", note: "\(credits) credits beyond the plan's balance",
            quantity: credits, unitPrice: price, amountMinor: price.lineAmountMinor(quantity: credits))
    }

    static func pack(_ amountMinor: Int64) -> DocumentLine {
        .single(kind: .pack, itemName: "Credit pack 5k (5000 credits)", amountMinor: amountMinor)
    }

    /// Every golden document, by the file name it is stored under.
    static let goldens: [(name: String, document: Document)] = [
        ("renewal-usd-peppol", renewalUSD),
        ("topup-eur-peppol", topUpEUR),
        ("creditnote-eur-peppol", creditNoteEUR),
        ("renewal-jpy-peppol", renewalJPY),
        ("reverse-charge-eur", reverseChargeEUR),
        ("zero-rated-gbp", zeroRatedGBP),
        ("exempt-gbp", exemptGBP),
        ("intra-community-eur", intraCommunityEUR),
        ("export-usd", exportUSD),
        ("outside-scope-usd", outsideScopeUSD),
        ("renewal-bhd", renewalBHD),
        ("draft-whatif-usd", draftUSD),
    ]

    /// A renewal with the subscription, a proration of the previous period and overage.
    static let renewalUSD = document(
        number: "INV-2026-000042", orgId: "osaka-soehne", issued: "2026-03-01", currency: "USD",
        buyer: osakaBuyer, buyerReference: "PO-4711", tax: standard20,
        lines: [
            subscription(4900, "Business plan, 2026-03-01 to 2026-03-31", "2026-03-01", "2026-03-31"),
            .single(
                kind: .proration, itemName: "Upgrade Standard → Business, prorated",
                note: "Upgrade on 2026-02-17", amountMinor: 1234, periodStart: date("2026-02-17"),
                periodEnd: date("2026-02-28")),
            overage(credits: 333, unitPrice: "0.0150", currency: "USD"),
        ], period: ("2026-03-01", "2026-03-31"))

    static let topUpEUR = document(
        number: "INV-2026-000043", source: .topUp, orgId: "kraftwerk", issued: "2026-03-05", currency: "EUR",
        buyer: berlinBuyer, tax: standard20, lines: [pack(4200)])

    static let creditNoteEUR = document(
        number: "CN-2026-000001", kind: .creditNote, source: .refund, orgId: "kraftwerk", issued: "2026-03-10",
        currency: "EUR", buyer: berlinBuyer, tax: standard20, lines: [pack(4200)],
        referencedNumber: "INV-2026-000043")

    /// 13007 + 1748 = 14755 JPY; 20 % of it is 2951. The overage (777 × 2.25) is rounded by
    /// 0.25 JPY, more than Peppol's 0.02 tolerance, so it is priced per the whole quantity.
    static let renewalJPY = document(
        number: "INV-2026-000044", orgId: "anime-kobo", issued: "2026-03-01", currency: "JPY",
        buyer: tokyoBuyer, buyerReference: "アニメ-2026", tax: standard20,
        lines: [
            subscription(13007, "Enterprise plan, 2026-03-01 to 2026-03-31", "2026-03-01", "2026-03-31"),
            overage(credits: 777, unitPrice: "2.25", currency: "JPY"),
        ], period: ("2026-03-01", "2026-03-31"))

    /// Reverse charge to an EU business without an electronic address: plain EN 16931.
    static let reverseChargeEUR = document(
        number: "INV-2026-000045", orgId: "bruxelles-media", issued: "2026-03-01", currency: "EUR",
        buyer: brusselsBuyer, tax: TaxTreatment(categoryCode: "AE", rateHundredths: 0),
        lines: [subscription(2700, "Standard plan, 2026-03-01 to 2026-03-31", "2026-03-01", "2026-03-31")],
        period: ("2026-03-01", "2026-03-31"))

    static let zeroRatedGBP = document(
        number: "INV-2026-000046", orgId: "camden-film", issued: "2026-03-01", currency: "GBP",
        buyer: londonBuyer, tax: TaxTreatment(categoryCode: "Z", rateHundredths: 0),
        lines: [subscription(2500, "Standard plan, 2026-03-01 to 2026-03-31", "2026-03-01", "2026-03-31")],
        period: ("2026-03-01", "2026-03-31"))

    static let exemptGBP = document(
        number: "INV-2026-000047", orgId: "camden-film", issued: "2026-03-02", currency: "GBP",
        buyer: londonBuyer, tax: TaxTreatment(categoryCode: "E", rateHundredths: 0),
        lines: [subscription(2500, "Standard plan, 2026-03-02 to 2026-04-01", "2026-03-02", "2026-04-01")],
        period: ("2026-03-02", "2026-04-01"))

    /// A top-up has no period, so the delivery date carries BR-IC-11.
    static let intraCommunityEUR = document(
        number: "INV-2026-000048", source: .topUp, orgId: "studio-lumiere", issued: "2026-03-07",
        currency: "EUR", buyer: parisBuyer, tax: TaxTreatment(categoryCode: "K", rateHundredths: 0),
        lines: [pack(4200)])

    static let exportUSD = document(
        number: "INV-2026-000049", orgId: "lone-star", issued: "2026-03-03", currency: "USD",
        buyer: austinBuyer, tax: TaxTreatment(categoryCode: "G", rateHundredths: 0),
        lines: [
            subscription(2900, "Standard plan, 2026-03-03 to 2026-04-02", "2026-03-03", "2026-04-02"),
            overage(credits: 1201, unitPrice: "0.0150", currency: "USD"),
        ], period: ("2026-03-03", "2026-04-02"))

    static let outsideScopeUSD = document(
        number: "INV-2026-000050", orgId: "lone-star", issued: "2026-03-03", currency: "USD",
        buyer: austinBuyer, tax: TaxTreatment(categoryCode: "O", rateHundredths: 0),
        lines: [subscription(2900, "Standard plan, 2026-03-03 to 2026-04-02", "2026-03-03", "2026-04-02")],
        period: ("2026-03-03", "2026-04-02"))

    /// Three-decimal currency whose amounts are whole multiples of 10 fils, so two decimals
    /// state them exactly.
    static let renewalBHD = document(
        number: "INV-2026-000051", orgId: "gulf-animation", issued: "2026-03-04", currency: "BHD",
        buyer: manamaBuyer, tax: TaxTreatment(categoryCode: "S", rateHundredths: 1000),
        lines: [subscription(12300, "Standard plan, 2026-03-04 to 2026-04-03", "2026-03-04", "2026-04-03")],
        period: ("2026-03-04", "2026-04-03"))

    /// A what-if document: never numbered, marked as a draft.
    static let draftUSD = document(
        number: "", orgId: "osaka-soehne", issued: "2026-04-01", currency: "USD", buyer: osakaBuyer,
        tax: standard20,
        lines: [subscription(4900, "Business plan, 2026-04-01 to 2026-04-30", "2026-04-01", "2026-04-30")],
        period: ("2026-04-01", "2026-04-30"), isDraft: true)
}

/// Paths the tests read, found from this file so they work from any working directory.
enum TestPaths {
    /// `Tests/InvoicingTests`.
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let goldenDirectory = testsDirectory.appendingPathComponent("Golden")
    /// The package root is three levels up from this file; `shared` sits beside it.
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let schemasDirectory = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/einvoice/ubl-2.1/xsd").standardizedFileURL
}
