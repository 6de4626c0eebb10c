// Proves a value handed to freeInBackground(taking:) leaves its variable at once and is released
// on another thread, never on the caller's, whichever thread runs first.
import Dispatch
import Foundation
import Testing

@testable import CycleRunnerCore

@Suite struct BackgroundFreeTests {
    /// Reports, from its deinit, whether it was released on the thread that made it.
    final class Tracked: Sendable {
        let madeOn = pthread_self()
        let onRelease: @Sendable (_ onMaker: Bool) -> Void

        init(onRelease: @escaping @Sendable (Bool) -> Void) { self.onRelease = onRelease }

        deinit { onRelease(pthread_equal(pthread_self(), madeOn) != 0) }
    }

    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var releasedOnMaker: Bool?
        let released = DispatchSemaphore(value: 0)

        func record(_ onMaker: Bool) {
            lock.withLock { releasedOnMaker = onMaker }
            released.signal()
        }

        var onMaker: Bool? { lock.withLock { releasedOnMaker } }
    }

    @Test(arguments: 0..<20)
    func theLastReferenceIsDroppedOnAnotherThread(round: Int) {
        let outcome = Outcome()
        var value: (Tracked, [Int])? = (Tracked(onRelease: outcome.record), Array(0..<round))
        freeInBackground(taking: &value)
        #expect(value == nil)
        #expect(outcome.released.wait(timeout: .now() + 10) == .success)
        #expect(outcome.onMaker == false)
    }
}
