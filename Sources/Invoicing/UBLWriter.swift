import Synchronization

/// Renders a `Document` as a UBL 2.1 `Invoice` or `CreditNote` that conforms to EN 16931 and,
/// when both parties have an electronic address, to Peppol BIS Billing 3.0 (SPEC §6.8).
///
/// The element order follows the UBL 2.1 XSD sequences exactly; the choices that the rules
/// leave open are made here once, so every document of the product makes them the same way:
/// - Amounts carry the currency's exponent (JPY `1748`, USD `5.00`). EN 16931 allows at most
///   two decimals on every amount (BR-DEC-*), so a three-decimal currency (BHD, KWD, …) is
///   written with its trailing zero dropped (`12.340` → `12.34`, the same value); an amount
///   that really needs the third decimal is written exactly rather than altered, and
///   `knownRuleViolations(for:)` reports it so the close can flag the document.
/// - The unit price keeps up to four decimals beyond the currency's exponent. Peppol checks
///   that a line amount equals quantity × price within 0.02 (PEPPOL-EN16931-R120); in a
///   currency with fewer than two decimals the rounding of a line can exceed that (777 ×
///   2.25 JPY = 1748.25, billed 1748), and such a line states its price per the whole
///   quantity instead (PriceAmount 1748 per BaseQuantity 777), with the nominal unit price in
///   the item description.
/// - Exemption reasons: AE `VATEX-EU-AE`, K `VATEX-EU-IC`, G `VATEX-EU-G`, O `VATEX-EU-O`, each
///   with its standard text; E gets the text "Exempt from VAT" only, because each VATEX-EU-132
///   code asserts a specific legal basis that the data does not tell; S and Z must not carry
///   a reason (BR-S-10, BR-Z-10).
/// - Category O carries no rate (BR-O-05, BR-48) and no VAT identifier of either party
///   (BR-O-02), so the seller is identified by its electronic address instead (BR-CO-26).
/// - Payment means: credit transfer to the seller's IBAN, code 58 (SEPA) for EUR and code 30
///   otherwise; without an IBAN, code 1 ("instrument not defined") so that the remittance
///   reference (PaymentID = document number) still has a place.
/// - A credit note has no `cbc:DueDate` in UBL 2.1; its due date goes to
///   `cac:PaymentMeans/cbc:PaymentDueDate` (the EN 16931 binding of BT-9 for credit notes) and
///   into the payment terms text. Its payment means has no payee account: the seller's IBAN is
///   not where a refund goes.
public enum UBLWriter {
    public static let peppolCustomizationID =
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    public static let peppolProfileID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    public static let en16931CustomizationID = "urn:cen.eu:en16931:2017"
    /// The note on every what-if document (SPEC §9), so nobody takes it for a real one.
    public static let draftNote = "DRAFT — what-if, not a real invoice"
    /// The document number written for a draft that was never numbered.
    public static let draftNumber = "DRAFT"
    /// UN/ECE Recommendation 20 "one": credits, subscriptions and packs are counted in units.
    public static let unitCode = "C62"

    static let invoiceNamespace = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    static let creditNoteNamespace = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
    static let aggregateNamespace = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    static let basicNamespace = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

    /// The UBL XML of `document`: UTF-8, indented, and the same bytes for the same document.
    public static func render(_ document: Document) throws -> [UInt8] {
        try render(document, sharingFragments: true)
    }

    /// `sharingFragments: false` writes every element in place, for tests that compare the two.
    static func render(_ document: Document, sharingFragments: Bool) throws -> [UInt8] {
        let writer = try XMLTextWriter()
        Rendering(document: document, xml: writer, sharingFragments: sharingFragments).write()
        return try writer.finish()
    }

