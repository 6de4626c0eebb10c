import Foundation
import GRDB
import Invoicing

/// What the statements and the close report read from the ledger beyond one run's rows: the
/// queued renders seen by each close (so a statement's forecast re-renders from the ledger
/// alone), an org's earlier periods (for the trailing burn rate), and a fingerprint of a run.
extension Ledger {
    /// "v2-queue": the queue.csv rows a close read, per run, and the balances of the orgs that
    /// had queued jobs at the close's horizon. A snapshot that only feeds the forecast on
    /// statements, kept so a statement re-renders from the ledger alone, byte for byte.
    static func registerQueueMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-queue") { db in
            try db.execute(
                sql: """
                    CREATE TABLE run_queue (
                        run_id INTEGER NOT NULL REFERENCES runs(id), org_id TEXT NOT NULL,
                        position INTEGER NOT NULL, job_id TEXT NOT NULL, action TEXT NOT NULL,
                        credits INTEGER NOT NULL, PRIMARY KEY (run_id, org_id, position));
                    CREATE TABLE run_queue_balances (
                        run_id INTEGER NOT NULL REFERENCES runs(id), org_id TEXT NOT NULL,
                        current INTEGER NOT NULL, bank INTEGER NOT NULL, topup INTEGER NOT NULL,
                        deficit INTEGER NOT NULL, PRIMARY KEY (run_id, org_id));
                    """)
        }
    }

    /// Writes a close's queue, and the horizon balance of each org with queued jobs, inside
    /// the close's commit transaction.
    static func insertQueue(_ commit: Commit, runId: Int64, db: Database) throws {
        let jobStatement = try db.makeStatement(
            sql: "INSERT INTO run_queue (run_id, org_id, position, job_id, action, credits) VALUES (?, ?, ?, ?, ?, ?)")
        for org in commit.queue.keys.sorted() {
            for (position, job) in commit.queue[org]!.enumerated() {
                try jobStatement.execute(arguments: [runId, org.rawValue, position, job.jobId, job.action, job.credits])
            }
        }
        let balanceStatement = try db.makeStatement(
            sql:
                "INSERT INTO run_queue_balances (run_id, org_id, current, bank, topup, deficit) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for stored in commit.orgs where commit.queue[stored.profile.id] != nil {
            guard let state = stored.state else { continue }
            try balanceStatement.execute(arguments: [
                runId, stored.profile.id.rawValue, state.current, state.bankTotal, state.topUpTotal, state.deficit,
            ])
        }
    }

    /// An org's four balances at a close's horizon.
    public struct Balances: Sendable, Hashable, Codable {
        public var current: Int64
        public var bank: Int64
        public var topUp: Int64
        public var deficit: Int64
        /// What can still be spent: every bucket less the deficit.
        public var available: Int64 { current + bank + topUp - deficit }
    }

    /// The queue a run read, per org, in file order, with each such org's balance at the
    /// run's horizon.
    public func queue(run: Int64) throws -> [OrgID: (jobs: [QueuedJob], balances: Balances?)] {
        try read { db in
            var result: [OrgID: (jobs: [QueuedJob], balances: Balances?)] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM run_queue WHERE run_id = ? ORDER BY org_id, position", arguments: [run])
            for row in rows {
                result[OrgID(row["org_id"]), default: ([], nil)].jobs.append(
                    QueuedJob(jobId: row["job_id"], action: row["action"], credits: row["credits"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM run_queue_balances WHERE run_id = ?", arguments: [run])
            {
                result[OrgID(row["org_id"])]?.balances = Balances(
                    current: row["current"], bank: row["bank"], topUp: row["topup"], deficit: row["deficit"])
            }
            return result
        }
    }

    /// The dates, plan and usage of every period ending on or after `since`, by org, oldest
    /// first: what the burn rate and the report's plan of a document need, read from the head of
    /// a compact record (`PeriodRecord.brief`), or with SQLite's JSON functions from a record an
    /// older version stored as JSON, rather than decoding whole records.
    public func periodBriefs(since: CivilDate?) throws -> [String: [PeriodBrief]] {
        guard let since else { return [:] }
        return try read { db in
            var result: [String: [PeriodBrief]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT org_id, period_start, period_end,
                        CASE WHEN typeof(record) = 'blob' THEN record END AS compact,
                        CASE WHEN typeof(record) = 'text' THEN json_extract(record, '$.planId') END AS plan_id,
                        CASE WHEN typeof(record) = 'text' THEN json_extract(record, '$.usageCredits') END
                            AS usage_credits
                    FROM periods WHERE period_end >= ? ORDER BY org_id, period_end
                    """, arguments: [since.description])
            while let row = try rows.next() {
                let brief = try row.withUnsafeData(named: "compact") { compact in
                    try compact.map { data in try data.withUnsafeBytes { try PeriodRecord.brief($0) } }
                }
                let (planId, usageCredits) = brief ?? (PlanID(row["plan_id"]), row["usage_credits"])
                result[row["org_id"], default: []].append(
                    PeriodBrief(
                        periodStart: CivilDate.parse(row["period_start"] as String)!,
                        periodEnd: CivilDate.parse(row["period_end"] as String)!, planId: planId,
                        usageCredits: usageCredits))
            }
            return result
        }
    }

    /// Every closed period of one org, oldest first.
    public func periods(org: OrgID) throws -> [PeriodRecord] {
        try read { db in
            try DatabaseValue.fetchAll(
                db, sql: "SELECT record FROM periods WHERE org_id = ? ORDER BY period_end", arguments: [org.rawValue]
            ).map { try StoredRecord.required(PeriodRecord.self, $0) }
        }
    }

    /// SHA-256 over the stored rows of one run (the run row, its periods, documents, rejected
    /// rows and queue, as the ledger holds them), so two people can tell they looked at the
    /// same close. The rows never change after the commit, so neither does the fingerprint.
    public func fingerprint(run: Int64) throws -> String {
        // The chain already hashes every row the run added (its totals hash, sealed inside the
        // close's transaction); the report shows that hash rather than computing a second one.
        try read { db in
            let stored = try String.fetchOne(db, sql: "SELECT totals_hash FROM runs WHERE id = ?", arguments: [run])
            return "sha256:" + (stored ?? "")
        }
    }
}

/// What a statement's burn rate and the report's plan attribution need of a closed period.
public struct PeriodBrief: Sendable, Hashable {
    public var periodStart: CivilDate
    public var periodEnd: CivilDate
    /// The plan from the renewal that closed the period, as in period-summary.csv.
    public var planId: PlanID
    public var usageCredits: Int64
}

extension PeriodRecord {
    public var brief: PeriodBrief {
        PeriodBrief(periodStart: periodStart, periodEnd: periodEnd, planId: planId, usageCredits: usageCredits)
    }
}
