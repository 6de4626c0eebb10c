// Proves every file of the committed fuzzing corpora (fuzz/corpus/csv, fuzz/corpus/yaml) goes
// through the CSV reader and the plans.yaml loader without a crash, the same with any chunk size.
import Foundation
import Testing

@testable import CycleRunnerCore

@Suite struct FuzzCorpusTests {
    static func corpus(_ name: String) -> [String] {
        let folder = TestPaths.repository.path + "/fuzz/corpus/" + name
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { folder + "/" + $0 }
    }

    /// Records and problems as text, for comparing one chunk size with another.
    static func read(_ path: String, chunkBytes: Int) throws -> [String] {
        var lines: [String] = []
        let reader = try CSVReader(path: path, chunkBytes: chunkBytes)
        try reader.forEachRecord(
            { row in
                lines.append("\(row.lineNumber): " + (0..<row.count).map { Array(row.field($0)).description }.joined())
            },
            onProblem: { line, problem, raw in lines.append("\(line) problem \(problem.message) \(raw)") })
        return lines
    }

    @Test func everyCSVCorpusFileReadsTheSameWithAnyChunkSize() throws {
        let files = Self.corpus("csv")
        #expect(files.count >= 5)
        for file in files {
            let reference = try Self.read(file, chunkBytes: 1 << 20)
            for chunk in [1, 2, 3, 7] {
                #expect(try Self.read(file, chunkBytes: chunk) == reference, "\(file) with \(chunk)-byte chunks")
            }
        }
    }

    @Test func everyYAMLCorpusFileLoadsOrFailsCleanly() throws {
        let files = Self.corpus("yaml")
        #expect(files.count >= 3)
        var loaded = 0
        for file in files {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
            do {
                _ = try CatalogReader.parse(text, file: "plans.yaml")
                loaded += 1
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(loaded >= 1, "the sample plans.yaml in the corpus must load")
    }
}
