// Proves that a close hashes its rows for the chain as it inserts them exactly as reading them
// back from SQLite would: a value bound is hashed as SQLite stores it (long values where they
// are), rows are inserted in their chain query's order, and a ledger's hashes are the ones
// earlier versions wrote.
import Foundation
import GRDB
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct ChainHashingTests {
    /// Texts stored differently from how a careless hash would see them: a NUL inside (the
    /// text ends there), non-ASCII, canonically equivalent spellings, empty, absent, long.
    static let texts: [String?] = [
        "", "plain", "é", "e\u{301}", "before\0after", "\0", "🙂", nil, String(repeating: "long ", count: 3_000),
    ]

    @Test(arguments: texts)
    func aRowIsHashedAsBoundExactlyAsReadBack(text: String?) throws {
        let queue = try DatabaseQueue()
        let (bound, readBack) = try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT, amount INTEGER)")
            let boundHash = BackgroundSHA256()
            let bound = RowHasher(boundHash)
            let insert = try RowInsert(
                db, sql: "INSERT INTO t (id, label, amount) VALUES (?, ?, ?)", hashingInto: bound)
            for (id, amount) in [(1, Int64.min), (2, 0), (3, Int64.max)] {
                try insert.execute { row in
                    row.add(id)
                    row.add(text)
                    row.add(amount)
                }
            }
            bound.flush()
            let readHash = BackgroundSHA256()
            try Ledger.hashRows(db, into: readHash, "SELECT id, label, amount FROM t ORDER BY id")
            return (boundHash.hexDigest(), readHash.hexDigest())
        }
        #expect(bound == readBack)
    }

    /// A ledger row's JSON is bound where it was written (`OwnedText`), with its length rather
    /// than as a C string: it must be stored and hashed as the same JSON bound as a `String`.
    /// (JSON escapes a NUL, so the texts with one inside cannot end early either way.)
    @Test(arguments: texts.compactMap { $0 })
    func aJSONTextBoundInPlaceIsStoredAndHashedAsItsString(text: String) throws {
        let queue = try DatabaseQueue()
        let (inPlace, asString, readBack, stored) = try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, record TEXT, state TEXT)")
            var digests: [String] = []
            for (id, inPlace) in [(1, true), (2, false)] {
                let hash = BackgroundSHA256()
                let hasher = RowHasher(hash)
                let insert = try RowInsert(
                    db, sql: "INSERT INTO t (id, record, state) VALUES (?, ?, ?)", hashingInto: hasher)
                try insert.execute { row in
                    row.add(id)
                    if inPlace {
                        row.add(JSONOut.encodedText([text, "x"]))
                        row.add(blob: nil as OwnedText?)
                    } else {
                        row.add(String(decoding: JSONOut.encode([text, "x"]), as: UTF8.self))
                        row.add(nil as String?)
                    }
                }
                hasher.flush()
                digests.append(hash.hexDigest())
            }
            let readHash = BackgroundSHA256()
            try Ledger.hashRows(db, into: readHash, "SELECT id, record, state FROM t WHERE id = 1")
            let stored = try Row.fetchAll(
                db, sql: "SELECT typeof(record), hex(record), typeof(state) FROM t ORDER BY id")
            return (digests[0], digests[1], readHash.hexDigest(), stored)
        }
        #expect(inPlace == readBack)
        // The two rows differ only in their id, so their hashes do too; their texts do not.
        #expect(inPlace != asString)
        #expect(stored.count == 2)
        #expect(stored[0] == stored[1])
    }

    /// A commit's long values (its JSON rows, its id blocks) are hashed where they are, between
    /// the bytes around them, and the bytes are handed over between any two rows: rows of
    /// short and long values in any mix, over several hand-overs, hash as reading them back does.
    @Test func rowsOfLongAndShortValuesHashAsReadBack() async {
        let rows = Gen.int(in: 0...3_000).array(of: 2...2).array(of: 0...300)
        await propertyCheck(count: 60, input: rows) { rows in
            let (inserted, readBack) = try! DatabaseQueue().write { db in
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, record TEXT, ids BLOB)")
                let hash = BackgroundSHA256()
                let hasher = RowHasher(hash)
                let insert = try RowInsert(db, sql: "INSERT INTO t (id, record, ids) VALUES (?, ?, ?)")
                for (id, lengths) in rows.enumerated() {
                    let record = JSONOut.encodedText(String(repeating: "é", count: lengths[0] / 2))
                    let ids = (0..<lengths[1] * 3).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ id) }
                    try ids.withUnsafeBytes { bytes in
                        try insert.execute { row in
                            row.add(id)
                            row.add(record)
                            row.add(blobInPlace: bytes)
                        }
                    }
                    hasher.startRow()
                    hasher.add(Int64(id))
                    hasher.add(text: record)
                    hasher.add(blob: ids)
                }
                hasher.flush()
                let readHash = BackgroundSHA256()
                try Ledger.hashRows(db, into: readHash, "SELECT id, record, ids FROM t ORDER BY id")
                return (hash.hexDigest(), readHash.hexDigest())
            }
            #expect(inserted == readBack)
        }
    }

    /// An empty blob bound in place is stored as an empty blob, not as NULL.
    @Test func anEmptyBlobBoundInPlaceIsStoredAsABlob() throws {
        let stored = try DatabaseQueue().write { db in
            try db.execute(sql: "CREATE TABLE t (ids BLOB)")
            let insert = try RowInsert(db, sql: "INSERT INTO t (ids) VALUES (?)")
            try [UInt8]().withUnsafeBytes { bytes in try insert.execute { $0.add(blobInPlace: bytes) } }
            return try String.fetchOne(db, sql: "SELECT typeof(ids) || length(ids) FROM t")
        }
        #expect(stored == "blob0")
    }

    /// Key texts whose byte order differs from Swift's `<`, with NULs and shared prefixes.
    static let keyPool: [String] = ["a", "ab", "a\0z", "a\0", "B", "é", "e\u{301}", "€", "0", "", "ab\0a"]

    @Test func keysAreOrderedAsSQLiteOrdersThem() async throws {
        let key = Gen<String?>.element(of: Self.keyPool).map { $0! }
        let keys = key.array(of: 2...2).array(of: 0...12)
        await propertyCheck(count: 300, input: keys) { keys in
            // Rows with the same stored key have no defined order, so only distinct keys are used,
            // distinct as bytes: Swift's `==` would take "é" and "e\u{301}" for one key.
            var seen = Set<[[UInt8]]>()
            let distinct = keys.filter { seen.insert($0.map { Array(Self.stored($0).utf8) }).inserted }
            let order = Ledger.keyOrder(distinct) ?? Array(distinct.indices)
            let sqlite = try! DatabaseQueue().write { db in
                try db.execute(sql: "CREATE TABLE t (a TEXT, b TEXT)")
                let insert = try RowInsert(db, sql: "INSERT INTO t (rowid, a, b) VALUES (?, ?, ?)")
                for (index, key) in distinct.enumerated() {
                    try insert.execute { row in
                        row.add(index)
                        row.add(key[0])
                        row.add(key[1])
                    }
                }
                return try Int.fetchAll(db, sql: "SELECT rowid FROM t ORDER BY a, b")
            }
            #expect(order == sqlite, "\(distinct)")
        }
    }

    static func stored(_ text: String) -> String { String(text.prefix { $0 != "\0" }) }

    /// The totals, state and chain hashes of a close of a fixed generated input
    /// (`cycle-runner generate --orgs 40 --months 3 --events 20 --seed 61 --dirty 5`, then
    /// `close --through 2026-01-31` and `close --through 2026-03-31`). A ledger written since
    /// must verify against its own hashes and equal these. They were recorded again, on
    /// purpose, when org profiles and states, period records and documents came to be stored
    /// compact (`CompactRecord`): the same records in other bytes.
    /// `earlierHashesComeBackWithJSONRecords` shows that the same records stored as JSON still
    /// give the hashes recorded before.
    @Test func aLedgersHashesAreTheOnesEarlierVersionsWrote() throws {
        let folder = TestPaths.temporaryFolder("chain-golden-input")
        let options = GeneratorOptions(orgs: 40, months: 3, eventsPerOrgMonth: 20, seed: 61, dirtyPercent: 5)
        try InputGenerator.write(options, to: folder)
        let output = TestPaths.temporaryFolder("chain-golden")
        _ = try Fixtures.close(folder, output, through: CivilDate(year: 2026, month: 1, day: 31))
        _ = try Fixtures.close(folder, output, through: options.lastDay)
        let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
        let verification = try ledger.verify()
        #expect(verification.problems == [])
        let hashes = try DatabaseQueue(path: output + "/ledger.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT totals_hash, state_hash, chain_hash FROM runs ORDER BY id").map {
                [$0[0] as String, $0[1] as String, $0[2] as String]
            }
        }
        #expect(
            hashes == [
                [
                    "53e1a0d6451b832ac46415d120c56de7af7507de1ee5c27e7f720c0143d13f12",
                    "e51e44c81f29a1355d5a2be8eeb92b2b6f98b84d506776e3d7cd4ed4385c574e",
                    "0eef2097732d9cb3524358490ae927f17db5ad6a947ff6c5d41b45b409d835ce",
                ],
                [
                    "397c8ca470573571c07db8a76252ebcc1693a0276459a4dc3edba58d37f885eb",
                    "ab87bedb23b48c16c105fa3d452ce79b336e1865df379151f757bddc6a27ff3b",
                    "bb628cdafffc94ae995d4a64a0409fc6b2932a4466bc579f13811a240e3e7e6e",
                ],
            ])
        // Credit notes number before invoices ("CN" < "INV") but are issued among them, so the
        // documents were inserted in an order the close had to sort.
        let numbers = try DatabaseQueue(path: output + "/ledger.sqlite").read { db in
            try String.fetchAll(db, sql: "SELECT number FROM documents WHERE run_id = 2 ORDER BY issue_date, number")
        }
        #expect(numbers.contains { $0.hasPrefix("CN") } && numbers != numbers.sorted())
        #expect(Ledger.keyOrder(numbers.map { [$0] }) != nil)
    }

    /// The hashes above as they were before records were stored compact (the state hashes as
    /// c361017 wrote them, the totals and chain hashes as recorded when usage ids came to be
    /// stored in reading order). Each close's records are rewritten as the JSON an earlier
    /// version stored, and its hashes computed again from the rows: the same JSON bytes, hashed
    /// as before, give the same hashes. The second close runs on the first's JSON records.
    @Test func earlierHashesComeBackWithJSONRecords() throws {
        let folder = TestPaths.temporaryFolder("chain-json-input")
        let options = GeneratorOptions(orgs: 40, months: 3, eventsPerOrgMonth: 20, seed: 61, dirtyPercent: 5)
        try InputGenerator.write(options, to: folder)
        let output = TestPaths.temporaryFolder("chain-json")
        let path = output + "/ledger.sqlite"
        var previousChain: String?
        var hashes: [[String]] = []
        for (run, through) in [CivilDate(year: 2026, month: 1, day: 31), options.lastDay].enumerated() {
            _ = try Fixtures.close(folder, output, through: through)
            _ = try Ledger(path: path).storeRecordsAsJSON()
            let runId = Int64(run + 1)
            let (totals, state, input) = try DatabaseQueue(path: path).read { db in
                (
                    try Ledger.totalsHash(db, run: runId), try Ledger.stateHash(db),
                    try String.fetchOne(db, sql: "SELECT input_hash FROM runs WHERE id = ?", arguments: [runId]) ?? ""
                )
            }
            let chain = Ledger.chainHash(
                previous: previousChain, run: runId, input: input, totals: totals, state: state)
            hashes.append([totals, state, chain])
            previousChain = chain
        }
        #expect(
            hashes == [
                [
                    "22e45c41985c9a73b9e64663a34993939303fe54c3d704fd3e962c55d4b587df",
                    "e185c541fb38f6590bb289f980362967022c4db14216a5e070fe2aa91d452e3d",
                    "da096c485ba71b4d2740afde695f3b239c1561a5f2580dead15f67f8e9586066",
                ],
                [
                    "b5aa10b82f0f51aac1ce68b04dac27d54d968e8cf3dd6a776162f22a741f1475",
                    "cb41b70920c79efe4f94fa5d82603bb1afa393d24edab48ec0e3ef45df260760",
                    "e394098d461cdd7994050260ce814b9480f326dac169898c5903421347ba72c9",
                ],
            ])
    }
}
