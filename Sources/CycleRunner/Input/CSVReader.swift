import Invoicing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a record could not be split into fields. The reader resynchronises at the next record
/// boundary and goes on, so one broken row never hides the rows after it.
public enum CSVRecordProblem: Error, Equatable, Sendable {
    case quoteInUnquotedField(column: Int)
    case textAfterClosingQuote(column: Int)
    case unterminatedQuote(column: Int)
    case recordTooLong(limitBytes: Int)

    public var message: String {
        switch self {
        case .quoteInUnquotedField(let column): "a quote inside an unquoted field (column \(column))"
        case .textAfterClosingQuote(let column): "text after a closing quote (column \(column))"
        case .unterminatedQuote(let column): "a quoted field that never ends (column \(column))"
        case .recordTooLong(let limit): "a record longer than \(limit) bytes"
        }
    }
}

/// One record as a view into the reader's buffer; valid only inside the callback.
public struct CSVRow {
    /// The physical line (1-based) where the record starts.
    public let lineNumber: Int
    let bytes: UnsafeBufferPointer<UInt8>
    let bounds: UnsafeBufferPointer<FieldBounds>
    let scratch: UnsafeBufferPointer<UInt8>
    let recordRange: Range<Int>

    init(
        lineNumber: Int, bytes: UnsafeBufferPointer<UInt8>, bounds: UnsafeBufferPointer<FieldBounds>,
        scratch: UnsafeBufferPointer<UInt8>, recordRange: Range<Int>
    ) {
        self.lineNumber = lineNumber
        self.bytes = bytes
        self.bounds = bounds
        self.scratch = scratch
        self.recordRange = recordRange
    }

    public var count: Int { bounds.count }

    /// The unescaped bytes of field `index`, or an empty buffer when the row is shorter.
    /// Inlined: a usage row asks for seven fields, and each call cost more than the lookup.
    @inline(__always)
    public func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        guard index >= 0, index < bounds.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        let bound = bounds[index]
        let source = bound.inScratch ? scratch : bytes
        return UnsafeBufferPointer(rebasing: source[bound.start..<bound.end])
    }

    /// Field `index` as a String, or nil when it is not valid UTF-8 or holds a NUL byte.
    public func string(_ index: Int) -> String? {
        let raw = field(index)
        // Nearly every field is ASCII, which needs no validation; the generic validating
        // initializer costs a metadata lookup per call, a visible share of reading millions of rows.
        // Eight bytes are checked at a time: a top bit set is a byte outside ASCII, and
        // `(word - 0x01…01) & ~word & 0x80…80` is nonzero exactly when some byte is zero.
        // The last one to seven bytes of a field of eight or more are checked as the word that
        // ends at its last byte (bytes already checked are checked again, harmlessly).
        var ascii = true
        var offset = 0
        if let base = raw.baseAddress {
            @inline(__always) func check(_ offset: Int) -> Bool {
                let word = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 { return false }
                if word & 0x8080_8080_8080_8080 != 0 { ascii = false }
                return true
            }
            while offset + 8 <= raw.count {
                if !check(offset) { return nil }
                offset += 8
            }
            if offset < raw.count, raw.count >= 8 {
                if !check(raw.count - 8) { return nil }
                offset = raw.count
            }
        }
        while offset < raw.count {
            if raw[offset] == 0 { return nil }
            if raw[offset] >= 0x80 { ascii = false }
            offset += 1
        }
        // Copied into a string of that size: `String(decoding:)` checked the bytes again and
        // took its repairing path's call, about 55 instructions more for an 11-byte event id.
        if ascii {
            return String(unsafeUninitializedCapacity: raw.count) { target in
                _ = target.initialize(fromContentsOf: raw)
                return raw.count
            }
        }
        return String(validating: raw, as: UTF8.self)
    }

    /// The record as it stood in the file (invalid UTF-8 replaced), for rejected.csv.
    public var rawText: String {
        var end = recordRange.upperBound
        while end > recordRange.lowerBound, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[recordRange.lowerBound..<end]), as: UTF8.self)
    }
}

struct FieldBounds {
    var start: Int
    var end: Int
    var inScratch: Bool
}

