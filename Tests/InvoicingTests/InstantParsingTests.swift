// Proves the one-pass parse of `YYYY-MM-DDTHH:MM:SSZ` answers as the general RFC 3339 parse does,
// for well-formed timestamps and for every kind of damage to one byte of them (every byte value
// at every position of two of them, and random ones).
import Foundation
import PropertyBased
import Testing

@testable import Invoicing

@Suite struct InstantParsingTests {
    static func bothParses(_ text: String) -> (whole: Instant?, any: Instant?, public: Instant?) {
        var text = text
        return text.withUTF8 { bytes in
            (Instant.parseWholeSecondsUTC(bytes), Instant.parseAnyForm(bytes), Instant.parse(utf8: bytes))
        }
    }

    @Test(arguments: [
        ("2026-01-29T21:41:03Z", 1_769_722_863_000_000 as Int64?),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T23:59:59Z", 1_709_251_199_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59Z", 253_402_300_799_000_000),
        ("2025-02-29T00:00:00Z", nil), ("2026-04-31T00:00:00Z", nil), ("2026-13-01T00:00:00Z", nil),
        ("2026-00-10T00:00:00Z", nil), ("2026-01-00T00:00:00Z", nil), ("0000-01-01T00:00:00Z", nil),
        ("2026-01-01T24:00:00Z", nil), ("2026-01-01T00:60:00Z", nil), ("2026-01-01T00:00:60Z", nil),
        ("2026-01-01T0a:00:00Z", nil), ("2026-01-01T00:00:0/Z", nil), ("2026-01-01 00:00:00Z", nil),
    ])
    func wholeSecondsInUTC(text: String, microseconds: Int64?) {
        let parses = Self.bothParses(text)
        #expect(parses.public?.microseconds == microseconds)
        #expect(parses.any?.microseconds == microseconds)
        #expect(parses.whole == parses.any)
    }

    @Test(arguments: [
        "2026-01-29t21:41:03Z", "2026-01-29T21:41:03z", "2026-01-29T21:41:03.5Z", "2026-01-29T21:41:03+01:00",
    ])
    func otherFormsAreLeftToTheGeneralParse(text: String) {
        let parses = Self.bothParses(text)
        #expect(parses.whole == nil)
        #expect(parses.any != nil)
        #expect(parses.public == parses.any)
    }

    /// Every byte of two timestamps (one at a leap day's last second) replaced by every byte
    /// value: the word-at-a-time checks of separators and digits must reject exactly what the
    /// general parse rejects, whichever byte is damaged and however.
    @Test(arguments: ["2026-01-29T21:41:03Z", "2024-02-29T23:59:59Z"])
    func agreesWithTheGeneralParseOnEveryOneByteChange(text: String) {
        for position in 0..<20 {
            for byte in 0...255 {
                var bytes = Array(text.utf8)
                bytes[position] = UInt8(byte)
                let result = bytes.withUnsafeBufferPointer { buffer in
                    (Instant.parseWholeSecondsUTC(buffer), Instant.parseAnyForm(buffer))
                }
                // Upper-case "T" and "Z" only, which the general parse also takes in lower case.
                let lowerCaseSeparator = (position == 10 && byte == 0x74) || (position == 19 && byte == 0x7A)
                if lowerCaseSeparator {
                    #expect(result.0 == nil && result.1 != nil)
                } else {
                    #expect(result.0 == result.1, "\(position) \(byte)")
                }
            }
        }
    }

    /// Any valid timestamp, with one byte replaced by any byte at all, or none.
    @Test func agreesWithTheGeneralParseOnDamagedTimestamps() async {
        let timestamps = Gen.int(in: -62_135_596_800...253_402_300_799).map { seconds in
            Instant(microseconds: Int64(seconds) * 1_000_000).description
        }
        await propertyCheck(
            count: 3000, input: timestamps, Gen.int(in: -1...19), Gen.int(in: 0...255)
        ) { text, position, byte in
            var bytes = Array(text.utf8)
            if position >= 0 { bytes[position] = UInt8(byte) }
            let result = bytes.withUnsafeBufferPointer { buffer in
                (Instant.parseWholeSecondsUTC(buffer), Instant.parseAnyForm(buffer), Instant.parse(utf8: buffer))
            }
            #expect(result.0 == nil || result.0 == result.1, "\(bytes)")
            #expect(result.2 == result.1, "\(bytes)")
            if position < 0 { #expect(result.0 != nil && result.0?.description == text) }
        }
    }
}
