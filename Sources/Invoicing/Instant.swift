/// An exact instant: microseconds since 1970-01-01T00:00:00Z. Finer fractions in the input
/// are dropped, as the specification asks, so comparisons are exact integer comparisons.
public struct Instant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public static let microsecondsPerDay: Int64 = 86_400_000_000
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// 00:00:00 UTC of a date.
    public init(date: CivilDate) { self.microseconds = date.daysSinceEpoch * Instant.microsecondsPerDay }

    /// The UTC date this instant falls on.
    public var date: CivilDate {
        let days =
            microseconds >= 0
            ? microseconds / Instant.microsecondsPerDay
            : (microseconds - Instant.microsecondsPerDay + 1) / Instant.microsecondsPerDay
        return CivilDate(daysSinceEpoch: days)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }

    /// This instant moved by `months` calendar months, the day clamped to the target month and
    /// the time of day kept (a pack bought 31 Jan 10:00 with 1 month expires 28 Feb 10:00).
    public func addingMonths(_ months: Int) -> Instant {
        let day = date
        let timeOfDay = microseconds - Instant(date: day).microseconds
        return Instant(microseconds: Instant(date: day.addingMonths(months)).microseconds + timeOfDay)
    }

    /// Parses RFC 3339 with a required offset (`Z` or `±hh:mm`); fraction digits beyond the
    /// sixth are dropped. Returns nil for anything else, including impossible dates.
    public static func parse<S: StringProtocol>(_ text: S) -> Instant? {
        var copy = String(text)
        return copy.withUTF8 { parse(utf8: $0) }
    }

    /// The same parse over raw bytes, so the usage reader needs no String per timestamp.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        parseWholeSecondsUTC(bytes) ?? parseAnyForm(bytes)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the form of every generated and most real usage rows, read in
    /// one pass: the fourteen digits are checked together (a byte below "0" wraps to a large
    /// value) rather than field by field, each through a call that returned an optional, which
    /// was a twentieth of parsing a usage row. Nil for any other text, which `parseAnyForm`
    /// then reads or rejects, so the two give the same answer for every text.
    static func parseWholeSecondsUTC(_ bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        guard bytes.count == 20, let base = bytes.baseAddress, base[4] == UInt8(ascii: "-"),
            base[7] == UInt8(ascii: "-"), base[10] == UInt8(ascii: "T"), base[13] == UInt8(ascii: ":"),
            base[16] == UInt8(ascii: ":"), base[19] == UInt8(ascii: "Z")
        else { return nil }
        var largestDigit: UInt8 = 0
        func digit(_ offset: Int) -> Int {
            let value = base[offset] &- UInt8(ascii: "0")
            largestDigit = max(largestDigit, value)
            return Int(value)
        }
        let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
        let month = digit(5) * 10 + digit(6)
        let day = digit(8) * 10 + digit(9)
        let hour = digit(11) * 10 + digit(12)
        let minute = digit(14) * 10 + digit(15)
        let second = digit(17) * 10 + digit(18)
        guard largestDigit <= 9, year >= 1, (1...12).contains(month), day >= 1,
            day <= CivilDate.daysIn(year: year, month: month), hour < 24, minute < 60, second < 60
        else { return nil }
        return Instant(
            microseconds: Instant(date: CivilDate(year: year, month: month, day: day)).microseconds
                + Int64(hour * 3600 + minute * 60 + second) * 1_000_000)
    }

    /// Every form `parse` accepts: lower-case separators, fractions, offsets.
    static func parseAnyForm(_ bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") else {
            return nil
        }
        guard let date = CivilDate.parse(utf8: UnsafeBufferPointer(rebasing: bytes[0..<10])) else { return nil }
        guard bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = CivilDate.digits(bytes, 11, 2), let minute = CivilDate.digits(bytes, 14, 2),
            let second = CivilDate.digits(bytes, 17, 2), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digitCount = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if digitCount < 6 { micros = micros * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                digitCount += 1
                index += 1
            }
            guard digitCount > 0 else { return nil }
            for _ in digitCount..<max(digitCount, 6) { micros *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard bytes.count == index + 6, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHour = CivilDate.digits(bytes, index + 1, 2),
                let offsetMinute = CivilDate.digits(bytes, index + 4, 2), offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = Int64(offsetHour * 3600 + offsetMinute * 60)
            if bytes[index] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let local =
            Instant(date: date).microseconds
            + Int64(hour * 3600 + minute * 60 + second) * 1_000_000 + micros
        return Instant(microseconds: local - offsetSeconds * 1_000_000)
    }

    /// RFC 3339 in UTC with microseconds only when they are not zero.
    public var description: String {
        let day = date
        let within = microseconds - Instant(date: day).microseconds
        let seconds = Int(within / 1_000_000)
        let micros = Int(within % 1_000_000)
        var text =
            day.description + "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":"
            + pad(seconds % 60, 2)
        if micros != 0 { text += "." + pad(micros, 6) }
        return text + "Z"
    }

    public init(from decoder: Decoder) throws {
        self.microseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(microseconds)
    }
}
