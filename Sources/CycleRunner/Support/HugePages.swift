/// Whether a command should run with glibc's allocator asking Linux for transparent huge pages.
///
/// A close touches a few hundred megabytes of fresh memory (about 115,000 page faults at 2.3 M
/// usage rows), and the kernel's work on each 4 KiB page was a tenth of the CPU of reading,
/// engine and ledger. glibc's tunable `glibc.malloc.hugetlb=1` has malloc mark the memory it
/// maps for 2 MiB pages (42,000 faults). Tunables are read once, as the process starts, so
/// `main` sets the variable and executes the same program again before doing anything else.
/// This type only decides; it reads and changes nothing.
public enum HugePages {
    /// The commands that read a whole input folder and build a close in memory. The others are
    /// small, and starting a process twice (about 10 ms) would be most of what they take.
    public static let commands: Set<String> = ["close", "whatif"]

    /// The name of glibc's tunable.
    public static let tunable = "glibc.malloc.hugetlb"

    /// The variable `main` sets for the second start, which removes it: a second start never
    /// starts a third, whatever happened to `GLIBC_TUNABLES` on the way (glibc drops tunables
    /// for a set-user-ID program, for one).
    public static let marker = "CYCLE_RUNNER_STARTED_AGAIN"

    /// The value `GLIBC_TUNABLES` should have for `command`, or nil to run as things are.
    ///
    /// - `current`: the variable as the process found it. Any setting of the tunable in it, `=0`
    ///   included, is the user's choice and is kept.
    /// - `transparentHugePages`: `/sys/kernel/mm/transparent_hugepage/enabled`, which lists the
    ///   kernel's modes with the one in force in brackets. Only `[madvise]` needs the tunable:
    ///   `[always]` gives every process huge pages already, and `[never]` gives none.
    /// - `preloaded`: `LD_PRELOAD`. Any value leaves the process alone: a preloaded allocator
    ///   ignores glibc's tunables, and valgrind preloads its own libraries and runs the program
    ///   inside itself, where starting it again would start valgrind's tool without valgrind.
    public static func tunables(
        current: String?, transparentHugePages: String?, command: String?, preloaded: String? = nil
    ) -> String? {
        guard (preloaded ?? "").isEmpty else { return nil }
        guard let command, commands.contains(command) else { return nil }
        guard let mode = transparentHugePages, mode.contains("[madvise]") else { return nil }
        let settings = (current ?? "").split(separator: ":", omittingEmptySubsequences: true)
        if settings.contains(where: { $0 == tunable || $0.hasPrefix(tunable + "=") }) { return nil }
        return (settings.map(String.init) + [tunable + "=1"]).joined(separator: ":")
    }

    /// Whether the process may start itself again at all, whatever the command; any doubt
    /// means no.
    ///
    /// - `startedAgain`: the process is the second start (`marker` was set).
    /// - `secureExecution`: the kernel's `AT_SECURE` (set-user-ID, capabilities): glibc would
    ///   drop the tunable; nil when it could not be read.
    /// - `glibcVersion`: `confstr(_CS_GNU_LIBC_VERSION)`, `glibc 2.36`; the tunable is 2.35's.
    /// - `executable`: what `/proc/self/exe` links to, the file the second start would run.
    /// - `invokedAs`: the program's first argument, made absolute and free of links when it
    ///   holds a slash. Only when the two name the same program is the executable this program:
    ///   started through the dynamic loader (`ld-linux-x86-64.so.2 ./cycle-runner`) or an
    ///   emulator, `/proc/self/exe` is that loader.
    public static func mayStartAgain(
        startedAgain: Bool, secureExecution: Bool?, glibcVersion: String?, executable: String?, invokedAs: String?
    ) -> Bool {
        guard !startedAgain, secureExecution == false else { return false }
        guard let glibcVersion, let version = numbers(glibcVersion),
            version.lexicographicallyPrecedes([2, 35]) == false
        else { return false }
        guard let executable, executable.hasPrefix("/"), let invokedAs, !invokedAs.isEmpty else { return false }
        if invokedAs.contains("/") { return invokedAs == executable }
        return executable.split(separator: "/").last.map(String.init) == invokedAs
    }

    /// `[2, 36]` for `glibc 2.36`; nil for anything else.
    static func numbers(_ version: String) -> [Int]? {
        guard version.hasPrefix("glibc ") else { return nil }
        let parts = version.dropFirst("glibc ".count).split(separator: ".")
        let numbers = parts.compactMap { Int($0) }
        return numbers.count >= 2 && numbers.count == parts.count ? numbers : nil
    }

    /// Whether `current` (the process's `GLIBC_TUNABLES`) turns the tunable on, for reports.
    public static func isOn(current: String?) -> Bool {
        (current ?? "").split(separator: ":").contains { setting in
            setting.hasPrefix(tunable + "=") && setting != tunable + "=0"
        }
    }
}
