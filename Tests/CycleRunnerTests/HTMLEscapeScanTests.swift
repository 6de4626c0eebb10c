// Proves the word-at-a-time test for "this text needs escaping" answers as the byte rule does:
// every byte value at every position of a word and of a tail, and random texts of any length;
// and that escaping into a page's bytes writes what htmlEscape returns.
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct HTMLEscapeScanTests {
    static func byteRule(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 < 0x20 || $0 >= 0x7F || [0x26, 0x3C, 0x3E, 0x22, 0x27].contains($0) }
    }

    static func scan(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { needsHTMLEscaping($0) }
    }

    /// Each byte value in each of the first 11 positions (a whole word and a tail), among
    /// fillers next to every boundary the word tests care about (0x1F/0x20, 0x7E/0x7F/0x80).
    @Test(arguments: [UInt8(ascii: "a"), 0x20, 0x7E, 0x21, 0x3D, 0x3F])
    func everyByteAtEveryPosition(filler: UInt8) {
        for length in [8, 11, 16] {
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: filler, count: length)
                    bytes[position] = UInt8(value)
                    #expect(Self.scan(bytes) == Self.byteRule(bytes), "\(bytes)")
                }
            }
        }
    }

    @Test func randomTexts() async {
        // Mostly printable ASCII, so both answers are drawn often.
        let byte = Gen.int(in: 0...299).map { $0 < 256 ? UInt8($0) : UInt8(ascii: "x") }
        await propertyCheck(count: 2000, input: byte.array(of: 0...40)) { bytes in
            let plain = bytes.filter { $0 >= 0x20 && $0 < 0x7F }
            #expect(Self.scan(bytes) == Self.byteRule(bytes))
            #expect(Self.scan(plain) == Self.byteRule(plain))
        }
    }

    /// Escaping into a page's bytes writes what `htmlEscape` returns, runs of plain bytes and
    /// characters beyond ASCII included.
    @Test func escapingIntoAPageWritesWhatHTMLEscapeReturns() async {
        let pieces = Gen.element(of: [
            "a", "−", "<", "&", "\u{85}", "\u{9F}", "\u{A0}", "\u{FFFF}", "\u{FFFD}", "\r", "株", " ",
        ])
        await propertyCheck(count: 1000, input: pieces.array(of: 0...30)) { parts in
            let text = parts.compactMap { $0 }.joined()
            var html = HTMLBytes()
            html += "<p>\(escaped: text)</p>"
            #expect(html.string == "<p>" + htmlEscape(text) + "</p>")
        }
    }

    @Test func anEmptyTextNeedsNothing() {
        #expect(!Self.scan([]))
        #expect(htmlEscape("") == "")
    }
}
