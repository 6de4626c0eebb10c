// Proves the queue lives in the ledger per close (migration "v2-queue"), so statements re-render from the ledger alone.
import Foundation
import GRDB
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct QueueLedgerTests {
    @Test func theCloseStoresItsQueueAndTheBalancesAtItsHorizon() throws {
        let output = try ReportFixture.close()
        let ledger = try Ledger(path: output + "/ledger.sqlite")
        let run = try #require(try ledger.lastRun())
        let queue = try ledger.queue(run: run.id)
        #expect(queue.keys.map(\.rawValue).sorted() == ["amp-films", "script-kiddies"])
        let hostile = try #require(queue[OrgID("script-kiddies")])
        #expect(hostile.jobs.map(\.jobId) == ["<img src=x onerror=alert(1)>", "job-2", "job-3"])
        #expect(hostile.jobs.map(\.credits) == [18_000, 4000, 50])
        // The org's state at the horizon: April's renewal less the usage after it.
        let stored = try #require(try ledger.orgs().first { $0.profile.id.rawValue == "script-kiddies" }?.state)
        #expect(
            hostile.balances
                == Ledger.Balances(
                    current: stored.current, bank: stored.bankTotal, topUp: stored.topUpTotal, deficit: stored.deficit))
    }

    @Test func aRerunWithAnotherQueueFileWritesTheSameBytes() throws {
        let input = try ReportFixture.copyOfInput()
        let output = TestPaths.temporaryFolder("queue-rerun")
        _ = try Fixtures.close(input, output, through: ReportFixture.through)
        let first = Fixtures.snapshot(output)
        let counts = try Ledger(path: output + "/ledger.sqlite").tableCounts()
        // The queue changes after the close; the close's statements must not.
        try "org_id,job_id,action,credits\nscript-kiddies,job-new,video_final,1\n".write(
            toFile: input + "/queue.csv", atomically: true, encoding: .utf8)
        let rerun = try Fixtures.close(input, output, through: ReportFixture.through)
        #expect(rerun.appliedNothing)
        #expect(Fixtures.snapshot(output) == first)
        #expect(try Ledger(path: output + "/ledger.sqlite").tableCounts() == counts)
    }

    @Test func aLaterCloseLeavesAnEarlierCloseRenderingTheSame() throws {
        let output = TestPaths.temporaryFolder("queue-two-closes")
        _ = try Fixtures.close(ReportFixture.input, output, through: CivilDate.parse("2026-03-31")!)
        let march = Fixtures.snapshot(output)
        _ = try Fixtures.close(ReportFixture.input, output, through: ReportFixture.through)
        // Rendering March again after April's close: only March's periods and queue count.
        let again = try Fixtures.close(ReportFixture.input, output, through: CivilDate.parse("2026-03-31")!)
        #expect(again.appliedNothing)
        let now = Fixtures.snapshot(output)
        for (path, bytes) in march {
            #expect(now[path] == bytes, "\(path) changed after a later close")
        }
    }

    @Test func aLedgerFromBeforeTheQueueIsMigrated() throws {
        let output = TestPaths.temporaryFolder("queue-migration")
        let path = output + "/ledger.sqlite"
        // A ledger as the first release left it: only migration "v1".
        do {
            let pool = try DatabasePool(path: path)
            try Ledger.migrator.migrate(pool, upTo: "v1")
            #expect(try pool.read { try $0.tableExists("run_queue") } == false)
        }
        _ = try Fixtures.close(ReportFixture.input, output, through: ReportFixture.through)
        let ledger = try Ledger(path: path)
        let run = try #require(try ledger.lastRun())
        #expect(try ledger.queue(run: run.id).count == 2)
        #expect(try ledger.pool.read { try $0.tableExists("run_queue_balances") })
    }

    @Test func theOrgHistoryIsOrderedByPeriodEnd() throws {
        let output = try ReportFixture.close()
        let periods = try Ledger(path: output + "/ledger.sqlite").periods(org: OrgID("amp-films"))
        #expect(periods.map(\.periodEnd.description) == ["2026-02-10", "2026-03-10", "2026-04-10"])
    }
}
