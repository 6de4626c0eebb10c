import Invoicing

/// A CSV file whose columns are found by header name: required columns missing from the
/// header are a whole-file error; extra columns are ignored.
struct CSVTable {
    let displayName: String
    let reader: CSVReader
    /// Column name → field index, for the columns the caller asked about.
    private(set) var columns: [String: Int] = [:]
    private(set) var headerNames: [String] = []

    /// Opens the file and reads its header; `required` columns must all be present. With
    /// `stopOffset`, the rows are those that start before it (see `CSVReader`).
    init(
        path: String, displayName: String, required: [String], optional: [String], stopOffset: Int? = nil,
        chunkBytes: Int = 4 << 20
    ) throws(InputError) {
        self.displayName = displayName
        do {
            reader = try CSVReader(path: path, chunkBytes: chunkBytes, stopOffset: stopOffset)
        } catch {
            throw InputError(file: displayName, "cannot be read: \(error.reason)")
        }
        var header: [String]?
        var headerProblem: String?
        do {
            try reader.forEachRecord(
                { row in
                    if header == nil {
                        header = (0..<row.count).map { row.string($0) ?? "" }
                        throw StopReading()
                    }
                },
                onProblem: { _, problem, _ in
                    headerProblem = problem.message
                    throw StopReading()
                })
        } catch is StopReading {
        } catch {
            throw InputError(file: displayName, line: 1, "cannot be read: \(error)")
        }
        if let headerProblem { throw InputError(file: displayName, line: 1, "bad header: \(headerProblem)") }
        guard let header else { throw InputError(file: displayName, line: 1, "empty file: a header row is required") }
        headerNames = header.map { $0.trimmingSpaces() }
        for (index, name) in headerNames.enumerated() where columns[name] == nil {
            columns[name] = index
        }
        for name in required where columns[name] == nil {
            throw InputError(file: displayName, line: 1, column: name, "missing required column \(name)")
        }
        _ = optional
    }

    /// The rows of the same file from `startOffset`, where a record starts, up to the first
    /// record at or after `stopOffset`, with the columns of `header` (which read the file's
    /// header). Line numbers count from 1 at `startOffset`.
    init(continuing header: CSVHeader, path: String, startOffset: Int, stopOffset: Int?) throws(InputError) {
        displayName = header.displayName
        columns = header.columns
        headerNames = header.headerNames
        do {
            reader = try CSVReader(path: path, startOffset: startOffset, stopOffset: stopOffset)
        } catch {
            throw InputError(file: displayName, "cannot be read: \(error.reason)")
        }
    }

    /// Calls `body` for each data row; broken records become rejections through `onProblem`.
    func forEachRow(
        _ body: (CSVRow) throws -> Void,
        onProblem: (_ lineNumber: Int, _ rejection: Rejection, _ raw: String) throws -> Void
    ) throws {
        try reader.forEachRecord(body) { line, problem, raw in
            try onProblem(line, Rejection(.malformedRecord, problem.message), raw)
        }
    }

    func index(_ name: String) -> Int? { columns[name] }

    /// What the header said, for reading other parts of the same file.
    var header: CSVHeader { CSVHeader(displayName: displayName, columns: columns, headerNames: headerNames) }
}

/// A file's header as `CSVTable` read it.
struct CSVHeader: Sendable {
    let displayName: String
    let columns: [String: Int]
    let headerNames: [String]
}

struct StopReading: Error {}

/// Typed access to one row's fields by column, turning each problem into a rejection that
/// names the column.
struct RowFields {
    let row: CSVRow
    let table: CSVTable

    func text(_ column: String, required: Bool = true) throws(Rejection) -> String {
        try text(at: table.index(column), column, required: required)
    }

    /// `text(column)` for a column whose index the caller looked up once for the whole file.
    func text(at index: Int?, _ column: String, required: Bool = true) throws(Rejection) -> String {
        guard let index, index < row.count else {
            if required { throw Rejection(.missingField, "\(column) is missing") }
            return ""
        }
        guard let value = row.string(index) else {
            throw Rejection(.invalidText, "\(column) is not valid UTF-8 text or holds a NUL byte")
        }
        if required, value.isEmpty { throw Rejection(.missingField, "\(column) is empty") }
        return value
    }

    func optionalText(_ column: String) throws(Rejection) -> String? {
        let value = try text(column, required: false)
        return value.isEmpty ? nil : value
    }

    func instant(_ column: String) throws(Rejection) -> Instant { try instant(at: table.index(column), column) }

    func instant(at index: Int?, _ column: String) throws(Rejection) -> Instant {
        guard let index, index < row.count, !row.field(index).isEmpty else {
            throw Rejection(.missingField, "\(column) is missing")
        }
        let raw = row.field(index)
        if let instant = Instant.parse(utf8: raw) { return instant }
        let text = String(decoding: raw, as: UTF8.self)
        if Instant.parse(text + "Z") != nil {
            throw Rejection(.timestampWithoutOffset, "\(column) \(text) has no UTC offset")
        }
        throw Rejection(.badTimestamp, "\(column) \(text) is not an RFC 3339 timestamp")
    }

    func credits(_ column: String) throws(Rejection) -> Int64 { try credits(at: table.index(column), column) }

    func credits(at index: Int?, _ column: String) throws(Rejection) -> Int64 {
        guard let index, index < row.count, !row.field(index).isEmpty else {
            throw Rejection(.missingField, "\(column) is missing")
        }
        let raw = row.field(index)
        var value: Int64 = 0
        for byte in raw {
            guard byte >= 0x30, byte <= 0x39 else {
                throw Rejection(
                    .badCredits, "\(column) \(String(decoding: raw, as: UTF8.self)) is not a whole number ≥ 0")
            }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int64(byte - 0x30))
            if overflowA || overflowB {
                throw Rejection(.badCredits, "\(column) \(String(decoding: raw, as: UTF8.self)) is too large")
            }
            value = next
        }
        if value > RowFields.maximumCredits {
            throw Rejection(
                .badCredits,
                "\(column) \(value) is above the limit of \(RowFields.maximumCredits) credits for one row")
        }
        return value
    }

    /// The most credits one row may carry: a trillion, far beyond any real action, and small
    /// enough that millions of such rows still add up inside Int64 instead of trapping.
    static let maximumCredits: Int64 = 1_000_000_000_000
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
