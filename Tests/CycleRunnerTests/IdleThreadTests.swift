// Proves that `runThisThreadOnlyOnIdleCores` gives the idle-only policy to the thread that calls
// it and to no other: the close's own threads, which start those helpers, keep their priority.
import Foundation
import Testing

@testable import CycleRunnerCore

struct IdleThreadTests {
    #if os(Linux) && canImport(Glibc)
        @Test func onlyTheCallingThreadBecomesIdleOnly() {
            let before = isIdleOnly
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var helperIsIdleOnly = false
            Thread {
                runThisThreadOnlyOnIdleCores()
                helperIsIdleOnly = isIdleOnly
                done.signal()
            }.start()
            done.wait()
            #expect(!before)
            #expect(helperIsIdleOnly)
            #expect(!isIdleOnly)
            // A thread started after it, from this one, starts with the normal policy.
            Thread {
                helperIsIdleOnly = isIdleOnly
                done.signal()
            }.start()
            done.wait()
            #expect(!helperIsIdleOnly)
        }
    #endif
}
