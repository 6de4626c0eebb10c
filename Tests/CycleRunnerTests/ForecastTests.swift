// Proves the statement forecast: the trailing burn rate, the run-out date and the queue's cover, in integers.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct ForecastTests {
    /// A real period record from the fixture, to vary field by field.
    static let template: PeriodRecord = {
        let output = try! ReportFixture.close()
        return try! Ledger(path: output + "/ledger.sqlite").periods(org: OrgID("tiny"))[0]
    }()

    static func period(_ start: String, _ end: String, usage: Int64, next: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0))
        -> PeriodRecord
    {
        var record = template
        record.periodStart = CivilDate.parse(start)!
        record.periodEnd = CivilDate.parse(end)!
        record.usageCredits = usage
        (record.nextCurrent, record.nextBank, record.nextTopUp, record.nextDeficit) = next
        return record
    }

    static let history = [
        period("2026-01-01", "2026-02-01", usage: 9000),
        period("2026-02-01", "2026-03-01", usage: 300),
        period("2026-03-01", "2026-04-01", usage: 600),
        period("2026-04-01", "2026-05-01", usage: 900, next: (700, 200, 100, 0)),
        period("2026-05-01", "2026-06-01", usage: 99_999),
    ]

    static func forecast(
        _ record: PeriodRecord, queue: (jobs: [Forecast.QueuedLine], balances: Ledger.Balances?)? = nil
    ) -> Forecast {
        Forecast.make(
            record: record, history: history.map(\.brief), nextRenewal: record.periodEnd.addingMonths(1), queue: queue,
            closedThrough: CivilDate.parse("2026-05-10")!)
    }

    @Test func theRateLooksBackThreePeriodsAndNeverForward() {
        let forecast = Self.forecast(Self.history[3])
        // February, March and April: 300 + 600 + 900 credits over 28 + 31 + 30 days; May is later.
        #expect(forecast.trailingPeriods == 3)
        #expect(forecast.trailingUsage == 1800)
        #expect(forecast.trailingDays == 89)
        #expect(forecast.burnPerDayTenths == 202)
        #expect(Forecast.tenths(forecast.burnPerDayTenths) == "20.2")
        #expect(forecast.balance == 1000)
        // floor(1000 × 89 / 1800) = 49 days after the renewal on 2026-05-01.
        #expect(forecast.daysLeft == 49)
        #expect(forecast.runOutDate == CivilDate.parse("2026-06-19"))
        #expect(!forecast.runsOutBeforeRenewal)
    }

    @Test func aShortHistoryUsesWhatThereIs() {
        let forecast = Self.forecast(Self.history[0])
        #expect(forecast.trailingPeriods == 1)
        #expect(forecast.trailingDays == 31)
        #expect(forecast.burnPerDayTenths == 2903)
    }

    @Test func nothingUsedNeverRunsOutAndADeficitHasRunOut() {
        var idle = Self.period("2026-04-01", "2026-05-01", usage: 0, next: (10, 0, 0, 0))
        var forecast = Forecast.make(
            record: idle, history: [idle.brief], nextRenewal: CivilDate.parse("2026-06-01")!, queue: nil,
            closedThrough: CivilDate.parse("2026-05-10")!)
        #expect(forecast.daysLeft == nil)
        #expect(forecast.runOutDate == nil)
        idle.usageCredits = 5
        idle.nextCurrent = 0
        idle.nextDeficit = 40
        forecast = Forecast.make(
            record: idle, history: [idle.brief], nextRenewal: CivilDate.parse("2026-06-01")!, queue: nil,
            closedThrough: CivilDate.parse("2026-05-10")!)
        #expect(forecast.balance == -40)
        #expect(forecast.daysLeft == 0)
        #expect(forecast.runOutDate == idle.periodEnd)
        #expect(forecast.runsOutBeforeRenewal)
    }

    @Test func aRunOutBeyondTenYearsHasNoDate() {
        let slow = Self.period("2026-04-01", "2026-05-01", usage: 1, next: (1_000_000, 0, 0, 0))
        let forecast = Forecast.make(
            record: slow, history: [slow.brief], nextRenewal: CivilDate.parse("2026-06-01")!, queue: nil,
            closedThrough: CivilDate.parse("2026-05-10")!)
        #expect(forecast.daysLeft == 30_000_000)
        #expect(forecast.runOutDate == nil)
    }

    @Test func theQueueIsMeasuredAgainstTheBalanceAtTheClose() throws {
        let jobs = [
            Forecast.QueuedLine(jobId: "a", action: "set_3d", label: "3-D", credits: 700),
            Forecast.QueuedLine(jobId: "b", action: "tts", label: "TTS", credits: 500),
        ]
        let short = try #require(
            Self.forecast(
                Self.history[3], queue: (jobs, Ledger.Balances(current: 600, bank: 300, topUp: 150, deficit: 50))
            ).queue)
        #expect(short.balance == 1000)
        #expect(short.credits == 1200)
        #expect(!short.covered)
        #expect(short.shortfall == 200)
        #expect(short.balanceAfter == -200)
        #expect(short.runOutDateAfter == CivilDate.parse("2026-05-11"))
        // Without a stored balance the statement's own balance (1,000 after the renewal) is used.
        let covered = try #require(Self.forecast(Self.history[3], queue: (Array(jobs.prefix(1)), nil)).queue)
        #expect(covered.covered)
        #expect(covered.shortfall == 0)
        #expect(covered.balanceAfter == 300)
        // 300 credits at 1800 per 89 days last floor(300 × 89 / 1800) = 14 days from the renewal.
        #expect(covered.runOutDateAfter == CivilDate.parse("2026-05-15"))
    }

    @Test func renewalsFollowTheClampedCalendar() {
        let start = CivilDate.parse("2026-01-31")!
        #expect(
            Statement.renewal(onOrAfter: CivilDate.parse("2026-02-15")!, start: start) == CivilDate.parse("2026-02-28"))
        #expect(
            Statement.renewal(onOrAfter: CivilDate.parse("2026-03-01")!, start: start) == CivilDate.parse("2026-03-31"))
        #expect(Statement.renewal(onOrAfter: CivilDate.parse("2025-12-01")!, start: start) == start)
        #expect(
            Statement.nextRenewal(after: CivilDate.parse("2026-02-28")!, start: start) == CivilDate.parse("2026-03-31"))
    }

    @Test func statementsCarryTheForecastAndLotExpiries() throws {
        let output = try ReportFixture.close()
        let json = try ReportFixture.text(output + "/statements/amp-films/2026-04-10.json")
        let statement = try JSONDecoder().decode(Statement.self, from: Data(json.utf8))
        // Standard plans expire banked credits after 6 months, at the renewal on or after that date.
        #expect(statement.bankLots.map(\.expiresOn) == [CivilDate.parse("2026-10-10")])
        #expect(statement.forecast.trailingPeriods == 3)
        #expect(statement.forecast.trailingUsage == 1200 + 2600 + 500)
        #expect(statement.forecast.queue?.credits == 150)
        #expect(statement.forecast.queue?.covered == true)
        // Only the org's latest statement of the close shows the queue.
        let earlier = try ReportFixture.text(output + "/statements/amp-films/2026-03-10.json")
        #expect(try JSONDecoder().decode(Statement.self, from: Data(earlier.utf8)).forecast.queue == nil)
    }
}