/// The bounds of one record's fields, in memory the reader owns and reuses for every record.
/// As an array, emptying it for each record went through the array's generic `replaceSubrange`
/// and each append through its uniqueness check: 5 % of `cycle-runner scan`'s profile.
struct FieldBoundsList {
    private(set) var start: UnsafeMutablePointer<FieldBounds>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = capacity
        start = .allocate(capacity: capacity)
    }

    /// Gives the memory back; the list must not be used after.
    func deallocate() { start.deallocate() }

    var buffer: UnsafeBufferPointer<FieldBounds> { UnsafeBufferPointer(start: start, count: count) }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ bounds: FieldBounds) {
        if count == capacity { grow() }
        (start + count).initialize(to: bounds)
        count += 1
    }

    private mutating func grow() {
        let grown = UnsafeMutablePointer<FieldBounds>.allocate(capacity: capacity * 2)
        grown.moveInitialize(from: start, count: count)
        start.deallocate()
        start = grown
        capacity *= 2
    }
}

/// An RFC 4180 reader that streams a file in large chunks and hands each record to a callback
/// as byte ranges, so reading tens of millions of rows allocates nothing per row: quoted
/// fields with `""` escapes are unescaped into one reused scratch buffer.
///
/// Accepted: comma separator, `"` quoting, `""` escapes, commas and line breaks inside quotes,
/// CRLF or LF line ends, an optional UTF-8 byte-order mark at the start of the file, and a
/// missing final line end. Blank lines are skipped.
public final class CSVReader {
    public static let defaultRecordLimitBytes = 16 << 20

    private let fileDescriptor: Int32
    private let chunkBytes: Int
    private let recordLimitBytes: Int
    private var buffer: [UInt8]
    private var bufferCount = 0
    /// The file offset of `buffer[0]`.
    private var bufferOffset = 0
    private var position = 0
    private var endOfFile = false
    private var line = 1
    private var atFileStart = true
    private let stopOffset: Int?
    private let bytesPastStop: Int
    /// Made once `init` can no longer fail: a reader whose init throws is never deinitialised,
    /// so memory allocated before the throw would be lost (a review finding).
    private var bounds: FieldBoundsList
    /// How many bytes `read` has given the reader (tests check that a part reads little past its stop).
    private(set) var bytesRead = 0
    /// Whether `forEachRecord` is running.
    private var isReading = false
    private var scratch: [UInt8] = []
    /// Whether records of plain fields ended by a line feed are read by `plainRecord` first
    /// (tests turn it off to read the same bytes by the byte rules alone and compare).
    private let plainRecords: Bool

