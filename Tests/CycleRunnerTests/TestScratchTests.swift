// Proves test folders do not outlive their process: a root whose lock no process holds is swept,
// a held one is kept (this process's own included), roots of an earlier version are judged by
// their process and its loose folders by their age (never a folder that holds roots), a link is
// never taken for a folder of ours, and removing a tree never follows a link out of it.
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct TestScratchTests {
    /// A root in `base`, as `TestScratch.root` makes one, with a lock file or not. Each test
    /// sweeps a base folder of its own: the shared one may hold other test processes' roots.
    static func makeRoot(_ name: String, in base: String, withLock: Bool) -> String {
        let path = base + "/" + name
        makeTestFolder(path)
        writeFile(path + "/close.csv", "x\n")
        if withLock { writeFile(path + "/.lock", "") }
        return path
    }

    @Test func aRootNobodyHoldsIsSweptAndAHeldOneKept() {
        let base = makeTempFolder()
        let abandoned = Self.makeRoot("run-1-sweep1", in: base, withLock: true)
        let held = Self.makeRoot("run-1-sweep2", in: base, withLock: true)
        let lock = open(held + "/.lock", O_RDWR | O_CLOEXEC)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }

        TestScratch.sweepAbandoned(base: base, temporary: base)
        #expect(folderEntries(abandoned) == nil)
        #expect(folderEntries(held)?.sorted() == [".lock", "close.csv"])
    }

    @Test func thisProcesssOwnRootSurvivesASweepOfTheSharedFolder() {
        let own = TestScratch.root
        TestScratch.sweepAbandoned()
        #expect(folderEntries(own) != nil)
    }

    @Test func aRootWithoutALockIsJudgedByItsProcess() {
        let base = makeTempFolder()
        // No process has the largest process id (Linux allows at most 2^22).
        let gone = Self.makeRoot("run-\(Int32.max)-sweep3", in: base, withLock: false)
        let running = Self.makeRoot("run-\(getpid())-sweep4", in: base, withLock: false)

        TestScratch.sweepAbandoned(base: base, temporary: base)
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

    @Test func foldersOfEarlierVersionsGoOnlyWhenOldAndNotHoldingRoots() {
        let temporary = makeTempFolder()
        let base = temporary + "/cycle-runner-tests-0"
        makeTestFolder(base)
        let looseOld = temporary + "/cycle-runner-tests-AbC123"
        let looseNew = temporary + "/cycle-runner-tests-XyZ789"
        let someonesBase = temporary + "/cycle-runner-tests-Ab1000"
        let legacyBase = temporary + "/cycle-runner-tests"
        for folder in [looseOld, looseNew, someonesBase, legacyBase] { makeTestFolder(folder) }
        makeTestFolder(someonesBase + "/run-1-AbCdEf")
        makeTestFolder(legacyBase + "/01-anchor-month-end-1234")
        let stale = Self.makeRoot("run-1-AbCdEf", in: legacyBase, withLock: true)
        let staleCreation = temporary + "/cycle-runner-tests-0/.new-cycle-runner-tests-Qw1234"
        makeTestFolder(staleCreation)
        // Two hours old; what is made after this is new.
        var twoHoursAgo = [
            timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0),
        ]
        for path in [looseOld, someonesBase, legacyBase + "/01-anchor-month-end-1234", staleCreation] {
            #expect(utimensat(AT_FDCWD, path, &twoHoursAgo, AT_SYMLINK_NOFOLLOW) == 0)
        }

        TestScratch.sweepAbandoned(base: base, temporary: temporary)
        #expect(folderEntries(looseOld) == nil)
        #expect(folderEntries(looseNew) != nil, "less than an hour old")
        #expect(folderEntries(someonesBase) != nil, "it holds roots")
        #expect(folderEntries(legacyBase) == nil, "its old folder and its unheld root went, then it")
        #expect(folderEntries(stale) == nil)
        #expect(folderEntries(staleCreation) == nil)
    }

    @Test(arguments: [
        ("cycle-runner-tests-0XYc4L", true), ("cycle-runner-tests-0", false), ("cycle-runner-tests-100000", false),
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
