// Proves the close's terminal output: the short summary, the --json summary and the progress bar's line.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct TerminalSummaryTests {
    static func close() throws -> CloseSummary {
        try ClosePipeline.close(
            CloseOptions(
                through: ReportFixture.through, inputFolder: ReportFixture.input,
                outputFolder: TestPaths.temporaryFolder("terminal")))
    }

    @Test func theSummarySaysWhatWasClosedAndWhereTheFilesAre() throws {
        let summary = try Self.close()
        let text = Terminal.summary(summary)
        #expect(text.contains("periods closed: 8 (3 orgs)  documents issued: 12 (12 invoices, 0 credit notes)"))
        #expect(text.contains("rows rejected: 3 (bad_credits 1, unknown_action 1, unknown_org 1)"))
        #expect(text.contains("money GBP: "))
        #expect(text.contains("/closes/2026-04-30/ (report.html, CSV exports)"))
        #expect(text.contains("ledger fingerprint: sha256:"))
    }

    @Test func theJSONSummaryCarriesTheTotals() throws {
        let summary = try Self.close()
        let json = Terminal.json(summary)
        let decoded = try JSONDecoder().decode(Terminal.JSONSummary.self, from: Data(json.utf8))
        #expect(decoded.through == "2026-04-30")
        #expect(!decoded.appliedNothing)
        #expect(decoded.periodsClosed == 8)
        #expect(decoded.rejected == 3)
        #expect(decoded.files.map(\.file) == ["orgs.csv", "usage/2026.csv", "topups.csv", "members.csv", "queue.csv"])
        #expect(decoded.report == summary.outputFolder + "/closes/2026-04-30/report.html")
        let totals = try #require(decoded.totals)
        #expect(totals.creditsUsed == 26_250)
        #expect(totals.creditsOverdrawn == 400)
        #expect(totals.money.map(\.currency) == ["EUR", "GBP", "USD"])
        #expect(totals.rejectedByReason == ["bad_credits": 1, "unknown_action": 1, "unknown_org": 1])
        // 4 CSV files, 12 documents, 8 statements as JSON and HTML, and the report.
        #expect(totals.filesWritten == 4 + 12 + 16 + 1)
        let failure = Terminal.jsonError("the ledger is locked", exitCode: 4)
        #expect(failure.contains("\"exitCode\" : 4"))
    }

    @Test func theProgressBarShowsRateAndTimeLeftWithinTheWidth() {
        let line = ProgressBar.barLine(done: 250, total: 1000, elapsedNanoseconds: 5_000_000_000, width: 80)
        #expect(line.hasPrefix("writing files ["))
        #expect(line.contains("] 250/1,000  50/s  15.0s left"))
        #expect(line.count <= 79)
        let narrow = ProgressBar.barLine(done: 1, total: 3, elapsedNanoseconds: 0, width: 40)
        #expect(narrow.count <= 39)
        #expect(!narrow.contains("left"))
        #expect(ProgressBar.seconds(125_000_000_000) == "2m05s")
    }

    @Test func theProgressBarDrawsInPlaceAndClearsItsLine() {
        final class Sink: @unchecked Sendable {
            let lock = NSLock()
            var text = ""
            func add(_ more: String) {
                lock.lock()
                text += more
                lock.unlock()
            }
        }
        let sink = Sink()
        final class Clock: @unchecked Sendable {
            var now: UInt64 = 0
        }
        let clock = Clock()
        let bar = ProgressBar(width: 60, write: { sink.add($0) }, now: { clock.now })
        bar.phase("committed")
        clock.now = 1_000_000_000
        bar.files(1, 4)
        clock.now = 1_050_000_000
        bar.files(2, 4)
        clock.now = 2_000_000_000
        bar.files(4, 4)
        bar.finish()
        #expect(sink.text.hasPrefix("\rwriting files… 0.0s\u{1B}[K\r"))
        // The second file came within 100 ms of the first, so only three lines were drawn.
        #expect(sink.text.components(separatedBy: "\r").count - 1 == 4)
        #expect(sink.text.contains("4/4"))
        #expect(sink.text.hasSuffix("\r\u{1B}[K"))
    }
}
