// Proves that `runThisThreadOnlyOnIdleCores` gives the idle-only policy to the thread that calls
// it and to no other: the close's own threads, which start those helpers, keep their priority.
import Foundation
import Synchronization
import Testing

@testable import CycleRunnerCore

struct IdleThreadTests {
    #if os(Linux) && canImport(Glibc)
        /// What a thread saw, read by the test after the thread has signalled.
        final class Seen: Sendable {
            let idleOnly = Atomic<Bool>(false)
        }

        /// Whether a new thread, after running `body`, is idle-only.
        static func newThreadIsIdleOnly(after body: @escaping @Sendable () -> Void) -> Bool {
            let seen = Seen()
            let done = DispatchSemaphore(value: 0)
            Thread {
                body()
                seen.idleOnly.store(isIdleOnly, ordering: .sequentiallyConsistent)
                done.signal()
            }.start()
            done.wait()
            return seen.idleOnly.load(ordering: .sequentiallyConsistent)
        }

        @Test func onlyTheCallingThreadBecomesIdleOnly() {
            let before = isIdleOnly
            let helper = Self.newThreadIsIdleOnly(after: { runThisThreadOnlyOnIdleCores() })
            let after = isIdleOnly
            let next = Self.newThreadIsIdleOnly(after: {})
            #expect(!before)
            #expect(helper)
            // The thread that started it, and a thread it starts next, keep the normal policy.
            #expect(!after)
            #expect(!next)
        }
    #endif
}
