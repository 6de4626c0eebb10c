import Dispatch
import Foundation
import Synchronization

/// Runs `body` for 0..<count on every core and rethrows the first error (a body that cannot
/// throw makes a call that cannot either). For independent work items only: their order is
/// not kept.
///
/// The workers take small blocks of indices in turn, not a fixed share each. The close runs
/// work beside work (the close's tables beside the statements), and a worker whose thread got
/// less of a core than the others held up the caller, who waited for that share with its own
/// done; now the caller takes what the slow worker has not started.
func inParallel<Failure: Error>(_ count: Int, _ body: @Sendable (Int) throws(Failure) -> Void) throws(Failure) {
    guard count > 0 else { return }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let workers = max(1, min(cores, count / 64 + 1))
    let blockSize = max(1, min(64, count / (workers * 8)))
    let failure = FirstError()
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let start = next.add(blockSize, ordering: .relaxed).oldValue
            if start >= count || failure.isSet { return }
            for index in start..<min(start + blockSize, count) {
                do {
                    try body(index)
                } catch {
                    failure.set(error)
                    return
                }
            }
        }
    }
    // Only `body`'s errors are stored, so the first is of its type.
    if let error = failure.error { throw error as! Failure }
}

/// `items.map(transform)` on every core, results in the items' order.
func parallelMap<Item: Sendable, Result: Sendable>(
    _ items: [Item], _ transform: @Sendable (Item) throws -> Result
) throws -> [Result] {
    let results = ResultSlots<Result>(count: items.count)
    try inParallel(items.count) { index in results.set(index, try transform(items[index])) }
    return results.takeValues()
}

/// Slots that workers fill by index; each index is written by exactly one worker.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    /// The value at `index`, moved out of its slot (which is left empty).
    func take(_ index: Int) -> Value {
        lock.lock()
        defer { lock.unlock() }
        guard let value = slots[index].take() else { preconditionFailure("slot \(index) is empty") }
        return value
    }

    /// The values, moved out of the slots (which are left empty): for results holding many
    /// references (an org's periods and documents), copying them retained each one again.
    func takeValues() -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        var taken: [Value] = []
        taken.reserveCapacity(slots.count)
        for index in slots.indices { taken.append(slots[index].take()!) }
        return taken
    }
}

/// The first error of several workers.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stored != nil
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func set(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
    }
}

/// A value another thread will provide, waited for and taken once: taking it leaves no second
/// reference behind, so arrays in it can be changed in place without being copied.
final class Pending<Value: Sendable>: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var value: Value?

    func fulfil(_ value: consuming Value) {
        // Consumed, so the caller's copy is gone before the waiting thread can take the value.
        self.value = consume value
        ready.signal()
    }

    func wait() -> Value {
        ready.wait()
        defer { value = nil }
        return value!
    }

    /// Waits for the value and leaves it in place, for a small value read more than once.
    func read() -> Value {
        ready.wait()
        defer { ready.signal() }
        return value!
    }
}

extension Pending {
    /// Runs `body` on another thread; its result arrives here.
    static func running(_ body: @escaping @Sendable () -> Value) -> Pending<Value> {
        let pending = Pending<Value>()
        DispatchQueue.global().async { pending.fulfil(body()) }
        return pending
    }
}

/// Runs `body` on another thread; what arrives is its error, or nil once it has succeeded.
func inBackground(_ body: @escaping @Sendable () throws -> Void) -> Pending<(any Error)?> {
    Pending.running {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }
}

/// Frees `value` on another thread. A close's render set holds its documents sorted anew and
/// its org profiles (tens of thousands of values, each with references to release); freed on
/// the close's thread, that took 20 ms between the last file staged and the commit, with the
/// other cores idle. The value is moved into a box that only the other thread empties, so the
/// last reference is dropped there.
func freeInBackground<Value: Sendable>(_ value: consuming Value) {
    let box = FreedLater(value)
    DispatchQueue.global().async { box.free() }
}

