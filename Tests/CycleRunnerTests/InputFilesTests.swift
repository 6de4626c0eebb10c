// Proves that the files a close expects to read, listed before it reads any, are the files it
// reads, in its order, with and without the optional files; that the input hash the ledger
// stores is the hash of those files; and that the early hash, taken over at any point, gives
// the whole hash, gives way to the files the close read when the lists differ or a file
// changed after it was hashed, and stops when told to.
import Foundation
import GRDB
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct InputFilesTests {
    static let samples = TestPaths.repository.appendingPathComponent("samples").path

    /// A copy of the samples folder without `removed`, with a file in usage/ that no close reads.
    static func samplesWithout(_ removed: [String]) throws -> String {
        let folder = TestPaths.temporaryFolder("input-files")
        try FileManager.default.removeItem(atPath: folder)
        try FileManager.default.copyItem(atPath: samples, toPath: folder)
        for name in removed { try FileManager.default.removeItem(atPath: folder + "/" + name) }
        try Data("not usage".utf8).write(to: URL(fileURLWithPath: folder + "/usage/notes.txt"))
        return folder
    }

    @Test(arguments: [
        [String](), ["members.csv", "plan_changes.csv"], ["queue.csv", "topups.csv", "refunds.csv"],
        ["usage/2026-06.csv", "usage/late-2026-09-resend.csv"],
    ])
    func theFilesListedBeforeReadingAreTheFilesRead(_ removed: [String]) throws {
        let input = try Self.samplesWithout(removed)
        let expected = InputReader.filesToRead(folder: input)
        for name in removed { #expect(!expected.contains(name)) }
        #expect(!expected.contains("usage/notes.txt"))
        let output = TestPaths.temporaryFolder("input-files-out")
        let summary = try Fixtures.close(input, output, through: CivilDate.parse("2026-11-30")!)
        let report = try #require(summary.report)
        #expect(expected == ["plans.yaml"] + report.files)
        let ledger = try Ledger(path: output + "/ledger.sqlite")
        let stored = try ledger.pool.read { db in
            try String.fetchOne(db, sql: "SELECT input_hash FROM runs ORDER BY id DESC LIMIT 1")
        }
        #expect(stored == Ledger.inputHash(folder: input, files: expected))
    }

    @Test func theEarlyHashGivesWayToTheFilesRead() throws {
        let input = Self.samples
        let read = InputReader.filesToRead(folder: input)
        let hashing = InputHashing(folder: input, files: Array(read.dropLast()))
        #expect(hashing.hash(of: read) == Ledger.inputHash(folder: input, files: read))
        #expect(
            hashing.hash(of: Array(read.dropLast())) == Ledger.inputHash(folder: input, files: Array(read.dropLast())))
        hashing.stop()
    }

    /// The close takes the hash over from the thread wherever the thread has got to: at once,
    /// after a moment, or after the thread has finished.
    @Test(arguments: [0.0, 0.0005, 0.002, 0.05])
    func theHashTakenOverAnywhereIsTheWholeHash(_ delaySeconds: Double) throws {
        let input = try Self.samplesWithout([])
        // Files of several megabytes, so the thread has steps to be stopped between.
        let big = String(repeating: "e1,acme,2026-01-10T10:00:00Z,u1,script,5\n", count: 80_000)
        try Data(("event_id,org_id,occurred_at,user_id,action,credits\n" + big).utf8)
            .write(to: URL(fileURLWithPath: input + "/usage/2026-12.csv"))
        let files = InputReader.filesToRead(folder: input)
        let expected = Ledger.inputHash(folder: input, files: files)
        for _ in 0..<5 {
            let hashing = InputHashing(folder: input, files: files)
            if delaySeconds > 0 { Thread.sleep(forTimeInterval: delaySeconds) }
            #expect(hashing.hash(of: files) == expected)
            hashing.stop()
        }
    }

    /// A file changed after the thread hashed it and before the close read it: the hash
    /// stored is the hash of the files as the close read them.
    @Test func aFileChangedAfterItWasHashedIsHashedAgain() throws {
        let input = try Self.samplesWithout([])
        let usage = input + "/usage/2026-11.csv"
        let output = TestPaths.temporaryFolder("input-files-changed")
        var options = CloseOptions(
            through: CivilDate.parse("2026-11-30")!, inputFolder: input, outputFolder: output)
        options.onPhase = { phase in
            guard phase == "read" else { return }
            // Time for the thread to hash every file (300 KB) before one changes.
            Thread.sleep(forTimeInterval: 0.3)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: usage))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("e-added,acme,2026-11-20T10:00:00Z,u1,script,5\n".utf8))
            try handle.close()
        }
        let summary = try ClosePipeline.close(options)
        let report = try #require(summary.report)
        let ledger = try Ledger(path: output + "/ledger.sqlite")
        let stored = try ledger.pool.read { db in
            try String.fetchOne(db, sql: "SELECT input_hash FROM runs ORDER BY id DESC LIMIT 1")
        }
        #expect(stored == Ledger.inputHash(folder: input, files: ["plans.yaml"] + report.files))
        #expect(stored != Ledger.inputHash(folder: Self.samples, files: ["plans.yaml"] + report.files))
    }

    /// A stopped thread ends (`stop` returns), and what it left is still carried on to the
    /// whole hash; stopping twice is harmless.
    @Test func aStoppedHashEndsItsThread() {
        let read = InputReader.filesToRead(folder: Self.samples)
        let hashing = InputHashing(folder: Self.samples, files: read)
        hashing.stop()
        hashing.stop()
        #expect(hashing.hash(of: read) == Ledger.inputHash(folder: Self.samples, files: read))
    }
}
