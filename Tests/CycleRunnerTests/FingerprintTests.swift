// Proves the close report's fingerprints: SHA-256 is the standard one, and a ledger fingerprint changes with the close but not with a rerun.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct FingerprintTests {
    static func sha256(_ text: String) -> String {
        var digest = SHA256()
        digest.update(text)
        return digest.hexDigest()
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(Self.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Self.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces, the digest is the same as in one go.
        var pieces = SHA256()
        let text = String(repeating: "0123456789", count: 25)
        var rest = Substring(text)
        for size in [1, 63, 64, 65, 7, 50] {
            pieces.update(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        #expect(pieces.hexDigest() == Self.sha256(text))
    }

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
