// Proves `close --schemas` validates every document before the commit: the real UBL schemas
// let a close through, and a document that fails its schema fails the close and commits nothing.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct SchemaGateTests {
    let ublSchemas = TestPaths.shared.appendingPathComponent("einvoice/ubl-2.1/xsd").path

    func options(_ input: String, _ output: String, _ through: CivilDate, schemas: String) -> CloseOptions {
        CloseOptions(through: through, inputFolder: input, outputFolder: output, schemasFolder: schemas)
    }

    @Test func theOfficialSchemasLetTheCloseThrough() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 31)
        let output = TestPaths.temporaryFolder("schemas-ok")
        let summary = try ClosePipeline.close(options(input, output, last, schemas: ublSchemas))
        #expect(summary.report?.documentsIssued ?? 0 > 0)
    }

    @Test func aDocumentThatFailsItsSchemaFailsTheCloseAndCommitsNothing() throws {
        // A schema whose only element is not the one our documents use: every document fails.
        let schemas = TestPaths.temporaryFolder("schemas-strict")
        try FileManager.default.createDirectory(atPath: schemas + "/maindoc", withIntermediateDirectories: true)
        let strict = """
            <?xml version="1.0" encoding="UTF-8"?>
            <xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"
                targetNamespace="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">
              <xsd:element name="SomethingElse" type="xsd:string"/>
            </xsd:schema>
            """
        for name in ["UBL-Invoice-2.1.xsd", "UBL-CreditNote-2.1.xsd"] {
            try strict.write(toFile: schemas + "/maindoc/" + name, atomically: true, encoding: .utf8)
        }
        let (input, last) = try Fixtures.generatedInput(seed: 32)
        let output = TestPaths.temporaryFolder("schemas-fail")
        do {
            _ = try ClosePipeline.close(options(input, output, last, schemas: schemas))
            Issue.record("the close committed documents that fail their schema")
        } catch {
            guard case .invalidDocument(let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(message.contains("INV-"))
            #expect(error.exitCode == 2)
        }
        let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
        #expect(try ledger.horizon() == nil)
        #expect(try ledger.lastRun() == nil)
        #expect(!FileManager.default.fileExists(atPath: output + "/closes"))
    }

    @Test func journalAccountsComeFromPlansYAML() throws {
        let text = InputGenerator.standardPlans.replacingOccurrences(
            of: "  credit_note_prefix: \"CN-\"\n",
            with: "  credit_note_prefix: \"CN-\"\n  accounts: { receivable: \"1400\", vat: \"2310\" }\n")
        let catalog = try CatalogReader.parse(text, file: "plans.yaml")
        #expect(catalog.issuer.accounts.receivable == "1400")
        #expect(catalog.issuer.accounts.vatPayable == "2310")
        #expect(catalog.issuer.accounts.subscriptionRevenue == JournalAccounts.defaults.subscriptionRevenue)
        let unknown = InputGenerator.standardPlans.replacingOccurrences(
            of: "  credit_note_prefix: \"CN-\"\n",
            with: "  credit_note_prefix: \"CN-\"\n  accounts: { bank: \"1000\" }\n")
        #expect(throws: InputError.self) { try CatalogReader.parse(unknown, file: "plans.yaml") }
    }
}
