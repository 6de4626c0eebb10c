// Proves test folders do not outlive their process: the roots of dead test processes are swept,
// a live process's root is kept, and removing a tree never follows a link out of it.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct TestScratchTests {
    @Test func theRootOfADeadProcessIsSweptAndALiveOneKept() throws {
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = TestScratch.base + "/run-\(finished.processIdentifier)-sweep1"
        let live = TestScratch.base + "/run-\(getpid())-sweep2"
        for folder in [dead, live] {
            makeTestFolder(folder)
            writeFile(folder + "/close.csv", "x\n")
        }
        defer { removeTree(live) }

        TestScratch.sweepAbandoned()
        #expect(folderEntries(dead) == nil)
        #expect(folderEntries(live) == ["close.csv"])
        #expect(folderEntries(TestScratch.root) != nil, "this process's own root survives a sweep")
    }

    @Test(arguments: [
        ("run-123-AbC9xz", pid_t(123)), ("run-abc-AbC9xz", nil), ("01-anchor-month-end-1234", nil),
        ("run-123", nil),
    ])
    func onlyRootNamesHaveAnOwner(_ name: String, _ owner: pid_t?) {
        #expect(TestScratch.runOwner(name) == owner)
    }

    @Test func removingATreeLeavesWhatItsLinksPointAt() {
        let outside = makeTempFolder()
        writeFile(outside + "/keep.txt", "keep\n")
        let tree = makeTempFolder()
        makeTestFolder(tree + "/inner")
        #expect(symlink(outside, tree + "/inner/link") == 0)
        removeTree(tree)
        #expect(folderEntries(tree) == nil)
        #expect(folderEntries(outside) == ["keep.txt"])
    }
}