    /// Opens `path` for reading; throws the errno text when it cannot.
    ///
    /// A reader may cover part of a file: it starts at `startOffset`, which must be where a
    /// record starts (a byte-order mark is looked for only at offset 0), counts lines from 1
    /// there, and stops before the first record that starts at or after `stopOffset`. A record
    /// that starts before `stopOffset` is read whole, wherever it ends; `offset` then says
    /// where the reader stopped. Until it has read up to `stopOffset`, it reads no more than
    /// `bytesPastStop` beyond it (tests make that small, so that a record crossing the stop
    /// needs reads on both sides of it).
    public init(
        path: String, chunkBytes: Int = 4 << 20, recordLimitBytes: Int = CSVReader.defaultRecordLimitBytes,
        startOffset: Int = 0, stopOffset: Int? = nil, bytesPastStop: Int = CSVReader.defaultBytesPastStop,
        plainRecords: Bool = true
    ) throws(CSVOpenError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CSVOpenError(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw CSVOpenError(path: path, reason: "is a folder")
        }
        if startOffset > 0, lseek(descriptor, off_t(startOffset), SEEK_SET) < 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CSVOpenError(path: path, reason: reason)
        }
        self.fileDescriptor = descriptor
        // A file smaller than a chunk gets a buffer its size: orgs.csv (1 MB) and a header read
        // filled 4 MiB buffers whose every page is fresh memory, slow to touch the first time
        // on these machines. The buffer still grows if the file does.
        let bytesLeft = (info.st_mode & S_IFMT) == S_IFREG ? max(Int(info.st_size) - startOffset, 0) : chunkBytes
        self.chunkBytes = max(1, min(chunkBytes, bytesLeft + 1))
        self.recordLimitBytes = recordLimitBytes
        self.buffer = CSVReader.unsetBytes(self.chunkBytes)
        self.bufferOffset = startOffset
        self.atFileStart = startOffset == 0
        self.stopOffset = stopOffset
        self.bytesPastStop = max(bytesPastStop, 0)
        self.bounds = FieldBoundsList()
        self.plainRecords = plainRecords
    }

    /// The file offset of the first byte not yet read as part of a record or blank line.
    public var offset: Int { bufferOffset + position }

    /// The number of the line the next record would start on (counted from `startOffset`).
    public var nextLineNumber: Int { line }

    deinit {
        close(fileDescriptor)
        bounds.deallocate()
    }

    /// How far past its stop a part's reads go before the stop is reached, for the record that
    /// starts before the stop and ends after it (a generated usage row is about 68 bytes).
    public static let defaultBytesPastStop = 64 << 10

    /// A buffer of `count` bytes whose contents are not set. The reader scans only bytes that
    /// `read` has written (`buffer[..<bufferCount]`), so zeroing them first was wasted: a usage
    /// file is read in about 64 parts, each with a buffer of 4 MiB, and their zeroing was 256 MB
    /// of `memset` in a 2.3 M-row close (the reading 22 ms shorter without it).
    static func unsetBytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initializedCount in initializedCount = count }
    }

    /// Reads more bytes after the unconsumed tail; returns false at end of file.
    private func fill() throws(CSVOpenError) -> Bool {
        if endOfFile { return false }
        if position > 0 {
            let remaining = bufferCount - position
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { pointer in
                    _ = memmove(pointer.baseAddress!, pointer.baseAddress! + position, remaining)
                }
            }
            bufferCount = remaining
            bufferOffset += position
            position = 0
        }
        // Grow when less than half a chunk is free, and always when nothing is: a chunk size of
        // 1 would otherwise read zero bytes and take that for the end of the file.
        if buffer.count - bufferCount < max(chunkBytes / 2, 1) {
            var grown = CSVReader.unsetBytes(buffer.count + max(chunkBytes, buffer.count))
            grown.withUnsafeMutableBufferPointer { target in
                buffer.withUnsafeBufferPointer { source in
                    _ = memcpy(target.baseAddress!, source.baseAddress!, bufferCount)
                }
            }
            buffer = grown
        }
        var capacity = buffer.count - bufferCount
        // A part of a file is read up to its stop and a little past it, for the record that
        // straddles the stop: a usage file's parts are about 2.5 MB, and filling each part's
        // 4 MiB buffer copied 100 MB more than the 157 MB of a 2.3 M-row close's usage files.
        // Once the stop is read, reads fill the buffer as before, so a long record is still
        // read in steps that double.
        let fileOffset = bufferOffset + bufferCount
        if let stopOffset, fileOffset < stopOffset {
            // Added with a check: a huge `bytesPastStop` or stop would otherwise trap.
            let (wanted, overflowed) = (stopOffset - fileOffset).addingReportingOverflow(bytesPastStop)
            if !overflowed { capacity = min(capacity, wanted) }
        }
        let readCount = buffer.withUnsafeMutableBufferPointer { pointer in
            read(fileDescriptor, pointer.baseAddress! + bufferCount, capacity)
        }
        if readCount < 0 { throw CSVOpenError(path: "", reason: String(cString: strerror(errno))) }
        if readCount == 0 {
            endOfFile = true
            return false
        }
        bufferCount += readCount
        bytesRead += readCount
        return true
    }

    /// Skips a UTF-8 byte-order mark at the very start of the file, and only there: the first
    /// three bytes are read before any record is scanned, so a chunk boundary can never make a
    /// mark in the middle of the file look like the first bytes (a fuzzing finding).
    private func skipByteOrderMark() throws(CSVOpenError) {
        guard atFileStart else { return }
        atFileStart = false
        while bufferCount < 3, try fill() {}
        if bufferCount >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
    }

    private enum ScanResult {
        case record(end: Int, lines: Int)
        case needMore
        case problem(CSVRecordProblem, end: Int, lines: Int)
    }

    /// Whether `byte` ends an unquoted run: comma, LF, CR and the quote (an error inside a
    /// field). Compared, not looked up in a table: a table that is a static property was
    /// reached through `swift_once` for every record.
    @inline(__always)
    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == 0x2C || byte == 0x0A || byte == 0x0D || byte == 0x22
    }

    /// The high bit of each byte of `word` that may be one of the `isSpecial` bytes. The lowest
    /// marked byte is exact (the zero-byte test can only mark bytes wrongly above a true match,
    /// through its borrow), which is the only one the scanner uses.
    @inline(__always)
    static func specialBytes(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        return zeroBytes(word ^ (ones &* 0x2C)) | zeroBytes(word ^ (ones &* 0x0A)) | zeroBytes(word ^ (ones &* 0x0D))
            | zeroBytes(word ^ (ones &* 0x22))
    }

    /// The high bit of each byte of `word` that is zero, and no other bit: exact for every byte,
    /// unlike the borrow test of `specialBytes`, so that every marked byte can be used. A byte's
    /// low seven bits plus 0x7F reach its high bit unless they are all zero, and cannot carry
    /// into the next byte.
    @inline(__always)
    static func exactZeroBytes(_ word: UInt64) -> UInt64 {
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & lows) &+ lows) | word | lows)
    }

    /// The high bit of each comma, line feed and carriage return of `word`, exactly
    /// (`exactZeroBytes`).
    @inline(__always)
    static func separatorBytes(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        return exactZeroBytes(word ^ (ones &* 0x2C)) | exactZeroBytes(word ^ (ones &* 0x0A))
            | exactZeroBytes(word ^ (ones &* 0x0D))
    }

    /// Whether `word` holds a quote (the borrow test is exact for "any").
    @inline(__always)
    static func hasQuote(_ word: UInt64) -> Bool {
        ASCIIWords.anyByte(word, is: 0x22) != 0
    }

    /// The record at `start` when it is one of plain fields, which nearly every usage row is:
    /// eight bytes at a time, every comma and line end of a word taken from one exact mask
    /// (`separatorBytes`), so a word holding the ends of three short fields is loaded once, not
    /// three times. A line ends as the byte rules end it: at a line feed, a carriage return and
    /// line feed, or a carriage return alone. Nil, with nothing kept, when a quote shares a word
    /// with the record, when no line end is found in the whole words before `end`, or when a
    /// carriage return is the last byte before `end`: `scanRecord`'s byte rules then read the
    /// record, and decide everything this does not (quotes, the end of the data).
    @inline(__always)
    private static func plainRecord(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, bounds: inout FieldBoundsList
    ) -> ScanResult? {
        var index = start
        var fieldStart = start
        while index + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            if hasQuote(word) { break }
            var separators = separatorBytes(in: word)
            while separators != 0 {
                let position = index + separators.trailingZeroBitCount >> 3
                let byte = base[position]
                if byte != 0x2C {
                    // Whether a CR at the end of the data is CRLF depends on bytes not read yet.
                    if byte == 0x0D, position + 1 >= end {
                        bounds.removeAll()
                        return nil
                    }
                    bounds.append(FieldBounds(start: fieldStart, end: position, inScratch: false))
                    let lineEnd = byte == 0x0D && base[position + 1] == 0x0A ? position + 2 : position + 1
                    return .record(end: lineEnd, lines: 1)
                }
                bounds.append(FieldBounds(start: fieldStart, end: position, inScratch: false))
                fieldStart = position + 1
                separators &= separators &- 1
            }
            index += 8
        }
        bounds.removeAll()
        return nil
    }

    /// Scans one record of `bytes[start..<end]` into `bounds` and `scratch`. Pure: it touches
    /// no stored property, so the hot loop runs on locals without exclusivity checks.
    private static func scanRecord(
        _ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int, endOfFile: Bool, plainRecords: Bool,
        bounds: inout FieldBoundsList, scratch: inout [UInt8]
    ) -> ScanResult {
        bounds.removeAll()
        if !scratch.isEmpty { scratch.removeAll(keepingCapacity: true) }
        let base = bytes.baseAddress!
        if plainRecords, let plain = plainRecord(base, start: start, end: end, bounds: &bounds) { return plain }
        var index = start
        var lines = 0
        var problem: CSVRecordProblem?
        while true {
            // One field.
            let column = bounds.count + 1
            if index < end, base[index] == 0x22 {
                index += 1
                let scratchStart = scratch.count
                var segmentStart = index
                var closed = false
                while index < end {
                    let byte = base[index]
                    if byte == 0x22 {
                        if index + 1 >= end {
                            if !endOfFile { return .needMore }
                            scratch.append(
                                contentsOf: UnsafeBufferPointer(
                                    start: base + segmentStart, count: index - segmentStart))
                            index += 1
                            closed = true
                            break
                        }
                        if base[index + 1] == 0x22 {
                            scratch.append(
                                contentsOf: UnsafeBufferPointer(
                                    start: base + segmentStart, count: index + 1 - segmentStart))
                            index += 2
                            segmentStart = index
                            continue
                        }
                        scratch.append(
                            contentsOf: UnsafeBufferPointer(start: base + segmentStart, count: index - segmentStart)
                        )
                        index += 1
                        closed = true
                        break
                    }
                    if byte == 0x0A { lines += 1 }
                    index += 1
                }
                if !closed {
                    if !endOfFile { return .needMore }
                    // A quote that never closes would swallow the rest of the file into one
                    // rejected row; report only the record's first line and read on from the
                    // next one, so one stray quote cannot hide the rows after it.
                    var lineEnd = start
                    while lineEnd < end, base[lineEnd] != 0x0A { lineEnd += 1 }
                    if lineEnd < end {
                        return .problem(.unterminatedQuote(column: column), end: lineEnd + 1, lines: 1)
                    }
                    return .problem(.unterminatedQuote(column: column), end: end, lines: lines)
                }
                bounds.append(FieldBounds(start: scratchStart, end: scratch.count, inScratch: true))
                if index < end, base[index] != 0x2C, base[index] != 0x0A, base[index] != 0x0D, problem == nil {
                    problem = .textAfterClosingQuote(column: column)
                }
                // Skip any junk up to the next separator so the record still ends cleanly.
                while index < end, base[index] != 0x2C, base[index] != 0x0A, base[index] != 0x0D {
                    index += 1
                }
            } else {
                let fieldStart = index
                // Eight bytes at a time up to the first separator, line end or quote; the
                // byte loop below then decides what that byte means (and takes the tail).
                while index + 8 <= end {
                    let word = UInt64(
                        littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                    let found = CSVReader.specialBytes(in: word)
                    if found == 0 {
                        index += 8
                        continue
                    }
                    index += found.trailingZeroBitCount >> 3
                    break
                }
                while index < end {
                    let byte = base[index]
                    if isSpecial(byte) {
                        if byte != 0x22 { break }
                        if problem == nil { problem = .quoteInUnquotedField(column: column) }
                    }
                    index += 1
                }
                bounds.append(FieldBounds(start: fieldStart, end: index, inScratch: false))
            }
            // After a field: a separator, a line end, or the end of the data.
            if index >= end {
                if !endOfFile { return .needMore }
                if let problem { return .problem(problem, end: index, lines: lines) }
                return .record(end: index, lines: lines)
            }
            let byte = base[index]
            if byte == 0x2C {
                index += 1
                continue
            }
            if byte == 0x0D {
                if index + 1 >= end, !endOfFile { return .needMore }
                index += 1
                if index < end, base[index] == 0x0A { index += 1 }
            } else {
                index += 1
            }
            lines += 1
            if let problem { return .problem(problem, end: index, lines: lines) }
            return .record(end: index, lines: lines)
        }
    }

    private enum BatchResult {
        case needMore
        case overlong
        case stopped
    }

    /// Calls `body` for every record, or `onProblem` for every record that cannot be split,
    /// in file order. Blank lines are skipped.
    public func forEachRecord(
        _ body: (CSVRow) throws -> Void,
        onProblem: (_ lineNumber: Int, _ problem: CSVRecordProblem, _ rawText: String) throws -> Void
    ) throws {
        // The field bounds are taken as a copy of the list, which shares its memory: a second
        // reading begun from a callback would free that memory under the first when its list
        // grew, so it is a bug, stopped here.
        precondition(!isReading, "CSVReader.forEachRecord called from inside its own callback")
        isReading = true
        defer { isReading = false }
        try skipByteOrderMark()
        if bufferCount == 0 { _ = try fill() }
        var bounds = self.bounds
        var scratch = self.scratch
        defer {
            self.bounds = bounds
            self.scratch = scratch
        }
        while true {
            if let stopOffset, bufferOffset + position >= stopOffset { return }
            if position >= bufferCount {
                if try !fill() { return }
                continue
            }
            // Scan every complete record in the buffer in one pass; the buffer only changes in
            // `fill`, which runs outside this closure.
            let endOfFile = self.endOfFile
            let plainRecords = self.plainRecords
            let count = bufferCount
            var position = self.position
            var line = self.line
            // The stop as a position in this buffer (beyond it when there is none).
            let stop = stopOffset.map { $0 - bufferOffset } ?? Int.max
            let result: BatchResult
            do {
                result = try buffer.withUnsafeBufferPointer { bytes in
                    while position < count {
                        if position >= stop { return .stopped }
                        // A blank line is not a record.
                        let first = bytes[position]
                        if first == 0x0A || first == 0x0D {
                            if first == 0x0D, position + 1 >= count, !endOfFile { return .needMore }
                            position += (first == 0x0D && position + 1 < count && bytes[position + 1] == 0x0A) ? 2 : 1
                            line += 1
                            continue
                        }
                        switch CSVReader.scanRecord(
                            bytes, start: position, end: count, endOfFile: endOfFile,
                            plainRecords: plainRecords, bounds: &bounds, scratch: &scratch)
                        {
                        case .needMore:
                            return count - position > recordLimitBytes ? .overlong : .needMore
                        // A complete record over the limit is too long as well: whether it is
                        // must not depend on how much of the file the buffer held when the
                        // reading got there (a reading that starts mid-file holds less).
                        case .record(let end, _) where end - position > recordLimitBytes:
                            return .overlong
                        case .problem(_, let end, _) where end - position > recordLimitBytes:
                            return .overlong
                        // A quote that never closes is found only at the end of the file; had
                        // the reading got there with less of the file in the buffer, more than
                        // the limit left would have made the record too long, so it does here.
                        case .problem(.unterminatedQuote, _, _) where count - position > recordLimitBytes:
                            return .overlong
                        case .record(let end, let lines):
                            // Consume the record before the callback, so a callback that stops the
                            // reading (the header pass) leaves the reader after that record.
                            let start = position
                            let startLine = line
                            position = end
                            line += lines
                            let fieldBounds = bounds.buffer
                            try scratch.withUnsafeBufferPointer { scratchBytes in
                                try body(
                                    CSVRow(
                                        lineNumber: startLine, bytes: bytes, bounds: fieldBounds,
                                        scratch: scratchBytes, recordRange: start..<end))
                            }
                        case .problem(let problem, let end, let lines):
                            let raw = String(
                                decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
                            let startLine = line
                            position = end
                            line += lines
                            try onProblem(startLine, problem, raw.trimmingLineEnd())
                        }
                    }
                    return .needMore
                }
            } catch {
                self.position = position
                self.line = line
                throw error
            }
            self.position = position
            self.line = line
            switch result {
            case .stopped:
                return
            case .overlong:
                try skipOverlongRecord(onProblem: onProblem)
            case .needMore:
                // At the end of the file with bytes left, the next pass scans them knowing so.
                if try !fill(), self.position >= bufferCount { return }
            }
        }
    }

    /// Drops a record that passed the size limit, up to the next line end that is outside
    /// quotes, counting the lines it spans, and reports it once.
    private func skipOverlongRecord(
        onProblem: (_ lineNumber: Int, _ problem: CSVRecordProblem, _ rawText: String) throws -> Void
    ) throws {
        let startLine = line
        // The first 200 bytes, read in full first, so the preview is the same however much of
        // the file the buffer held.
        while bufferCount - position < 200, try fill() {}
        let preview = String(decoding: buffer[position..<min(bufferCount, position + 200)], as: UTF8.self) + "…"
        var inQuotes = false
        while true {
            // memchr, not a byte loop: an overlong record is by definition huge (a 100 MB line
            // took 17 s byte by byte in a debug build), and each search result is kept until
            // passed, so a quote that never comes is searched for once per buffer, not per line.
            var recordEnded = false
            buffer.withUnsafeBufferPointer { bytes in
                let base = UnsafeRawPointer(bytes.baseAddress!)
                var nextQuote: Int?
                var nextNewline: Int?
                func find(_ byte: Int32, from start: Int) -> Int {
                    guard start < bufferCount, let hit = memchr(base + start, byte, bufferCount - start) else {
                        return bufferCount
                    }
                    return base.distance(to: UnsafeRawPointer(hit))
                }
                while position < bufferCount {
                    if nextQuote == nil || nextQuote! < position { nextQuote = find(0x22, from: position) }
                    if nextNewline == nil || nextNewline! < position { nextNewline = find(0x0A, from: position) }
                    if nextQuote! < nextNewline! {
                        inQuotes.toggle()
                        position = nextQuote! + 1
                    } else if nextNewline! < bufferCount {
                        line += 1
                        position = nextNewline! + 1
                        if !inQuotes {
                            recordEnded = true
                            return
                        }
                    } else {
                        position = bufferCount
                    }
                }
            }
            if recordEnded {
                try onProblem(startLine, .recordTooLong(limitBytes: recordLimitBytes), preview)
                return
            }
            if try !fill() {
                try onProblem(startLine, .recordTooLong(limitBytes: recordLimitBytes), preview)
                return
            }
        }
    }
}

public struct CSVOpenError: Error, Sendable {
    public var path: String
    public var reason: String
}

extension String {
    func trimmingLineEnd() -> String {
        var text = self
        while let last = text.utf8.last, last == 0x0A || last == 0x0D { text.removeLast() }
        return text
    }
}
