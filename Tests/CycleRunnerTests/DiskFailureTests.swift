// Proves a close that cannot write (a failing writer, a full disk, a folder that refuses new
// files, an impossible ledger path) fails with a clear message and exit code, commits
// nothing, and leaves the ledger and every earlier file exactly as they were.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct DiskFailureTests {
    /// Root ignores permission bits, so the tests use what stops root too: a tiny tmpfs for a
    /// full disk and the immutable attribute for a folder that takes no new entries. Each is
    /// tried once; where the machine does not allow it the test says so and is skipped.
    static let canMount: Bool = {
        let folder = TestPaths.temporaryFolder("mount-probe")
        guard shell("mount -t tmpfs -o size=64k tmpfs '\(folder)'") == 0 else { return false }
        _ = shell("umount '\(folder)'")
        return true
    }()

    static let canMakeImmutable: Bool = {
        let folder = TestPaths.temporaryFolder("chattr-probe")
        guard shell("chattr +i '\(folder)'") == 0 else { return false }
        let blocked = !FileManager.default.createFile(atPath: folder + "/x", contents: Data())
        _ = shell("chattr -i '\(folder)'")
        return blocked
    }()

    /// Runs a fixed command line of the test's own (never input data) through /bin/sh.
    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " 2>/dev/null"]
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func output(_ command: String) -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = pipe
        do { try process.run() } catch { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A ledger closed through January, and the input to close the rest.
    static func closedOnce() throws -> (input: String, last: CivilDate, output: String) {
        let (input, last) = try Fixtures.generatedInput(seed: 51, orgs: 5, months: 3, events: 6)
        let output = TestPaths.temporaryFolder("disk")
        _ = try Fixtures.close(input, output, through: CivilDate(year: 2026, month: 1, day: 31))
        return (input, last, output)
    }

    /// What must not change when a close fails.
    struct State: Equatable {
        var files: [String: Data]
        var counts: [Int]
        var head: String?

        init(_ output: String) {
            files = Fixtures.snapshot(output)
            counts = Soundness.tableCounts(output)
            head = Soundness.chainHead(output)
        }
    }

    struct DiskFull: Error {}

    @Test func aWriterThatFailsCommitsNothing() throws {
        let (input, last, output) = try Self.closedOnce()
        let before = State(output)
        var options = CloseOptions(through: last, inputFolder: input, outputFolder: output)
        let writes = Interrupter(stopAt: 7)
        options.fileWriter = { path, bytes in
            try writes.tick(path)
            try writeNewFile(path, bytes)
        }
        do {
            _ = try ClosePipeline.close(options)
            Issue.record("the close succeeded although a file could not be written")
        } catch {
            #expect(error.exitCode == 5)
            #expect(error.description.contains("nothing was committed"), "\(error.description)")
        }
        #expect(State(output) == before)
        #expect(Soundness.leftovers(output) == [])
        #expect(Soundness.ledgerProblems(output) == [])
        // The same close then goes through.
        _ = try Fixtures.close(input, output, through: last)
        #expect(Soundness.ledgerProblems(output) == [])
    }

    /// With 64 KB of room the close fails as it opens the ledger, whose log cannot take one of
    /// its 64 KB pages; with 256 KB it fails later, writing the close's rows or files.
    @Test(.enabled(if: canMount, "needs root to mount a tmpfs"), arguments: [64, 256])
    func aFullDiskCommitsNothing(roomKilobytes: Int) throws {
        let (input, last, prepared) = try Self.closedOnce()

        let disk = TestPaths.temporaryFolder("tmpfs")
        // Room for what is there now and a little more, not for a second close's rows and files.
        let used = try #require(Int(Self.output("du -sk '\(prepared)' | cut -f1")))
        #expect(Self.shell("mount -t tmpfs -o size=\(used + roomKilobytes)k tmpfs '\(disk)'") == 0)
        defer { Self.shell("umount '\(disk)'") }
        let output = disk + "/books"
        try Soundness.copyFolder(prepared, output)
        let onDisk = State(output)
        let result = try CLI.run(["close", "--through", last.description, "--input", input, "--output", output])
        #expect([4, 5].contains(result.status), "status \(result.status): \(result.stderr)")
        // SQLite says "database or disk is full" when its log cannot grow; a staged file says ENOSPC.
        #expect(
            result.stderr.contains("No space left on device") || result.stderr.contains("disk is full"),
            "\(result.stderr)")
        #expect(result.stderr.contains("nothing was"), "\(result.stderr)")
        #expect(State(output) == onDisk)
        #expect(Soundness.leftovers(output) == [])
        #expect(Soundness.ledgerProblems(output) == [])
    }

    @Test(.enabled(if: canMakeImmutable, "needs chattr +i on this file system"))
    func aFolderThatRefusesNewFilesCommitsNothing() throws {
        let (input, last, output) = try Self.closedOnce()
        let before = State(output)
        #expect(Self.shell("chattr +i '\(output)'") == 0)
        defer { Self.shell("chattr -i '\(output)'") }
        let result = try CLI.run(["close", "--through", last.description, "--input", input, "--output", output])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("could not be written, nothing was committed"), "\(result.stderr)")
        #expect(State(output) == before)
        #expect(Soundness.ledgerProblems(output) == [])
    }

    @Test func anImpossibleLedgerPathFailsBeforeAnythingIsWritten() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 52, orgs: 2, months: 1, events: 2)
        let output = TestPaths.temporaryFolder("ledger-path")
        // A ledger "inside" a regular file: no folder can ever be created there.
        _ = FileManager.default.createFile(atPath: output + "/not-a-folder", contents: Data("x".utf8))
        let result = try CLI.run([
            "close", "--through", last.description, "--input", input, "--output", output, "--ledger",
            output + "/not-a-folder/ledger.sqlite",
        ])
        #expect(result.status == 4)
        #expect(result.stderr.contains("cannot be created or locked: Not a directory"), "\(result.stderr)")
        #expect(Fixtures.snapshot(output).keys.sorted() == ["not-a-folder"])
    }
}
