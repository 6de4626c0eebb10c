// Proves one statement and one close report render to exactly the reviewed bytes (re-record on purpose with RECORD_GOLDEN=1).
//
// When the pages change on purpose, run `RECORD_GOLDEN=1 swift test --filter HTMLGoldenTests`,
// look at the pages (and `.ci/browser-check.sh`'s screenshots), and review the diff.
import Foundation
import Testing

@testable import CycleRunnerCore

@Suite struct HTMLGoldenTests {
    static let isRecording = ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1"

    @Test(arguments: [
        (ReportFixture.goldenStatement, "statement-script-kiddies-2026-04-05.html"),
        (ReportFixture.goldenReport, "report-2026-04-30.html"),
    ])
    func rendersTheGoldenBytes(written: String, golden: String) throws {
        let output = try ReportFixture.close()
        let rendered = try ReportFixture.text(output + "/" + written)
        let url = ReportFixture.goldens.appendingPathComponent(golden)
        if Self.isRecording {
            try FileManager.default.createDirectory(at: ReportFixture.goldens, withIntermediateDirectories: true)
            try Data(rendered.utf8).write(to: url)
            return
        }
        let expected = try #require(
            try? String(contentsOf: url, encoding: .utf8),
            "missing golden file \(url.path); record it with RECORD_GOLDEN=1")
        let firstDifference = zip(rendered.split(separator: "\n"), expected.split(separator: "\n")).enumerated()
            .first { $0.element.0 != $0.element.1 }
        #expect(
            rendered == expected,
            """
            \(written) differs from \(golden) at line \((firstDifference?.offset ?? -1) + 1):
            got:  \(firstDifference.map { String($0.element.0) } ?? "(length differs)")
            want: \(firstDifference.map { String($0.element.1) } ?? "")
            If intended, re-record with RECORD_GOLDEN=1 and review the diff.
            """)
    }
}
