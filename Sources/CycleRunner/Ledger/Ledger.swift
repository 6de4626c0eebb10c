import Foundation
import GRDB
import Invoicing

/// The ledger: SQLite through GRDB. It owns the horizon, each org's profile and state, every
/// applied and engine-rejected id, every issued number, each closed period and document,
/// and one row per run. Migrations are append-only: a shipped migration is never edited.
public final class Ledger {
    public let path: String
    let pool: DatabasePool
    /// The connection every read goes through while `commit` runs its `beforeCommit` (so a
    /// close's files are rendered from its own rows before they are committed) or while
    /// `snapshot` runs (so several reads see one state of the ledger).
    private var pinned: Database?

    /// The page size of a new ledger file.
    static let pageSizeBytes = 65_536

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        // A second writer must fail at once rather than wait: the close holds its own lock. A
        // reader (balances, verify) waits instead: in WAL mode it is only ever busy for the
        // moment a writer recovers or checkpoints the log, for example as a close exits (seen
        // as "database is locked" by the test that reads balances beside a close).
        configuration.busyMode = readOnly ? .timeout(10) : .immediateError
        // No checkpoint right after each commit: a close checkpoints its few hundred megabytes
        // of log while its files are renamed into place on other threads (`checkpoint`), and
        // the last connection to close checkpoints whatever is left.
        configuration.prepareDatabase { db in
            // Only a new ledger takes this page size (an existing file keeps its own). It was
            // chosen when period records and org states were 2 to 3 KB of JSON each: with
            // SQLite's default 4 KB pages each took a page to itself and 29 % of the file was
            // unused space; with 16 KB pages the 2.3 M-row close's ledger was 156 MB instead of
            // 212 MB, and with 64 KB pages its 150 MB of log took a quarter of the writes (see
            // bench/README.md). Compact records made that log about 100 MB.
            if !readOnly { try db.execute(sql: "PRAGMA page_size = \(Ledger.pageSizeBytes)") }
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // A ledger a newer version wrote may hold records this one cannot read, or read wrongly
        // (as versions before compact records read those): it is refused, unchanged.
        let migrator = Ledger.migrator
        if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
            throw LedgerVersionError(path: path)
        }
        if !readOnly { try migrator.migrate(pool) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE runs (
                        id INTEGER PRIMARY KEY, through TEXT NOT NULL, previous_horizon INTEGER,
                        horizon INTEGER NOT NULL, report TEXT NOT NULL);
                    CREATE TABLE orgs (org_id TEXT PRIMARY KEY, profile TEXT NOT NULL, state TEXT);
                    CREATE TABLE periods (
                        org_id TEXT NOT NULL, period_end TEXT NOT NULL, period_start TEXT NOT NULL,
                        run_id INTEGER NOT NULL REFERENCES runs(id), record TEXT NOT NULL,
                        PRIMARY KEY (org_id, period_end));
                    CREATE INDEX periods_by_run ON periods(run_id);
                    CREATE TABLE documents (
                        number TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT NOT NULL,
                        issue_date TEXT NOT NULL, currency TEXT NOT NULL, net_minor INTEGER NOT NULL,
                        tax_minor INTEGER NOT NULL, total_minor INTEGER NOT NULL, source TEXT NOT NULL,
                        source_id TEXT NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id),
                        document TEXT NOT NULL);
                    CREATE INDEX documents_by_run ON documents(run_id);
                    CREATE INDEX documents_by_org ON documents(org_id, issue_date);
                    CREATE TABLE sequences (
                        prefix TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,
                        PRIMARY KEY (prefix, year));
                    CREATE TABLE applied_ids (
                        kind TEXT NOT NULL, id TEXT NOT NULL, content_hash INTEGER NOT NULL,
                        run_id INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
                    CREATE TABLE engine_rejections (
                        kind TEXT NOT NULL, id TEXT NOT NULL, content_hash INTEGER NOT NULL,
                        reason TEXT NOT NULL, run_id INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
                    CREATE TABLE purchases (
                        purchase_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, invoice_number TEXT);
                    CREATE TABLE run_rejections (
                        run_id INTEGER NOT NULL, position INTEGER NOT NULL, source_file TEXT NOT NULL,
                        line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL,
                        PRIMARY KEY (run_id, position));
                    """)
        }
        registerChainMigration(&migrator)
        // Usage ids are by far the most numerous: millions a close. One row per id made the
        // commit the slowest part of a close, so they are stored as packed blocks per run.
        migrator.registerMigration("v2-applied-usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE applied_usage_blocks (
                        run_id INTEGER NOT NULL REFERENCES runs(id), block INTEGER NOT NULL, entries INTEGER NOT NULL,
                        ids BLOB NOT NULL, PRIMARY KEY (run_id, block));
                    """)
        }
        // What each close wrote (path, size, hash), so a rerun can confirm its files are as
        // written without rendering them all again.
        migrator.registerMigration("v2-rendered-files") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rendered_files (
                        run_id INTEGER NOT NULL REFERENCES runs(id), path TEXT NOT NULL, size INTEGER NOT NULL,
                        content_hash INTEGER NOT NULL, PRIMARY KEY (run_id, path)) WITHOUT ROWID;
                    """)
        }
        registerQueueMigration(&migrator)
        // The list of what a close wrote, as one packed row per run (`RenderedManifest`): a row
        // per file was 66,714 inserts, 85 ms of a 2.3 M-row close's commit on the ledger's
        // thread. Runs listed in rendered_files by earlier versions are still read from there.
        migrator.registerMigration("v3-rendered-manifests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rendered_manifests (
                        run_id INTEGER PRIMARY KEY REFERENCES runs(id), files INTEGER NOT NULL, manifest BLOB NOT NULL);
                    """)
        }
        // Org states, period records and documents are written as compact records from here
        // on (`CompactRecord`); the marker lets a later version tell, and this one refuse a
        // ledger with migrations it does not know. Versions before it cannot tell: they report
        // compact documents as unreadable.
        migrator.registerMigration("v4-compact-records") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('record_format', 'compact-1')")
        }
        // Org profiles are compact records from here on too. A version that knows only
        // v4-compact-records would try to read them as JSON; this marker makes it refuse the
        // ledger as newer instead.
        migrator.registerMigration("v5-compact-profiles") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('record_format', 'compact-2')")
        }
        return migrator
    }

    // MARK: Reading

    /// Runs `body` on the pinned connection if there is one, else in a fresh read snapshot.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        if let pinned { return try body(pinned) }
        return try pool.read(body)
    }

    /// Runs `body` with every read inside it seeing one and the same committed state, so a
    /// reader running beside a close sees the ledger before the close or after it, never a
    /// mix of the two.
    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        try pool.read { db in
            pinned = db
            defer { pinned = nil }
            return try body()
        }
    }

    public func horizon() throws -> Instant? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'horizon'")
                .flatMap { Int64($0) }.map { Instant(microseconds: $0) }
        }
    }

    public struct StoredOrg: Sendable {
        public var profile: OrgProfile
        public var state: OrgState?
    }

    public func orgs() throws -> [StoredOrg] {
        let texts = try read { db in
            try Row.fetchAll(db, sql: "SELECT profile, state FROM orgs ORDER BY org_id").map { row in
                OrgTexts(
                    profile: try StoredRecord.present(row["profile"]), state: try StoredRecord(row["state"]))
            }
        }
        // Decoding every org's state is most of opening a large ledger: it runs on every core.
        return try parallelMap(texts) { texts in
            StoredOrg(
                profile: try texts.profile.decoded(OrgProfile.self),
                state: try texts.state?.decoded(OrgState.self))
        }
    }

    /// Content hashes of applied ids of one kind (not usage: `forEachAppliedUsageBatch`), for
    /// the ids asked about.
    public func appliedHashes(kind: String, ids: [String]) throws -> [UTF8Key: Int64] {
        precondition(kind != UsageBlock.kind, "applied usage ids are in packed blocks: forEachAppliedUsageBatch")
        return try lookup(table: "applied_ids", kind: kind, ids: ids)
    }

    /// Hands the packed blocks of applied usage ids (`UsageBlock`) to `body` a few at a time,
    /// in the order they were stored, so the caller can read each batch on every core without
    /// holding every block of a long history at once.
    public func forEachAppliedUsageBatch(_ body: ([Data]) throws -> Void) throws {
        try read { db in
            let blocks = try Data.fetchCursor(db, sql: "SELECT ids FROM applied_usage_blocks ORDER BY run_id, block")
            var batch: [Data] = []
            while let block = try blocks.next() {
                batch.append(block)
                if batch.count == Ledger.usageBlocksPerBatch {
                    try body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try body(batch) }
        }
    }

    /// Blocks of 4 MB: eight are a batch for each core to take some of, 32 MB held at once.
    static let usageBlocksPerBatch = 8

    /// How many usage ids the ledger holds as applied.
    public func appliedUsageCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(entries), 0) FROM applied_usage_blocks") ?? 0
        }
    }

    public func engineRejections(kind: String, ids: [String]) throws -> [UTF8Key: (hash: Int64, reason: String)] {
        var result: [UTF8Key: (Int64, String)] = [:]
        try read { db in
            for chunk in ids.chunked(500) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT id, content_hash, reason FROM engine_rejections WHERE kind = ? AND id IN (\(marks))",
                    arguments: StatementArguments([kind] + chunk))
                for row in rows { result[UTF8Key(row["id"])] = (row["content_hash"], row["reason"]) }
            }
        }
        return result
    }

    func lookup(table: String, kind: String, ids: [String]) throws -> [UTF8Key: Int64] {
        var result: [UTF8Key: Int64] = [:]
        try read { db in
            for chunk in ids.chunked(500) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, content_hash FROM \(table) WHERE kind = ? AND id IN (\(marks))",
                    arguments: StatementArguments([kind] + chunk))
                for row in rows { result[UTF8Key(row["id"])] = row["content_hash"] }
            }
        }
        return result
    }

    /// purchase id → (org, invoice number) for purchases applied by earlier runs.
    public func purchases() throws -> [String: (orgId: String, invoiceNumber: String?)] {
        try read { db in
            var result: [String: (String, String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT purchase_id, org_id, invoice_number FROM purchases") {
                result[row["purchase_id"]] = (row["org_id"], row["invoice_number"])
            }
            return result
        }
    }

    public func lastSequences() throws -> [String: Int64] {
        try read { db in
            var result: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT prefix, year, last FROM sequences") {
                result["\(row["prefix"] as String)|\(row["year"] as Int)"] = row["last"]
            }
            return result
        }
    }

    public struct RunInfo: Sendable {
        public var id: Int64
        public var through: CivilDate
        public var previousHorizon: Instant?
        public var horizon: Instant
        public var report: RunReport
    }

    public func run(through: CivilDate) throws -> RunInfo? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM runs WHERE through = ? ORDER BY id DESC LIMIT 1",
                arguments: [through.description]
            ).map(Ledger.runInfo)
        }
    }

    public func lastRun() throws -> RunInfo? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT 1").map(Ledger.runInfo)
        }
    }

    static func runInfo(_ row: Row) throws -> RunInfo {
        RunInfo(
            id: row["id"], through: CivilDate.parse(row["through"] as String)!,
            previousHorizon: (row["previous_horizon"] as Int64?).map { Instant(microseconds: $0) },
            horizon: Instant(microseconds: row["horizon"]), report: try decode(RunReport.self, row["report"]))
    }

    public func periods(run: Int64) throws -> [PeriodRecord] {
        try read { db in
            try DatabaseValue.fetchAll(
                db, sql: "SELECT record FROM periods WHERE run_id = ? ORDER BY org_id, period_end", arguments: [run]
            ).map { try StoredRecord.required(PeriodRecord.self, $0) }
        }
    }

    public func documents(run: Int64) throws -> [Document] {
        try read { db in
            try DatabaseValue.fetchAll(
                db, sql: "SELECT document FROM documents WHERE run_id = ? ORDER BY number", arguments: [run]
            ).map { try StoredRecord.required(Document.self, $0) }
        }
    }

    public func rejections(run: Int64) throws -> [RejectedRow] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM run_rejections WHERE run_id = ? ORDER BY position", arguments: [run]
            ).map { row in
                let reasonText: String = row["reason"]
                let parts = reasonText.split(separator: ":", maxSplits: 1).map(String.init)
                let reason = Rejection.Reason(rawValue: parts[0]) ?? .malformedRecord
                let detail = parts.count > 1 ? String(parts[1].dropFirst()) : ""
                return RejectedRow(
                    sourceFile: row["source_file"], lineNumber: row["line"], rejection: Rejection(reason, detail),
                    raw: row["raw"])
            }
        }
    }

    // MARK: Writing

    /// Everything one close adds, written in one transaction: all or nothing.
    public struct Commit: Sendable {
        public var through: CivilDate
        public var previousHorizon: Instant?
        public var horizon: Instant
        public var report: RunReport
        public var orgs: [StoredOrg]
        public var periods: [PeriodRecord]
        public var documents: [Document]
        public var sequences: [String: Int64]
        /// Applied ids of plan changes, purchases and refunds.
        public var applied: [(kind: String, id: String, hash: Int64)]
        /// Applied usage rows, by reference: millions of them are not copied into tuples.
        public var appliedUsage = AppliedUsage(
            records: UsageRows(), indices: [], hasher: UsageHasher(orgPrefixes: [], users: [], actions: []))
        /// Where the usage id blocks end (`Ledger.blockRanges` of `appliedUsage`), when the
        /// caller is finding them on other threads; nil, and the commit finds them.
        var usageBlockRanges: Pending<[Range<Int>]>?
        public var engineRejected: [(kind: String, id: String, hash: Int64, reason: String)]
        public var purchases: [(purchaseId: String, orgId: String, invoiceNumber: String?)]
        public var rejectedRows: [RejectedRow]
        /// The SHA-256 of the input files the close read (`Ledger.inputHash`), for the chain.
        public var inputHash = ""
        /// The queued renders the close read (queue.csv), kept for the statements' forecast.
        public var queue: [OrgID: [QueuedJob]] = [:]
    }

    /// Writes a close and returns its run id. `beforeCommit` runs inside the transaction with
    /// the new run's id, and every read it makes sees the close's uncommitted rows; a failure
    /// there (a file that cannot be written, a test's simulated kill) rolls everything back.
    /// The applied usage rows are taken out of `commit` once their ids are stored, so a close
    /// does not hold millions of rows while it renders its files.
    public func commit(_ commit: inout Commit, beforeCommit: (Int64) throws -> Void = { _ in }) throws -> Int64 {
        return try pool.writeWithoutTransaction { db in
            var runId: Int64 = 0
            try db.inTransaction(.immediate) {
                try db.execute(
                    sql: "INSERT INTO runs (through, previous_horizon, horizon, report) VALUES (?, ?, ?, ?)",
                    arguments: [
                        commit.through.description, commit.previousHorizon?.microseconds,
                        commit.horizon.microseconds, try encode(commit.report),
                    ])
                runId = db.lastInsertedRowID
                // The run's periods, documents and usage id blocks are hashed for the chain as
                // they are bound, so each is inserted in its chain query's order.
                let totals = RunTotals(run: runId)
                // From here the rows of every table are encoded (and the usage ids packed) by
                // the feeder threads, table after table in the order of the inserts, a few
                // chunks ahead of the inserts on this thread.
                let orgs = EncodedRows(commit.orgs) { org in
                    OrgRow(
                        orgId: org.profile.id.rawValue, profile: CompactRecord.encoded(org.profile),
                        state: org.state.map { CompactRecord.encoded($0) })
                }
                let periods = EncodedRows(
                    commit.periods,
                    order: { periods in
                        Ledger.keyOrder(periods.map { [$0.orgId.rawValue, $0.periodEnd.description] })
                    },
                    PeriodRow.init)
                let documents = EncodedRows(
                    commit.documents, order: { documents in Ledger.keyOrder(documents.map { [$0.number] }) },
                    DocumentRow.init)
                let usageBlocks = Ledger.packedUsageBlocks(
                    commit.appliedUsage,
                    ranges: commit.usageBlockRanges
                        ?? Pending.running { [usage = commit.appliedUsage] in
                            Ledger.blockRanges(usage)
                        })
                Feeders.run([orgs.produce, periods.produce, documents.produce, usageBlocks.produce])
                defer {
                    orgs.cancel()
                    periods.cancel()
                    documents.cancel()
                    usageBlocks.cancel()
                }
                let orgStatement = try RowInsert(
                    db, sql: "INSERT OR REPLACE INTO orgs (org_id, profile, state) VALUES (?, ?, ?)")
                try orgs.insertEach { texts in
                    try orgStatement.execute { row in
                        row.add(texts.pointee.orgId)
                        row.add(blob: texts.pointee.profile)
                        row.add(blob: texts.pointee.state)
                    }
                }
                try totals.startInserted(RunTotals.periods, db)
                let periodStatement = try RowInsert(
                    db,
                    sql:
                        "INSERT INTO periods (org_id, period_end, period_start, run_id, record) VALUES (?, ?, ?, ?, ?)",
                    hashingInto: totals.rows)
                try periods.insertEach { period in
                    try periodStatement.execute { row in
                        row.add(period.pointee.orgId)
                        row.add(period.pointee.periodEnd)
                        row.add(period.pointee.periodStart)
                        row.add(runId)
                        row.add(blob: period.pointee.record)
                    }
                }
                try totals.startInserted(RunTotals.documents, db)
                let documentStatement = try RowInsert(
                    db,
                    sql: """
                        INSERT INTO documents (number, kind, org_id, issue_date, currency, net_minor, tax_minor,
                            total_minor, source, source_id, run_id, document)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    hashingInto: totals.rows)
                try documents.insertEach { document in
                    try documentStatement.execute { row in
                        row.add(document.pointee.number)
                        row.add(document.pointee.kind)
                        row.add(document.pointee.orgId)
                        row.add(document.pointee.issueDate)
                        row.add(document.pointee.currencyCode)
                        row.add(document.pointee.netMinor)
                        row.add(document.pointee.taxMinor)
                        row.add(document.pointee.totalMinor)
                        row.add(document.pointee.source)
                        row.add(document.pointee.sourceId)
                        row.add(runId)
                        row.add(blob: document.pointee.document)
                    }
                }
                // In key order, so the same close writes the same file, page for page.
                for (key, last) in commit.sequences.sorted(by: { utf8Less($0.key, $1.key) }) {
                    let parts = key.split(separator: "|")
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO sequences (prefix, year, last) VALUES (?, ?, ?)",
                        arguments: [String(parts[0]), Int(parts[1])!, last])
                }
                let appliedStatement = try db.makeStatement(
                    sql: "INSERT INTO applied_ids (kind, id, content_hash, run_id) VALUES (?, ?, ?, ?)")
                for entry in commit.applied {
                    try appliedStatement.execute(arguments: [entry.kind, entry.id, entry.hash, runId])
                }
                try totals.startInserted(RunTotals.usageBlocks, db)
                try Ledger.insertUsageBlocks(usageBlocks, runId: runId, db: db, hashingInto: totals.rows)
                // Millions of rows are not needed for the rest of the commit or its files.
                commit.appliedUsage = AppliedUsage(
                    records: UsageRows(), indices: [], hasher: commit.appliedUsage.hasher)
                let rejectedStatement = try db.makeStatement(
                    sql:
                        "INSERT OR REPLACE INTO engine_rejections (kind, id, content_hash, reason, run_id) VALUES (?, ?, ?, ?, ?)"
                )
                for entry in commit.engineRejected {
                    try rejectedStatement.execute(arguments: [entry.kind, entry.id, entry.hash, entry.reason, runId])
                }
                for purchase in commit.purchases {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO purchases (purchase_id, org_id, invoice_number) VALUES (?, ?, ?)",
                        arguments: [purchase.purchaseId, purchase.orgId, purchase.invoiceNumber])
                }
                let rowStatement = try db.makeStatement(
                    sql:
                        "INSERT INTO run_rejections (run_id, position, source_file, line, reason, raw) VALUES (?, ?, ?, ?, ?, ?)"
                )
                for (position, row) in commit.rejectedRows.enumerated() {
                    try rowStatement.execute(arguments: [
                        runId, position, row.sourceFile, row.lineNumber, row.rejection.text, row.raw,
                    ])
                }
                try Ledger.insertQueue(commit, runId: runId, db: db)
                try db.execute(
                    sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('horizon', ?)",
                    arguments: [String(commit.horizon.microseconds)])
                try Ledger.seal(db, run: runId, totals: totals, inputHash: commit.inputHash)
                pinned = db
                defer { pinned = nil }
                try beforeCommit(runId)
                return .commit
            }
            return runId
        }
    }
}

/// A ledger written by a newer version of CycleRunner: it has migrations this one does not know.
public struct LedgerVersionError: Error, CustomStringConvertible {
    public var path: String

    public var description: String {
        "\(path) was written by a newer version of CycleRunner; use that version (nothing was changed)"
    }
}

/// An org's profile and state as stored.
struct OrgTexts: Sendable {
    var profile: StoredRecord
    var state: StoredRecord?
}

/// An org's row as bound, made by the feeders.
struct OrgRow: Sendable {
    var orgId: String
    /// The profile and the state, compact (`CompactRecord`).
    var profile: OwnedText
    var state: OwnedText?
}

/// A period's row as bound, made by the feeders: the ledger's thread only binds it.
struct PeriodRow: Sendable {
    var orgId: String
    var periodEnd: String
    var periodStart: String
    /// The record, compact (`CompactRecord`).
    var record: OwnedText

    init(_ period: PeriodRecord) {
        orgId = period.orgId.rawValue
        periodEnd = period.periodEnd.description
        periodStart = period.periodStart.description
        record = CompactRecord.encoded(period)
    }
}

/// A document's row as bound, made by the feeders, so the ledger's thread only binds it: the
/// document's compact record and its totals (computed from its lines at each call) are worked
/// out on the other cores.
struct DocumentRow: Sendable {
    var number: String
    var kind: String
    var orgId: String
    var issueDate: String
    var currencyCode: String
    var netMinor: Int64
    var taxMinor: Int64
    var totalMinor: Int64
    var source: String
    var sourceId: String
    var document: OwnedText

    init(_ document: Document) {
        number = document.number
        kind = document.kind.rawValue
        orgId = document.orgId
        issueDate = document.issueDate.description
        currencyCode = document.currencyCode
        netMinor = document.netMinor
        taxMinor = document.taxMinor
        totalMinor = netMinor + taxMinor
        source = document.source.rawValue
        sourceId = document.sourceId
        self.document = CompactRecord.encoded(document)
    }
}

extension Ledger {
    /// The applied usage ids packed into blocks, a few blocks ahead of the ledger's thread that
    /// inserts them. A block ends once it holds 4 MB, as it always has (so the same rows give
    /// the same blocks and totals hash, and no block nears SQLite's limit however long the ids);
    /// `ranges` gives the rows of each block, `blockRanges(usage)`, found on other threads: not
    /// from a feeder, since threads Dispatch started from one would keep its lower priority.
    static func packedUsageBlocks(
        _ usage: AppliedUsage, ranges pendingRanges: Pending<[Range<Int>]>
    ) -> Lookahead<UsageBlock.Builder> {
        Lookahead(ahead: 4) {
            let ranges = pendingRanges.read()
            return (
                ranges.count,
                { block in
                    let first = ranges[block].lowerBound
                    return UsageBlock.Builder(count: ranges[block].count) { entry in
                        let index = Int(usage.indices[first + entry])
                        return (usage.records[index].eventId, usage.hash(ofRecord: index))
                    }
                }
            )
        }
    }

    /// Stores the applied usage ids as packed blocks (`packedUsageBlocks`), in order.
    static func insertUsageBlocks(
        _ blocks: Lookahead<UsageBlock.Builder>, runId: Int64, db: Database, hashingInto hasher: RowHasher
    ) throws {
        // The chain hashes a block's number, entries and ids, not its run id, so the row is
        // hashed here rather than as bound. The ids (4 MB a block) are bound and hashed where
        // they are: as `Data`, bound through GRDB, they were copied twice more.
        let statement = try RowInsert(
            db, sql: "INSERT INTO applied_usage_blocks (run_id, block, entries, ids) VALUES (?, ?, ?, ?)")
        var blockNumber = 0
        while let block = blocks.next() {
            try block.bytes.withUnsafeBytes { ids in
                try statement.execute { row in
                    row.add(runId)
                    row.add(blockNumber)
                    row.add(block.entries)
                    row.add(blobInPlace: ids)
                }
            }
            hasher.startRow()
            hasher.add(Int64(blockNumber))
            hasher.add(Int64(block.entries))
            hasher.add(blob: block.bytes)
            blockNumber += 1
        }
    }

    /// The applied rows of each block, in order: a block ends with the row that brings it to
    /// `targetBytes` (an entry is 10 bytes and the id's; tests pass small targets and windows).
    /// Each window of rows is summed on every core first, and only a window in which a block
    /// ends is walked row by row here: reading every row's id on this thread cost tens of
    /// milliseconds of the commit.
    static func blockRanges(
        _ usage: AppliedUsage, targetBytes: Int = UsageBlock.targetBytes, windowSize: Int = 4096
    ) -> [Range<Int>] {
        let count = usage.indices.count
        let windowCount = (count + windowSize - 1) / windowSize
        @Sendable func entryBytes(_ position: Int) -> Int {
            10 + min(usage.records[Int(usage.indices[position])].eventId.utf8.count, Int(UInt16.max))
        }
        let sums = ResultSlots<Int>(count: windowCount)
        inParallel(windowCount) { window in
            var sum = 0
            for position in window * windowSize..<min(count, (window + 1) * windowSize) {
                sum += entryBytes(position)
            }
            sums.set(window, sum)
        }
        var ranges: [Range<Int>] = []
        var blockStart = 0
        var blockBytes = 0
        for (window, sum) in sums.takeValues().enumerated() {
            // No block ends inside a window that leaves the running total short of the target.
            if blockBytes + sum < targetBytes {
                blockBytes += sum
                continue
            }
            for position in window * windowSize..<min(count, (window + 1) * windowSize) {
                blockBytes += entryBytes(position)
                if blockBytes >= targetBytes {
                    ranges.append(blockStart..<(position + 1))
                    blockStart = position + 1
                    blockBytes = 0
                }
            }
        }
        if blockStart < count { ranges.append(blockStart..<count) }
        return ranges
    }
}

/// A table's rows encoded a chunk at a time, a few chunks ahead of the ledger's thread, which
/// inserts them in order (the order of `items`, or the one `order` finds, on the first thread
/// to encode). Chunks keep the texts of tens of thousands of rows from being held at once (they
/// were a visible part of the peak memory). `produce` encodes them; the commit runs every
/// table's, one after another, on `Feeders`.
struct EncodedRows<Item: Sendable, Encoded: Sendable> {
    private let chunks: Lookahead<Result<[Encoded], any Error>>
    private static var chunkSize: Int { 1024 }

    init(
        _ items: [Item], order: (@Sendable ([Item]) -> [Int]?)? = nil,
        _ encode: @escaping @Sendable (Item) throws -> Encoded
    ) {
        chunks = Lookahead(ahead: 4) {
            let order = order?(items)
            return (
                (items.count + EncodedRows.chunkSize - 1) / EncodedRows.chunkSize,
                { chunk in
                    let start = chunk * EncodedRows.chunkSize
                    // Items are read where they are: `items[index]` copied each (a document's
                    // dozens of references retained and released) only to read it.
                    return Result {
                        try items.withUnsafeBufferPointer { items in
                            try (start..<min(start + EncodedRows.chunkSize, items.count)).map { position in
                                try encode(items[order?[position] ?? position])
                            }
                        }
                    }
                }
            )
        }
    }

    /// Hands each row's encoding to `insert`, in order, where it is in its chunk: passed as a
    /// value, each row was copied (its texts retained and released) on the ledger's thread.
    func insertEach(_ insert: (UnsafePointer<Encoded>) throws -> Void) throws {
        while let chunk = chunks.next() {
            try chunk.get().withUnsafeBufferPointer { rows in
                guard let first = rows.baseAddress else { return }
                for index in rows.indices { try insert(first + index) }
            }
        }
    }

    /// Encodes chunks on the calling thread, beside any other thread that calls it.
    var produce: @Sendable () -> Void { chunks.produce }

    /// Stops the encoder; for a commit that stops before every row is inserted.
    func cancel() { chunks.cancel() }
}

extension Ledger {
    /// The order of rows whose keys are `keys` (each a list of texts) as SQLite's `ORDER BY`
    /// gives it: each text as stored (up to a first NUL, since texts are bound as C strings),
    /// compared byte by byte and then by length (the BINARY collation), one text after another.
    /// Nil when the rows are in that order already.
    static func keyOrder(_ keys: [[String]]) -> [Int]? {
        func less(_ lhs: [String], _ rhs: [String]) -> Bool {
            for (left, right) in zip(lhs, rhs) {
                let comparison = compareAsStored(left, right)
                if comparison != 0 { return comparison < 0 }
            }
            return false
        }
        if keys.indices.dropFirst().allSatisfy({ !less(keys[$0], keys[$0 - 1]) }) { return nil }
        return keys.indices.sorted { less(keys[$0], keys[$1]) }
    }

    /// Compares two texts as SQLite's BINARY collation compares them once stored.
    static func compareAsStored(_ lhs: String, _ rhs: String) -> Int {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                let leftCount = left.firstIndex(of: 0) ?? left.count
                let rightCount = right.firstIndex(of: 0) ?? right.count
                let common = min(leftCount, rightCount)
                if common > 0 {
                    let order = memcmp(left.baseAddress!, right.baseAddress!, common)
                    if order != 0 { return Int(order) }
                }
                return leftCount - rightCount
            }
        }
    }
}

/// What a run read and did, stored with the run so its report re-renders identically.
public struct RunReport: Codable, Sendable, Hashable {
    public var files: [String]
    public var counts: [RowCounts]
    public var periodsClosed: Int
    public var documentsIssued: Int
    public var inputFingerprint: String
    /// Documents whose data breaks an e-invoice rule (for example reverse charge without the
    /// buyer's VAT id): issued, because the sale happened, but named here for correction.
    public var documentWarnings: [String] = []
}

/// The ledger's JSON (run reports, org profiles, and the records of ledgers written before
/// compact records) has sorted keys, the bytes Foundation's `JSONEncoder` would write
/// (`SortedJSONEncoder` is the faster writer of the same bytes).
func encode<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try SortedJSONEncoder().encode(value), as: UTF8.self)
}

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// A stable 64-bit FNV-1a hash of content, for idempotency checks across runs. Swift's own
/// Hasher is seeded per process, so it cannot be stored.
public func stableHash(_ text: String) -> Int64 {
    var hasher = StableHasher()
    hasher.add(text)
    return hasher.value
}

/// FNV-1a over fields, each followed by a separator byte so that ("ab","c") ≠ ("a","bc").
public struct StableHasher: Sendable {
    private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// What ends each field, so that ("ab", "c") and ("a", "bc") differ.
    static let separator: UInt8 = 0x1F

    public init() {}

    /// One byte into a state: the whole of the hash, which every other way of adding calls.
    @inline(__always)
    static func mix(_ state: UInt64, _ value: UInt8) -> UInt64 {
        (state ^ UInt64(value)) &* 0x0000_0100_0000_01b3
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) { state = StableHasher.mix(state, value) }

    public mutating func add(_ text: String) {
        for value in text.utf8 { byte(value) }
        byte(StableHasher.separator)
    }

    public mutating func add(_ number: Int64) {
        var bits = UInt64(bitPattern: number)
        for _ in 0..<8 {
            byte(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
        byte(StableHasher.separator)
    }

    public var value: Int64 { Int64(bitPattern: state) }
}

/// A String compared and hashed by its UTF-8 bytes, as the specification compares ids; Swift's
/// own String equality would merge canonically equivalent but different ids.
public struct UTF8Key: Hashable, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }

    public static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool { utf8Equal(lhs.text, rhs.text) }

    public func hash(into hasher: inout Hasher) {
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension Ledger {
    /// Row counts of every table, in a fixed order: what a rerun must leave unchanged.
    public func tableCounts() throws -> [Int] {
        try read { db in
            try [
                "runs", "orgs", "periods", "documents", "sequences", "applied_ids", "engine_rejections", "purchases",
                "run_rejections", "applied_usage_blocks", "rendered_files", "run_queue", "run_queue_balances",
                "rendered_manifests",
            ].map { table in
                // A ledger opened read-only keeps the tables of the version that wrote it.
                guard try db.tableExists(table) else { return 0 }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
        } + [try appliedUsageCount()]
    }
}

extension Ledger {
    public func allRunIds() throws -> [Int64] {
        try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id") }
    }
}

/// The usage rows a close applied: indices into the rows it read.
public struct AppliedUsage: Sendable {
    public var records: UsageRows
    public var indices: [Int32]
    /// Computes the content hash stored with each id.
    public var hasher: UsageHasher
    /// Every record's content hash, by record index, as the classification computed them; or
    /// empty, and the hashes are computed again (see `CloseWork.keptHashesLimit`).
    public var hashes: [Int64]

    public init(records: UsageRows, indices: [Int32], hasher: UsageHasher, hashes: [Int64] = []) {
        self.records = records
        self.indices = indices
        self.hasher = hasher
        self.hashes = hashes
    }

    /// The content hash of the record at `index`.
    @inline(__always)
    func hash(ofRecord index: Int) -> Int64 {
        hashes.isEmpty ? hasher.hash(records[index]) : hashes[index]
    }
}

/// Applied usage ids packed into blobs: per entry the content hash (8 bytes, little endian),
/// the id's length (2 bytes) and the id's UTF-8 bytes.
enum UsageBlock {
    static let kind = "usage"
    static let targetBytes = 4 << 20
    /// The longest id an entry holds whole (its length is 16 bits); the reader rejects longer.
    static let longestIdBytes = Int(UInt16.max)

    /// The most bytes a block holds: a block ends with the entry that brings it to
    /// `targetBytes`, and an entry is at most 10 bytes and an id cut to 65,535.
    static let capacityBytes = targetBytes + 10 + Int(UInt16.max)

    /// One block's bytes. Entries are written in place into room for a whole block: appended
    /// to an array (four appends an entry, each checking the array's room and owner), packing
    /// took 504 profile samples of the commit's feeders at 2.3 M rows, against 288 now;
    /// appended to `Data` a byte at a time, and an array per id, before that, more.
    struct Builder {
        var bytes: [UInt8]
        var entries: Int

        /// The block of `count` entries, `entry(k)` giving the k-th one's id and content hash;
        /// their bytes must fit in `capacityBytes`, as `Ledger.blockRanges` makes them.
        init(count: Int, entry: (Int) -> (id: String, hash: Int64)) {
            bytes = [UInt8](unsafeUninitializedCapacity: UsageBlock.capacityBytes) { buffer, written in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                var offset = 0
                for position in 0..<count {
                    var (id, hash) = entry(position)
                    id.withUTF8 { utf8 in
                        let length = min(utf8.count, Int(UInt16.max))
                        precondition(offset + 10 + length <= buffer.count, "a usage block fits in its room")
                        base.storeBytes(
                            of: UInt64(bitPattern: hash).littleEndian, toByteOffset: offset, as: UInt64.self)
                        base.storeBytes(of: UInt16(length).littleEndian, toByteOffset: offset + 8, as: UInt16.self)
                        if let source = utf8.baseAddress {
                            let target = base + offset + 10
                            // Ids of 8 to 16 bytes (most are) are copied as two words that may
                            // overlap: a call to memmove for a dozen bytes cost more than the copy.
                            if length >= 8, length <= 16 {
                                let raw = UnsafeRawPointer(source)
                                target.storeBytes(of: raw.loadUnaligned(as: UInt64.self), as: UInt64.self)
                                (target + length - 8).storeBytes(
                                    of: raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self), as: UInt64.self)
                            } else {
                                target.copyMemory(from: source, byteCount: length)
                            }
                        }
                        offset += 10 + length
                    }
                }
                written = offset
            }
            entries = count
        }
    }

    /// Each entry of a block as its id's bytes (valid only during the call) and its content
    /// hash. A block cut short ends at its last whole entry.
    static func forEachEntry(_ raw: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void) {
        let bytes = raw.bindMemory(to: UInt8.self)
        var index = 0
        while index + 10 <= bytes.count {
            let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let length = Int(bytes[index + 8]) | Int(bytes[index + 9]) << 8
            index += 10
            guard index + length <= bytes.count else { return }
            body(UnsafeBufferPointer(rebasing: bytes[index..<(index + length)]), Int64(bitPattern: bits))
            index += length
        }
    }
}

/// A run's list of files packed in one blob, in path order: per file the path's length (4
/// bytes, little endian), its UTF-8 bytes, then the size and the content hash (8 bytes each,
/// little endian). The list only tells a rerun whether its files are still as written; a list
/// that cannot be read (a damaged row) is taken as empty, and the files are rendered again.
enum RenderedManifest {
    static func pack(_ files: [RenderedFile]) -> Data {
        // Written in place into a buffer of the list's exact size (3.5 MB for 66,714 files).
        var packed = Data(count: files.reduce(0) { $0 + $1.path.utf8.count + 20 })
        // Paths are copied whole and numbers stored as little-endian words: a byte at a time,
        // packing took 15 ms of the commit's end, on one thread while the other cores idled.
        packed.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            var index = 0
            for file in files {
                var path = file.path
                path.withUTF8 { utf8 in
                    raw.storeBytes(of: UInt32(utf8.count).littleEndian, toByteOffset: index, as: UInt32.self)
                    index += 4
                    if let source = utf8.baseAddress {
                        (raw.baseAddress! + index).copyMemory(from: source, byteCount: utf8.count)
                    }
                    index += utf8.count
                }
                let size = UInt64(bitPattern: Int64(file.size)).littleEndian
                let hash = UInt64(bitPattern: file.contentHash).littleEndian
                raw.storeBytes(of: size, toByteOffset: index, as: UInt64.self)
                raw.storeBytes(of: hash, toByteOffset: index + 8, as: UInt64.self)
                index += 16
            }
            precondition(index == raw.count, "the manifest's size was computed from the same paths")
        }
        return packed
    }

    static func unpack(_ data: Data) -> [RenderedFile]? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [RenderedFile]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            func read(_ count: Int) -> UInt64? {
                guard bytes.count - index >= count else { return nil }
                var value: UInt64 = 0
                for offset in 0..<count { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
                index += count
                return value
            }
            var files: [RenderedFile] = []
            while index < bytes.count {
                guard let length = read(4), bytes.count - index >= Int(length) else { return nil }
                let path = String(
                    decoding: UnsafeBufferPointer(rebasing: bytes[index..<(index + Int(length))]), as: UTF8.self)
                index += Int(length)
                guard let size = read(8), let hash = read(8) else { return nil }
                files.append(
                    RenderedFile(path: path, size: Int(Int64(bitPattern: size)), contentHash: Int64(bitPattern: hash)))
            }
            return files
        }
    }
}

/// One file a close wrote, relative to the output folder.
public struct RenderedFile: Sendable, Hashable {
    public var path: String
    public var size: Int
    public var contentHash: Int64
}

extension Ledger {
    /// Copies the committed log into the database file and syncs both (SQLite does it after
    /// each commit by default); a close does it while its files are renamed on other threads.
    /// A failure leaves the committed rows in the log, where SQLite finds them the next time
    /// the ledger is opened, so it is not an error of the close.
    func checkpoint() {
        _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    /// Replaces the list of files a run wrote: inside the close's own transaction when called
    /// from its `beforeCommit`, else in a small transaction of its own (a rerun's re-render).
    public func recordRendered(run: Int64, files: [RenderedFile]) throws {
        func insert(_ db: Database) throws {
            try db.execute(sql: "DELETE FROM rendered_files WHERE run_id = ?", arguments: [run])
            try db.execute(
                sql: "INSERT OR REPLACE INTO rendered_manifests (run_id, files, manifest) VALUES (?, ?, ?)",
                arguments: [run, files.count, RenderedManifest.pack(files)])
        }
        if let pinned {
            try insert(pinned)
        } else {
            try pool.write { db in try insert(db) }
        }
    }

    public func renderedFiles(run: Int64) throws -> [RenderedFile] {
        try read { db in
            // A ledger opened read-only keeps the tables of the version that wrote it.
            if try db.tableExists("rendered_manifests"),
                let packed = try Data.fetchOne(
                    db, sql: "SELECT manifest FROM rendered_manifests WHERE run_id = ?", arguments: [run])
            {
                return RenderedManifest.unpack(packed) ?? []
            }
            return try Row.fetchAll(
                db, sql: "SELECT path, size, content_hash FROM rendered_files WHERE run_id = ? ORDER BY path",
                arguments: [run]
            ).map { RenderedFile(path: $0["path"], size: $0["size"], contentHash: $0["content_hash"]) }
        }
    }
}
