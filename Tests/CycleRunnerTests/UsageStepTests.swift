// Proves that the engine given an org's usage rows as plain steps beside its other events runs
// exactly as the engine given every event as an `OrgEvent` (the same state, periods, documents,
// and the same rejections at the same places), and that the period's list of most expensive
// events is kept as inserting each event at its place and dropping the eleventh kept it.
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct UsageStepTests {
    /// One generated event: hours after 2026-01-01, a kind, a number for its details, and
    /// whether a usage row is late (its original instant a few hours earlier).
    typealias Row = (hours: Int, kind: Int, detail: Int, late: Bool)

    /// Other events first, then usage, as the close lays them out; plan changes go up to
    /// enterprise and down to standard, top-ups are refused on standard, refunds name an
    /// earlier purchase or none.
    static func events(_ rows: [Row]) -> (others: [OrgEvent], usage: [OrgEvent]) {
        let start = at("2026-01-01T00:00:00Z").microseconds
        var others: [OrgEvent] = []
        var usage: [OrgEvent] = []
        for (index, row) in rows.enumerated() {
            let instant = Instant(microseconds: start + Int64(row.hours) * 3_600_000_000)
            switch row.kind {
            case 0:
                others.append(
                    OrgEvent(
                        kind: .planChange, instant: instant, originalInstant: instant, id: "", sequence: Int32(index),
                        late: false,
                        payload: .planChange(PlanID(row.detail % 2 == 0 ? "enterprise" : "standard"))))
            case 1:
                others.append(
                    OrgEvent(
                        kind: .topUpPurchase, instant: instant, originalInstant: instant, id: "p\(index)",
                        sequence: Int32(index), late: false, payload: .topUp(PurchaseID("p\(index)"), PackID("pack-1k"))
                    ))
            case 2:
                others.append(
                    OrgEvent(
                        kind: .refund, instant: instant, originalInstant: instant, id: "r\(index)",
                        sequence: Int32(index), late: false,
                        payload: .refund(refundId: "r\(index)", purchaseId: PurchaseID("p\(row.detail % (index + 1))")))
                )
            default:
                let original = row.late ? Instant(microseconds: instant.microseconds - 7_200_000_000) : instant
                usage.append(
                    OrgEvent(
                        kind: .usage, instant: instant, originalInstant: original, id: "e\(row.detail % 40)",
                        sequence: Int32(index), late: row.late,
                        payload: .usage(
                            credits: Int64(row.detail), actionIndex: Int32(row.kind % 2),
                            userIndex: Int32(row.detail % 3))))
            }
        }
        return (others, usage)
    }

    /// The usage events as the close gives them to the engine: row `i` is event `i`.
    static func steps(_ usage: [OrgEvent]) -> [UsageStep] {
        usage.enumerated().map { row, event -> UsageStep in
            guard case .usage(let credits, let actionIndex, let userIndex) = event.payload else {
                preconditionFailure("usage events only")
            }
            return UsageStep(
                instant: event.instant, originalInstant: event.originalInstant, credits: credits, row: Int32(row),
                userIndex: userIndex, actionIndex: actionIndex, late: event.late)
        }
    }

    @Test func stepsRunAsUsageEvents() async {
        // Starts on the 10th, so the events of the first nine days come before the start.
        let profile = testProfile(plan: "business", start: "2026-01-10")
        let rows = zip(Gen.int(in: 0...(80 * 24)), Gen.int(in: 0...6), Gen.int(in: 0...400), Gen.bool)
            .map { Row(hours: $0.0, kind: $0.1, detail: $0.2, late: $0.3) }
        await propertyCheck(count: 80, input: rows.array(of: 0...90)) { rows in
            let (others, usage) = Self.events(rows)
            let all = others + usage
            let order = CloseWork.eventOrder(all)
            let steps = Self.steps(usage)
            let horizon = Instant(date: day("2026-04-01"))
            // u1 may use credits, u2 may not, u3 is not a listed member.
            let context = EngineContext(
                catalog: testCatalog, users: ["u1", "u2", "u3"], permissions: ["u1": true, "u2": false])
            do {
                let asEvents = try Engine.run(
                    state: nil, profile: profile, events: order.map { all[$0] }, horizon: horizon, context: context)
                let (asSteps, rejected) = try Engine.run(
                    state: nil, profile: profile, others: others, usage: steps, order: order,
                    usageId: { usage[Int($0)].id }, horizon: horizon, context: context)
                #expect(asSteps.state == asEvents.state)
                #expect(asSteps.periods == asEvents.periods)
                #expect(asSteps.documents == asEvents.documents)
                #expect(asSteps.outcomes.isEmpty)
                let expected = asEvents.outcomes.enumerated().compactMap { position, outcome -> String? in
                    guard case .rejected(let rejection) = outcome else { return nil }
                    return "\(position) \(rejection.text)"
                }
                #expect(rejected.map { "\($0.position) \($0.rejection.text)" } == expected)
            } catch {
                Issue.record("the engine failed: \(error)")
            }
        }
    }

    /// The generated runs must reach what they are meant to test: rows before the start are
    /// rejected, and periods fill their lists of ten.
    @Test func generatedRunsRejectEarlyRowsAndFillTheLists() throws {
        let rows = (0..<400).map { Row(hours: $0 * 5, kind: 3 + $0 % 4, detail: ($0 * 7_919) % 400, late: $0 % 9 == 0) }
        let (others, usage) = Self.events(rows)
        let all = others + usage
        let steps = Self.steps(usage)
        let (run, rejected) = try Engine.run(
            state: nil, profile: testProfile(plan: "business", start: "2026-01-10"), others: others, usage: steps,
            order: CloseWork.eventOrder(all), usageId: { usage[Int($0)].id }, horizon: Instant(date: day("2026-04-01")),
            context: EngineContext(catalog: testCatalog, users: ["u1", "u2", "u3"], permissions: nil))
        #expect(rejected.contains { $0.rejection.reason == .beforeOrgStart })
        #expect(run.periods.contains { $0.mostExpensive.count == PeriodAccumulator.notableCount })
    }

    /// The list as the engine kept it before: insert at the first place whose event has fewer
    /// credits (or as many, later), then drop the eleventh.
    static func insertedAndTrimmed(_ list: [NotableEvent], _ event: NotableEvent) -> [NotableEvent] {
        guard PeriodAccumulator.mayNote(credits: event.credits, occurredAt: event.occurredAt, in: list) else {
            return list
        }
        var list = list
        let position =
            list.firstIndex {
                $0.credits < event.credits || ($0.credits == event.credits && $0.occurredAt > event.occurredAt)
            } ?? list.count
        list.insert(event, at: position)
        if list.count > PeriodAccumulator.notableCount { list.removeLast() }
        return list
    }

    @Test func notedEventsKeepTheOrderOfInsertingAndTrimming() async {
        // Few credits and times, so that many events tie on both.
        let events = zip(Gen.int(in: 0...12), Gen.int(in: 0...5), Gen.int(in: 0...1_000)).map { credits, time, id in
            NotableEvent(
                eventId: "e\(id)", occurredAt: Instant(microseconds: Int64(time) * 1_000_000), action: "render",
                user: "a member with a long name \(id)", credits: Int64(credits), late: id % 2 == 0)
        }
        await propertyCheck(count: 300, input: events.array(of: 0...60)) { events in
            var period = PeriodAccumulator(start: day("2026-01-01"), end: day("2026-02-01"))
            var expected: [NotableEvent] = []
            // Half the runs start from a list longer than ten, as only a damaged ledger could
            // hold: it must keep its length, as inserting and dropping the last did.
            if events.count % 2 == 1 {
                let long = (0..<12).map { rank in
                    NotableEvent(
                        eventId: "x\(rank)", occurredAt: Instant(microseconds: 0), action: "render", user: "u",
                        credits: Int64(12 - rank), late: false)
                }
                period.mostExpensive = long
                expected = long
            }
            for event in events {
                period.note(event)
                expected = Self.insertedAndTrimmed(expected, event)
                #expect(period.mostExpensive == expected)
            }
        }
    }
}
