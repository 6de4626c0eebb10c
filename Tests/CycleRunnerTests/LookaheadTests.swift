// Proves `Lookahead`: every value arrives once and in order however many threads produce them
// (the taking thread among them), no value is started more than `ahead` places beyond the next
// one taken, and `cancel` stops producers that would go on; what the producer holds is released
// once every value is started, before the lookahead itself (the usage id blocks' producer holds
// every usage row).
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

    /// The taking thread does not wait for a value no producer has started: it makes it, so
    /// with no producer at all every value still arrives, in order, and none twice.
    @Test(arguments: [(0, 1), (7, 1), (100, 3)])
    func theTakingThreadMakesWhatNoProducerStarted(count: Int, ahead: Int) {
        let tally = Tally()
        let values = Lookahead<Int>(ahead: ahead) {
            (
                count,
                { index in
                    tally.produced.add(1, ordering: .sequentiallyConsistent)
                    return index * 2
                }
            )
        }
        defer { values.cancel() }
        var received: [Int] = []
        while let value = values.next() { received.append(value) }
        #expect(received == (0..<count).map { $0 * 2 })
        #expect(tally.produced.load(ordering: .sequentiallyConsistent) == count)
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
        // Two values taken and two places ahead: at most values 0 to 3 were ever started.
        let produced = tally.produced.load(ordering: .sequentiallyConsistent)
        #expect(produced <= 4)
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
        // Three values, four places ahead: all are started before any is taken, and the
        // producing threads drop their own references as they return.
        let deadline = Date().addingTimeInterval(10)
        while weakHeld != nil, Date() < deadline { usleep(1_000) }
        #expect(weakHeld == nil)
        var received: [Int] = []
        while let value = values.next() { received.append(value) }
        #expect(received == [0, 1, 2])
    }

    /// With no value to make, the producer is dropped as soon as it is known, not kept for the
    /// lookahead's lifetime.
    @Test func aProducerOfNoValuesIsReleasedOnceKnown() {
        weak var weakHeld: Held?
        let values: Lookahead<Int>
        do {
            let held = Held()
            weakHeld = held
            values = Lookahead(ahead: 4) { (0, { index in withExtendedLifetime(held) { index } }) }
        }
        #expect(values.next() == nil)
        #expect(weakHeld == nil)
    }

    /// A cancel from another thread while the taking thread runs `prepare` ends its wait: the
    /// taker finds the lookahead cancelled once `prepare` returns, rather than waiting forever.
    @Test func aCancelWhileTheTakerPreparesEndsItsWait() {
        let preparing = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let values = Lookahead<Int>(ahead: 2) {
            preparing.signal()
            proceed.wait()
            return (10, { $0 })
        }
        let finished = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var value: Int?? }
        let received = Box()
        Thread {
            received.value = values.next()
            finished.signal()
        }.start()
        #expect(preparing.wait(timeout: .now() + 10) == .success)
        values.cancel()
        proceed.signal()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(received.value == .some(nil))
    }

    /// Feeder threads run every job, in order, at nice 5 on Linux, and end after the last.
    @Test func feedersRunEveryJobInOrderAtALowerPriority() {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            // The threads themselves, not their identifiers: a thread that has ended could
            // otherwise leave its address to the next one made.
            var entries: [(thread: Thread, job: Int, niceness: Int32)] = []
            func add(_ job: Int) {
                #if os(Linux)
                    let niceness = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                #else
                    let niceness: Int32 = 5
                #endif
                lock.lock()
                entries.append((Thread.current, job, niceness))
                lock.unlock()
            }
        }
        let log = Log()
        let ended = DispatchSemaphore(value: 0)
        Feeders.run([{ log.add(0) }, { log.add(1) }, { log.add(2) }, { ended.signal() }])
        let threads = ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<threads { #expect(ended.wait(timeout: .now() + 10) == .success) }
        let byThread = Dictionary(grouping: log.entries) { ObjectIdentifier($0.thread) }
        #expect(byThread.count == threads)
        #expect(byThread.values.allSatisfy { $0.map(\.job) == [0, 1, 2] })
        #expect(log.entries.allSatisfy { $0.niceness == 5 })
    }

    struct EncodingFailed: Error {}

    /// A row that cannot be encoded stops the inserts with its error once the rows before it
    /// are in, and cancelling lets the feeders end.
    @Test func anEncodingErrorReachesTheInsertsAndTheFeedersEnd() {
        let rows = EncodedRows(Array(0..<5_000)) { item in
            if item == 2_500 { throw EncodingFailed() }
            return String(item)
        }
        let ended = DispatchSemaphore(value: 0)
        Feeders.run([rows.produce, { ended.signal() }])
        var inserted: [Int] = []
        #expect(throws: EncodingFailed.self) {
            try rows.insertEach { text in
                #expect(text.pointee == String(inserted.count))
                inserted.append(inserted.count)
            }
        }
        rows.cancel()
        // Rows are encoded in chunks of 1,024: the chunk holding row 2,500 fails whole.
        #expect(inserted == Array(0..<2_048))
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            #expect(ended.wait(timeout: .now() + 10) == .success)
        }
    }
}
