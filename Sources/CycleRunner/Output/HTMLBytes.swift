import Invoicing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Something bytes are appended to: an array, or `ByteRun`. The HTML helpers (`appendUTF8`,
/// `appendDecimal`, `appendHTMLEscaped`) are written once for both.
protocol ByteAppending {
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension ByteAppending {
    @inline(__always)
    mutating func appendBytes(_ literal: StaticString) {
        literal.withUTF8Buffer { appendBytes($0) }
    }
}

extension Array: ByteAppending where Element == UInt8 {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) { append(byte) }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
}

/// Bytes appended into an array kept longer than they are, so that an append is a capacity
/// test and a copy. `Array.append(contentsOf:)` made each of the 2.7 million appends of a
/// 230 k-row close's statements a call through the array's generic path (a uniqueness check, a
/// capacity check, a copy and the count), 120 instructions each, the largest single cost of
/// rendering them (callgrind).
///
/// A value like any other: the array under it is copied on write, so copies never share bytes.
struct ByteRun: ByteAppending {
    /// The bytes, then room: what lies past `count` is not content.
    private var storage: [UInt8]
    private(set) var count = 0

    init(capacity: Int = 0) {
        storage = ByteRun.room(capacity)
    }

    /// Takes over an array's buffer as room; its bytes are not content.
    init(reusing buffer: [UInt8]) {
        storage = buffer
    }

    /// Room for `count` bytes. Its bytes are never read before they are written (`UInt8` has
    /// no invalid values, and everything past `count` is left out of what is handed on).
    private static func room(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    var capacity: Int { storage.count }

    /// A copy of the content.
    var bytes: [UInt8] { Array(storage[..<count]) }

    /// The content, in the run's own buffer.
    consuming func takeBytes() -> [UInt8] {
        storage.removeLast(storage.count - count)
        return storage
    }

    /// The buffer, for `ScratchBytes` to lend again.
    consuming func takeBuffer() -> [UInt8] { storage }

    func withContent<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    mutating func reserve(_ more: Int) {
        if count + more > storage.count { grow(count + more) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        storage += ByteRun.room(max(needed, 2 * storage.count, 256) - storage.count)
    }

    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        if count == storage.count { grow(count + 1) }
        storage[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let end = count + bytes.count
        if end > storage.count { grow(end) }
        let start = count
        storage.withUnsafeMutableBufferPointer { target in
            (target.baseAddress! + start).update(from: source, count: bytes.count)
        }
        count = end
    }

    @inline(__always)
    mutating func append(_ other: borrowing ByteRun) {
        other.withContent { appendBytes($0) }
    }
}

/// HTML built straight into UTF-8 bytes. Statements are the bulk of a close's output (ten
/// thousand orgs make twenty thousand pages), and building them as Swift strings, with a
/// temporary string per concatenation and a copy into bytes at the end, was the largest
/// share of a close's CPU time.
///
/// A page is appended to piece by piece: `html += "…"` takes an `HTMLPiece`, a literal with
/// `\(escaped:)` and `\(grouped:)` that reads like the HTML it writes. A plain `\(value)`
/// inserts the value's text unescaped, exactly as string interpolation does, so it is only
/// for numbers, dates and our own markup.
struct HTMLBytes {
    var run: ByteRun

    init() { run = ByteRun() }

    init(capacity: Int) { run = ByteRun(capacity: capacity) }

    /// Text as it is: our own markup, or values that hold no markup characters.
    init(raw text: String) {
        run = ByteRun()
        appendUTF8(text, to: &run)
    }

    /// A copy of the bytes written.
    var bytes: [UInt8] { run.bytes }

    var count: Int { run.count }

    /// The bytes written, without a copy.
    consuming func takeBytes() -> [UInt8] { run.takeBytes() }

    var string: String { run.withContent { String(decoding: $0, as: UTF8.self) } }

    static func += (html: inout HTMLBytes, piece: consuming HTMLPiece) {
        piece.append(to: &html.run)
    }

    static func += (html: inout HTMLBytes, other: HTMLBytes) {
        html.run.append(other.run)
    }

    /// Text as it is: our own markup, or values that hold no markup characters.
    mutating func append(raw text: String) {
        appendUTF8(text, to: &run)
    }

    mutating func append(raw bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { run.appendBytes($0) }
    }
}

/// One piece of HTML for `HTMLBytes`: a literal, kept as the program's own constant bytes, or
/// an interpolation, built in a buffer lent by the thread (`ScratchBytes`) and handed back once
/// appended. Before, every piece was an array of its own, and allocating and freeing them
/// (hundreds per statement) took about a quarter of the statements' rendering.
struct HTMLPiece: ExpressibleByStringInterpolation {
    private enum Content {
        case literal(StaticString)
        case built(ByteRun)
    }

    private var content: Content

    init(stringLiteral value: StaticString) {
        content = .literal(value)
    }

    init(stringInterpolation: Interpolation) {
        content = .built(stringInterpolation.bytes)
    }

    /// Appends the piece to `bytes` and hands its buffer back to the thread.
    consuming func append(to bytes: inout ByteRun) {
        switch content {
        case .literal(let literal):
            bytes.appendBytes(literal)
        case .built(let built):
            // The piece's own reference goes first, so the buffer is given back unshared.
            content = .literal("")
            bytes.append(built)
            ScratchBytes.giveBack(built.takeBuffer())
        }
    }

    struct Interpolation: StringInterpolationProtocol {
        var bytes: ByteRun

        init(literalCapacity: Int, interpolationCount: Int) {
            bytes = ScratchBytes.borrow(capacity: literalCapacity + 12 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: StaticString) {
            bytes.appendBytes(literal)
        }

        /// Text as it is: our own markup, or values that hold no markup characters.
        mutating func appendInterpolation(_ text: String) {
            appendUTF8(text, to: &bytes)
        }

        mutating func appendInterpolation(_ piece: HTMLPiece) {
            piece.append(to: &bytes)
        }

        mutating func appendInterpolation(_ number: Int64) {
            appendDecimal(number, to: &bytes)
        }

        mutating func appendInterpolation(_ number: Int) {
            appendDecimal(Int64(number), to: &bytes)
        }

        mutating func appendInterpolation(_ date: CivilDate) {
            appendUTF8(date.description, to: &bytes)
        }

        /// An instant's RFC 3339 text (digits, `-`, `:`, `.`, `T` and `Z`: nothing to escape),
        /// written without a `String` in between.
        mutating func appendInterpolation(_ instant: Instant) {
            let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Instant.longestISOByteCount) {
                buffer -> Bool in
                guard let count = instant.writeISOBytes(into: buffer, at: 0) else { return false }
                bytes.appendBytes(UnsafeBufferPointer(rebasing: buffer[..<count]))
                return true
            }
            if !written { appendUTF8(instant.description, to: &bytes) }
        }

        /// Text that may hold markup characters, escaped by `htmlEscape`'s rule.
        mutating func appendInterpolation(escaped text: String) {
            appendHTMLEscaped(text, to: &bytes)
        }

        /// A number with its digits grouped in threes, as `grouped` writes it.
        mutating func appendInterpolation(grouped number: Int64) {
            appendDecimal(number, groupingThousands: true, to: &bytes)
        }
    }
}

/// A string's UTF-8 appended in one copy where the string's storage allows it (native strings
/// always do), instead of through the view's element-by-element path.
@inline(__always)
func appendUTF8<Target: ByteAppending>(_ text: String, to bytes: inout Target) {
    if text.utf8.withContiguousStorageIfAvailable({ bytes.appendBytes($0) }) == nil {
        var copy = text
        copy.withUTF8 { bytes.appendBytes($0) }
    }
}

/// One spare byte buffer per thread, lent to an `HTMLPiece` while it is built and given back,
/// emptied but with its capacity, once the piece is appended. A piece built while another is
/// out (a piece inside a piece) gets a new buffer, and whichever is given back last is kept.
enum ScratchBytes {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The thread is ending: its buffer goes with it. (Glibc passes the slot as optional.)
        #if canImport(Glibc)
            let created = pthread_key_create(&key) { slot in slot.map(ScratchBytes.free) }
        #else
            let created = pthread_key_create(&key) { slot in ScratchBytes.free(slot) }
        #endif
        precondition(created == 0, "a thread-specific key can be made")
        return key
    }()

    private static func free(_ slot: UnsafeMutableRawPointer) {
        let pointer = slot.assumingMemoryBound(to: [UInt8].self)
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }

    private static func slot() -> UnsafeMutablePointer<[UInt8]> {
        if let slot = pthread_getspecific(key) { return slot.assumingMemoryBound(to: [UInt8].self) }
        let slot = UnsafeMutablePointer<[UInt8]>.allocate(capacity: 1)
        slot.initialize(to: [])
        pthread_setspecific(key, slot)
        return slot
    }

    static func borrow(capacity: Int) -> ByteRun {
        var buffer: [UInt8] = []
        swap(&buffer, &slot().pointee)
        var run = ByteRun(reusing: buffer)
        run.reserve(capacity)
        return run
    }

    static func giveBack(_ buffer: consuming [UInt8]) {
        // Very large buffers are not kept: one long piece would otherwise pin its memory.
        guard buffer.count <= 64 * 1024 else { return }
        swap(&buffer, &slot().pointee)
    }
}