/// Frees what `variable` holds on another thread and leaves it nil. The value is swapped
/// into the box before the other thread starts, so no reference to it is left on this one,
/// whatever the order the two threads run in.
func freeInBackground<Value: Sendable>(taking variable: inout Value?) {
    let box = FreedLater(taking: &variable)
    DispatchQueue.global().async { box.free() }
}

private final class FreedLater<Value: Sendable>: @unchecked Sendable {
    private var value: Value?

    init(_ value: consuming Value) { self.value = value }

    init(taking variable: inout Value?) { swap(&value, &variable) }

    /// Called once, by one thread.
    func free() { value = nil }
}

/// Values 0..<count produced by some threads for another, which takes them in order; a value
/// is produced only once it is at most `ahead` places beyond the next one to be taken. The
/// ledger's thread inserts rows while other threads encode the next ones; with only the next
/// chunk encoded at a time, it waited for the encoders a fifth of its commit. `prepare`, run
/// once by the first producing thread, gives the count and the function that produces value
/// i. Nothing is produced until threads call `produce()` (the jobs of `Feeders`) or the taker
/// needs a value no thread has started.
/// Call `cancel` once no more values will be taken (on every path, errors included), or the
/// producers wait for room forever.
final class Lookahead<Value: Sendable>: @unchecked Sendable {
    typealias Stage = (count: Int, produce: @Sendable (Int) -> Value)

    private let ahead: Int
    private let condition = NSCondition()
    // Guarded by `condition`. `prepare` and `producer` are dropped as soon as they are no longer
    // needed, with whatever they hold (the usage id blocks' producer holds every usage row).
    private var prepare: (@Sendable () -> Stage)?
    private var count: Int?
    private var producer: (@Sendable (Int) -> Value)?
    private var nextIndex = 0
    private var produced: [Int: Value] = [:]
    private var taken = 0
    private var cancelled = false

    init(ahead: Int, prepare: @escaping @Sendable () -> Stage) {
        self.ahead = max(1, ahead)
        self.prepare = prepare
    }

    /// Produces values on the calling thread, beside any other thread that calls it, until
    /// every value has been started or the lookahead is cancelled.
    func produce() {
        condition.lock()
        defer { condition.unlock() }
        prepareIfNeeded()
        while count == nil, !cancelled { condition.wait() }
        // This thread's own reference: the lookahead's is dropped once every value is started.
        guard let count, let producer else { return }
        while !cancelled, nextIndex < count {
            let index = claim(count)
            while index >= taken + ahead, !cancelled { condition.wait() }
            if cancelled { return }
            make(index, with: producer)
        }
    }

    /// Runs `prepare` on this thread if no thread has yet. Called with the lock held.
    private func prepareIfNeeded() {
        guard let prepare, !cancelled else { return }
        self.prepare = nil
        condition.unlock()
        let stage = prepare()
        condition.lock()
        count = stage.count
        // With no value to make, nothing will claim the last one and drop the producer.
        producer = cancelled || stage.count == 0 ? nil : stage.produce
        condition.broadcast()
    }

    /// Takes the next value no thread has started, and drops the lookahead's producer once
    /// that was the last. Called with the lock held.
    private func claim(_ count: Int) -> Int {
        let index = nextIndex
        nextIndex += 1
        if nextIndex >= count { producer = nil }
        return index
    }

    /// Produces value `index` outside the lock. Called with the lock held.
    private func make(_ index: Int, with producer: @Sendable (Int) -> Value) {
        condition.unlock()
        let value = producer(index)
        condition.lock()
        if !cancelled { produced[index] = value }
        condition.broadcast()
    }

