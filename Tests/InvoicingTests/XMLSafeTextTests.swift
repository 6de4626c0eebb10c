// Proves the word-at-a-time printable-ASCII test answers as the byte rule does (every byte value
// at every position of a word and of a tail), and that xmlSafe keeps a text whole unless it holds
// a character XML 1.0 forbids, and then drops exactly those.
import PropertyBased
import Testing

@testable import Invoicing

@Suite struct XMLSafeTextTests {
    static func byteRule(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 >= 0x20 && $0 < 0x80 } }

    @Test(arguments: [UInt8(ascii: "a"), 0x20, 0x7F, 0x21])
    func everyByteAtEveryPosition(filler: UInt8) {
        for length in [1, 8, 11, 16] {
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: filler, count: length)
                    bytes[position] = UInt8(value)
                    // Texts are valid UTF-8: a lone byte above 0x7F would be repaired to U+FFFD
                    // (three bytes, all above 0x7F), which the test must still refuse.
                    let text = String(decoding: bytes, as: UTF8.self)
                    #expect(XMLTextWriter.isPrintableASCII(text) == Self.byteRule(Array(text.utf8)), "\(bytes)")
                }
            }
        }
        #expect(XMLTextWriter.isPrintableASCII(""))
    }

    @Test func onlyForbiddenCharactersAreDropped() async {
        let pieces = Gen.element(of: [
            "a", "Zürich", "\t", "\n", "\r", "\u{0}", "\u{1F}", "\u{7F}", "\u{85}", "\u{FFFE}", "\u{FFFF}", "\u{FFFD}",
            "😀", "株", " ",
        ])
        await propertyCheck(count: 1000, input: pieces.array(of: 0...12)) { parts in
            let text = parts.compactMap { $0 }.joined()
            let expected = String(
                String.UnicodeScalarView(
                    text.unicodeScalars.filter { scalar in
                        let value = scalar.value
                        return value == 0x9 || value == 0xA || value == 0xD || (0x20...0xFFFD).contains(value)
                            || value >= 0x10000
                    }))
            #expect(XMLTextWriter.xmlSafe(text) == expected)
        }
    }
}
