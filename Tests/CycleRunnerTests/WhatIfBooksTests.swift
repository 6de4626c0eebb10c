// Proves a what-if never touches the books: the ledger file is byte-identical afterwards, no
// invoice number is consumed, no ledger is created where there was none, and every document it
// produces is an unnumbered draft.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfBooksTests {
    static let scenario = """
        plans: { standard: { bank_cap: 5000, prices: { USD: "39.00" } } }
        move_all:
          - { from: community, to: business, at: 2026-02-15 }
        """

    /// The ledger and its side files, byte for byte.
    static func ledgerFiles(_ output: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for suffix in ["", "-wal", "-shm"] {
            let path = output + "/ledger.sqlite" + suffix
            if let data = FileManager.default.contents(atPath: path) { files[suffix] = data }
        }
        return files
    }

    @Test func ledgerIsByteIdenticalAndNoNumberIsUsed() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 21)
        let output = TestPaths.temporaryFolder("whatif-books")
        // A close through the middle leaves rows pending, so the books have something to lose.
        _ = try Fixtures.close(input, output, through: last.addingDays(-40))
        let sequencesBefore = try Ledger(path: output + "/ledger.sqlite", readOnly: true).lastSequences()
        #expect(!sequencesBefore.isEmpty)
        let before = Self.ledgerFiles(output)
        #expect(before[""] != nil)
        let closeFilesBefore = Fixtures.snapshot(output)

        var options = try WhatIfFixtures.options(input, Self.scenario, through: last.description, output: output)
        options.scenarioPath = try WhatIfFixtures.scenarioFile(Self.scenario, name: "books")
        let result = try WhatIfPipeline.run(options)
        #expect(result.comparison.rows.contains { $0.changed })

        #expect(Self.ledgerFiles(output) == before)
        #expect(try Ledger(path: output + "/ledger.sqlite", readOnly: true).lastSequences() == sequencesBefore)
        // Everything the close wrote is as it was; the what-if only added its own folder.
        let after = Fixtures.snapshot(output)
        for (path, data) in closeFilesBefore { #expect(after[path] == data, "\(path) changed") }
        #expect(
            Set(after.keys).subtracting(closeFilesBefore.keys) == [
                "whatif/books/comparison.csv", "whatif/books/totals.csv", "whatif/books/report.html",
            ])

        // A close after the what-if continues the sequences as if it had never run.
        _ = try Fixtures.close(input, output, through: last)
        let reference = TestPaths.temporaryFolder("whatif-books-reference")
        _ = try Fixtures.close(input, reference, through: last.addingDays(-40))
        _ = try Fixtures.close(input, reference, through: last)
        #expect(
            try Ledger(path: output + "/ledger.sqlite", readOnly: true).lastSequences()
                == Ledger(path: reference + "/ledger.sqlite", readOnly: true).lastSequences())
    }

    @Test func noLedgerIsCreatedAndEveryDocumentIsADraft() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 22)
        let output = TestPaths.temporaryFolder("whatif-no-ledger")
        let result = try WhatIfPipeline.run(
            WhatIfFixtures.options(input, Self.scenario, through: last.description, output: output))
        #expect(!FileManager.default.fileExists(atPath: output + "/ledger.sqlite"))
        let documents = result.baseline.documents + result.scenarioSide.documents
        #expect(!documents.isEmpty)
        #expect(documents.allSatisfy { $0.isDraft && $0.number.isEmpty })
        let xml = String(
            decoding: try UBLWriter.render(try #require(result.scenarioSide.documents.first)), as: UTF8.self)
        #expect(xml.contains(UBLWriter.draftNote))
        #expect(xml.contains("<cbc:ID>\(UBLWriter.draftNumber)</cbc:ID>"))
    }
}