    /// The EN 16931 and Peppol rules that `document` is known to break because of its data,
    /// one line each starting with the rule id. The writer renders such a document anyway
    /// (it never invents identifiers or alters amounts) and the close reports these lines.
    /// This is not a validator: it lists the data gaps the writer can see, nothing more.
    public static func knownRuleViolations(for document: Document) -> [String] {
        var problems: [String] = []
        let category = document.tax.categoryCode
        let buyerVatId = document.buyer.vatId ?? ""
        let sellerVatId = document.seller.vatId ?? ""
        if category == "AE", buyerVatId.isEmpty {
            // orgs.csv requires vat_id for AE, but an older ledger row or an edited org can lack it.
            problems.append("BR-AE-02: reverse charge needs the buyer's VAT identifier; org \(document.orgId) has none")
        }
        if category == "K", buyerVatId.isEmpty {
            problems.append(
                "BR-IC-02: an intra-community supply needs the buyer's VAT identifier; org \(document.orgId) has none")
        }
        if category != "O", sellerVatId.isEmpty {
            let ruleFamily = category == "K" ? "IC" : category
            problems.append("BR-\(ruleFamily)-02: category \(category) needs the seller's VAT identifier")
        }
        // Each party is checked in place, one after the other: loops over arrays of the parties
        // built those arrays, and copied both parties (a dozen strings each), for every
        // document of a close, on the way to its commit.
        func checkCountryCode(role: String, vatId: String) {
            guard category != "O", !vatId.isEmpty, !startsWithCountryCode(vatId) else { return }
            problems.append("BR-CO-09: the \(role)'s VAT identifier \(vatId) does not start with a country code")
        }
        checkCountryCode(role: "seller", vatId: sellerVatId)
        checkCountryCode(role: "buyer", vatId: buyerVatId)
        if category == "O", endpointParts(document.seller.endpointId) == nil {
            problems.append("BR-CO-26: category O hides the seller's VAT id, and the seller has no endpoint id")
        }
        if !TaxTreatment.knownCategories.contains(category) {
            problems.append("BR-CL-18: \(category) is not a VAT category the product supports")
        }
        let currency = document.currency
        if currency.exponent > 2 {
            let unit = Arithmetic.powerOfTen(currency.exponent - 2)
            var amounts = document.lines.map(\.amountMinor)
            amounts += [document.netMinor, document.taxMinor, document.totalMinor]
            if amounts.contains(where: { $0 % unit != 0 }) {
                problems.append(
                    "BR-DEC-09…23 (UBL-DT-01): \(currency.code) amounts need \(currency.exponent) decimals; EN 16931 allows 2"
                )
            }
        }
        if document.isPeppol, let sellerEndpoint = document.seller.endpointId,
            let buyerEndpoint = document.buyer.endpointId
        {
            func checkScheme(role: String, endpoint: String) {
                guard endpointParts(endpoint) == nil else { return }
                problems.append("BR-62/BR-63: the \(role)'s endpoint id has no `scheme:` prefix")
            }
            func checkEndpoint(role: String, endpoint: String) {
                guard let problem = EndpointCheck.problem(endpoint) else { return }
                problems.append("\(problem) (the \(role)'s endpoint id)")
            }
            checkScheme(role: "seller", endpoint: sellerEndpoint)
            checkScheme(role: "buyer", endpoint: buyerEndpoint)
            checkEndpoint(role: "seller", endpoint: sellerEndpoint)
            checkEndpoint(role: "buyer", endpoint: buyerEndpoint)
        }
        return problems
    }

