// Proves `Lookahead`: every value arrives once and in order however many threads produce them,
// no value is started more than `ahead` places beyond the next one taken, and `cancel` stops
// producers that would go on; what the producer holds is released once every value is started,
// before the lookahead itself (the usage id blocks' producer holds every usage row).
import Foundation
import Synchronization
import Testing

@testable import CycleRunnerCore

struct LookaheadTests {
    /// Counts shared by the producers and the test.
    final class Tally: Sendable {
        let produced = Atomic<Int>(0)
        let taken = Atomic<Int>(0)
        let overrun = Atomic<Bool>(false)
    }

    @Test(arguments: [(0, 1, 1), (1, 1, 2), (10, 1, 1), (100, 3, 2), (1_000, 8, 3), (1_000, 2, 4)])
    func everyValueArrivesOnceInOrder(count: Int, ahead: Int, threads: Int) {
        let tally = Tally()
        let values = Lookahead<Int>(ahead: ahead) {
            (
                count,
                { index in
                    // The test counts a value as taken just after `next` returns it, so its count
                    // may trail the lookahead's by the one value being handed over.
                    if index >= tally.taken.load(ordering: .sequentiallyConsistent) + 1 + ahead {
                        tally.overrun.store(true, ordering: .sequentiallyConsistent)
                    }
                    tally.produced.add(1, ordering: .sequentiallyConsistent)
                    return index
                }
            )
        }.start(threads: threads)
        defer { values.cancel() }
        var received: [Int] = []
        while let value = values.next() {
            tally.taken.add(1, ordering: .sequentiallyConsistent)
            received.append(value)
        }
        #expect(received == Array(0..<count))
        #expect(values.next() == nil)
        let overran = tally.overrun.load(ordering: .sequentiallyConsistent)
        let produced = tally.produced.load(ordering: .sequentiallyConsistent)
        #expect(!overran)
        #expect(produced == count)
    }

    @Test func cancelStopsTheProducers() {
        let finished = DispatchSemaphore(value: 0)
        let tally = Tally()
        let values = Lookahead<Int>(ahead: 2) {
            (
                1_000_000,
                { index in
                    tally.produced.add(1, ordering: .sequentiallyConsistent)
                    return index
                }
            )
        }
        for _ in 0..<2 {
            DispatchQueue.global().async {
                values.produce()
                finished.signal()
            }
        }
        #expect(values.next() == 0)
        #expect(values.next() == 1)
        values.cancel()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        let produced = tally.produced.load(ordering: .sequentiallyConsistent)
        #expect(produced <= 6)
    }

    final class Held: Sendable {}

    @Test func whatTheProducerHoldsIsReleasedOnceEveryValueIsStarted() {
        weak var weakHeld: Held?
        let values: Lookahead<Int>
        do {
            let held = Held()
            weakHeld = held
            values = Lookahead(ahead: 4) { (3, { index in withExtendedLifetime(held) { index } }) }
        }
        #expect(weakHeld != nil)
        values.start(threads: 2)
        var received: [Int] = []
        while let value = values.next() { received.append(value) }
        #expect(received == [0, 1, 2])
        // The producing threads drop their own references as they return.
        let deadline = Date().addingTimeInterval(10)
        while weakHeld != nil, Date() < deadline { usleep(1_000) }
        #expect(weakHeld == nil)
        withExtendedLifetime(values) {}
    }
}
