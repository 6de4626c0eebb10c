// Proves what a period records of its usage: each action's events and credits are those of
// the usage events inside the period, and its most expensive events are the ten with the most
// credits, the earlier first among equals, whatever the actions, credits and period boundaries,
// also when late events (applied at a later instant than they occurred) tie with the tenth.
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct PeriodUsageTests {
    struct Spend: Sendable {
        var minute: Int
        var actionIndex: Int32
        var credits: Int64
        var late: Bool
    }

    static let spend = zip(
        Gen.int(in: 0...(89 * 24 * 60)), Gen.int(in: 0...(testCatalog.actions.count - 1)), Gen.int(in: 0...12),
        Gen.int(in: 0...3)
    ).map { Spend(minute: $0, actionIndex: Int32($1), credits: Int64($2), late: $3 == 0) }

    @Test func periodsRecordTheirOwnUsageByActionAndTheirMostExpensiveEvents() async {
        await propertyCheck(count: 400, input: Self.spend.array(of: 0...160)) { spends in
            let profile = testProfile(plan: "business", start: "2026-01-01")
            let start = at("2026-01-01T00:00:00Z")
            // Late events of a month are applied at its 20th, as a close's horizon would apply them.
            func lateInstant(_ instant: Instant) -> Instant {
                let date = instant.date
                let applied = Instant(date: CivilDate(year: date.year, month: date.month, day: 20))
                return max(applied, instant)
            }
            let events = spends.enumerated().map { index, spend in
                let occurred = Instant(microseconds: start.microseconds + Int64(spend.minute) * 60_000_000)
                let id = "e\(index)"
                let instant = spend.late ? lateInstant(occurred) : occurred
                return OrgEvent(
                    kind: .usage, instant: instant, originalInstant: occurred, id: id, sequence: Int32(index),
                    late: instant != occurred,
                    payload: .usage(credits: spend.credits, actionIndex: spend.actionIndex, userIndex: 0))
            }
            let run: OrgRun
            do {
                run = try runOrg(profile, events: events, through: "2026-03-31")
            } catch {
                Issue.record("the engine failed: \(error)")
                return
            }
            let ordered = events.sorted(by: OrgEvent.precedes)
            var checked: [(start: CivilDate, end: CivilDate, byAction: [String: ActionUsage], top: [NotableEvent])] =
                run.periods.map { ($0.periodStart, $0.periodEnd, $0.usageByAction, $0.mostExpensive) }
            if let open = run.state.period {
                checked.append((open.start, open.end, open.usageByAction, open.mostExpensive))
            }
            #expect(checked.count == 3)
            for period in checked {
                let inside = ordered.filter {
                    $0.instant >= Instant(date: period.start) && $0.instant < Instant(date: period.end)
                }
                var expected: [String: ActionUsage] = [:]
                var notable: [NotableEvent] = []
                for event in inside {
                    guard case .usage(let credits, let actionIndex, _) = event.payload else { continue }
                    let action = testCatalog.actions[Int(actionIndex)].id.rawValue
                    expected[action, default: ActionUsage()].add(credits: credits)
                    notable.append(
                        NotableEvent(
                            eventId: event.id, occurredAt: event.originalInstant, action: action, user: "u1",
                            credits: credits, late: event.late))
                }
                // A stable sort of the events in the order they applied.
                let top = notable.enumerated().sorted { lhs, rhs in
                    if lhs.element.credits != rhs.element.credits { return lhs.element.credits > rhs.element.credits }
                    if lhs.element.occurredAt != rhs.element.occurredAt {
                        return lhs.element.occurredAt < rhs.element.occurredAt
                    }
                    return lhs.offset < rhs.offset
                }.prefix(PeriodAccumulator.notableCount).map(\.element)
                #expect(period.byAction == expected, "usage by action of [\(period.start), \(period.end))")
                #expect(period.top == Array(top), "most expensive of [\(period.start), \(period.end))")
            }
        }
    }
}
