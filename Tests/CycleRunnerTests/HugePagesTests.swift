// Proves when a command starts again with glibc's huge-page tunable: only the close and what-if
// commands, only when the kernel gives huge pages on request, never over a setting the user
// made nor with a preloaded library (valgrind's), keeping the user's other tunables; and that the built binary does so and writes the
// same files either way.
import Foundation
import Testing

@testable import CycleRunnerCore

@Suite struct HugePagesTests {
    static let madvise = "always [madvise] never\n"

    @Test(
        arguments: [
            // The two commands that read a whole input folder, in the kernel's "madvise" mode.
            (nil, madvise, "close", "glibc.malloc.hugetlb=1"),
            (nil, madvise, "whatif", "glibc.malloc.hugetlb=1"),
            ("", madvise, "close", "glibc.malloc.hugetlb=1"),
            // The user's other tunables are kept, in their order.
            ("glibc.malloc.arena_max=2", madvise, "close", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
            ("glibc.malloc.arena_max=2:", madvise, "close", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
            // Any setting of the tunable is the user's, and the second start sees its own.
            ("glibc.malloc.hugetlb=0", madvise, "close", nil),
            ("glibc.malloc.hugetlb=1", madvise, "close", nil),
            ("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2", madvise, "close", nil),
            ("glibc.malloc.hugetlb", madvise, "close", nil),
            // A tunable whose name only begins like it is another tunable.
            ("glibc.malloc.hugetlbx=0", madvise, "close", "glibc.malloc.hugetlbx=0:glibc.malloc.hugetlb=1"),
            // The kernel gives every process huge pages already, or none, or cannot be asked.
            (nil, "[always] madvise never\n", "close", nil),
            (nil, "always madvise [never]\n", "close", nil),
            (nil, nil, "close", nil),
            // Small commands, a bare program name and an option are left alone.
            (nil, madvise, "verify", nil),
            (nil, madvise, "balances", nil),
            (nil, madvise, "generate", nil),
            (nil, madvise, "--help", nil),
            (nil, madvise, nil, nil),
        ] as [(String?, String?, String?, String?)])
    func tunablesFor(current: String?, mode: String?, command: String?, expected: String?) {
        #expect(HugePages.tunables(current: current, transparentHugePages: mode, command: command) == expected)
        #expect(
            HugePages.tunables(current: current, transparentHugePages: mode, command: command, preloaded: "")
                == expected)
    }

    /// A preloaded library (valgrind's, or another allocator) leaves the process as it is.
    @Test(arguments: [
        "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so:/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so",
        "libjemalloc.so.2",
    ])
    func aPreloadedLibraryLeavesTheProcessAlone(preloaded: String) {
        #expect(
            HugePages.tunables(
                current: nil, transparentHugePages: Self.madvise, command: "close", preloaded: preloaded) == nil)
    }

    @Test(
        arguments: [
            (nil, false), ("", false), ("glibc.malloc.hugetlb=1", true), ("glibc.malloc.hugetlb=0", false),
            ("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", true), ("glibc.malloc.hugetlb=10", false),
        ] as [(String?, Bool)])
    func isOnReadsTheSetting(current: String?, on: Bool) {
        #expect(HugePages.isOn(current: current) == on)
    }

    /// The kernel's mode on this machine, which decides what the binary should do.
    static var kernelMode: String? {
        try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)
    }

    @Test func theBinaryStartsAgainOnlyWhenItShouldAndWritesTheSameFiles() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 91)
        var snapshots: [[String: Data]] = []
        for setting in [nil, "glibc.malloc.hugetlb=0"] as [String?] {
            let output = TestPaths.temporaryFolder("huge-pages")
            // An empty variable stands for an unset one: glibc reads it the same way.
            let result = try CLI.run(
                ["close", "--through", last.description, "--input", input, "--output", output, "--timings"],
                environment: ["GLIBC_TUNABLES": setting ?? ""])
            #expect(result.status == 0, "\(result.stderr)")
            let expected = HugePages.tunables(current: setting, transparentHugePages: Self.kernelMode, command: "close")
            let said = expected == nil ? "huge pages: not asked for" : "huge pages: asked for"
            #expect(result.stderr.contains(said), "\(result.stderr)")
            snapshots.append(Fixtures.snapshot(output))
        }
        #expect(snapshots[0] == snapshots[1])
        #expect(!snapshots[0].isEmpty)
    }
}
