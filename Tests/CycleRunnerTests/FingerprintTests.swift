// Proves the close report's fingerprints: a ledger fingerprint changes with the close but not with a rerun.
// SHA-256 itself is proved in SHA256Tests.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct FingerprintTests {
    @Test func theLedgerFingerprintIsStableAndTellsClosesApart() throws {
        let output = TestPaths.temporaryFolder("fingerprint")
        _ = try Fixtures.close(ReportFixture.input, output, through: CivilDate.parse("2026-03-31")!)
        _ = try Fixtures.close(ReportFixture.input, output, through: ReportFixture.through)
        let ledger = try Ledger(path: output + "/ledger.sqlite")
        let runs = try ledger.allRunIds()
        #expect(runs.count == 2)
        let march = try ledger.fingerprint(run: runs[0])
        let april = try ledger.fingerprint(run: runs[1])
        #expect(march.hasPrefix("sha256:") && march.count == 71)
        #expect(march != april)
        _ = try Fixtures.close(ReportFixture.input, output, through: ReportFixture.through)
        #expect(try ledger.fingerprint(run: runs[1]) == april)
        let report = try ReportFixture.text(output + "/" + ReportFixture.goldenReport)
        #expect(report.contains(april))
    }
}
