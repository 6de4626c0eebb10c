// Helpers for the reliability tests: the built cycle-runner binary as a child process that
// can be killed, stopped or raced, and the checks that a ledger and its files are sound.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

enum CLI {
    /// `swift build --build-tests` builds the executable beside the test bundle.
    static let binary = TestPaths.repository.path + "/.build/debug/cycle-runner"

    struct Result {
        var status: Int32
        var killedBy: Int32?
        var stdout: String
        var stderr: String
    }

    /// A started child whose output goes to files, so a chatty child never blocks on a pipe.
    final class Child {
        let process = Process()
        let stdoutPath: String
        let stderrPath: String

        /// Runs the built binary, or `program` (the dynamic loader, given the binary's path).
        init(_ arguments: [String], environment: [String: String] = [:], program: String = CLI.binary) throws {
            guard FileManager.default.isExecutableFile(atPath: CLI.binary) else {
                throw CLIError(message: "\(CLI.binary) is missing: run `swift build --build-tests` first")
            }
            let folder = TestPaths.temporaryFolder("child")
            stdoutPath = folder + "/stdout"
            stderrPath = folder + "/stderr"
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            var merged = ProcessInfo.processInfo.environment
            merged.removeValue(forKey: "CYCLE_RUNNER_KILL_AT")
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
            process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        func wait() -> Result {
            process.waitUntilExit()
            let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
            return Result(
                status: process.terminationStatus, killedBy: signal,
                stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        }

        /// Waits until the child has stopped itself (SIGSTOP) or ended; true when it is stopped.
        /// A bounded wait for a state, not a timing assertion: a minute is far more than needed.
        func waitUntilStopped() -> Bool {
            for _ in 0..<6000 {
                if !process.isRunning { return false }
                if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                {
                    let state = stat[stat.index(close, offsetBy: 2)]
                    if state == "T" || state == "t" { return true }
                }
                usleep(10_000)
            }
            return false
        }
    }

    struct CLIError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try Child(arguments, environment: environment).wait()
    }

    static func run(program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try Child(arguments, environment: environment, program: program).wait()
    }
}

enum Soundness {
    /// Everything `verify` checks (SQLite's integrity check, the hash chain, gapless numbers,
    /// row accounting), as a list of problems.
    static func ledgerProblems(_ output: String) -> [String] {
        do {
            return try Ledger(path: output + "/ledger.sqlite", readOnly: true).verify().problems
        } catch {
            return ["the ledger cannot be read: \(error)"]
        }
    }

    static func chainHead(_ output: String) -> String? {
        try? Ledger(path: output + "/ledger.sqlite", readOnly: true).verify().head
    }

    static func tableCounts(_ output: String) -> [Int] {
        (try? Ledger(path: output + "/ledger.sqlite", readOnly: true).tableCounts()) ?? []
    }

    static func horizon(_ output: String) -> Instant? {
        try? Ledger(path: output + "/ledger.sqlite", readOnly: true).horizon()
    }

    /// Files under `folder` that a finished run must not leave: staging folders and temporary files.
    static func leftovers(_ folder: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
        return all.filter { $0.contains(".staging-") || $0.contains(".tmp-") }
    }

    static func copyFolder(_ from: String, _ to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }
}
