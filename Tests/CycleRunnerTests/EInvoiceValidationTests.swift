// Proves every document written for samples/ and every conformance case passes the official
// UBL 2.1 XSD, EN 16931 and Peppol rules (../shared/einvoice/validate.py), except for rules
// that the close itself reports as broken by the input data, and that the close reports those
// in document order.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct EInvoiceValidationTests {
    @Test func theCloseReportsBrokenRulesInDocumentOrder() throws {
        // Reverse charge without the buyer's VAT id breaks BR-AE-02; standard rate breaks nothing.
        var documents: [Document] = []
        for index in 0..<150 {
            var profile = testProfile(plan: "business", start: "2026-01-01", id: "o\(index)")
            if index % 3 == 0 { profile.tax = TaxTreatment(categoryCode: "AE", rateHundredths: 0) }
            documents += try runOrg(profile, through: "2026-02-28").documents
        }
        for index in documents.indices { documents[index].number = "INV-\(index)" }
        let expected = documents.flatMap { document in
            UBLWriter.knownRuleViolations(for: document).map { "\(document.number): \($0)" }
        }
        #expect(expected.count >= 50)
        #expect(ClosePipeline.documentWarnings(documents) == expected)
    }

    @Test func everyWrittenDocumentPassesTheOfficialRules() throws {
        var folders: [String] = []
        for testCase in ConformanceCase.all() {
            let output = TestPaths.temporaryFolder("einvoice-\(testCase.name)")
            for (input, through) in testCase.closes {
                _ = try ClosePipeline.close(
                    CloseOptions(through: CivilDate.parse(through)!, inputFolder: input, outputFolder: output))
            }
            folders.append(output)
        }
        let samples = TestPaths.temporaryFolder("einvoice-samples")
        _ = try ClosePipeline.close(
            CloseOptions(
                through: CivilDate.parse("2026-11-30")!,
                inputFolder: TestPaths.repository.appendingPathComponent("samples").path, outputFolder: samples))
        folders.append(samples)

        // What the close said each document breaks, by file path.
        var expectedRules: [String: Set<String>] = [:]
        var files: [String] = []
        for folder in folders {
            let ledger = try Ledger(path: folder + "/ledger.sqlite", readOnly: true)
            for run in try ledger.allRunIds() {
                for document in try ledger.documents(run: run) {
                    let path = folder + "/invoices/\(document.number).xml"
                    files.append(path)
                    expectedRules[path] = Set(
                        UBLWriter.knownRuleViolations(for: document).map { String($0.prefix { $0 != ":" }) })
                }
            }
        }
        #expect(files.count > 100)
        let validator = TestPaths.shared.appendingPathComponent("einvoice/validate.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", validator, "-q"] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 2, "validate.py could not run (libxml2-utils, saxonche?): \(output)")
        for line in output.split(separator: "\n") {
            // FILE: SOURCE RULE-ID [flag] message
            guard let colon = line.range(of: ": ") else { continue }
            let file = String(line[..<colon.lowerBound])
            let words = line[colon.upperBound...].split(separator: " ")
            guard words.count >= 2 else { continue }
            let rule = String(words[1])
            let allowed = expectedRules[file] ?? []
            #expect(allowed.contains(rule), "unexpected finding: \(line)")
        }
    }
}
