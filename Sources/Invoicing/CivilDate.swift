/// A calendar date (proleptic Gregorian), the unit of billing boundaries: every boundary
/// is at 00:00:00 UTC of a date.
public struct CivilDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// - Precondition: the triple is a real date; parse text through `CivilDate.parse`.
    public init(year: Int, month: Int, day: Int) {
        precondition(
            (1...12).contains(month) && day >= 1 && day <= CivilDate.daysIn(year: year, month: month),
            "not a calendar date")
        self.year = year
        self.month = month
        self.day = day
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int64 { CivilDate.daysSinceEpoch(year: year, month: month, day: day) }

    /// `daysSinceEpoch` of a date given as numbers already checked to be one, for a parser
    /// that has the numbers and no reason to make and check a `CivilDate` first.
    @inline(__always)
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` days after 1970-01-01 (civil_from_days).
    public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yearOfEra + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(y), month: Int(m), day: Int(d))
    }

    /// The date `months` months later on day min(`anchorDay`, days in that month): the
    /// renewal calendar's clamping (anchor 31 Jan → 28/29 Feb → 31 Mar).
    public func addingMonths(_ months: Int, anchorDay: Int? = nil) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let newYear = total >= 0 ? total / 12 : (total - 11) / 12
        let newMonth = total - newYear * 12 + 1
        let wanted = anchorDay ?? day
        return CivilDate(
            year: newYear, month: newMonth, day: min(wanted, CivilDate.daysIn(year: newYear, month: newMonth)))
    }

    public func addingDays(_ days: Int) -> CivilDate {
        CivilDate(daysSinceEpoch: daysSinceEpoch + Int64(days))
    }

    /// Parses exactly `YYYY-MM-DD`.
    public static func parse<S: StringProtocol>(_ text: S) -> CivilDate? {
        var copy = String(text)
        return copy.withUTF8 { parse(utf8: $0) }
    }

    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> CivilDate? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        guard let y = digits(bytes, 0, 4), let m = digits(bytes, 5, 2), let d = digits(bytes, 8, 2) else {
            return nil
        }
        guard y >= 1, (1...12).contains(m), d >= 1, d <= daysIn(year: y, month: m) else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }

    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `YYYY-MM-DD`. Written digit by digit into a small string, with no allocation: ledger rows,
    /// statements and invoices format hundreds of thousands of dates a close, and padding and
    /// joining texts was a twentieth of the ledger's encoding.
    public var description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { bytes in
            guard writeISOBytes(into: bytes, at: 0) else {
                return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Writes the 10 bytes of `description` at `start` of `bytes`, which has room for them, and
    /// returns true; for a year outside 0...9999, whose text is longer, writes nothing and
    /// returns false. For writers that put dates straight into their own buffers.
    public func writeISOBytes(into bytes: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Bool {
        guard (0...9999).contains(year) else { return false }
        writeDigits(Int64(year), width: 4, into: bytes, at: start)
        bytes[start + 4] = 0x2D
        writeDigits(Int64(month), width: 2, into: bytes, at: start + 5)
        bytes[start + 7] = 0x2D
        writeDigits(Int64(day), width: 2, into: bytes, at: start + 8)
        return true
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate.parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Writes the last `width` decimal digits of `value` (not negative) at `start`, zero-padded.
func writeDigits(_ value: Int64, width: Int, into bytes: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
    var rest = value
    for index in stride(from: start + width - 1, through: start, by: -1) {
        bytes[index] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
        rest /= 10
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
