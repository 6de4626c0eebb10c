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

    /// `YYYY-MM-DDTHH:MM:SSZ`, the form of every generated and most real usage rows, read as
    /// three eight-byte words (the last overlapping the second): the separators are compared
    /// in one masked comparison per word, and the fourteen digits checked together, each
    /// byte's range tested with the word's top bits. Read byte by byte, field by field, through
    /// a `CivilDate` that checked the date again, a timestamp took about 400 instructions, a
    /// twentieth of reading a usage row. Nil for any other text, which `parseAnyForm` then
    /// reads or rejects, so the two give the same answer for every text.
    static func parseWholeSecondsUTC(_ bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        guard bytes.count == 20, let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        // Little-endian words: byte i of the text is bits 8i ..< 8i + 8 of its word.
        let first = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))  // YYYY-MM-
        let second = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))  // DDTHH:MM
        let third = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt64.self))  // H:MM:SSZ
        // The separators, where each word has them: "-" at 4 and 7; "T" at 10 and ":" at 13;
        // ":" at 16 and "Z" at 19.
        let firstSeparators: UInt64 = 0xFF00_00FF_0000_0000
        let secondSeparators: UInt64 = 0x0000_FF00_00FF_0000
        let thirdSeparators: UInt64 = 0xFF00_00FF_0000_0000
        guard first & firstSeparators == 0x2D00_002D_0000_0000,
            second & secondSeparators == 0x0000_3A00_0054_0000,
            third & thirdSeparators == 0x5A00_003A_0000_0000
        else { return nil }
        // Every other byte a digit: the separators are replaced by "0", and then a byte is a
        // digit exactly when it has no top bit, adding 0x46 gives none (it is below 0x3A), and
        // subtracting 0x30 gives none (it is 0x30 or above; a borrow into the next byte only
        // happens from a byte that is flagged itself).
        func allDigits(_ word: UInt64, separators: UInt64) -> Bool {
            let digits = (word & ~separators) | (0x3030_3030_3030_3030 & separators)
            let flags = digits | (digits &+ 0x4646_4646_4646_4646) | (digits &- 0x3030_3030_3030_3030)
            return flags & 0x8080_8080_8080_8080 == 0
        }
        // The third word's byte 1 is the ":" at 13, which the second word's check covered.
        guard allDigits(first, separators: firstSeparators), allDigits(second, separators: secondSeparators),
            allDigits(third, separators: thirdSeparators | 0xFF00)
        else { return nil }
        func digit(_ word: UInt64, _ byte: Int) -> Int { Int((word >> UInt64(8 * byte)) & 0xFF) - 0x30 }
        let year = digit(first, 0) * 1000 + digit(first, 1) * 100 + digit(first, 2) * 10 + digit(first, 3)
        let month = digit(first, 5) * 10 + digit(first, 6)
        let day = digit(second, 0) * 10 + digit(second, 1)
        let hour = digit(second, 3) * 10 + digit(second, 4)
        let minute = digit(second, 6) * 10 + digit(second, 7)
        let second60 = digit(third, 5) * 10 + digit(third, 6)
        guard year >= 1, (1...12).contains(month), day >= 1,
            day <= CivilDate.daysIn(year: year, month: month), hour < 24, minute < 60, second60 < 60
        else { return nil }
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        return Instant(
            microseconds: days * Instant.microsecondsPerDay + Int64(hour * 3600 + minute * 60 + second60) * 1_000_000)
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

    /// RFC 3339 in UTC with microseconds only when they are not zero. Written digit by digit
    /// into one buffer: statements list ten instants each, and joining padded texts cost about
    /// 5,900 instructions an instant (callgrind), 1.9 % of a close's.
    public var description: String {
        let text = String(unsafeUninitializedCapacity: Instant.longestISOByteCount) { bytes in
            writeISOBytes(into: bytes, at: 0) ?? 0
        }
        return text.isEmpty ? wideYearDescription : text
    }

    /// `description` for a year outside 0...9999, whose text has more digits than a buffer of
    /// `longestISOByteCount` holds.
    private var wideYearDescription: String {
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

    /// The most bytes `writeISOBytes` writes: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public static let longestISOByteCount = 27

    /// Writes `description` at `start` of `bytes`, which has room for `longestISOByteCount`
    /// bytes there, and returns how many it wrote (20, or 27 with microseconds); for a year
    /// outside 0...9999 writes nothing and returns nil. For writers that put instants straight
    /// into their own buffers.
    public func writeISOBytes(into bytes: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int? {
        let day = date
        guard day.writeISOBytes(into: bytes, at: start) else { return nil }
        let within = microseconds - Instant(date: day).microseconds
        let seconds = within / 1_000_000
        let micros = within % 1_000_000
        bytes[start + 10] = UInt8(ascii: "T")
        writeDigits(seconds / 3600, width: 2, into: bytes, at: start + 11)
        bytes[start + 13] = UInt8(ascii: ":")
        writeDigits(seconds / 60 % 60, width: 2, into: bytes, at: start + 14)
        bytes[start + 16] = UInt8(ascii: ":")
        writeDigits(seconds % 60, width: 2, into: bytes, at: start + 17)
        guard micros != 0 else {
            bytes[start + 19] = UInt8(ascii: "Z")
            return 20
        }
        bytes[start + 19] = UInt8(ascii: ".")
        writeDigits(micros, width: 6, into: bytes, at: start + 20)
        bytes[start + 26] = UInt8(ascii: "Z")
        return 27
    }

    public init(from decoder: Decoder) throws {
        self.microseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(microseconds)
    }
}
