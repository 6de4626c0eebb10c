// Proves the renewal calendar of §5, civil-date arithmetic and the RFC 3339 parsing of §2 on fixed cases.
import Invoicing
import Testing

@testable import CycleRunnerCore

struct RenewalCase: Sendable, CustomTestStringConvertible {
    let anchor: String
    let k: Int
    let expected: String
    var testDescription: String { "R\(k) of \(anchor) is \(expected)" }
}

@Test(arguments: [
    // Anchor 31 Jan → 28/29 Feb → 31 Mar → 30 Apr: each Rk comes from the anchor, not the previous Rk.
    RenewalCase(anchor: "2026-01-31", k: 0, expected: "2026-01-31"),
    RenewalCase(anchor: "2026-01-31", k: 1, expected: "2026-02-28"),
    RenewalCase(anchor: "2026-01-31", k: 2, expected: "2026-03-31"),
    RenewalCase(anchor: "2026-01-31", k: 3, expected: "2026-04-30"),
    RenewalCase(anchor: "2026-01-31", k: 4, expected: "2026-05-31"),
    RenewalCase(anchor: "2026-01-31", k: 12, expected: "2027-01-31"),
    RenewalCase(anchor: "2028-01-31", k: 1, expected: "2028-02-29"),
    RenewalCase(anchor: "2028-01-31", k: 2, expected: "2028-03-31"),
    RenewalCase(anchor: "2025-12-31", k: 2, expected: "2026-02-28"),
    // Anchor on the 30th.
    RenewalCase(anchor: "2026-01-30", k: 1, expected: "2026-02-28"),
    RenewalCase(anchor: "2026-01-30", k: 2, expected: "2026-03-30"),
    RenewalCase(anchor: "2028-01-30", k: 1, expected: "2028-02-29"),
    RenewalCase(anchor: "2026-11-30", k: 3, expected: "2027-02-28"),
    RenewalCase(anchor: "2026-11-30", k: 4, expected: "2027-03-30"),
    // Anchor on the 29th: clamped in February of a common year, kept in a leap year.
    RenewalCase(anchor: "2026-01-29", k: 1, expected: "2026-02-28"),
    RenewalCase(anchor: "2026-01-29", k: 2, expected: "2026-03-29"),
    RenewalCase(anchor: "2028-01-29", k: 1, expected: "2028-02-29"),
    RenewalCase(anchor: "2100-01-29", k: 1, expected: "2100-02-28"),
    RenewalCase(anchor: "2000-01-29", k: 1, expected: "2000-02-29"),
    // Anchor on 29 Feb itself.
    RenewalCase(anchor: "2028-02-29", k: 1, expected: "2028-03-29"),
    RenewalCase(anchor: "2028-02-29", k: 12, expected: "2029-02-28"),
    RenewalCase(anchor: "2028-02-29", k: 48, expected: "2032-02-29"),
    // An ordinary day never moves.
    RenewalCase(anchor: "2026-01-15", k: 13, expected: "2027-02-15"),
])
func renewalDatesClampToTheMonth(_ rule: RenewalCase) {
    let state = OrgState(orgId: OrgID("o1"), startDate: day(rule.anchor), plan: PlanID("standard"))
    #expect(state.renewalDate(rule.k) == day(rule.expected))
}

@Test func renewalCalendarOfAnEngineRunFollowsTheAnchor() throws {
    let run = try runOrg(testProfile(plan: "standard", start: "2026-01-31"), through: "2026-05-31")
    let ends = run.periods.map(\.periodEnd.description)
    #expect(ends == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"])
    let starts = run.periods.map(\.periodStart.description)
    #expect(starts == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"])
}

struct EpochCase: Sendable, CustomTestStringConvertible {
    let date: String
    let days: Int64
    var testDescription: String { "\(date) is day \(days)" }
}

