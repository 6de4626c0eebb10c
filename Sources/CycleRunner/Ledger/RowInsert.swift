import Foundation
import GRDB
import GRDBSQLite

/// A prepared statement executed once per row through SQLite's own calls. GRDB's
/// `execute(arguments:)` builds and validates an array of arguments for every row and
/// notifies its observers around every step; for the close's tens of thousands of ledger
/// rows that bookkeeping took as long as SQLite's own insert. Values are bound as GRDB binds
/// them (a text up to its first NUL, as a C string), so the stored bytes are the same.
/// Only for statements that return no rows, inside a transaction GRDB opened. With a
/// `hasher`, every row is also added to it as bound, for the chain (`RunTotals`).
struct RowInsert {
    private let statement: GRDB.Statement
    private let database: Database
    private let hasher: RowHasher?
    /// The array that holds a row's texts bound in place, kept empty between rows so that its
    /// room is reused: one allocation per statement, not per row.
    private let inPlace = InPlaceTexts()

    init(_ db: Database, sql: String, hashingInto hasher: RowHasher? = nil) throws {
        statement = try db.makeStatement(sql: sql)
        database = db
        self.hasher = hasher
    }

    /// The values of one row, bound in the order of the statement's parameters.
    struct Values: ~Copyable {
        fileprivate let handle: OpaquePointer
        fileprivate let hasher: RowHasher?
        fileprivate var index: Int32 = 0
        fileprivate var failure: Int32 = SQLITE_OK
        /// The texts SQLite was given the address of, held until the row is stepped.
        fileprivate var boundInPlace: [OwnedText]
        /// Whether SQLite was given the address of bytes the caller holds.
        fileprivate var boundCallersBytes = false

        fileprivate init(handle: OpaquePointer, hasher: RowHasher?, boundInPlace: [OwnedText]) {
            self.handle = handle
            self.hasher = hasher
            self.boundInPlace = boundInPlace
        }

        private mutating func check(_ code: Int32) {
            if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
        }

        mutating func add(_ value: Int64) {
            index += 1
            check(sqlite3_bind_int64(handle, index, value))
            hasher?.add(value)
        }

        mutating func add(_ value: Int) { add(Int64(value)) }

        mutating func add(_ text: String) {
            index += 1
            let code = text.withCString { characters in
                hasher?.add(text: UnsafeRawBufferPointer(start: characters, count: strlen(characters)))
                return sqlite3_bind_text(handle, index, characters, -1, transientText)
            }
            check(code)
        }

        /// Binds `text` where it is (SQLite reads it when the row is stepped, and `execute` keeps
        /// it alive until then). A JSON text has no NUL (JSON escapes it), so binding its whole
        /// length stores what binding it as a C string would.
        mutating func add(_ text: OwnedText) {
            index += 1
            hasher?.add(text: text)
            check(sqlite3_bind_text(handle, index, text.start, Int32(text.count), staticText))
            boundInPlace.append(text)
        }

        /// Binds `bytes` where they are, as a blob (a compact record), as `add(_ text:)` binds a
        /// text.
        mutating func add(blob bytes: OwnedText) {
            index += 1
            hasher?.add(blob: bytes)
            if bytes.count > 0 {
                check(sqlite3_bind_blob(handle, index, bytes.start, Int32(bytes.count), staticText))
            } else {
                check(sqlite3_bind_zeroblob(handle, index, 0))
            }
            boundInPlace.append(bytes)
        }

        mutating func add(blob bytes: OwnedText?) {
            if let bytes { add(blob: bytes) } else { addNull() }
        }

        /// Binds `bytes` where they are, as a blob (not hashed: a caller that hashes its rows
        /// adds them itself). The caller keeps them alive and unchanged until the row is stepped.
        mutating func add(blobInPlace bytes: UnsafeRawBufferPointer) {
            precondition(hasher == nil, "a row hashed as bound binds no bytes it does not hash")
            index += 1
            if let start = bytes.baseAddress, !bytes.isEmpty {
                check(sqlite3_bind_blob(handle, index, start, Int32(bytes.count), staticText))
                boundCallersBytes = true
            } else {
                // A null address would bind NULL, not an empty blob.
                check(sqlite3_bind_zeroblob(handle, index, 0))
            }
        }

        private mutating func addNull() {
            index += 1
            check(sqlite3_bind_null(handle, index))
            hasher?.addNull()
        }

        mutating func add(_ text: String?) {
            if let text { add(text) } else { addNull() }
        }
    }

    /// Binds one row's values with `bind` and steps the statement once.
    func execute(_ bind: (inout Values) -> Void) throws {
        let handle = statement.sqliteStatement
        hasher?.startRow()
        var values = Values(handle: handle, hasher: hasher, boundInPlace: inPlace.take())
        bind(&values)
        precondition(values.index == sqlite3_bind_parameter_count(handle), "a row binds every parameter once")
        var code = values.failure
        if code == SQLITE_OK {
            code = withExtendedLifetime(values.boundInPlace) { sqlite3_step(handle) }
        }
        // Resetting after the row keeps the statement from holding the table open between rows;
        // clearing the texts bound in place leaves no address of a freed one in the statement.
        sqlite3_reset(handle)
        if !values.boundInPlace.isEmpty || values.boundCallersBytes { sqlite3_clear_bindings(handle) }
        inPlace.keep(&values.boundInPlace)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(database.sqliteConnection)), sql: statement.sql)
        }
    }
}

/// SQLite copies a text bound with this destructor before the call returns (SQLITE_TRANSIENT,
/// a C macro Swift does not import).
private let transientText = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// SQLite reads a text bound with this destructor (SQLITE_STATIC, a null pointer) where it is.
private let staticText: sqlite3_destructor_type? = nil

/// The reusable array of `RowInsert`'s texts bound in place.
private final class InPlaceTexts {
    private var texts: [OwnedText] = []

    /// The array, empty, with the room of the rows before; the holder keeps none of it.
    func take() -> [OwnedText] {
        var taken: [OwnedText] = []
        swap(&taken, &texts)
        return taken
    }

    /// Takes `texts` back once the row is stepped, releasing the texts and keeping the room.
    func keep(_ texts: inout [OwnedText]) {
        texts.removeAll(keepingCapacity: true)
        swap(&self.texts, &texts)
    }
}
