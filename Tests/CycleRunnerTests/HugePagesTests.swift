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
            ("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", true), ("glibc.malloc.hugetlb=2", true),
            ("glibc.malloc.hugetlbx=1", false),
        ] as [(String?, Bool)])
    func isOnReadsTheSetting(current: String?, on: Bool) {
        #expect(HugePages.isOn(current: current) == on)
    }

    static let program = "/opt/cycle-runner/bin/cycle-runner"

    /// The process starts again only as itself, once, where glibc keeps the tunable.
    @Test(
        arguments: [
            (false, false, "glibc 2.36", program, program, true),
            (false, false, "glibc 2.35", program, program, true),
            (false, false, "glibc 3.0", program, program, true),
            (false, false, "glibc 2.34", program, program, false),
            (false, false, "glibc 2.36.9000", program, program, true),
            (false, false, "musl 1.2", program, program, false),
            (false, false, nil, program, program, false),
            // Started again already, or set-user-ID, or its AT_SECURE unknown.
            (true, false, "glibc 2.36", program, program, false),
            (false, true, "glibc 2.36", program, program, false),
            (false, nil, "glibc 2.36", program, program, false),
            // Through the dynamic loader or an emulator, /proc/self/exe is that program.
            (false, false, "glibc 2.36", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", program, false),
            (false, false, "glibc 2.36", "/usr/bin/qemu-x86_64", "cycle-runner", false),
            // A name found on the PATH, and a link by another name.
            (false, false, "glibc 2.36", program, "cycle-runner", true),
            (false, false, "glibc 2.36", program, "cr", false),
            // Unknown either side.
            (false, false, "glibc 2.36", nil, program, false),
            (false, false, "glibc 2.36", program, nil, false),
            (false, false, "glibc 2.36", "cycle-runner", "cycle-runner", false),
            (false, false, "glibc 2.36", program + " (deleted)", program, false),
        ] as [(Bool, Bool?, String?, String?, String?, Bool)])
    func mayStartAgainOnlyAsItself(
        startedAgain: Bool, secure: Bool?, glibc: String?, executable: String?, invokedAs: String?, expected: Bool
    ) {
        #expect(
            HugePages.mayStartAgain(
                startedAgain: startedAgain, secureExecution: secure, glibcVersion: glibc, executable: executable,
                invokedAs: invokedAs) == expected)
    }

    /// The kernel's mode and glibc's version on this machine, which decide what the binary does.
    static var machineStartsAgain: Bool {
        let mode = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
        let version = String(decoding: buffer.prefix(max(length - 1, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let numbers = version.dropFirst("glibc ".count).split(separator: ".").compactMap { Int($0) }
        let preloaded = ProcessInfo.processInfo.environment["LD_PRELOAD"] ?? ""
        return (mode ?? "").contains("[madvise]") && version.hasPrefix("glibc ") && numbers.count >= 2
            && (numbers[0], numbers[1]) >= (2, 35) && preloaded.isEmpty
    }

    static let loader = "/lib64/ld-linux-x86-64.so.2"

    /// Runs the built binary's close in four ways and returns what `--timings` said of huge pages.
    @Test func theBinaryStartsAgainOnlyWhenItShouldAndWritesTheSameFiles() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 91)
        let arguments = ["close", "--through", last.description, "--input", input, "--timings"]
        var cases: [(name: String, program: String?, environment: [String: String], said: String)] = [
            (
                "as it is", nil, ["GLIBC_TUNABLES": ""],
                Self.machineStartsAgain ? "huge pages: asked for, started again" : "huge pages: not asked for"
            ),
            ("the user's setting", nil, ["GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"], "huge pages: not asked for"),
            ("a preload", nil, ["GLIBC_TUNABLES": "", "LD_PRELOAD": "libc.so.6"], "huge pages: not asked for"),
        ]
        if FileManager.default.isExecutableFile(atPath: Self.loader) {
            cases.append(("the loader", Self.loader, ["GLIBC_TUNABLES": ""], "huge pages: not asked for"))
        }
        var snapshots: [[String: Data]] = []
        for (name, program, environment, said) in cases {
            let output = TestPaths.temporaryFolder("huge-pages")
            let result =
                if let program {
                    try CLI.run(
                        program: program, [CLI.binary] + arguments + ["--output", output], environment: environment)
                } else {
                    try CLI.run(arguments + ["--output", output], environment: environment)
                }
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(result.stderr.contains(said + "\n"), "\(name): \(result.stderr)")
            snapshots.append(Fixtures.snapshot(output))
        }
        #expect(!snapshots[0].isEmpty)
        for snapshot in snapshots.dropFirst() { #expect(snapshot == snapshots[0]) }
    }
}
