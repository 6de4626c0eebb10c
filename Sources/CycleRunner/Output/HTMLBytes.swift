import Invoicing

/// HTML built straight into UTF-8 bytes. Statements are the bulk of a close's output (ten
/// thousand orgs make twenty thousand pages), and building them as Swift strings, with a
/// temporary string per concatenation and a copy into bytes at the end, was the largest
/// share of a close's CPU time. Literals with `\(escaped:)` and `\(grouped:)` read like the
/// HTML they write; a plain `\(value)` inserts the value's text unescaped, exactly as string
/// interpolation does, so it is only for numbers, dates and our own markup.
struct HTMLBytes: ExpressibleByStringInterpolation {
    var bytes: [UInt8]

    init() { bytes = [] }

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    init(stringLiteral value: String) {
        bytes = Array(value.utf8)
    }

    init(stringInterpolation: Interpolation) {
        bytes = stringInterpolation.bytes
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    static func += (html: inout HTMLBytes, text: HTMLBytes) {
        html.bytes.append(contentsOf: text.bytes)
    }

    /// Text as it is: our own markup, or values that hold no markup characters. (No `+=`
    /// for strings: a literal would then be built as a `String`, and an `HTMLBytes`
    /// interpolated into it would be written as its description.)
    mutating func append(raw text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    struct Interpolation: StringInterpolationProtocol {
        var bytes: [UInt8]

        init(literalCapacity: Int, interpolationCount: Int) {
            bytes = []
            bytes.reserveCapacity(literalCapacity + 12 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: String) {
            bytes.append(contentsOf: literal.utf8)
        }

        /// Text as it is: our own markup, or values that hold no markup characters.
        mutating func appendInterpolation(_ text: String) {
            bytes.append(contentsOf: text.utf8)
        }

        mutating func appendInterpolation(_ text: HTMLBytes) {
            bytes.append(contentsOf: text.bytes)
        }

        mutating func appendInterpolation(_ number: Int64) {
            appendDecimal(number, to: &bytes)
        }

        mutating func appendInterpolation(_ number: Int) {
            appendDecimal(Int64(number), to: &bytes)
        }

        mutating func appendInterpolation(_ date: CivilDate) {
            bytes.append(contentsOf: date.description.utf8)
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
