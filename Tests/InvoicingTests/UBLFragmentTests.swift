import Testing

// Proves that subtrees written from kept fragments give exactly the bytes of writing them in place.
@testable import Invoicing

@Suite struct UBLFragmentTests {
    @Test(arguments: Fixtures.goldens.map(\.name))
    func sharedFragmentsWriteTheSameBytes(name: String) throws {
        let document = try #require(Fixtures.goldens.first { $0.name == name }?.document)
        let inPlace = try UBLWriter.render(document, sharingFragments: false)
        // Twice: the first render makes the fragments, the second only reads them.
        #expect(try UBLWriter.render(document, sharingFragments: true) == inPlace)
        #expect(try UBLWriter.render(document, sharingFragments: true) == inPlace)
    }

    @Test func aSellerThatDiffersGetsItsOwnFragment() throws {
        var document = Fixtures.renewalUSD
        let first = try UBLWriter.render(document)
        document.seller.name = "Another Seller Ltd"
        let second = String(decoding: try UBLWriter.render(document), as: UTF8.self)
        #expect(second.contains("<cbc:RegistrationName>Another Seller Ltd</cbc:RegistrationName>"))
        #expect(try UBLWriter.render(document, sharingFragments: false) == Array(second.utf8))
        #expect(try UBLWriter.render(Fixtures.renewalUSD) == first)
    }

    /// libxml2 escapes attribute values by the document's declared encoding: a fragment made
    /// without the declaration wrote `Ü` in a scheme as `&#xDC;`.
    @Test func nonASCIIAttributesAndTextsAreWrittenAsInPlace() throws {
        var document = Fixtures.renewalUSD
        document.seller.endpointId = "Ü88:5060000000009"
        document.seller.name = "Ōsaka Seller & <Söhne>"
        let shared = try UBLWriter.render(document)
        #expect(String(decoding: shared, as: UTF8.self).contains("schemeID=\"Ü88\""))
        #expect(shared == (try UBLWriter.render(document, sharingFragments: false)))
    }

    /// Swift's `String` equality takes canonically equivalent spellings for one; their
    /// fragments are different bytes and must not be shared.
    @Test func canonicallyEquivalentNamesKeepTheirOwnBytes() throws {
        var composed = Fixtures.renewalUSD
        composed.seller.name = "Caf\u{E9} Studios"
        var decomposed = Fixtures.renewalUSD
        decomposed.seller.name = "Cafe\u{301} Studios"
        #expect(composed.seller.name == decomposed.seller.name)
        for document in [composed, decomposed, composed] {
            #expect(try UBLWriter.render(document) == (try UBLWriter.render(document, sharingFragments: false)))
        }
    }

    @Test func theSellerAndTaxCategoriesAreKeptAsFragments() throws {
        let document = Fixtures.renewalUSD
        _ = try UBLWriter.render(document)
        let seller = SharedFragments.Key.party(
            role: "cac:AccountingSupplierParty", party: document.seller, identifiedByEndpoint: false,
            outsideScope: false)
        #expect(SharedFragments.isKept(seller, depth: 2))
        let lineCategory = SharedFragments.Key.taxCategory(
            name: "cac:ClassifiedTaxCategory", treatment: document.tax, withExemption: false)
        #expect(SharedFragments.isKept(lineCategory, depth: 4))
        let buyer = SharedFragments.Key.party(
            role: "cac:AccountingCustomerParty", party: document.buyer, identifiedByEndpoint: false,
            outsideScope: false)
        #expect(!SharedFragments.isKept(buyer, depth: 2))
    }

    /// The places a fragment can be written: as the first child, right after its parent's
    /// start tag; between siblings; and as the last child, before its parent's end tag.
    @Test(arguments: [0, 1, 2])
    func aFragmentStandsInForTheElementAnywhere(siblingsBefore: Int) throws {
        func child(_ xml: XMLTextWriter) {
            xml.start("b")
            xml.element("c", "text & more")
            xml.start("d")
            xml.element("e", "deep", attribute: ("unit", "C62"))
            xml.end()
            xml.end()
        }
        func document(fragment: XMLFragment?) throws -> String {
            let xml = try XMLTextWriter()
            xml.start("root")
            xml.start("a")
            for index in 0..<siblingsBefore { xml.element("sibling", String(index)) }
            if let fragment { xml.raw(fragment) } else { child(xml) }
            xml.end()
            xml.element("after", "x")
            xml.end()
            return String(decoding: try xml.finish(), as: UTF8.self)
        }
        let fragment = try XMLTextWriter.fragment(depth: 3, child)
        let expected = try document(fragment: nil)
        #expect(expected.contains("\n    <b>\n      <c>text &amp; more</c>\n"))
        #expect(try document(fragment: fragment) == expected)
    }
}