    /// Whether a VAT id starts with two capital letters, the ISO 3166 prefix BR-CO-09 wants.
    static func startsWithCountryCode(_ vatId: String) -> Bool {
        let prefix = Array(vatId.utf8.prefix(2))
        return prefix.count == 2 && prefix.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// Splits `0088:5060000000009` at the first colon into scheme and identifier.
    static func endpointParts(_ endpointId: String?) -> (scheme: String, id: String)? {
        guard let endpointId, let colon = endpointId.firstIndex(of: ":") else { return nil }
        let scheme = String(endpointId[..<colon])
        let id = String(endpointId[endpointId.index(after: colon)...])
        guard !scheme.isEmpty, !id.isEmpty else { return nil }
        return (scheme, id)
    }

    /// The VAT exemption reason code and text a category needs in its breakdown (BT-121,
    /// BT-120), or nil for S and Z, whose rules forbid one.
    static func exemption(for categoryCode: String) -> (code: String?, text: String)? {
        switch categoryCode {
        case "AE": ("VATEX-EU-AE", "Reverse charge")
        case "K": ("VATEX-EU-IC", "Intra-Community supply")
        case "G": ("VATEX-EU-G", "Export outside the EU")
        case "O": ("VATEX-EU-O", "Not subject to VAT")
        case "E": (nil, "Exempt from VAT")
        default: nil
        }
    }

    /// An amount in the document currency as UBL wants it (see the type's comment).
    static func amountText(_ amountMinor: Int64, currency: Currency) -> String {
        if currency.exponent > 2 {
            return DecimalText.formatTrimmed(amountMinor, scale: currency.exponent, minimum: 2)
        }
        return DecimalText.format(amountMinor, scale: currency.exponent)
    }

    /// How a line states its price: the unit price, or, when Peppol's 0.02 tolerance cannot
    /// hold, the line amount per the whole quantity.
    struct LinePrice: Equatable {
        var amountText: String
        var baseQuantity: Int64?
        var nominalPriceNote: String?
    }

    static func linePrice(_ line: DocumentLine, currency: Currency) -> LinePrice {
        let scale = currency.exponent + UnitPrice.extraDigits
        let unitPriceText = DecimalText.formatTrimmed(
            line.unitPrice.scaledAmount, scale: scale, minimum: currency.exponent)
        guard line.quantity > 0 else { return LinePrice(amountText: unitPriceText) }
        // Both products are in units of 10^-scale of the currency; 0.02 is 2 × 10^(scale - 2).
        let tolerance = 2 * Arithmetic.powerOfTen(scale - 2)
        let (exact, exactOverflow) = line.quantity.multipliedReportingOverflow(by: line.unitPrice.scaledAmount)
        let (billed, billedOverflow) = line.amountMinor.multipliedReportingOverflow(
            by: Arithmetic.powerOfTen(UnitPrice.extraDigits))
        let (difference, differenceOverflow) = exact.subtractingReportingOverflow(billed)
        if !exactOverflow, !billedOverflow, !differenceOverflow, difference.magnitude <= UInt64(tolerance) {
            return LinePrice(amountText: unitPriceText)
        }
        let note =
            "Unit price \(unitPriceText) \(currency.code); the line amount is rounded to the currency's minor unit"
        return LinePrice(
            amountText: amountText(line.amountMinor, currency: currency), baseQuantity: line.quantity,
            nominalPriceNote: note)
    }
}

extension UBLWriter.LinePrice {
    init(amountText: String) {
        self.init(amountText: amountText, baseQuantity: nil, nominalPriceNote: nil)
    }
}

/// One rendering pass: the document, its derived values and the writer, so the element
/// functions below need no long parameter lists.
private struct Rendering {
    let document: Document
    let xml: XMLTextWriter
    let currency: Currency
    let isCreditNote: Bool
    let category: String
    /// Category O forbids VAT identifiers (BR-O-02) and a rate (BR-O-05, BR-48).
    let isOutsideScope: Bool
    let sharingFragments: Bool

    init(document: Document, xml: XMLTextWriter, sharingFragments: Bool) {
        self.document = document
        self.xml = xml
        self.sharingFragments = sharingFragments
        self.currency = document.currency
        self.isCreditNote = document.kind == .creditNote
        self.category = document.tax.categoryCode
        self.isOutsideScope = document.tax.categoryCode == "O"
    }

