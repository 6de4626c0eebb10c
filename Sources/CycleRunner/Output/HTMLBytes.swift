import Invoicing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    var bytes: [UInt8]

    init() { bytes = [] }

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Text as it is: our own markup, or values that hold no markup characters.
    init(raw text: String) {
        bytes = Array(text.utf8)
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    static func += (html: inout HTMLBytes, piece: consuming HTMLPiece) {
        piece.append(to: &html.bytes)
    }

    static func += (html: inout HTMLBytes, other: HTMLBytes) {
        html.bytes.append(contentsOf: other.bytes)
    }

    /// Text as it is: our own markup, or values that hold no markup characters.
    mutating func append(raw text: String) {
        appendUTF8(text, to: &bytes)
    }
}

/// One piece of HTML for `HTMLBytes`: a literal, kept as the program's own constant bytes, or
/// an interpolation, built in a buffer lent by the thread (`ScratchBytes`) and handed back once
/// appended. Before, every piece was an array of its own, and allocating and freeing them
/// (hundreds per statement) took about a quarter of the statements' rendering.
struct HTMLPiece: ExpressibleByStringInterpolation {
    private enum Content {
        case literal(StaticString)
        case built([UInt8])
    }

    private var content: Content

    init(stringLiteral value: StaticString) {
        content = .literal(value)
    }

    init(stringInterpolation: Interpolation) {
        content = .built(stringInterpolation.bytes)
    }

    /// Appends the piece to `bytes` and hands its buffer back to the thread.
    consuming func append(to bytes: inout [UInt8]) {
        switch content {
        case .literal(let literal):
            literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
        case .built(var built):
            // The piece's own reference goes first, so the buffer is given back unshared.
            content = .literal("")
            bytes.append(contentsOf: built)
            ScratchBytes.giveBack(&built)
        }
    }

    struct Interpolation: StringInterpolationProtocol {
        var bytes: [UInt8]

        init(literalCapacity: Int, interpolationCount: Int) {
            bytes = ScratchBytes.borrow(capacity: literalCapacity + 12 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: StaticString) {
            literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
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
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
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
func appendUTF8(_ text: String, to bytes: inout [UInt8]) {
    if text.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
        bytes.append(contentsOf: text.utf8)
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

    static func borrow(capacity: Int) -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &slot().pointee)
        buffer.reserveCapacity(capacity)
        return buffer
    }

    static func giveBack(_ buffer: inout [UInt8]) {
        // Very large buffers are not kept: one long piece would otherwise pin its memory.
        guard buffer.capacity <= 64 * 1024 else { return }
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &slot().pointee)
    }
}
