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

    /// The value `GLIBC_TUNABLES` should have for `command`, or nil to run as things are.
    ///
    /// - `current`: the variable as the process found it. Any setting of the tunable in it, `=0`
    ///   included, is the user's choice and is kept; it also ends the loop of a second start.
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

    /// Whether `current` (the process's `GLIBC_TUNABLES`) turns the tunable on, for reports.
    public static func isOn(current: String?) -> Bool {
        (current ?? "").split(separator: ":").contains { $0 == tunable + "=1" }
    }
}
