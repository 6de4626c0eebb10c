// Proves that the close's event order (sorted by instant, then ties by §6.2's rule) is exactly
// what a stable sort of the events by `OrgEvent.precedes` gives, ties and equal events included
// (the engine taking positions in that order is `UsageStepTests`'); the instants' own order is a
// stable sort whether or not their span packs into one integer.
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct EventOrderTests {
    /// Few instants, kinds, ids and sequences, so that most events tie with another on the
    /// instant and many on every field.
    static func event(_ fields: [Int]) -> OrgEvent {
        let instant = Instant(microseconds: Int64(fields[0] % 4) * 1_000_000)
        let kinds: [EventKind] = [.topUpExpiry, .planChange, .renewal, .topUpPurchase, .refund, .usage]
        let ids = ["", "a", "b", "e\u{301}", "\u{e9}"]
        return OrgEvent(
            kind: kinds[fields[1] % kinds.count], instant: instant,
            originalInstant: Instant(microseconds: instant.microseconds - Int64(fields[2] % 2)),
            id: ids[fields[3] % ids.count], sequence: Int32(fields[4] % 3), late: false,
            payload: .usage(credits: Int64(fields[5]), actionIndex: 0, userIndex: 0))
    }

    @Test func matchesAStableSortByPrecedes() async {
        let fields = Gen.int(in: 0...1000).array(of: 6...6)
        await propertyCheck(count: 300, input: fields.array(of: 0...60)) { rows in
            let events = rows.map(Self.event)
            let expected = events.indices.sorted { OrgEvent.precedes(events[$0], events[$1]) }
            #expect(CloseWork.eventOrder(events) == expected)
        }
    }

    /// Instants near each other (packed into one integer per event), spread over all of Int64
    /// (too wide to pack: sorted as pairs), and a few extremes mixed in with either.
    @Test func instantsAreOrderedAsAStableSortOrdersThem() async {
        let near = Gen.int(in: -3...3).map { Int64($0) * 1_000_000 + 1_767_225_600_000_000 }
        let wide = Gen.int(in: Int.min...Int.max).map { Int64($0) }
        let extreme = Gen<Int64?>.element(of: [Int64.min, Int64.max, 0, -1]).map { $0! }
        let mixed = zip(Gen.int(in: 0...9), near, wide, extreme).map { pick, near, wide, extreme in
            pick == 0 ? extreme : pick < 6 ? near : wide
        }
        await propertyCheck(count: 300, input: near.array(of: 0...70)) { instants in
            #expect(CloseWork.instantOrder(instants) == instants.indices.sorted { instants[$0] < instants[$1] })
        }
        await propertyCheck(count: 300, input: mixed.array(of: 0...70)) { instants in
            #expect(CloseWork.instantOrder(instants) == instants.indices.sorted { instants[$0] < instants[$1] })
        }
        let packed = (0..<5_000).map { Int64(($0 * 7_919) % 1_000) }
        #expect(CloseWork.instantOrder(packed) == packed.indices.sorted { packed[$0] < packed[$1] })
    }

    @Test func keepsFileOrderAmongEqualEvents() {
        let events = Array(repeating: Self.event([1, 5, 0, 1, 0, 7]), count: 5)
        #expect(CloseWork.eventOrder(events) == [0, 1, 2, 3, 4])
    }
}
