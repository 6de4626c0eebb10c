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
    /// alike. Texts and blobs are hashed from SQLite's own bytes: the seal reads back every row
    /// a close wrote, and making a String and a DatabaseValue of each was most of its time.
    /// (Texts are stored from Swift strings, so they are the bytes a String would hold.)
    static func hashRows(
        _ db: Database, into hash: BackgroundSHA256, _ sql: String, _ arguments: StatementArguments = []
    ) throws {
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        // The statement finalizes its handle when released, so it must outlive every use of
        // the handle below; this defer, declared first, runs last.
        defer { withExtendedLifetime(statement) {} }
        defer { sqlite3_reset(handle) }
        let columns = sqlite3_column_count(handle)
        let bufferBytes = 1 << 18
        var buffer: [UInt8] = []
        buffer.reserveCapacity(bufferBytes)
        while true {
            let result = sqlite3_step(handle)
            if result == SQLITE_DONE { break }
            guard result == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: result),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            SHA256.appendField(UInt8(ascii: "r"), "", to: &buffer)
            for column in 0..<columns {
                switch sqlite3_column_type(handle, column) {
                case SQLITE_NULL: SHA256.appendField(UInt8(ascii: "n"), "", to: &buffer)
                case SQLITE_INTEGER:
                    SHA256.appendField(UInt8(ascii: "i"), String(sqlite3_column_int64(handle, column)), to: &buffer)
                case SQLITE_FLOAT:
                    SHA256.appendField(UInt8(ascii: "d"), String(sqlite3_column_double(handle, column)), to: &buffer)
                case SQLITE_TEXT:
                    let text = sqlite3_column_text(handle, column)
                    let count = Int(sqlite3_column_bytes(handle, column))
                    SHA256.appendField(
                        UInt8(ascii: "s"), UnsafeRawBufferPointer(start: text, count: count), to: &buffer)
                default:
                    let blob = sqlite3_column_blob(handle, column)
                    let count = Int(sqlite3_column_bytes(handle, column))
                    SHA256.appendField(
                        UInt8(ascii: "b"), UnsafeRawBufferPointer(start: blob, count: count), to: &buffer)
                }
            }
            if buffer.count >= bufferBytes {
                hash.update(buffer)
                buffer = []
                buffer.reserveCapacity(bufferBytes)
            }
        }
        hash.update(buffer)
    }

    /// The hash of every row that run `run` added; these rows never change after the run.
    static func totalsHash(_ db: Database, run: Int64) throws -> String {
        let hash = BackgroundSHA256()
        let queries = [
            "SELECT id, through, previous_horizon, horizon, report FROM runs WHERE id = ?",
            "SELECT org_id, period_end, period_start, run_id, record FROM periods WHERE run_id = ? "
                + "ORDER BY org_id, period_end",
            "SELECT number, kind, org_id, issue_date, currency, net_minor, tax_minor, total_minor, source, source_id, "
                + "run_id, document FROM documents WHERE run_id = ? ORDER BY number",
            "SELECT kind, id, content_hash FROM applied_ids WHERE run_id = ? ORDER BY kind, id",
            "SELECT block, entries, ids FROM applied_usage_blocks WHERE run_id = ? ORDER BY block",
            "SELECT kind, id, content_hash, reason FROM engine_rejections WHERE run_id = ? ORDER BY kind, id",
            "SELECT position, source_file, line, reason, raw FROM run_rejections WHERE run_id = ? ORDER BY position",
            "SELECT org_id, position, job_id, action, credits FROM run_queue WHERE run_id = ? ORDER BY org_id, position",
            "SELECT org_id, current, bank, topup, deficit FROM run_queue_balances WHERE run_id = ? ORDER BY org_id",
        ]
        for sql in queries {
            hash.field(sql)
            try hashRows(db, into: hash, sql, [run])
        }
        return hash.hexDigest()
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
    static func seal(_ db: Database, run: Int64, inputHash: String) throws {
        let previous = try String.fetchOne(
            db, sql: "SELECT chain_hash FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [run])
        let totals = try totalsHash(db, run: run)
        let state = try stateHash(db)
        let chain = chainHash(previous: previous, run: run, input: inputHash, totals: totals, state: state)
        try db.execute(
            sql: "UPDATE runs SET input_hash = ?, totals_hash = ?, state_hash = ?, chain_hash = ? WHERE id = ?",
            arguments: [inputHash, totals, state, chain, run])
    }

    /// The SHA-256 of input files, each as its name, its length and its bytes, in the order
    /// given; an unreadable file is hashed as such, since the run read it a moment ago.
    public static func inputHash(folder: String, files: [String]) -> String {
        var hash = SHA256()
        hash.field("cycle-runner inputs 1")
        for name in files {
            hash.field(name)
            guard let handle = FileHandle(forReadingAtPath: folder + "/" + name) else {
                hash.field("unreadable")
                continue
            }
            defer { try? handle.close() }
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hash.update($0) }
            }
            hash.field("end")
        }
        return hash.hexDigest()
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
            guard let document = try? decode(Document.self, row["document"] as String) else {
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
/// at most a few pieces behind the thread that gives them. The seal reads every row of a close
/// back from SQLite on the ledger's thread, and hashing them there as well put both on the
/// commit's path (0.2 s of a 2.3 M-row close, most of it hashing).
final class BackgroundSHA256: @unchecked Sendable {
    // Touched only on `queue`, one piece after another.
    private var hash = SHA256()
    private let queue = DispatchQueue(label: "cycle-runner.background-sha256")
    /// Pieces given but not yet hashed are held in memory, so only a few may wait.
    private let room = DispatchSemaphore(value: 4)

    func update(_ bytes: [UInt8]) {
        room.wait()
        queue.async {
            self.hash.update(bytes)
            self.room.signal()
        }
    }

    func field(_ text: String) {
        room.wait()
        queue.async {
            self.hash.field(text)
            self.room.signal()
        }
    }

    /// Waits for every piece given so far and returns the digest of them all.
    func hexDigest() -> String {
        queue.sync { hash.hexDigest() }
    }
}