    func write() {
        let root = isCreditNote ? "CreditNote" : "Invoice"
        xml.start(root)
        xml.attribute("xmlns", isCreditNote ? UBLWriter.creditNoteNamespace : UBLWriter.invoiceNamespace)
        xml.attribute("xmlns:cac", UBLWriter.aggregateNamespace)
        xml.attribute("xmlns:cbc", UBLWriter.basicNamespace)
        writeHeader()
        writeParty("cac:AccountingSupplierParty", document.seller, identifiedByEndpoint: isOutsideScope, shared: true)
        writeParty("cac:AccountingCustomerParty", document.buyer, identifiedByEndpoint: false, shared: false)
        writeDelivery()
        writePaymentMeans()
        writePaymentTerms()
        writeTaxTotal()
        writeMonetaryTotal()
        for (index, line) in document.lines.enumerated() {
            writeLine(line, number: index + 1)
        }
        xml.end()
    }

    // MARK: Header

    private func writeHeader() {
        if document.isPeppol {
            xml.element("cbc:CustomizationID", UBLWriter.peppolCustomizationID)
            xml.element("cbc:ProfileID", UBLWriter.peppolProfileID)
        } else {
            xml.element("cbc:CustomizationID", UBLWriter.en16931CustomizationID)
        }
        xml.element("cbc:ID", document.number.isEmpty ? UBLWriter.draftNumber : document.number)
        xml.element("cbc:IssueDate", document.issueDate.description)
        if isCreditNote {
            xml.element("cbc:CreditNoteTypeCode", "381")
        } else {
            xml.element("cbc:DueDate", document.dueDate.description)
            xml.element("cbc:InvoiceTypeCode", "380")
        }
        // Peppol allows one document note (PEPPOL-EN16931-R002); only drafts use it.
        if document.isDraft { xml.element("cbc:Note", UBLWriter.draftNote) }
        xml.element("cbc:DocumentCurrencyCode", currency.code)
        // Peppol needs a buyer reference or an order reference (PEPPOL-EN16931-R003); without
        // one from the buyer, the org id is the reference the buyer knows us by.
        let buyerReference = document.buyerReference ?? ""
        xml.element("cbc:BuyerReference", buyerReference.isEmpty ? document.orgId : buyerReference)
        writeInvoicePeriod()
        if isCreditNote, let referenced = document.referencedNumber, !referenced.isEmpty {
            xml.start("cac:BillingReference")
            xml.start("cac:InvoiceDocumentReference")
            xml.element("cbc:ID", referenced)
            xml.end()
            xml.end()
        }
    }

    /// BG-14. Peppol requires every line period inside it (PEPPOL-EN16931-R110, R111); a
    /// renewal invoice also bills prorations of the previous period, so the document period
    /// is widened to cover its lines' periods.
    private func writeInvoicePeriod() {
        guard document.periodStart != nil || document.periodEnd != nil else { return }
        var start = document.periodStart
        var end = document.periodEnd
        for line in document.lines {
            if let lineStart = line.periodStart, let current = start, lineStart < current { start = lineStart }
            if let lineEnd = line.periodEnd, let current = end, lineEnd > current { end = lineEnd }
        }
        writePeriod(start: start, end: end)
    }

    private func writePeriod(start: CivilDate?, end: CivilDate?) {
        xml.start("cac:InvoicePeriod")
        if let start { xml.element("cbc:StartDate", start.description) }
        if let end { xml.element("cbc:EndDate", end.description) }
        xml.end()
    }

    // MARK: Parties

    /// The seller is the same on every document of a close, so its subtree comes from
    /// `SharedFragments`; the buyer's is written each time.
    private func writeParty(_ role: String, _ party: Party, identifiedByEndpoint: Bool, shared: Bool) {
        let key = SharedFragments.Key.party(
            role: role, party: party, identifiedByEndpoint: identifiedByEndpoint, outsideScope: isOutsideScope)
        if shared, sharingFragments { SharedFragments.write(key, into: xml) } else { key.write(into: xml) }
    }

