// Proves the rule-driven choices of UBLWriter: what each VAT category, currency and document kind writes.
import Foundation
import Invoicing
import Testing

@Suite struct UBLWriterRulesTests {
    private func xml(_ document: Document) throws -> String {
        String(decoding: try UBLWriter.render(document), as: UTF8.self)
    }

    @Test func peppolDocumentsClaimPeppolAndOthersPlainEN16931() throws {
        let peppol = try xml(Fixtures.renewalUSD)
        #expect(peppol.contains("<cbc:CustomizationID>\(UBLWriter.peppolCustomizationID)</cbc:CustomizationID>"))
        #expect(peppol.contains("<cbc:ProfileID>\(UBLWriter.peppolProfileID)</cbc:ProfileID>"))
        #expect(peppol.contains("<cbc:EndpointID schemeID=\"0088\">5060000000009</cbc:EndpointID>"))
        let plain = try xml(Fixtures.reverseChargeEUR)
        #expect(plain.contains("<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>"))
        #expect(!plain.contains("ProfileID"))
    }

    @Test(arguments: [
        ("AE", "VATEX-EU-AE", "Reverse charge"), ("K", "VATEX-EU-IC", "Intra-Community supply"),
        ("G", "VATEX-EU-G", "Export outside the EU"), ("O", "VATEX-EU-O", "Not subject to VAT"),
    ])
    func exemptCategoriesCarryTheirReason(category: String, code: String, reason: String) throws {
        var document = Fixtures.reverseChargeEUR
        document.tax = TaxTreatment(categoryCode: category, rateHundredths: 0)
        let text = try xml(document)
        #expect(text.contains("<cbc:TaxExemptionReasonCode>\(code)</cbc:TaxExemptionReasonCode>"))
        #expect(text.contains("<cbc:TaxExemptionReason>\(reason)</cbc:TaxExemptionReason>"))
    }

    @Test func standardAndZeroRatesCarryNoReason() throws {
        for document in [Fixtures.renewalUSD, Fixtures.zeroRatedGBP] {
            #expect(try !xml(document).contains("TaxExemptionReason"))
        }
    }

    @Test func outsideScopeHasNoRateAndNoVatIds() throws {
        var document = Fixtures.outsideScopeUSD
        document.buyer.vatId = "US123"
        let text = try xml(document)
        #expect(!text.contains("<cbc:Percent>"))
        #expect(!text.contains("PartyTaxScheme"))
        #expect(text.contains("<cac:PartyIdentification>"))
    }

