// Proves every case in ../shared/conformance closes to exactly the expected period-summary.csv
// and invoices.csv, with the expected number of rejected rows.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

enum TestPaths {
    /// The repository root, three levels above this file.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let shared = repository.deletingLastPathComponent().appendingPathComponent("shared")
    static let conformance = shared.appendingPathComponent("conformance")

    static func temporaryFolder(_ name: String) -> String {
        let path = TestScratch.root + "/\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct ConformanceCase: CustomStringConvertible, Sendable {
    var name: String
    /// (input folder, through date) in close order.
    var closes: [(input: String, through: String)]
    var description: String { name }

    static func all() -> [ConformanceCase] {
        let root = TestPaths.conformance.path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
        return names.map { name in
            let folder = root + "/" + name
            let throughs = ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/expected/closes")) ?? [])
                .sorted()
            let inputs: [String] =
                FileManager.default.fileExists(atPath: folder + "/input")
                ? [folder + "/input"] : throughs.indices.map { folder + "/input-\($0 + 1)" }
            return ConformanceCase(name: name, closes: Array(zip(inputs, throughs)))
        }
    }
}

@Suite struct ConformanceTests {
    @Test func everyCaseIsFound() {
        #expect(ConformanceCase.all().count >= 11, "the shared conformance folder is missing or incomplete")
    }

    @Test(arguments: ConformanceCase.all())
    func closesMatchExpectedFiles(_ testCase: ConformanceCase) throws {
        let output = TestPaths.temporaryFolder(testCase.name)
        for (input, through) in testCase.closes {
            let summary = try ClosePipeline.close(
                CloseOptions(through: CivilDate.parse(through)!, inputFolder: input, outputFolder: output))
            #expect(!summary.appliedNothing)
            let expected = TestPaths.conformance.path + "/\(testCase.name)/expected/closes/\(through)"
            let actual = output + "/closes/\(through)"
            for file in ["period-summary.csv", "invoices.csv"] {
                let want = try String(contentsOfFile: expected + "/" + file, encoding: .utf8)
                let got = try String(contentsOfFile: actual + "/" + file, encoding: .utf8)
                #expect(cells(got) == cells(want), "\(testCase.name) \(through) \(file)")
            }
            let wantRejected = Int(
                try String(contentsOfFile: expected + "/rejected-count.txt", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines))
            let rejectedLines = try String(contentsOfFile: actual + "/rejected.csv", encoding: .utf8)
            #expect(CSVTestParser.rows(rejectedLines).count - 1 == wantRejected, "\(testCase.name) \(through)")
        }
    }

    /// Cell by cell, ignoring only the line-end style.
    func cells(_ text: String) -> [[String]] { CSVTestParser.rows(text) }
}

/// A small independent RFC 4180 parser for tests, so the product's reader is not checked
/// against itself.
enum CSVTestParser {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var characters: [Character] = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        if characters.last != "\n" { characters += ["\n"] }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if inQuotes {
                if character == "\"" {
                    if index + 1 < characters.count, characters[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                inQuotes = true
            } else if character == "," {
                row.append(field)
                field = ""
            } else if character == "\n" {
                row.append(field)
                field = ""
                if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
                row = []
            } else {
                field.append(character)
            }
            index += 1
        }
        return rows
    }
}