    fileprivate static func writeParty(
        _ role: String, _ party: Party, identifiedByEndpoint: Bool, outsideScope: Bool, into xml: XMLTextWriter
    ) {
        xml.start(role)
        xml.start("cac:Party")
        let endpoint = UBLWriter.endpointParts(party.endpointId)
        if let endpoint {
            xml.element("cbc:EndpointID", endpoint.id, attribute: ("schemeID", endpoint.scheme))
        } else if let raw = party.endpointId {
            // Without a scheme the id is still the party's address; BR-62/63 report the gap.
            xml.element("cbc:EndpointID", raw)
        }
        if identifiedByEndpoint, let endpoint {
            xml.start("cac:PartyIdentification")
            xml.element("cbc:ID", endpoint.id, attribute: ("schemeID", endpoint.scheme))
            xml.end()
        }
        if !party.name.isEmpty {
            xml.start("cac:PartyName")
            xml.element("cbc:Name", party.name)
            xml.end()
        }
        xml.start("cac:PostalAddress")
        xml.element("cbc:StreetName", party.street)
        xml.element("cbc:CityName", party.city)
        xml.element("cbc:PostalZone", party.postalCode)
        writeCountry(party.countryCode, into: xml)
        xml.end()
        if !outsideScope, let vatId = party.vatId, !vatId.isEmpty {
            xml.start("cac:PartyTaxScheme")
            xml.element("cbc:CompanyID", vatId)
            writeTaxScheme(into: xml)
            xml.end()
        }
        xml.start("cac:PartyLegalEntity")
        xml.element("cbc:RegistrationName", party.name)
        xml.end()
        xml.end()
        xml.end()
    }

    /// A missing country leaves the element out rather than empty (PEPPOL-EN16931-R008); the
    /// rules then name the missing country (BR-09, BR-11) instead of an empty element.
    private static func writeCountry(_ countryCode: String, into xml: XMLTextWriter) {
        guard !countryCode.isEmpty else { return }
        xml.start("cac:Country")
        xml.element("cbc:IdentificationCode", countryCode)
        xml.end()
    }

    private static func writeTaxScheme(into xml: XMLTextWriter) {
        xml.start("cac:TaxScheme")
        xml.element("cbc:ID", "VAT")
        xml.end()
    }

    // MARK: Delivery and payment

    /// An intra-community supply must state the delivery date or the invoicing period and
    /// the country delivered to (BR-IC-11, BR-IC-12): the service is delivered to the buyer
    /// on the issue date when the document has no period.
    private func writeDelivery() {
        guard category == "K" else { return }
        xml.start("cac:Delivery")
        if document.periodStart == nil, document.periodEnd == nil {
            xml.element("cbc:ActualDeliveryDate", document.issueDate.description)
        }
        xml.start("cac:DeliveryLocation")
        xml.start("cac:Address")
        Rendering.writeCountry(document.buyer.countryCode, into: xml)
        xml.end()
        xml.end()
        xml.end()
    }

    private func writePaymentMeans() {
        let iban = document.payment.iban ?? ""
        let paysToAccount = !isCreditNote && !iban.isEmpty
        let code = paysToAccount ? (currency.code == "EUR" ? "58" : "30") : "1"
        xml.start("cac:PaymentMeans")
        xml.element("cbc:PaymentMeansCode", code)
        if isCreditNote { xml.element("cbc:PaymentDueDate", document.dueDate.description) }
        xml.element("cbc:PaymentID", document.number.isEmpty ? UBLWriter.draftNumber : document.number)
        if paysToAccount {
            xml.start("cac:PayeeFinancialAccount")
            xml.element("cbc:ID", iban)
            xml.end()
        }
        xml.end()
    }

