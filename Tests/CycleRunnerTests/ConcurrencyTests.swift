// Proves two closes on one ledger cannot interleave (the second fails at once with exit 4 and
// the first finishes as if alone), and that balances read beside a close see the ledger
// before it or after it, never a state in between.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct ConcurrencyTests {
    /// An input, a folder closed through January, and the same folder closed through the end.
    static func prepared() throws -> (input: String, last: CivilDate, before: String, after: String) {
        let (input, last) = try Fixtures.generatedInput(seed: 41, orgs: 12, months: 3, events: 20)
        let before = TestPaths.temporaryFolder("concurrency-before")
        let first = try CLI.run(["close", "--through", "2026-01-31", "--input", input, "--output", before])
        #expect(first.status == 0, "\(first.stderr)")
        let after = TestPaths.temporaryFolder("concurrency-after")
        try Soundness.copyFolder(before, after)
        let second = try CLI.run(["close", "--through", last.description, "--input", input, "--output", after])
        #expect(second.status == 0, "\(second.stderr)")
        return (input, last, before, after)
    }

    static func balances(_ output: String) throws -> String {
        try BalanceReport.render(ledgerPath: output + "/ledger.sqlite", org: nil)
    }

    @Test func aSecondCloseFailsAtOnceAndTheFirstIsUnaffected() throws {
        let (input, last, before, after) = try Self.prepared()
        let output = TestPaths.temporaryFolder("concurrency-two")
        try Soundness.copyFolder(before, output)
        let arguments = ["close", "--through", last.description, "--input", input, "--output", output, "--quiet"]
        // The first close stops itself in the middle of its transaction, holding the lock.
        let first = try CLI.Child(arguments, environment: ["CYCLE_RUNNER_KILL_AT": "inside-commit:1:stop"])
        #expect(first.waitUntilStopped(), "the first close never reached its commit")
        let second = try CLI.run(arguments)
        #expect(second.status == 4)
        #expect(second.stderr.contains("in use by another run"), "\(second.stderr)")
        // An in-process close is refused the same way.
        #expect(throws: CloseError.self) {
            try ClosePipeline.close(CloseOptions(through: last, inputFolder: input, outputFolder: output))
        }
        kill(first.pid, SIGCONT)
        let result = first.wait()
        #expect(result.status == 0, "the first close failed: \(result.stderr)")
        #expect(Fixtures.snapshot(output) == Fixtures.snapshot(after))
        #expect(Soundness.chainHead(output) == Soundness.chainHead(after))
        #expect(Soundness.ledgerProblems(output) == [])
    }

    @Test func balancesSeeBeforeOrAfterNeverBetween() throws {
        let (input, last, before, after) = try Self.prepared()
        let expectedBefore = try Self.balances(before)
        let expectedAfter = try Self.balances(after)
        #expect(expectedBefore != expectedAfter)
        let output = TestPaths.temporaryFolder("concurrency-balances")
        try Soundness.copyFolder(before, output)
        let arguments = ["close", "--through", last.description, "--input", input, "--output", output, "--quiet"]
        // Held with its rows written but not committed, the close must be invisible.
        let held = try CLI.Child(arguments, environment: ["CYCLE_RUNNER_KILL_AT": "inside-commit:1:stop"])
        #expect(held.waitUntilStopped())
        #expect(try Self.balances(output) == expectedBefore)
        let cli = try CLI.run(["balances", "--output", output])
        #expect(cli.status == 0)
        #expect(cli.stdout.trimmingCharacters(in: .newlines) == expectedBefore)
        // Then read again and again while it commits and renders.
        kill(held.pid, SIGCONT)
        var reads = 0
        var seen: Set<String> = []
        while held.process.isRunning || reads < 3 {
            let text = try Self.balances(output)
            #expect(text == expectedBefore || text == expectedAfter, "a balance read saw a state between")
            seen.insert(text == expectedBefore ? "before" : "after")
            reads += 1
        }
        #expect(held.wait().status == 0)
        #expect(try Self.balances(output) == expectedAfter)
        print("balances read \(reads) times beside a close; saw \(seen.sorted())")
    }
}
