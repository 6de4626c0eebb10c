// Proves the ledger's direct row inserts store exactly what GRDB's `execute(arguments:)`
// stores, value for value and storage class for storage class (the chain hashes those bytes),
// and that a failed insert is a thrown database error that leaves the statement usable.
import Foundation
import GRDB
import Testing

@testable import CycleRunnerCore

struct RowInsertTests {
    /// Texts that a careless binding would store differently: empty, non-ASCII, a NUL inside
    /// (GRDB binds a C string, so the text ends there), canonically equivalent spellings, and
    /// a long one.
    static let texts: [String?] = [
        "", "plain", "é", "e\u{301}", "before\0after", "\u{2028}line", "🙂 non-BMP", nil,
        String(repeating: "long text ", count: 2_000),
    ]
    static let integers: [Int64] = [0, 1, -1, Int64.max, Int64.min]

    @Test(arguments: texts, integers)
    func aRowIsStoredAsGRDBStoresIt(text: String?, integer: Int64) throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT, amount INTEGER, note TEXT)")
            try db.execute(
                sql: "INSERT INTO t (id, label, amount, note) VALUES (?, ?, ?, ?)", arguments: [1, text, integer, "n"])
            let insert = try RowInsert(db, sql: "INSERT INTO t (id, label, amount, note) VALUES (?, ?, ?, ?)")
            try insert.execute { row in
                row.add(2)
                row.add(text)
                row.add(integer)
                row.add("n")
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT typeof(label), hex(label), typeof(amount), amount, note FROM t ORDER BY id")
            #expect(rows.count == 2)
            #expect(rows[0] == rows[1])
        }
    }

    @Test func aFailedInsertThrowsAndTheStatementStillWorks() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id TEXT PRIMARY KEY, amount INTEGER NOT NULL)")
            let insert = try RowInsert(db, sql: "INSERT INTO t (id, amount) VALUES (?, ?)")
            try insert.execute { row in
                row.add("a")
                row.add(1)
            }
            #expect(throws: DatabaseError.self) {
                try insert.execute { row in
                    row.add("a")
                    row.add(2)
                }
            }
            #expect(throws: DatabaseError.self) {
                try insert.execute { row in
                    row.add("b")
                    row.add(nil as String?)
                }
            }
            try insert.execute { row in
                row.add("c")
                row.add(3)
            }
            let stored = try Row.fetchAll(db, sql: "SELECT id, amount FROM t ORDER BY id")
            #expect(stored.map { $0["id"] as String } == ["a", "c"])
            #expect(stored.map { $0["amount"] as Int64 } == [1, 3])
        }
    }
}