    @Test func amountsUseTheCurrencyExponent() throws {
        #expect(
            try xml(Fixtures.renewalUSD).contains("<cbc:PayableAmount currencyID=\"USD\">79.61</cbc:PayableAmount>"))
        #expect(
            try xml(Fixtures.renewalJPY).contains("<cbc:PayableAmount currencyID=\"JPY\">17706</cbc:PayableAmount>"))
        #expect(
            try xml(Fixtures.renewalBHD).contains("<cbc:PayableAmount currencyID=\"BHD\">13.53</cbc:PayableAmount>"))
    }

    @Test func unitPricesKeepTheirExtraDecimals() throws {
        let text = try xml(Fixtures.renewalUSD)
        #expect(text.contains("<cbc:PriceAmount currencyID=\"USD\">0.015</cbc:PriceAmount>"))
        #expect(text.contains("<cbc:LineExtensionAmount currencyID=\"USD\">5.00</cbc:LineExtensionAmount>"))
    }

    @Test func aRoundingBeyondPeppolToleranceIsPricedPerTheWholeQuantity() throws {
        let text = try xml(Fixtures.renewalJPY)
        #expect(text.contains("<cbc:PriceAmount currencyID=\"JPY\">1748</cbc:PriceAmount>"))
        #expect(text.contains("<cbc:BaseQuantity unitCode=\"C62\">777</cbc:BaseQuantity>"))
        #expect(text.contains("Unit price 2.25 JPY"))
    }

    @Test func creditNotesPutTheDueDateInPaymentMeansAndReferenceTheInvoice() throws {
        let text = try xml(Fixtures.creditNoteEUR)
        #expect(text.contains("<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\""))
        #expect(text.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"))
        #expect(!text.contains("<cbc:DueDate>"))
        #expect(text.contains("<cbc:PaymentDueDate>2026-03-24</cbc:PaymentDueDate>"))
        #expect(text.contains("Payment within 14 days, due 2026-03-24"))
        #expect(text.contains("<cbc:ID>INV-2026-000043</cbc:ID>"))
        #expect(text.contains("<cbc:CreditedQuantity unitCode=\"C62\">1</cbc:CreditedQuantity>"))
    }

    @Test func paymentMeansFollowsCurrencyAndIban() throws {
        #expect(try xml(Fixtures.topUpEUR).contains("<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>"))
        #expect(try xml(Fixtures.renewalUSD).contains("<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"))
        var withoutIban = Fixtures.renewalUSD
        withoutIban.payment.iban = nil
        let text = try xml(withoutIban)
        #expect(text.contains("<cbc:PaymentMeansCode>1</cbc:PaymentMeansCode>"))
        #expect(!text.contains("PayeeFinancialAccount"))
    }

    @Test func theDocumentPeriodCoversProrationsOfThePreviousPeriod() throws {
        let text = try xml(Fixtures.renewalUSD)
        #expect(
            text.contains(
                "<cac:InvoicePeriod>\n    <cbc:StartDate>2026-02-17</cbc:StartDate>\n    <cbc:EndDate>2026-03-31</cbc:EndDate>"
            ))
    }

    @Test func draftsAreMarkedAndUnnumbered() throws {
        let text = try xml(Fixtures.draftUSD)
        #expect(text.contains("<cbc:Note>\(UBLWriter.draftNote)</cbc:Note>"))
        #expect(text.contains("<cbc:ID>\(UBLWriter.draftNumber)</cbc:ID>"))
        #expect(try !xml(Fixtures.renewalUSD).contains("<cbc:Note>DRAFT"))
    }

    /// The known data gap: a reverse-charge buyer without a VAT id cannot pass BR-AE-02. The
    /// writer must still render it (no invented id) and name the rule so the close reports it.
    @Test func reverseChargeWithoutBuyerVatIdRendersAndIsReported() throws {
        var document = Fixtures.reverseChargeEUR
        document.buyer.vatId = nil
        let text = try xml(document)
        #expect(text.contains("<cbc:ID>AE</cbc:ID>"))
        #expect(!text.contains("BE0123456789"))
        let problems = UBLWriter.knownRuleViolations(for: document)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("BR-AE-02") == true)
    }

    @Test func threeDecimalAmountsThatNeedTheThirdDecimalAreWrittenExactlyAndReported() throws {
        var document = Fixtures.renewalBHD
        document.lines = [Fixtures.subscription(12345, "Standard plan", "2026-03-04", "2026-04-03")]
        #expect(
            try xml(document).contains("<cbc:LineExtensionAmount currencyID=\"BHD\">12.345</cbc:LineExtensionAmount>"))
        #expect(UBLWriter.knownRuleViolations(for: document).contains { $0.hasPrefix("BR-DEC") })
    }

    @Test func goldenDocumentsHaveNoKnownRuleViolations() {
        for (name, document) in Fixtures.goldens {
            #expect(UBLWriter.knownRuleViolations(for: document) == [], "\(name)")
        }
    }

    @Test func otherDataGapsAreNamedByRule() {
        var intraCommunity = Fixtures.intraCommunityEUR
        intraCommunity.buyer.vatId = nil
        #expect(UBLWriter.knownRuleViolations(for: intraCommunity).first?.hasPrefix("BR-IC-02") == true)
        var badPrefix = Fixtures.topUpEUR
        badPrefix.buyer.vatId = "123456789"
        #expect(UBLWriter.knownRuleViolations(for: badPrefix).first?.hasPrefix("BR-CO-09") == true)
        var noScheme = Fixtures.topUpEUR
        noScheme.buyer.endpointId = "4000001000005"
        #expect(UBLWriter.knownRuleViolations(for: noScheme).first?.hasPrefix("BR-62/BR-63") == true)
    }

    /// Each party's identifiers are checked and named by role: the seller's as well as the buyer's.
    @Test(arguments: [
        ("seller VAT id", "BR-CO-09: the seller's VAT identifier 123456789 does not start with a country code"),
        ("buyer VAT id", "BR-CO-09: the buyer's VAT identifier 123456789 does not start with a country code"),
        ("seller endpoint", "BR-62/BR-63: the seller's endpoint id has no `scheme:` prefix"),
        (
            "buyer GLN",
            "PEPPOL-COMMON-R040: 4000001000006 is not a valid GLN (GS1 check digit) (the buyer's endpoint id)"
        ),
        (
            "seller GLN",
            "PEPPOL-COMMON-R040: 5060000000008 is not a valid GLN (GS1 check digit) (the seller's endpoint id)"
        ),
    ])
    func eachPartyIsCheckedByRole(change: String, expected: String) {
        var document = Fixtures.topUpEUR
        switch change {
        case "seller VAT id": document.seller.vatId = "123456789"
        case "buyer VAT id": document.buyer.vatId = "123456789"
        case "seller endpoint": document.seller.endpointId = "5060000000009"
        case "buyer GLN": document.buyer.endpointId = "0088:4000001000006"
        default: document.seller.endpointId = "0088:5060000000008"
        }
        #expect(UBLWriter.knownRuleViolations(for: Fixtures.topUpEUR) == [])
        #expect(UBLWriter.knownRuleViolations(for: document).contains(expected))
    }
}
