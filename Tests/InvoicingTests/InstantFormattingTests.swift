// Proves an instant's RFC 3339 text, written digit by digit into one buffer, is its date's text
// and its time as Foundation formats it, for any instant (with and without microseconds, in and
// beyond years 0...9999), and that it parses back to the same instant.
import Foundation
import PropertyBased
import Testing

@testable import Invoicing

@Suite struct InstantFormattingTests {
    /// The reference: the date's own text, then the time formatted by Foundation.
    static func referenceDescription(_ instant: Instant) -> String {
        let day = instant.date
        let within = instant.microseconds - Instant(date: day).microseconds
        let seconds = within / 1_000_000
        let micros = within % 1_000_000
        let time = [seconds / 3600, seconds / 60 % 60, seconds % 60].map { String(format: "%02lld", $0) }
        let fraction = micros == 0 ? "" : String(format: ".%06lld", micros)
        return "\(day)T" + time.joined(separator: ":") + fraction + "Z"
    }

    @Test(arguments: [
        (0 as Int64, "1970-01-01T00:00:00Z"),
        (1, "1970-01-01T00:00:00.000001Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (1_769_722_863_000_000, "2026-01-29T21:41:03Z"),
        (1_769_722_863_500_000, "2026-01-29T21:41:03.500000Z"),
        (1_709_251_199_999_999, "2024-02-29T23:59:59.999999Z"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00Z"),
        (253_402_300_799_000_000, "9999-12-31T23:59:59Z"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
    ])
    func knownInstants(microseconds: Int64, text: String) {
        #expect(Instant(microseconds: microseconds).description == text)
        #expect(Instant.parse(text)?.microseconds == microseconds)
    }

    /// Years with more than four digits, or before year 0, leave the buffer for the formula.
    @Test(arguments: [
        253_402_300_800_000_000 as Int64, 253_402_300_800_000_001, 9_000_000_000_000_000_000,
        -62_167_219_200_000_001, -9_000_000_000_000_000_000,
    ])
    func yearsOutsideFourDigits(microseconds: Int64) {
        let instant = Instant(microseconds: microseconds)
        #expect(instant.description == Self.referenceDescription(instant))
        #expect(instant.description.utf8.count > 20)
    }

    @Test func anyInstantAsTheFormulaWroteIt() async {
        // Whole seconds half the time, so both endings are drawn often.
        let instants = Gen.int(in: -62_135_596_800_000_000...253_402_300_799_999_999).map { value in
            Int64(value)
        }
        await propertyCheck(count: 3000, input: instants, Gen.bool) { microseconds, wholeSeconds in
            let instant = Instant(microseconds: wholeSeconds ? microseconds / 1_000_000 * 1_000_000 : microseconds)
            #expect(instant.description == Self.referenceDescription(instant))
            #expect(Instant.parse(instant.description) == instant)
        }
    }
}
