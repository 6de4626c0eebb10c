// Proves SchemaValidator accepts every document UBLWriter produces and reports broken ones, against the official UBL 2.1 XSDs.
import Foundation
import Invoicing
import Testing

/// The validators are parsed once for the whole run, as the close would do.
enum Schemas {
    static let directory = TestPaths.schemasDirectory.path

    static let invoice = Result {
        try SchemaValidator(schemaPath: SchemaValidator.schemaFile(for: .invoice, in: directory))
    }
    static let creditNote = Result {
        try SchemaValidator(schemaPath: SchemaValidator.schemaFile(for: .creditNote, in: directory))
    }

    /// The validator for `kind`; fails the test with a clear message when the shared schema
    /// folder is missing (CI always has `../shared/einvoice` beside the repository).
    static func validator(for kind: DocumentKind) throws -> SchemaValidator {
        try #require(
            FileManager.default.fileExists(atPath: directory + "/maindoc/UBL-Invoice-2.1.xsd"),
            "UBL 2.1 schemas not found at \(directory): the tests expect ../shared/einvoice beside the package root")
        return try (kind == .invoice ? invoice : creditNote).get()
    }
}

@Suite struct SchemaValidatorTests {
    @Test(arguments: Fixtures.goldens.map(\.name))
    func everyGoldenFileIsSchemaValid(name: String) throws {
        let document = try #require(Fixtures.goldens.first { $0.name == name }?.document)
        let url = TestPaths.goldenDirectory.appendingPathComponent(name + ".xml")
        let bytes = try #require(FileManager.default.contents(atPath: url.path), "missing golden file \(url.path)")
        #expect(try Schemas.validator(for: document.kind).validate([UInt8](bytes)) == [])
    }

    /// Every VAT category on both document kinds, with and without Peppol, in three currency
    /// exponents, stays schema-valid (the same matrix passed validate.py's business rules).
    @Test(arguments: ["S", "Z", "E", "AE", "K", "G", "O"], [DocumentKind.invoice, .creditNote])
    func everyCategoryAndKindIsSchemaValid(category: String, kind: DocumentKind) throws {
        for currency in ["EUR", "JPY", "BHD"] {
            for isPeppol in [true, false] {
                var document = kind == .invoice ? Fixtures.renewalUSD : Fixtures.creditNoteEUR
                document.currencyCode = currency
                document.tax = TaxTreatment(categoryCode: category, rateHundredths: category == "S" ? 2000 : 0)
                if !isPeppol { document.buyer.endpointId = nil }
                document.lines.append(Fixtures.overage(credits: 777, unitPrice: "2.2537", currency: currency))
                let problems = try Schemas.validator(for: kind).validate(UBLWriter.render(document))
                #expect(problems == [], "\(category) \(kind) \(currency) peppol=\(isPeppol)")
            }
        }
    }

    @Test func aMissingIssueDateIsReported() throws {
        let xml = String(decoding: try UBLWriter.render(Fixtures.renewalUSD), as: UTF8.self)
        let broken = xml.replacingOccurrences(of: "  <cbc:IssueDate>2026-03-01</cbc:IssueDate>\n", with: "")
        #expect(broken != xml)
        let problems = try Schemas.validator(for: .invoice).validate(Array(broken.utf8))
        #expect(!problems.isEmpty)
        #expect(problems.contains { $0.contains("DueDate") && $0.hasPrefix("line ") })
    }

    @Test func anIssueDateBeforeTheIdIsReported() throws {
        let xml = String(decoding: try UBLWriter.render(Fixtures.creditNoteEUR), as: UTF8.self)
        let issueDate = "  <cbc:IssueDate>2026-03-10</cbc:IssueDate>\n"
        let identifier = "  <cbc:ID>CN-2026-000001</cbc:ID>\n"
        let broken = xml.replacingOccurrences(of: issueDate, with: "")
            .replacingOccurrences(of: identifier, with: issueDate + identifier)
        #expect(broken != xml)
        let problems = try Schemas.validator(for: .creditNote).validate(Array(broken.utf8))
        #expect(problems.contains { $0.contains("IssueDate") })
    }

    @Test func aDocumentOfTheOtherKindIsReported() throws {
        let creditNote = try UBLWriter.render(Fixtures.creditNoteEUR)
        #expect(try !Schemas.validator(for: .invoice).validate(creditNote).isEmpty)
    }

    @Test func malformedXMLIsReportedNotCrashed() throws {
        let validator = try Schemas.validator(for: .invoice)
        #expect(!validator.validate(Array("<Invoice><cbc:ID>".utf8)).isEmpty)
        #expect(!validator.validate([]).isEmpty)
    }

    /// An external entity is neither fetched nor expanded: the document stays a document
    /// with an unresolved reference and is simply not valid.
    @Test func externalEntitiesAreNotExpanded() throws {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>
            """
        let problems = try Schemas.validator(for: .invoice).validate(Array(xml.utf8))
        #expect(!problems.isEmpty)
        #expect(!problems.joined().contains("root:"))
    }

    @Test func oneValidatorServesConcurrentCallers() async throws {
        let validator = try Schemas.validator(for: .invoice)
        let documents = try Fixtures.goldens.map(\.document).filter { $0.kind == .invoice }.map(UBLWriter.render)
        let problemCounts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                for document in documents {
                    group.addTask { validator.validate(document).count }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(problemCounts == 0)
    }

    @Test func aMissingSchemaFileThrows() {
        #expect(throws: SchemaLoadError.self) {
            try SchemaValidator(schemaPath: "/nonexistent/UBL-Invoice-2.1.xsd")
        }
    }

    @Test func schemaFilesAreFoundByKind() {
        #expect(SchemaValidator.schemaFile(for: .invoice, in: "/x/xsd") == "/x/xsd/maindoc/UBL-Invoice-2.1.xsd")
        #expect(SchemaValidator.schemaFile(for: .creditNote, in: "/x/xsd/") == "/x/xsd/maindoc/UBL-CreditNote-2.1.xsd")
    }
}
