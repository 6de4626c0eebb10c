import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import Invoicing

/// The ledger's hash chain (migration "v2-chain"). Each run stores four SHA-256 hashes:
/// `input_hash` of the files it read, `totals_hash` of every row it added (its run row,
/// periods, documents, applied and rejected ids, rejected rows), `state_hash` of the tables it
/// left in their latest state (orgs, sequences, purchases, meta), and `chain_hash` over the
/// previous run's chain hash and those three. Editing any row a run wrote, or any hash, breaks
/// the chain from that run on; `verify` recomputes it. Someone who can rewrite the whole file
/// can also recompute every hash, so the head that `verify` prints is worth keeping elsewhere.
extension Ledger {
    static func registerChainMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-chain") { db in
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN input_hash TEXT;
                    ALTER TABLE runs ADD COLUMN totals_hash TEXT;
                    ALTER TABLE runs ADD COLUMN state_hash TEXT;
                    ALTER TABLE runs ADD COLUMN chain_hash TEXT;
                    """)
        }
    }

    /// Adds every row `sql` returns to `hash`, each value tagged with its storage class so
    /// that NULL, 1 and '1' differ, each length-prefixed so that no two tables of values hash
    /// alike. Texts and blobs are hashed from SQLite's own bytes. (Texts are stored from Swift
    /// strings, so they are the bytes a String would hold.)
    static func hashRows(
        _ db: Database, into hash: BackgroundSHA256, _ sql: String, _ arguments: StatementArguments = []
    ) throws {
        let rows = RowHasher(hash)
        try rows.addEveryRow(db, sql, arguments)
        rows.flush()
    }

    /// The hash of every row that run `run` added; these rows never change after the run.
    static func totalsHash(_ db: Database, run: Int64) throws -> String {
        try RunTotals(run: run).finish(db)
    }

    /// The hash of the tables a run leaves in their latest state; only the last run's can be
    /// checked against the file, earlier ones are kept by the chain.
    static func stateHash(_ db: Database) throws -> String {
        let hash = BackgroundSHA256()
        for sql in [
            "SELECT org_id, profile, state FROM orgs ORDER BY org_id",
            "SELECT prefix, year, last FROM sequences ORDER BY prefix, year",
            "SELECT purchase_id, org_id, invoice_number FROM purchases ORDER BY purchase_id",
            "SELECT key, value FROM meta WHERE key = 'horizon'",
        ] {
            hash.field(sql)
            try hashRows(db, into: hash, sql)
        }
        return hash.hexDigest()
    }

    static func chainHash(previous: String?, run: Int64, input: String, totals: String, state: String) -> String {
        var hash = SHA256()
        hash.field("cycle-runner ledger chain 1")
        hash.field(previous ?? "")
        hash.field(run)
        hash.field(input)
        hash.field(totals)
        hash.field(state)
        return hash.hexDigest()
    }

    /// Stores a new run's hashes; called inside the commit's transaction after its rows.
    static func seal(_ db: Database, run: Int64, totals runTotals: RunTotals, inputHash: String) throws {
        let previous = try String.fetchOne(
            db, sql: "SELECT chain_hash FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [run])
        let totals = try runTotals.finish(db)
        let state = try stateHash(db)
        let chain = chainHash(previous: previous, run: run, input: inputHash, totals: totals, state: state)
        try db.execute(
            sql: "UPDATE runs SET input_hash = ?, totals_hash = ?, state_hash = ?, chain_hash = ? WHERE id = ?",
            arguments: [inputHash, totals, state, chain, run])
    }

    /// The SHA-256 of input files, each as its name, its length and its bytes, in the order
    /// given; an unreadable file is hashed as such, since the run read it a moment ago. A
    /// close hashes them through `InputHashing`, which gives the same value.
    public static func inputHash(folder: String, files: [String]) -> String {
        var progress = InputHashProgress(folder: folder, files: files)
        let buffer = InputHashProgress.makeBuffer()
        defer { buffer.deallocate() }
        while !progress.isFinished { progress.advance(buffer: buffer) }
        return progress.hexDigest()
    }

    /// What `verify` found: `problems` empty means the ledger is consistent.
    public struct Verification: Sendable {
        public var problems: [String] = []
        public var notes: [String] = []
        /// The last run's chain hash: keep it elsewhere to detect a rewrite of the whole file.
        public var head: String?
        public var runs = 0
        public var documents = 0
    }

    /// Recomputes the chain and the ledger's totals from its rows and reports every mismatch:
    /// SQLite's own integrity check, each run's hashes, the horizons, gapless numbers that
    /// agree with the sequences, documents whose columns agree with their stored body and
    /// whose journal balances, and each run's row accounting.
    public func verify() throws -> Verification {
        var result = Verification()
        try snapshot {
            try read { db in
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                if integrity != ["ok"] {
                    result.problems.append("SQLite integrity check: " + integrity.prefix(5).joined(separator: "; "))
                }
                try verifyChain(db, into: &result)
                try verifyDocuments(db, into: &result)
            }
        }
        return result
    }

    private func verifyChain(_ db: Database, into result: inout Verification) throws {
        let runs = try Row.fetchAll(
            db,
            sql: """
                SELECT id, previous_horizon, horizon, report, input_hash, totals_hash, state_hash, chain_hash
                FROM runs ORDER BY id
                """)
        result.runs = runs.count
        var previousChain: String?
        var chained = false
        var previousHorizon: Int64?
        var unchained: [Int64] = []
        for (index, row) in runs.enumerated() {
            let id: Int64 = row["id"]
            let horizon: Int64 = row["horizon"]
            let storedPrevious: Int64? = row["previous_horizon"]
            if index > 0, storedPrevious != previousHorizon {
                result.problems.append("run \(id): previous horizon does not match run before it")
            }
            if let previousHorizon, horizon <= previousHorizon {
                result.problems.append("run \(id): horizon does not move forward")
            }
            previousHorizon = horizon
            if let report = try? decode(RunReport.self, row["report"] as String) {
                for (file, counts) in zip(report.files, report.counts) where !counts.balances {
                    result.problems.append(
                        "run \(id): \(file) read \(counts.read) rows but applied + duplicates + rejected + pending "
                            + "= \(counts.applied + counts.duplicates + counts.rejected + counts.pending)")
                }
                let periods = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM periods WHERE run_id = ?", arguments: [id])
                if periods != report.periodsClosed {
                    result.problems.append(
                        "run \(id): \(periods ?? 0) periods in the ledger, its report says \(report.periodsClosed)")
                }
                let documents = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM documents WHERE run_id = ?", arguments: [id])
                if documents != report.documentsIssued {
                    result.problems.append(
                        "run \(id): \(documents ?? 0) documents in the ledger, its report says \(report.documentsIssued)"
                    )
                }
                let rejected = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM run_rejections WHERE run_id = ?", arguments: [id])
                let reported = report.counts.reduce(0) { $0 + $1.rejected }
                if rejected != reported {
                    result.problems.append(
                        "run \(id): \(rejected ?? 0) rejected rows in the ledger, its report counts \(reported)")
                }
            } else {
                result.problems.append("run \(id): its report cannot be read")
            }
            guard let input: String = row["input_hash"], let totals: String = row["totals_hash"],
                let state: String = row["state_hash"], let chain: String = row["chain_hash"]
            else {
                if chained {
                    result.problems.append("run \(id): its hashes are missing, the chain is broken")
                } else {
                    unchained.append(id)
                }
                continue
            }
            chained = true
            let recomputedTotals = try Ledger.totalsHash(db, run: id)
            if recomputedTotals != totals {
                result.problems.append(
                    "run \(id): its rows were changed (totals hash \(totals.prefix(12))… "
                        + "stored, \(recomputedTotals.prefix(12))… recomputed)")
            }
            if index == runs.count - 1 {
                let recomputedState = try Ledger.stateHash(db)
                if recomputedState != state {
                    result.problems.append(
                        "run \(id): balances, sequences, purchases or the horizon were changed after it (state hash)")
                }
            }
            let expected = Ledger.chainHash(
                previous: previousChain, run: id, input: input, totals: totals, state: state)
            if expected != chain {
                result.problems.append("run \(id): chain hash does not follow from the run before it")
            }
            previousChain = chain
            result.head = chain
        }
        if !unchained.isEmpty {
            result.notes.append(
                "runs \(unchained.map(String.init).joined(separator: ", ")) predate the hash chain; "
                    + "their rows are checked but not their hashes")
        }
        let horizon = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'horizon'").flatMap { Int64($0) }
        if horizon != previousHorizon {
            result.problems.append("the ledger's horizon does not match its last run")
        }
    }

    private func verifyDocuments(_ db: Database, into result: inout Verification) throws {
        var used: [String: [Int64]] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT number, kind, org_id, currency, net_minor, tax_minor, total_minor, document FROM documents"
        )
        while let row = try rows.next() {
            result.documents += 1
            let number: String = row["number"]
            guard let document = try? StoredRecord.required(Document.self, row["document"]) else {
                result.problems.append("document \(number): its body cannot be read")
                continue
            }
            let net: Int64 = row["net_minor"]
            let tax: Int64 = row["tax_minor"]
            let total: Int64 = row["total_minor"]
            if document.number != number || document.kind.rawValue != row["kind"] as String
                || document.orgId != row["org_id"] as String || document.currencyCode != row["currency"] as String
            {
                result.problems.append("document \(number): its columns do not match its body")
            }
            if net != document.netMinor || tax != document.taxMinor || total != document.totalMinor
                || net + tax != total
            {
                result.problems.append(
                    "document \(number): net \(net) + tax \(tax) ≠ total \(total), or they differ from its lines "
                        + "(\(document.netMinor) + \(document.taxMinor) = \(document.totalMinor))")
            }
            let journal = Journal.lines(for: document, accounts: .defaults)
            if journal.reduce(0, { $0 + $1.debitMinor }) != journal.reduce(0, { $0 + $1.creditMinor }) {
                result.problems.append("document \(number): its journal lines do not balance")
            }
            guard let parsed = Ledger.parseNumber(number) else {
                result.problems.append("document \(number): not a <prefix><year>-<sequence> number")
                continue
            }
            used["\(parsed.prefix)|\(parsed.year)", default: []].append(parsed.sequence)
        }
        var sequences: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT prefix, year, last FROM sequences") {
            sequences["\(row["prefix"] as String)|\(row["year"] as Int64)"] = row["last"]
        }
        for key in Set(used.keys).union(sequences.keys).sorted() {
            let numbers = (used[key] ?? []).sorted()
            let last = sequences[key] ?? 0
            let name = key.replacingOccurrences(of: "|", with: " ")
            if !numbers.isEmpty, numbers != Array(1...Int64(numbers.count)) {
                let missing = Set(1...max(numbers.last ?? 1, 1)).subtracting(numbers).sorted().prefix(5)
                result.problems.append(
                    "numbers \(name): not gapless (missing \(missing.map(String.init).joined(separator: ", ")))")
            }
            if Int64(numbers.count) != last {
                result.problems.append("numbers \(name): \(numbers.count) documents but the sequence is at \(last)")
            }
        }
    }

    /// Splits `<prefix><YYYY>-<sequence>` (the prefix may itself hold dashes).
    static func parseNumber(_ number: String) -> (prefix: String, year: Int64, sequence: Int64)? {
        let bytes = Array(number.utf8)
        guard let dash = bytes.lastIndex(of: UInt8(ascii: "-")), dash >= 4,
            let sequence = Int64(String(decoding: bytes[(dash + 1)...], as: UTF8.self)),
            let year = Int64(String(decoding: bytes[(dash - 4)..<dash], as: UTF8.self))
        else { return nil }
        return (String(decoding: bytes[..<(dash - 4)], as: UTF8.self), year, sequence)
    }
}

/// A SHA-256 computed on another thread, over the pieces given in the order they were given,
/// at most a few pieces behind the thread that gives them: the rows of a close are hashed as
/// the ledger's thread inserts them, and hashing them there as well put both on the commit's
/// path (0.1 s of a 2.3 M-row close). The hashing thread is a thread of its own at nice 5, like
/// the commit's feeders: on one of Dispatch's threads, at the ledger thread's own priority, it
/// made Linux share a core between the ledger's thread and a feeder (the ledger's thread got
/// three quarters of one), where at nice 5 the three helpers share the other core.
final class BackgroundSHA256: @unchecked Sendable {
    private let worker = Worker()

    deinit { worker.close() }

    func update(_ bytes: [UInt8]) { worker.add(.bytes(bytes)) }

    /// Hashes `bytes` with each of `held` inserted at its offset (offsets in increasing order):
    /// the large values of rows are hashed where they are, not copied into `bytes`.
    func update(_ bytes: [UInt8], held: [(offset: Int, bytes: HeldBytes)]) {
        worker.add(held.isEmpty ? .bytes(bytes) : .spliced(bytes, held))
    }

    func field(_ text: String) { worker.add(.field(text)) }

    /// Waits for every piece given so far and returns the digest of them all; nothing may be
    /// given after.
    func hexDigest() -> String { worker.finish() }

    private enum Piece {
        case bytes([UInt8])
        case spliced([UInt8], [(offset: Int, bytes: HeldBytes)])
        case field(String)
    }

    /// The pieces and the thread that hashes them. The thread holds this, not the
    /// `BackgroundSHA256`, so dropping that one (a commit that failed) ends the thread.
    private final class Worker: @unchecked Sendable {
        private let condition = NSCondition()
        // Guarded by `condition`.
        private var pieces: [Piece] = []
        /// How many pieces the thread took and is hashing (0 when it is idle).
        private var hashing = 0
        private var closed = false
        private var started = false
        // Touched by the thread while it is hashing, and by `finish` once it is idle for good.
        private var hash = SHA256()
        /// Pieces given but not yet hashed (waiting or being hashed) are held in memory, so only
        /// a few may be.
        private static let room = 4

        func add(_ piece: Piece) {
            condition.lock()
            defer { condition.unlock() }
            precondition(!closed, "a piece given after the digest")
            while pieces.count + hashing >= Worker.room { condition.wait() }
            pieces.append(piece)
            if !started {
                started = true
                Thread { self.run() }.start()
            }
            condition.broadcast()
        }

        private func run() {
            lowerThisThreadsPriority(to: 5)
            condition.lock()
            while true {
                while pieces.isEmpty, !closed { condition.wait() }
                if pieces.isEmpty {
                    condition.unlock()
                    return
                }
                let batch = pieces
                pieces = []
                hashing = batch.count
                condition.broadcast()
                condition.unlock()
                for piece in batch {
                    switch piece {
                    case .bytes(let bytes): hash.update(bytes)
                    case .spliced(let bytes, let held):
                        bytes.withUnsafeBytes { bytes in
                            var start = 0
                            for (offset, piece) in held {
                                hash.update(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
                                piece.withUnsafeBytes { hash.update($0) }
                                start = offset
                            }
                            hash.update(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                        }
                    case .field(let text): hash.field(text)
                    }
                }
                condition.lock()
                hashing = 0
                condition.broadcast()
            }
        }

        func finish() -> String {
            condition.lock()
            defer { condition.unlock() }
            while !pieces.isEmpty || hashing > 0 { condition.wait() }
            closed = true
            condition.broadcast()
            return hash.hexDigest()
        }

        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// A query whose rows the chain hashes, after the query's own text.
enum ChainQuery {
    case rows(String)
    /// `SELECT columns FROM table WHERE filter ORDER BY order`, where `order` is unique.
    case rowsByRowId(columns: String, table: String, filter: String, order: String)

    /// The query's text, as hashed.
    var sql: String {
        switch self {
        case .rows(let sql): sql
        case .rowsByRowId(let columns, let table, let filter, let order):
            "SELECT \(columns) FROM \(table) WHERE \(filter) ORDER BY \(order)"
        }
    }
}

/// Bytes a `BackgroundSHA256` hashes where they are, kept alive until it has: a row's record
/// (JSON text or a compact record) or a usage id block. Neither changes once made.
enum HeldBytes: @unchecked Sendable {
    case owned(OwnedText)
    case array([UInt8])

    var count: Int {
        switch self {
        case .owned(let bytes): bytes.count
        case .array(let bytes): bytes.count
        }
    }

    func withUnsafeBytes(_ body: (UnsafeRawBufferPointer) -> Void) {
        switch self {
        case .owned(let bytes): body(UnsafeRawBufferPointer(bytes.bytes))
        case .array(let bytes): bytes.withUnsafeBytes(body)
        }
    }
}

/// Turns rows into the bytes the chain hashes, a few hundred kilobytes at a time handed to a
/// `BackgroundSHA256`: rows SQLite returns (`addEveryRow`), or rows as a commit binds them
/// (`RowInsert`), value by value in the same form. A text is hashed as SQLite holds it: its
/// bytes up to a first NUL, since texts are bound as C strings. A commit's large values (its
/// records and id blocks) are handed over where they are, between the bytes around them:
/// copying them into the buffer was 57 ms of a 2.3 M-row close's commit, on the ledger's thread.
final class RowHasher {
    private let hash: BackgroundSHA256
    private var buffer: [UInt8] = []
    /// Values hashed where they are, each at its offset in `buffer`, and their bytes.
    private var held: [(offset: Int, bytes: HeldBytes)] = []
    private var heldBytes = 0
    private static let bufferBytes = 1 << 18
    /// Shorter values are copied: below this, holding one costs about what copying it does.
    static let heldMinimumBytes = 512

    init(_ hash: BackgroundSHA256) {
        self.hash = hash
        buffer.reserveCapacity(RowHasher.bufferBytes)
    }

    func addEveryRow(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws {
        try addEveryRow(db, try db.makeStatement(sql: sql), arguments)
    }

    /// Adds every row `statement` returns with `arguments`.
    func addEveryRow(_ db: Database, _ statement: GRDB.Statement, _ arguments: StatementArguments) throws {
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        // The statement finalizes its handle when released, so it must outlive every use of
        // the handle below; this defer, declared first, runs last.
        defer { withExtendedLifetime(statement) {} }
        defer { sqlite3_reset(handle) }
        let columns = sqlite3_column_count(handle)
        while true {
            let result = sqlite3_step(handle)
            if result == SQLITE_DONE { break }
            guard result == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: result),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
            }
            startRow()
            for column in 0..<columns {
                switch sqlite3_column_type(handle, column) {
                case SQLITE_NULL: addNull()
                case SQLITE_INTEGER: add(sqlite3_column_int64(handle, column))
                case SQLITE_FLOAT:
                    SHA256.appendField(UInt8(ascii: "d"), String(sqlite3_column_double(handle, column)), to: &buffer)
                case SQLITE_TEXT:
                    let text = sqlite3_column_text(handle, column)
                    add(text: UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
                default:
                    let blob = sqlite3_column_blob(handle, column)
                    add(blob: UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(handle, column))))
                }
            }
        }
    }

    /// Starts a row; its values follow in the order of the query's columns.
    func startRow() {
        if buffer.count + heldBytes >= RowHasher.bufferBytes { flush() }
        SHA256.appendField(UInt8(ascii: "r"), "", to: &buffer)
    }

    func addNull() { SHA256.appendField(UInt8(ascii: "n"), "", to: &buffer) }

    func add(_ value: Int64) { SHA256.appendField(UInt8(ascii: "i"), String(value), to: &buffer) }

    func add(text: UnsafeRawBufferPointer) { SHA256.appendField(UInt8(ascii: "s"), text, to: &buffer) }

    func add(blob: UnsafeRawBufferPointer) { SHA256.appendField(UInt8(ascii: "b"), blob, to: &buffer) }

    /// `add(text:)` of a JSON text (which has no NUL), hashed where it is when it is long.
    func add(text: OwnedText) { add(UInt8(ascii: "s"), .owned(text)) }

    /// `add(blob:)` of a compact record, hashed where it is when it is long.
    func add(blob: OwnedText) { add(UInt8(ascii: "b"), .owned(blob)) }

    /// `add(blob:)` of bytes that are not changed after, hashed where they are when many.
    func add(blob: [UInt8]) { add(UInt8(ascii: "b"), .array(blob)) }

    private func add(_ tag: UInt8, _ bytes: HeldBytes) {
        guard bytes.count >= RowHasher.heldMinimumBytes else {
            bytes.withUnsafeBytes { SHA256.appendField(tag, $0, to: &buffer) }
            return
        }
        // The field's bytes are its header, the value, then a newline (`SHA256.appendField`).
        SHA256.appendFieldHeader(tag, valueBytes: bytes.count, to: &buffer)
        held.append((buffer.count, bytes))
        heldBytes += bytes.count
        buffer.append(0x0A)
    }

    /// Hands the bytes not yet hashed to the hash.
    func flush() {
        hash.update(buffer, held: held)
        buffer = []
        buffer.reserveCapacity(RowHasher.bufferBytes)
        held = []
        heldBytes = 0
    }
}

/// The totals hash of a run, built query by query in the order of `RunTotals.queries`. The
/// seal read every row of a close back from SQLite to hash it (0.2 s of a 2.3 M-row close's
/// commit, on the ledger's thread); a close now hashes its periods, documents and usage id
/// blocks as it binds them, inserted in their queries' order, and reads back only the few
/// rows of the other queries. `verify` reads every row back (`finish` from the start), so a
/// row stored unlike it was hashed breaks the chain at once.
final class RunTotals {
    /// The rows a run adds, each query's text hashed before its rows. The texts, and the order
    /// of the rows, are part of every chain hash ever stored: they never change.
    static let queries: [ChainQuery] = [
        .rows("SELECT id, through, previous_horizon, horizon, report FROM runs WHERE id = ?"),
        .rowsByRowId(
            columns: "org_id, period_end, period_start, run_id, record", table: "periods", filter: "run_id = ?",
            order: "org_id, period_end"),
        .rowsByRowId(
            columns: "number, kind, org_id, issue_date, currency, net_minor, tax_minor, total_minor, source, "
                + "source_id, run_id, document",
            table: "documents", filter: "run_id = ?", order: "number"),
        .rows("SELECT kind, id, content_hash FROM applied_ids WHERE run_id = ? ORDER BY kind, id"),
        .rows("SELECT block, entries, ids FROM applied_usage_blocks WHERE run_id = ? ORDER BY block"),
        .rows("SELECT kind, id, content_hash, reason FROM engine_rejections WHERE run_id = ? ORDER BY kind, id"),
        .rows("SELECT position, source_file, line, reason, raw FROM run_rejections WHERE run_id = ? ORDER BY position"),
        .rows(
            "SELECT org_id, position, job_id, action, credits FROM run_queue WHERE run_id = ? ORDER BY org_id, position"
        ),
        .rows("SELECT org_id, current, bank, topup, deficit FROM run_queue_balances WHERE run_id = ? ORDER BY org_id"),
    ]
    /// The queries whose rows a commit hashes as it inserts them.
    static let periods = 1
    static let documents = 2
    static let usageBlocks = 4

    let run: Int64
    private let hash = BackgroundSHA256()
    /// Where the rows of the query being hashed go.
    let rows: RowHasher
    private var nextQuery = 0

    init(run: Int64) {
        self.run = run
        rows = RowHasher(hash)
    }

    /// Reads back the rows of the queries before `query` not hashed yet, then starts `query`:
    /// its rows are those the caller adds to `rows` until the next call.
    func startInserted(_ query: Int, _ db: Database) throws {
        try readBack(upTo: query, db)
        hash.field(RunTotals.queries[query].sql)
        nextQuery = query + 1
    }

    /// Reads back the rows of every query not hashed yet and returns the hash.
    func finish(_ db: Database) throws -> String {
        try readBack(upTo: RunTotals.queries.count, db)
        return hash.hexDigest()
    }

    private func readBack(upTo end: Int, _ db: Database) throws {
        precondition(nextQuery <= end, "a run's queries are hashed in order")
        rows.flush()
        for query in RunTotals.queries[nextQuery..<end] {
            hash.field(query.sql)
            switch query {
            case .rows(let sql):
                try rows.addEveryRow(db, sql, [run])
            case .rowsByRowId(let columns, let table, let filter, let order):
                // Only the rows' ids are sorted, and each row is then fetched by its id: SQLite
                // sorted whole rows (2 KB records) in a temporary B-tree to run the query as
                // written. The order is a primary key's, so the two give the same rows in the
                // same order.
                let rowIds = try Int64.fetchAll(
                    db, sql: "SELECT rowid FROM \(table) WHERE \(filter) ORDER BY \(order)", arguments: [run])
                let statement = try db.makeStatement(sql: "SELECT \(columns) FROM \(table) WHERE rowid = ?")
                for rowId in rowIds {
                    try rows.addEveryRow(db, statement, [rowId])
                }
            }
            rows.flush()
        }
        nextQuery = end
    }
}

/// How far an input hash (`Ledger.inputHash`) has got, so that one thread can carry on from
/// where another stopped: the hash so far, the file it is in, and how many of that file's bytes
/// it has hashed (nil before the file's name). Each step opens the file and reads at its
/// offset, so a step needs nothing from the one before but this value. The identity of each
/// file hashed (device, inode, size, change times) is kept, to tell whether it has changed
/// since.
struct InputHashProgress: Sendable {
    let folder: String
    let files: [String]
    private var hash = SHA256()
    private(set) var file = 0
    private var offset: Int?
    /// Per file hashed, its identity while it was hashed, or nil if it could not be read or
    /// changed while it was.
    private(set) var stamps: [FileStamp?] = []
    private var stampAtStart: FileStamp?

    /// One step's read: 256 KiB. The hashing thread runs only on idle cores, and a close that
    /// stops it waits for the step it is in; on a machine busy with other work that step gets a
    /// core rarely, so it is kept short (the buffer also stays in the core's cache).
    static let chunkBytes = 1 << 18

    /// A buffer for `advance`'s reads, made once per thread: a new buffer for each read was
    /// fresh memory the kernel faulted in and zeroed, 40 % of this hash's time while it ran
    /// beside the engine. The caller deallocates it.
    static func makeBuffer() -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: chunkBytes, alignment: 64)
    }

    init(folder: String, files: [String]) {
        self.folder = folder
        self.files = files
        hash.field("cycle-runner inputs 1")
    }

    var isFinished: Bool { file >= files.count }

    func hexDigest() -> String {
        precondition(isFinished, "the hash of every file")
        var hash = hash
        return hash.hexDigest()
    }

    /// Hashes the next piece: a file's name, up to `chunkBytes` of its bytes (read into
    /// `buffer`, from `makeBuffer`), or its end.
    mutating func advance(buffer: UnsafeMutableRawPointer) {
        precondition(!isFinished, "a file left to hash")
        guard let offset else {
            hash.field(files[file])
            offset = 0
            return
        }
        let descriptor = open(folder + "/" + files[file], O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            // Unreadable from the start is hashed as such; a file that goes while it is read
            // ends where its reading stopped, as a failed read does.
            hash.field(offset == 0 ? "unreadable" : "end")
            finishFile(nil)
            return
        }
        defer { close(descriptor) }
        if offset == 0 { stampAtStart = FileStamp(descriptor: descriptor) }
        // A read that fails ends the file's bytes where it failed; one that a signal
        // interrupted is made again.
        var count: Int
        repeat {
            count = pread(descriptor, buffer, InputHashProgress.chunkBytes, off_t(offset))
        } while count < 0 && errno == EINTR
        if count > 0 {
            hash.update(UnsafeRawBufferPointer(start: buffer, count: count))
            self.offset = offset + count
        } else {
            hash.field("end")
            // The file's identity as its hashing ends, kept only if it is the one it began with
            // (asked at the first and last steps only: a file is read in many).
            let stamp = FileStamp(descriptor: descriptor)
            finishFile(stamp == stampAtStart ? stamp : nil)
        }
    }

    private mutating func finishFile(_ stamp: FileStamp?) {
        stamps.append(stamp)
        file += 1
        offset = nil
        stampAtStart = nil
    }

    /// Whether every file hashed so far is as it was while it was hashed.
    func filesAreUnchanged() -> Bool {
        stamps.indices.allSatisfy { index in
            guard let stamp = stamps[index] else { return false }
            return FileStamp(path: folder + "/" + files[index]) == stamp
        }
    }
}

/// What tells a file changed: its device and inode, size, and modification and change times.
struct FileStamp: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: (seconds: Int, nanoseconds: Int)
    var changed: (seconds: Int, nanoseconds: Int)

    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    private init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        changed = (Int(info.st_ctim.tv_sec), Int(info.st_ctim.tv_nsec))
    }

    static func == (left: FileStamp, right: FileStamp) -> Bool {
        left.device == right.device && left.inode == right.inode && left.size == right.size
            && left.modified == right.modified && left.changed == right.changed
    }
}

/// The input hash of a close (`Ledger.inputHash`), started on another thread before the files
/// are read. Until the usage files are parsed the close runs on one core (plans.yaml, orgs.csv),
/// and then both are busy until the commit; hashed after the reading, as it was, its 160 MB at
/// 2.3 M rows took CPU from the engine instead of the idle core.
///
/// The thread runs only on a core the close leaves idle (`runThisThreadOnlyOnIdleCores`); the
/// close never waits for it. When the close needs the hash it takes over: it carries on from the last step
/// the thread finished, at its own priority (on a machine busy with other work, waiting for
/// the thread took ten seconds where hashing took a quarter of one), and the thread stops at
/// its next step. A file that changed between its hashing and the close's check (size, times,
/// inode), or a list of files other than those the close read, is hashed again on the close's
/// thread, so the hash stored is the hash of what the close read, as when it hashed after the
/// reading.
final class InputHashing: @unchecked Sendable {
    let folder: String
    /// The files hashed: those the close expects to read (`InputReader.filesToRead`).
    let files: [String]
    private let lock = NSLock()
    /// The thread's progress as of its last step, and whether the close has taken over;
    /// both under `lock`.
    private var progress: InputHashProgress
    private var takenOver = false
    /// Signalled once the thread has ended.
    private let ended = DispatchSemaphore(value: 0)

    init(folder: String, files: [String]) {
        self.folder = folder
        self.files = files
        progress = InputHashProgress(folder: folder, files: files)
        Thread { [self] in
            runThisThreadOnlyOnIdleCores()
            run()
            ended.signal()
        }.start()
    }

    private func run() {
        var local = lock.withLock { progress }
        let buffer = InputHashProgress.makeBuffer()
        defer { buffer.deallocate() }
        while !local.isFinished {
            local.advance(buffer: buffer)
            let stop = lock.withLock {
                if !takenOver { progress = local }
                return takenOver
            }
            if stop { return }
        }
    }

    /// The hash of `readFiles`, the files the close read, in its order: carried on from where
    /// the thread got to when those are the files it hashes and none has changed since, or
    /// else made here from the start.
    func hash(of readFiles: [String]) -> String {
        var local = lock.withLock {
            takenOver = true
            return progress
        }
        guard readFiles == files else { return Ledger.inputHash(folder: folder, files: readFiles) }
        let buffer = InputHashProgress.makeBuffer()
        defer { buffer.deallocate() }
        while !local.isFinished { local.advance(buffer: buffer) }
        guard local.filesAreUnchanged() else { return Ledger.inputHash(folder: folder, files: readFiles) }
        return local.hexDigest()
    }

    /// Stops the thread if it is still hashing (a close that will not commit does not need
    /// the hash) and waits for it to end: at most one step's read.
    func stop() {
        lock.withLock { takenOver = true }
        ended.wait()
        ended.signal()
    }
}