    private func writePaymentTerms() {
        let days = document.payment.paymentTermsDays
        var note = "Payment within \(days) \(days == 1 ? "day" : "days")"
        // The credit note has no DueDate element, so the terms also say the date.
        if isCreditNote { note += ", due \(document.dueDate.description)" }
        xml.start("cac:PaymentTerms")
        xml.element("cbc:Note", note)
        xml.end()
    }

    // MARK: Totals

    private func writeTaxTotal() {
        xml.start("cac:TaxTotal")
        amount("cbc:TaxAmount", document.taxMinor)
        for subtotal in document.taxSubtotals {
            xml.start("cac:TaxSubtotal")
            amount("cbc:TaxableAmount", subtotal.taxableMinor)
            amount("cbc:TaxAmount", subtotal.taxMinor)
            writeTaxCategory("cac:TaxCategory", subtotal.treatment, withExemption: true)
            xml.end()
        }
        xml.end()
    }

    /// A tax category is the same wherever its treatment is, so it comes from `SharedFragments`.
    private func writeTaxCategory(_ name: String, _ treatment: TaxTreatment, withExemption: Bool) {
        let key = SharedFragments.Key.taxCategory(name: name, treatment: treatment, withExemption: withExemption)
        if sharingFragments { SharedFragments.write(key, into: xml) } else { key.write(into: xml) }
    }

    fileprivate static func writeTaxCategory(
        _ name: String, _ treatment: TaxTreatment, withExemption: Bool, into xml: XMLTextWriter
    ) {
        xml.start(name)
        xml.element("cbc:ID", treatment.categoryCode)
        if treatment.categoryCode != "O" {
            xml.element(
                "cbc:Percent", DecimalText.formatTrimmed(treatment.rateHundredths, scale: 2, minimum: 0))
        }
        if withExemption, let exemption = UBLWriter.exemption(for: treatment.categoryCode) {
            if let code = exemption.code { xml.element("cbc:TaxExemptionReasonCode", code) }
            xml.element("cbc:TaxExemptionReason", exemption.text)
        }
        writeTaxScheme(into: xml)
        xml.end()
    }

    private func writeMonetaryTotal() {
        xml.start("cac:LegalMonetaryTotal")
        amount("cbc:LineExtensionAmount", document.netMinor)
        amount("cbc:TaxExclusiveAmount", document.netMinor)
        amount("cbc:TaxInclusiveAmount", document.totalMinor)
        amount("cbc:PayableAmount", document.totalMinor)
        xml.end()
    }

    private func amount(_ name: String, _ amountMinor: Int64) {
        xml.element(
            name, UBLWriter.amountText(amountMinor, currency: currency), attribute: ("currencyID", currency.code))
    }

    // MARK: Lines

    private func writeLine(_ line: DocumentLine, number: Int) {
        xml.start(isCreditNote ? "cac:CreditNoteLine" : "cac:InvoiceLine")
        xml.element("cbc:ID", String(number))
        if let note = line.note { xml.element("cbc:Note", note) }
        xml.element(
            isCreditNote ? "cbc:CreditedQuantity" : "cbc:InvoicedQuantity", String(line.quantity),
            attribute: ("unitCode", UBLWriter.unitCode))
        amount("cbc:LineExtensionAmount", line.amountMinor)
        if line.periodStart != nil || line.periodEnd != nil {
            writePeriod(start: line.periodStart, end: line.periodEnd)
        }
        let price = UBLWriter.linePrice(line, currency: currency)
        xml.start("cac:Item")
        if let note = price.nominalPriceNote { xml.element("cbc:Description", note) }
        xml.element("cbc:Name", line.itemName)
        writeTaxCategory("cac:ClassifiedTaxCategory", document.tax, withExemption: false)
        xml.end()
        xml.start("cac:Price")
        xml.element("cbc:PriceAmount", price.amountText, attribute: ("currencyID", currency.code))
        if let baseQuantity = price.baseQuantity {
            xml.element("cbc:BaseQuantity", String(baseQuantity), attribute: ("unitCode", UBLWriter.unitCode))
        }
        xml.end()
        xml.end()
    }
}

/// Subtrees that the documents of a close repeat (the seller; each tax category, on every line
/// and in every breakdown), rendered once per depth by a writer of their own and then written
/// into each document as bytes. They were nearly half of an invoice's elements, and libxml2
/// allocates and frees several times for every element it writes.
///
/// A key holds every value its subtree is rendered from, and the subtree is rendered from the
/// key alone, so a fragment cannot differ from what rendering in place would write
/// (`UBLFragmentTests` compares the two).
enum SharedFragments {
    enum Key: Sendable {
        case party(role: String, party: Party, identifiedByEndpoint: Bool, outsideScope: Bool)
        case taxCategory(name: String, treatment: TaxTreatment, withExemption: Bool)