// Day numbers computed independently (Python's datetime.date arithmetic).
@Test(arguments: [
    EpochCase(date: "0001-01-01", days: -719_162),
    EpochCase(date: "1969-12-31", days: -1),
    EpochCase(date: "1970-01-01", days: 0),
    EpochCase(date: "2000-02-29", days: 11016),
    EpochCase(date: "2026-01-01", days: 20454),
    EpochCase(date: "2026-12-31", days: 20818),
    EpochCase(date: "9999-12-31", days: 2_932_896),
])
func daysSinceEpochRoundTrip(_ sample: EpochCase) {
    let date = day(sample.date)
    #expect(date.daysSinceEpoch == sample.days)
    #expect(CivilDate(daysSinceEpoch: sample.days) == date)
    #expect(CivilDate(daysSinceEpoch: sample.days).description == sample.date)
    #expect(Instant(date: date).microseconds == sample.days * 86_400_000_000)
    #expect(Instant(date: date).date == date)
}

@Test func everyDayOfFourCenturiesRoundTrips() {
    // 1900-01-01 … 2299-12-31 covers the 100- and 400-year leap rules.
    var expected = CivilDate(year: 1900, month: 1, day: 1)
    for days in expected.daysSinceEpoch...CivilDate(year: 2299, month: 12, day: 31).daysSinceEpoch {
        let date = CivilDate(daysSinceEpoch: days)
        guard date == expected, date.daysSinceEpoch == days else {
            Issue.record("day \(days) gave \(date), expected \(expected)")
            return
        }
        let last = CivilDate.daysIn(year: date.year, month: date.month)
        expected =
            date.day < last
            ? CivilDate(year: date.year, month: date.month, day: date.day + 1)
            : date.month < 12
                ? CivilDate(year: date.year, month: date.month + 1, day: 1)
                : CivilDate(year: date.year + 1, month: 1, day: 1)
    }
}

struct ParseCase: Sendable, CustomTestStringConvertible {
    let text: String
    let microseconds: Int64
    var testDescription: String { text }
}

// 2026-11-03T14:22:05Z is 1_793_715_725_000_000 µs after the epoch (computed with Python).
let parseBase: Int64 = 1_793_715_725_000_000

@Test(arguments: [
    ParseCase(text: "2026-11-03T14:22:05Z", microseconds: parseBase),
    ParseCase(text: "2026-11-03T15:22:05+01:00", microseconds: parseBase),
    ParseCase(text: "2026-11-03T15:22:05.250+01:00", microseconds: parseBase + 250_000),
    ParseCase(text: "2026-11-03T08:52:05-05:30", microseconds: parseBase),
    ParseCase(text: "2026-11-03T14:22:05+00:00", microseconds: parseBase),
    ParseCase(text: "2026-11-03T14:22:05-00:00", microseconds: parseBase),
    ParseCase(text: "2026-11-03t14:22:05z", microseconds: parseBase),
    ParseCase(text: "2026-11-03T14:22:05.1Z", microseconds: parseBase + 100_000),
    ParseCase(text: "2026-11-03T14:22:05.12Z", microseconds: parseBase + 120_000),
    ParseCase(text: "2026-11-03T14:22:05.123Z", microseconds: parseBase + 123_000),
    ParseCase(text: "2026-11-03T14:22:05.1234Z", microseconds: parseBase + 123_400),
    ParseCase(text: "2026-11-03T14:22:05.12345Z", microseconds: parseBase + 123_450),
    ParseCase(text: "2026-11-03T14:22:05.123456Z", microseconds: parseBase + 123_456),
    ParseCase(text: "2026-11-03T14:22:05.1234567Z", microseconds: parseBase + 123_456),
    ParseCase(text: "2026-11-03T14:22:05.12345678Z", microseconds: parseBase + 123_456),
    ParseCase(text: "2026-11-03T14:22:05.123456789Z", microseconds: parseBase + 123_456),
    // Further digits are dropped, not rounded.
    ParseCase(text: "2026-11-03T14:22:05.999999999Z", microseconds: parseBase + 999_999),
    ParseCase(text: "2026-11-03T14:22:05.000000999Z", microseconds: parseBase),
    // An offset that moves the instant across midnight (2026-11-04T00:30:00Z).
    ParseCase(text: "2026-11-03T23:30:00-01:00", microseconds: 1_793_752_200_000_000),
    ParseCase(text: "1970-01-01T00:00:00Z", microseconds: 0),
    ParseCase(text: "1970-01-01T00:00:00+00:01", microseconds: -60_000_000),
])
func instantParsesRFC3339(_ sample: ParseCase) {
    #expect(Instant.parse(sample.text)?.microseconds == sample.microseconds)
}

