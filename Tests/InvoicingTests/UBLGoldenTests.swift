// Proves UBLWriter's bytes stay exactly as reviewed: each fixture must render to its golden file.
//
// The golden files in Golden/ were checked with `python3 ../shared/einvoice/validate.py
// Tests/InvoicingTests/Golden/*.xml` (XSD + EN 16931 + Peppol). When the writer changes on
// purpose, re-record them with `RECORD_GOLDEN=1 swift test --filter UBLGoldenTests`, run the
// validator again and review the diff; without the variable a difference is a failure.
import Foundation
import Invoicing
import Testing

@Suite struct UBLGoldenTests {
    static let isRecording = ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1"

    @Test(arguments: Fixtures.goldens.map(\.name))
    func rendersTheGoldenBytes(name: String) throws {
        let document = try #require(Fixtures.goldens.first { $0.name == name }?.document)
        let rendered = try UBLWriter.render(document)
        let url = TestPaths.goldenDirectory.appendingPathComponent(name + ".xml")
        if Self.isRecording {
            try FileManager.default.createDirectory(at: TestPaths.goldenDirectory, withIntermediateDirectories: true)
            try Data(rendered).write(to: url)
            return
        }
        let golden = try #require(
            FileManager.default.contents(atPath: url.path),
            "missing golden file \(url.path); record it with RECORD_GOLDEN=1")
        #expect(
            rendered == [UInt8](golden),
            "\(name) differs from its golden file; if intended, re-record with RECORD_GOLDEN=1 and re-validate")
    }

    @Test func renderingTwiceGivesTheSameBytes() throws {
        for (_, document) in Fixtures.goldens {
            #expect(try UBLWriter.render(document) == UBLWriter.render(document))
        }
    }

    @Test func escapesMarkupAndKeepsNonLatinText() throws {
        let xml = String(decoding: try UBLWriter.render(Fixtures.renewalUSD), as: UTF8.self)
        // libxml2 also escapes the quotes in text, which is valid and reads back the same.
        #expect(xml.contains("<cbc:Name>Ōsaka &amp; &lt;Söhne&gt; &quot;株式会社&quot;</cbc:Name>"))
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invoice"))
    }

    @Test func dropsCharactersXMLCannotCarry() throws {
        var document = Fixtures.renewalUSD
        document.buyer.name = "Bell\u{07} Studio\u{0} Ltd"
        let xml = String(decoding: try UBLWriter.render(document), as: UTF8.self)
        #expect(xml.contains("<cbc:RegistrationName>Bell Studio Ltd</cbc:RegistrationName>"))
    }
}