        func write(into xml: XMLTextWriter) {
            switch self {
            case .party(let role, let party, let identifiedByEndpoint, let outsideScope):
                Rendering.writeParty(
                    role, party, identifiedByEndpoint: identifiedByEndpoint, outsideScope: outsideScope, into: xml)
            case .taxCategory(let name, let treatment, let withExemption):
                Rendering.writeTaxCategory(name, treatment, withExemption: withExemption, into: xml)
            }
        }

        /// Every value the subtree is rendered from, as bytes: Swift's `String` equality takes
        /// canonically equivalent spellings (`é` and `e` with a combining accent) for one,
        /// and their subtrees are different bytes.
        func slot(depth: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(192)
            // Each text as its length (four bytes) and its bytes; a missing one as a length of
            // all ones, which no text has.
            func add(_ text: String?) {
                guard let text else { return bytes.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF]) }
                withUnsafeBytes(of: UInt32(truncatingIfNeeded: text.utf8.count).littleEndian) {
                    bytes.append(contentsOf: $0)
                }
                bytes.append(contentsOf: text.utf8)
            }
            func add(_ flags: UInt8...) { bytes.append(contentsOf: flags) }
            withUnsafeBytes(of: Int64(depth).littleEndian) { bytes.append(contentsOf: $0) }
            switch self {
            case .party(let role, let party, let identifiedByEndpoint, let outsideScope):
                add(1, identifiedByEndpoint ? 1 : 0, outsideScope ? 1 : 0)
                add(role)
                add(party.name)
                add(party.street)
                add(party.city)
                add(party.postalCode)
                add(party.countryCode)
                add(party.vatId)
                add(party.endpointId)
            case .taxCategory(let name, let treatment, let withExemption):
                add(2, withExemption ? 1 : 0)
                add(name)
                add(treatment.categoryCode)
                withUnsafeBytes(of: treatment.rateHundredths.littleEndian) { bytes.append(contentsOf: $0) }
            }
            return bytes
        }
    }

    /// A close has one seller and a few tax treatments; past this many fragments (a process
    /// rendering for many issuers), subtrees are written in place rather than kept.
    static let limit = 256

    private static let cache = Mutex<[[UInt8]: XMLFragment]>([:])

    /// Writes the subtree of `key` into `xml`: from its fragment, made on first use.
    static func write(_ key: Key, into xml: XMLTextWriter) {
        let depth = xml.depth + 1
        let slot = key.slot(depth: depth)
        if let fragment = cache.withLock({ $0[slot] }) {
            xml.raw(fragment)
            return
        }
        guard cache.withLock({ $0.count < limit }),
            let fragment = try? XMLTextWriter.fragment(depth: depth, { key.write(into: $0) })
        else {
            key.write(into: xml)
            return
        }
        cache.withLock { cache in
            if cache.count < limit { cache[slot] = fragment }
        }
        xml.raw(fragment)
    }

    /// Whether the subtree of `key` at `depth` is kept as a fragment, for tests.
    static func isKept(_ key: Key, depth: Int) -> Bool {
        cache.withLock { $0[key.slot(depth: depth)] != nil }
    }
}
