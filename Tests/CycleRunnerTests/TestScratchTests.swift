// Proves test folders do not outlive their process: a root whose lock no process holds is swept,
// a held one is kept (this process's own included), roots of an earlier version are judged by
// their process, a link is never taken for a folder of ours, and removing a tree never follows
// a link out of it.
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct TestScratchTests {
    /// A root in the base folder, as `TestScratch.root` makes one, with a lock file or not.
    static func makeRoot(_ name: String, withLock: Bool) -> String {
        let path = TestScratch.base + "/" + name
        makeTestFolder(path)
        writeFile(path + "/close.csv", "x\n")
        if withLock { writeFile(path + "/.lock", "") }
        return path
    }

    @Test func aRootNobodyHoldsIsSweptAndAHeldOneKept() {
        // The base exists once this process has its own root.
        let own = TestScratch.root
        let abandoned = Self.makeRoot("run-1-sweep1", withLock: true)
        let held = Self.makeRoot("run-1-sweep2", withLock: true)
        defer { removeTree(held) }
        let lock = open(held + "/.lock", O_RDWR | O_CLOEXEC)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }

        TestScratch.sweepAbandoned()
        #expect(folderEntries(abandoned) == nil)
        #expect(folderEntries(held)?.sorted() == [".lock", "close.csv"])
        #expect(folderEntries(own) != nil, "this process's own root survives a sweep")
    }

    @Test func aRootWithoutALockIsJudgedByItsProcess() {
        _ = TestScratch.root
        // No process has the largest process id (Linux allows at most 2^22).
        let gone = Self.makeRoot("run-\(Int32.max)-sweep3", withLock: false)
        let running = Self.makeRoot("run-\(getpid())-sweep4", withLock: false)
        defer { removeTree(running) }

        TestScratch.sweepAbandoned()
        #expect(folderEntries(gone) == nil)
        #expect(folderEntries(running) == ["close.csv"])
    }

    @Test func aLinkIsNotAFolderOfOurs() {
        let folder = makeTempFolder()
        #expect(symlink(folder, folder + "-link") == 0)
        defer { unlink(folder + "-link") }
        #expect(TestScratch.isPrivateFolder(folder))
        #expect(!TestScratch.isPrivateFolder(folder + "-link"))
        #expect(!TestScratch.isPrivateFolder(folder + "/missing"))
    }

    @Test(arguments: [
        ("run-123-AbC9xz", pid_t(123)), ("run-abc-AbC9xz", nil), ("01-anchor-month-end-1234", nil),
        ("run-123", nil),
    ])
    func onlyRootNamesHaveAnOwner(_ name: String, _ owner: pid_t?) {
        #expect(TestScratch.runOwner(name) == owner)
    }

    @Test(arguments: [
        ("cycle-runner-tests-0XYc4L", true), ("cycle-runner-tests-0", false),
        ("cycle-runner-tests-0-123-AbC9xz", false), ("cycle-runner-tests-ab_def", false), ("other-0XYc4L", false),
    ])
    func onlyMkdtempNamesAreLegacyFolders(_ name: String, _ legacy: Bool) {
        #expect(TestScratch.isLegacyFolderName(name) == legacy)
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
