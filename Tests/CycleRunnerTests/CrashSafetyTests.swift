// Proves a close killed with SIGKILL at every phase boundary and at 50 random moments, then
// rerun, leaves a sound ledger (integrity check, hash chain, gapless numbers, no id applied
// twice) and exactly the files and rows of a close that was never interrupted.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct CrashSafetyTests {
    /// A ledger closed through the first month, a second close through the last month, and
    /// what that second close leaves when nothing interrupts it.
    struct Scenario {
        var input: String
        var first: CivilDate
        var last: CivilDate
        /// The output folder after the first close only: every killed run starts from a copy.
        var before: String
        var expectedFiles: [String: Data]
        var expectedCounts: [Int]
        var expectedHead: String?
        /// How many files the second close writes (and so how many "file" phases it has).
        var fileCount: Int
        /// How many renames put them in place ("publish" phases): fewer than the files, as a
        /// new org's folder is moved whole.
        var renameCount: Int
        var seconds: Double

        func arguments(_ output: String) -> [String] {
            ["close", "--through", last.description, "--input", input, "--output", output, "--quiet"]
        }

        static func make() throws -> Scenario {
            let (input, last) = try Fixtures.generatedInput(seed: 31, orgs: 20, months: 3, events: 25)
            let first = CivilDate(year: 2026, month: 1, day: 31)
            let before = TestPaths.temporaryFolder("crash-before")
            let firstRun = try CLI.run(["close", "--through", first.description, "--input", input, "--output", before])
            #expect(firstRun.status == 0, "first close: \(firstRun.stderr)")
            let reference = TestPaths.temporaryFolder("crash-reference")
            try Soundness.copyFolder(before, reference)
            let started = Date()
            let run = try CLI.run(
                ["close", "--through", last.description, "--input", input, "--output", reference, "--timings"])
            let seconds = Date().timeIntervalSince(started)
            #expect(run.status == 0, "reference close: \(run.stderr)")
            #expect(Soundness.ledgerProblems(reference).isEmpty)
            let files = Fixtures.snapshot(reference)
            // The files the second close writes: the ones the first close did not.
            let closeFiles = Set(files.keys).subtracting(Fixtures.snapshot(before).keys).count
            let renames = run.stderr.split(separator: "\n").compactMap { line in
                line.hasPrefix("renames: ") ? Int(line.dropFirst("renames: ".count)) : nil
            }
            #expect(renames.count == 1, "the close's timings count its renames: \(run.stderr)")
            return Scenario(
                input: input, first: first, last: last, before: before, expectedFiles: files,
                expectedCounts: Soundness.tableCounts(reference), expectedHead: Soundness.chainHead(reference),
                fileCount: closeFiles, renameCount: renames.first ?? 0, seconds: seconds)
        }

        /// Reruns the close on a folder a killed run left and checks it ends as the reference.
        func checkRecovers(_ output: String, _ label: String) throws {
            let rerun = try CLI.run(arguments(output))
            #expect(rerun.status == 0, "\(label): the rerun failed: \(rerun.stderr)")
            #expect(Soundness.ledgerProblems(output) == [], "\(label): the ledger is not sound")
            #expect(Soundness.tableCounts(output) == expectedCounts, "\(label): ledger rows differ (an id twice?)")
            #expect(Soundness.chainHead(output) == expectedHead, "\(label): the ledger's rows differ")
            #expect(Soundness.leftovers(output) == [], "\(label): temporary files were left")
            let files = Fixtures.snapshot(output)
            #expect(Set(files.keys) == Set(expectedFiles.keys), "\(label): other files than the reference")
            let differing = files.keys.filter { files[$0] != expectedFiles[$0] }.sorted()
            #expect(differing.isEmpty, "\(label): files differ: \(differing.prefix(5))")
        }
    }

    @Test func killAtEveryPhaseBoundaryThenRerun() throws {
        let scenario = try Scenario.make()
        #expect(scenario.fileCount > 20)
        #expect(scenario.renameCount > 2)
        let middle = max(scenario.fileCount / 2, 1)
        let points = [
            "locked", "read", "parsed", "engine", "commit", "inside-commit", "committed", "file:1", "file:2",
            "file:\(middle)", "file:\(scenario.fileCount)", "publish:1", "publish:\(max(scenario.renameCount / 2, 1))",
            "publish:\(scenario.renameCount)", "rendered",
        ]
        for point in points {
            let output = TestPaths.temporaryFolder("crash-phase")
            try Soundness.copyFolder(scenario.before, output)
            let killed = try CLI.run(scenario.arguments(output), environment: ["CYCLE_RUNNER_KILL_AT": point])
            #expect(killed.killedBy == SIGKILL, "\(point): the close was not killed there (status \(killed.status))")
            // Before the commit the ledger must still be exactly the first close's.
            if ["locked", "read", "parsed", "engine", "commit", "inside-commit"].contains(point)
                || point.hasPrefix("file:")
            {
                #expect(Soundness.horizon(output) == Instant(date: scenario.first.addingDays(1)), "\(point)")
                #expect(Soundness.ledgerProblems(output) == [], "\(point): ledger unsound right after the kill")
            }
            try scenario.checkRecovers(output, "killed at \(point)")
        }
    }

    @Test func killAtRandomMomentsThenRerun() throws {
        let scenario = try Scenario.make()
        let kills = Int(ProcessInfo.processInfo.environment["CYCLE_RUNNER_CRASH_KILLS"] ?? "") ?? 50
        var random = SeededRandom(seed: 20_261_130)
        // Spread the kills over the whole close, from start-up to the last rename. Killed runs
        // share the machine with other tests, so their speed varies: the span follows the
        // latest run that finished before its kill (20 % past it), starting from the reference.
        var fullRun = scenario.seconds
        var outcomes: [String: Int] = [:]
        for index in 0..<kills {
            let span = max(Int(fullRun * 1_200_000), 100_000)
            let delay = Int.random(in: 0...span, using: &random)
            let output = TestPaths.temporaryFolder("crash-random")
            try Soundness.copyFolder(scenario.before, output)
            let started = Date()
            let child = try CLI.Child(scenario.arguments(output))
            usleep(UInt32(delay))
            kill(child.pid, SIGKILL)
            let result = child.wait()
            if result.killedBy == nil { fullRun = Date().timeIntervalSince(started) }
            let committed = Soundness.horizon(output) == Instant(date: scenario.last.addingDays(1))
            let outcome =
                result.killedBy == nil ? "finished" : committed ? "killed after commit" : "killed before commit"
            outcomes[outcome, default: 0] += 1
            try scenario.checkRecovers(output, "kill \(index) after \(delay) µs (\(outcome))")
        }
        print("random kills of a \(scenario.fileCount)-file close: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes.values.reduce(0, +) == kills)
    }
}