    /// The next value; nil once every value has been taken. Rather than wait while a value it
    /// will take next is not started (the producers are behind, or none has reached this
    /// lookahead yet), the calling thread produces it, as one more producer: the ledger's
    /// thread waited a sixth of its commit for the org and period encoders.
    func next() -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = produced.removeValue(forKey: taken) {
                taken += 1
                condition.broadcast()
                return value
            }
            if cancelled { return nil }
            prepareIfNeeded()
            // A cancel while `prepare` ran (the lock was let go) woke no one: check again.
            if cancelled { return nil }
            if let count, taken >= count { return nil }
            if let count, let producer, nextIndex < count, nextIndex < taken + ahead {
                make(claim(count), with: producer)
                continue
            }
            condition.wait()
        }
    }

    /// Tells the producers to stop; values not taken are dropped.
    func cancel() {
        condition.lock()
        cancelled = true
        produced = [:]
        prepare = nil
        producer = nil
        condition.broadcast()
        condition.unlock()
    }
}

/// Threads of slightly lower priority (nice 5), one per core, for work that feeds a thread on
/// the critical path (the ledger's inserts, the usage reader's merge): when both want a core,
/// Linux's scheduler gives a feeder a third of the other's share, so the feeders do not slow
/// the thread they feed, and they still get every core it leaves idle. Each thread runs every
/// job in order (a job is work shared by all of them, such as a `Lookahead`'s `produce`) and
/// ends after the last: a nice value stays with its thread (Dispatch's threads are reused), and
/// an unprivileged thread cannot lower it again.
enum Feeders {
    static func run(_ jobs: [@Sendable () -> Void]) {
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            Thread {
                lowerThisThreadsPriority(to: 5)
                for job in jobs { job() }
            }.start()
        }
    }
}

/// Lowers the calling thread's priority to nice `niceness` (5, the feeders): while threads of
/// normal priority want every core, Linux's scheduler gives it about a third of a normal
/// thread's share. Linux keeps a nice value per thread, and raising one's own needs no
/// privilege (lowering it again does, so only threads that end with their work call this).
/// Elsewhere, where a nice value is the whole process's, it does nothing, and the thread keeps
/// its priority.
func lowerThisThreadsPriority(to niceness: Int32) {
    #if os(Linux) && canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
    #endif
}

/// Makes the calling thread one that runs only on a core nothing else of the close wants: the
/// early input hash and the invoices written during the commit. On Linux it takes nice 19,
/// and then the `SCHED_IDLE` policy (where that is refused, nice 19 is what it keeps).
///
/// Nice 19 alone was not that. Linux's scheduler gives a running thread its slice before a
/// waking one, whatever their nice values, and the close's threads wake often (the merge waits
/// for parsed parts, the ledger's inserts for encoded rows): a profile of a 2.3 M-row close
/// showed the nice-19 input hash taking 40 % of a core while the two nice-5 parse workers
/// shared the other and a half. A waking thread of normal policy preempts a `SCHED_IDLE` one
/// at once; with it the parse workers had both cores and the hash ran in the gaps, and the
/// reading, engine and ledger took 22 to 82 ms less in alternating closes (bench/README.md).
/// Like a nice value, the policy stays with the thread, and only a thread that ends with its
/// work takes it. `isIdleOnly` says whether the calling thread has it.
///
/// A thread that such a thread starts inherits both the policy and the nice value
/// (`SCHED_RESET_ON_FORK` resets neither), and so would a Dispatch worker it caused to be
/// started: an idle-only thread does its work itself, never through `inParallel`, `Pending`
/// or a queue. Locks it shares with the close's threads are held for a moment each (a counter,
/// a list of files written); with other programs keeping every core busy, a close thread that
/// finds one held waits until the idle-only thread gets a core again.
func runThisThreadOnlyOnIdleCores() {
    #if os(Linux) && canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(0, idleSchedulingPolicy, &parameters)
    #endif
}

#if os(Linux) && canImport(Glibc)
    /// Linux's `SCHED_IDLE`, which Glibc's module does not export by name.
    private let idleSchedulingPolicy: Int32 = 5

    /// Whether the calling thread runs under `SCHED_IDLE` (for tests).
    var isIdleOnly: Bool { sched_getscheduler(0) == idleSchedulingPolicy }
#endif
