// Proves the ledger's hash chain: a clean ledger verifies (exit 0), and a row changed behind the
// program's back is reported (exit 4). SHA-256 itself is proved in SHA256Tests.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct LedgerChainTests {
    static func closedTwice() throws -> String {
        let (input, last) = try Fixtures.generatedInput(seed: 61, orgs: 5, months: 3, events: 6)
        let output = TestPaths.temporaryFolder("chain")
        _ = try Fixtures.close(input, output, through: CivilDate(year: 2026, month: 1, day: 31))
        _ = try Fixtures.close(input, output, through: last)
        return output
    }

    @Test func aCleanLedgerVerifies() throws {
        let output = try Self.closedTwice()
        let result = try Ledger(path: output + "/ledger.sqlite", readOnly: true).verify()
        #expect(result.problems == [])
        #expect(result.runs == 2 && result.documents > 0 && result.head?.count == 64)
        let cli = try CLI.run(["verify", "--output", output])
        #expect(cli.status == 0)
        #expect(cli.stdout.contains("ok: ") && cli.stdout.contains(result.head ?? "-"))
    }

    /// Each tampering, done with plain SQL as someone with the file would, must be reported.
    @Test(arguments: [
        (
            "UPDATE documents SET total_minor = total_minor + 100 WHERE rowid = (SELECT MIN(rowid) FROM documents)",
            "documents"
        ),
        // A compact period record's last byte is its count of top-up lots, an org state's its
        // open period's count of prorations: 0 or a few, never 0x7F here.
        (
            "UPDATE periods SET record = CAST(substr(record, 1, length(record) - 1) || X'7F' AS BLOB) "
                + "WHERE rowid = (SELECT MIN(rowid) FROM periods)", "totals hash"
        ),
        ("DELETE FROM applied_ids WHERE (kind, id) IN (SELECT kind, id FROM applied_ids LIMIT 1)", "totals hash"),
        (
            "UPDATE orgs SET state = CAST(substr(state, 1, length(state) - 1) || X'7F' AS BLOB) "
                + "WHERE rowid = (SELECT MIN(rowid) FROM orgs WHERE state IS NOT NULL)", "state hash"
        ),
        ("UPDATE runs SET chain_hash = 'x' WHERE id = 1", "chain hash"),
        ("DELETE FROM documents WHERE number = (SELECT MAX(number) FROM documents WHERE run_id = 1)", "documents"),
    ])
    func tamperingIsReported(_ sql: String, _ what: String) throws {
        let output = try Self.closedTwice()
        try Ledger(path: output + "/ledger.sqlite").execute(unchecked: sql)
        let result = try Ledger(path: output + "/ledger.sqlite", readOnly: true).verify()
        #expect(!result.problems.isEmpty, "\(what) tampering went unnoticed")
        let cli = try CLI.run(["verify", "--output", output])
        #expect(cli.status == 4)
        #expect(cli.stdout.contains("MISMATCH"))
    }
}

extension Ledger {
    /// Runs raw SQL on the file, as a tamperer would; tests only.
    func execute(unchecked sql: String) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }
}