@Test(arguments: [
    "2026-11-03T14:22:05",  // no offset
    "2026-11-03T14:22:05.250",  // no offset after a fraction
    "2026-02-30T00:00:00Z",  // no such day
    "2026-02-29T00:00:00Z",  // not a leap year
    "2026-13-01T00:00:00Z",
    "2026-11-03T24:00:00Z",
    "2026-11-03T14:60:00Z",
    "2026-11-03T14:22:60Z",
    "2026-11-03T14:22Z",  // missing seconds
    "2026-11-03T14:22+01:00",
    "2026-11-03T14:22:05Zjunk",  // trailing junk
    "2026-11-03T14:22:05Z ",
    "2026-11-03T14:22:05+01:00x",
    "2026-11-03T14:22:05.Z",  // a point without digits
    "2026-11-03T14:22:05+0100",
    "2026-11-03T14:22:05+01",
    "2026-11-03T14:22:05+24:00",
    "2026-11-03X14:22:05Z",
    "2026-11-03",
    "",
    " 2026-11-03T14:22:05Z",
])
func instantRejectsMalformedTimestamps(_ text: String) {
    #expect(Instant.parse(text) == nil)
}

@Test func instantPrintsUTCWithMicrosecondsOnlyWhenPresent() {
    #expect(at("2026-11-03T15:22:05.250+01:00").description == "2026-11-03T14:22:05.250000Z")
    #expect(at("2026-11-03T08:52:05-05:30").description == "2026-11-03T14:22:05Z")
}

struct MonthsCase: Sendable, CustomTestStringConvertible {
    let start: String
    let months: Int
    let expected: String
    var testDescription: String { "\(start) + \(months) months = \(expected)" }
}

@Test(arguments: [
    MonthsCase(start: "2026-01-31T10:00:00Z", months: 1, expected: "2026-02-28T10:00:00Z"),
    MonthsCase(start: "2028-01-31T23:59:59.999999Z", months: 1, expected: "2028-02-29T23:59:59.999999Z"),
    MonthsCase(start: "2026-01-31T10:00:00Z", months: 3, expected: "2026-04-30T10:00:00Z"),
    MonthsCase(start: "2026-01-30T00:00:00Z", months: 3, expected: "2026-04-30T00:00:00Z"),
    MonthsCase(start: "2024-02-29T12:00:00Z", months: 12, expected: "2025-02-28T12:00:00Z"),
    MonthsCase(start: "2025-11-30T06:30:00Z", months: 3, expected: "2026-02-28T06:30:00Z"),
    MonthsCase(start: "2026-01-15T08:00:00Z", months: 12, expected: "2027-01-15T08:00:00Z"),
    // The day is taken in UTC: 23:30-01:00 on 31 Jan is 00:30Z on 1 Feb.
    MonthsCase(start: "2026-01-31T23:30:00-01:00", months: 1, expected: "2026-03-01T00:30:00Z"),
])
func instantAddingMonthsClampsAndKeepsTheTimeOfDay(_ sample: MonthsCase) {
    #expect(at(sample.start).addingMonths(sample.months) == at(sample.expected))
}

// The digit-by-digit form pads every part and leaves years beyond four digits to the slow one.
@Test(arguments: [
    (CivilDate(year: 0, month: 1, day: 1), "0000-01-01"),
    (CivilDate(year: 7, month: 3, day: 9), "0007-03-09"),
    (CivilDate(year: 987, month: 10, day: 31), "0987-10-31"),
    (CivilDate(year: 2026, month: 2, day: 28), "2026-02-28"),
    (CivilDate(year: 9999, month: 12, day: 31), "9999-12-31"),
    (CivilDate(year: 10_000, month: 1, day: 2), "10000-01-02"),
])
func civilDateDescription(_ date: CivilDate, _ expected: String) {
    #expect(date.description == expected)
}

@Test func everyFourDigitDateParsesBackFromItsDescription() {
    for days in stride(from: Int64(-719_162), through: 2_932_896, by: 97) {
        let date = CivilDate(daysSinceEpoch: days)
        #expect(date.description.utf8.count == 10)
        #expect(CivilDate.parse(date.description) == date)
    }
}
