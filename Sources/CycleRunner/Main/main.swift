import ArgumentParser
import CycleRunnerCore
import Foundation
import Invoicing

#if canImport(Glibc)
    import Glibc
#endif

/// The `cycle-runner` command. Exit status: 0 success; 1 bad command line; 2 bad input files
/// (nothing written); 3 `--strict` and rows were rejected (nothing committed); 4 the ledger
/// is locked by another run or inconsistent; 5 the output could not be written.
struct CycleRunnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cycle-runner",
        abstract: "Month-end close of credit billing cycles: statements, invoices and exports.",
        discussion: """
            Reads an input folder (plans.yaml, orgs.csv, usage/*.csv and optional plan_changes.csv,
            topups.csv, refunds.csv, members.csv, queue.csv), applies every usage event and renewal up to
            the close date to the ledger (output/ledger.sqlite), and writes per-org statements, UBL invoices
            and the close's CSV exports under the output folder.
            """,
        subcommands: [Close.self, Validate.self, Balances.self, Generate.self, WhatIf.self, Verify.self, Scan.self])
}

struct Close: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Close every renewal and event up to and including a date.",
        discussion: """
            Moves the ledger's horizon to 00:00Z of the day after --through. Rows dated later stay
            pending for a later close; rows that arrive late are applied in the open period and flagged.
            Running the same close again applies nothing and writes the same files.
            """)

    @Option(name: .long, help: "Last day to close (YYYY-MM-DD), e.g. 2026-11-30.")
    var through: String
    @Option(name: .long, help: "Input folder.") var input = "samples"
    @Option(name: .long, help: "Output folder.") var output = "output"
    @Option(name: .long, help: "Ledger file (default: <output>/ledger.sqlite).") var ledger: String?
    @Flag(name: .long, help: "Fail (exit 3) and commit nothing if any row is rejected.") var strict = false
    @Option(name: .long, help: "UBL 2.1 XSD folder; validate every document before committing.")
    var schemas: String?
    @Flag(name: .long, help: "Print nothing but errors.") var quiet = false
    @Flag(name: .long, help: "Print the time each phase took to stderr (for benchmarks).") var timings = false
    @Flag(name: .long, help: "Create the ledger and outputs readable by the group (umask 027), not owner-only.")
    var groupReadable = false
    @Flag(name: .long, help: "Print the summary as JSON on stdout (no progress bar).") var json = false

    func run() throws {
        guard let date = CivilDate.parse(through) else {
            throw ValidationError("--through must be a date like 2026-11-30")
        }
        if groupReadable { umask(0o027) }
        var options = CloseOptions(
            through: date, inputFolder: input, outputFolder: output, ledgerPath: ledger, strict: strict,
            schemasFolder: schemas)
        // One callback serves the phase clock, the progress bar and the crash tests' kill switch.
        let killSwitch = KillSwitch.fromEnvironment()
        let clock = timings ? PhaseClock() : nil
        let progress = quiet || json || timings ? nil : ProgressBar.forStandardError()
        if progress != nil || killSwitch != nil || clock != nil {
            options.onPhase = { phase in
                clock?.mark(phase)
                progress?.phase(phase)
                killSwitch?.reached(phase)
            }
        }
        if let progress { options.onFile = { written, total in progress.files(written, total) } }
        defer { clock?.report() }
        try runClose(options, progress: progress)
    }

    func runClose(_ options: CloseOptions, progress: ProgressBar?) throws {
        do {
            let summary = try ClosePipeline.close(options)
            progress?.finish()
            if json {
                print(Terminal.json(summary))
            } else if !quiet {
                print(Terminal.summary(summary))
            }
        } catch {
            progress?.finish()
            if json { print(Terminal.jsonError(error.description, exitCode: error.exitCode)) }
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every input file; write nothing but the rejected rows report.")

    @Option(name: .long, help: "Input folder.") var input = "samples"
    @Option(name: .long, help: "Where to write rejected.csv.") var output = "output/validate"

    func run() throws {
        do {
            let result = try InputValidation.validate(folder: input, reportFolder: output)
            print(result)
        } catch let error as InputError {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}

struct Balances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each org's current, bank, top-up and deficit credits from the ledger.")

    @Option(name: .long, help: "Only this org.") var org: String?
    @Option(name: .long, help: "Output folder holding ledger.sqlite.") var output = "output"
    @Option(name: .long, help: "Ledger file (default: <output>/ledger.sqlite).") var ledger: String?

    func run() throws {
        let path = ledger ?? output + "/ledger.sqlite"
        guard fileExists(path) else {
            printError("no ledger at \(path): run a close first")
            throw ExitCode(4)
        }
        do {
            print(try BalanceReport.render(ledgerPath: path, org: org))
        } catch {
            printError("the ledger \(path) cannot be read: \(error)")
            throw ExitCode(4)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the ledger's hash chain and totals from its rows and report any mismatch.",
        discussion: """
            Exit status 0 when the ledger is consistent, 4 when it cannot be read or anything does not
            match (a changed row, a broken chain, a gap in the numbers, a failed SQLite integrity check).
            """)

    @Option(name: .long, help: "Output folder holding ledger.sqlite.") var output = "output"
    @Option(name: .long, help: "Ledger file (default: <output>/ledger.sqlite).") var ledger: String?

    func run() throws {
        let path = ledger ?? output + "/ledger.sqlite"
        guard fileExists(path) else {
            printError("no ledger at \(path)")
            throw ExitCode(4)
        }
        let result: Ledger.Verification
        do {
            result = try Ledger(path: path, readOnly: true).verify()
        } catch {
            printError("the ledger \(path) cannot be read: \(error)")
            throw ExitCode(4)
        }
        for note in result.notes { print("note: \(note)") }
        for problem in result.problems { print("MISMATCH: \(problem)") }
        if !result.problems.isEmpty {
            printError("\(path): \(result.problems.count) mismatches")
            throw ExitCode(4)
        }
        print("ok: \(path): \(result.runs) runs, \(result.documents) documents, chain head \(result.head ?? "(none)")")
    }
}

/// The crash tests' hook: `CYCLE_RUNNER_KILL_AT=<phase>[:<n>[:stop]]` kills this process with
/// SIGKILL at the n-th time (default the first) the close reaches that phase, as a power cut
/// would; with `stop` it sends itself SIGSTOP instead, so a test can look at the ledger, or
/// start a second run, while this one is held at that point.
final class KillSwitch: @unchecked Sendable {
    let phase: String
    let occurrence: Int
    let signal: Int32
    private let lock = NSLock()
    private var seen = 0

    init(phase: String, occurrence: Int, signal: Int32) {
        self.phase = phase
        self.occurrence = occurrence
        self.signal = signal
    }

    static func fromEnvironment() -> KillSwitch? {
        guard let value = ProcessInfo.processInfo.environment["CYCLE_RUNNER_KILL_AT"], !value.isEmpty else {
            return nil
        }
        let parts = value.split(separator: ":").map(String.init)
        return KillSwitch(
            phase: parts[0], occurrence: parts.count > 1 ? Int(parts[1]) ?? 1 : 1,
            signal: parts.count > 2 && parts[2] == "stop" ? SIGSTOP : SIGKILL)
    }

    func reached(_ name: String) {
        guard name == phase else { return }
        lock.lock()
        seen += 1
        let now = seen
        lock.unlock()
        if now == occurrence { raise(signal) }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic input folder of any size, the same for the same seed.")

    @Option(name: .long, help: "Number of orgs.") var orgs = 100
    @Option(name: .long, help: "Number of months of usage, from --start.") var months = 3
    @Option(name: .long, help: "Usage events per org and month, on average.") var events = 50
    @Option(name: .long, help: "Seed: the same seed gives the same files.") var seed: UInt64 = 1
    @Option(name: .long, help: "First month (YYYY-MM-DD, any day of it).") var start = "2026-01-01"
    @Option(name: .long, help: "Percent of usage rows followed by a duplicate, conflict or bad row.")
    var dirty = 0
    @Option(name: .long, help: "Folder to write.") var out: String

    func run() throws {
        guard let first = CivilDate.parse(start) else { throw ValidationError("--start must be YYYY-MM-DD") }
        guard orgs > 0, months > 0, events >= 0, (0...100).contains(dirty) else {
            throw ValidationError("--orgs and --months must be positive, --dirty 0 to 100")
        }
        let options = GeneratorOptions(
            orgs: orgs, months: months, eventsPerOrgMonth: events, seed: seed,
            firstMonth: CivilDate(year: first.year, month: first.month, day: 1), dirtyPercent: dirty)
        do {
            try InputGenerator.write(options, to: out)
        } catch {
            printError(error.description)
            throw ExitCode(5)
        }
        print("wrote \(out): close it with --through \(options.lastDay)")
    }
}

/// Wall time per phase of a close, measured outside the pipeline so no clock enters it.
final class PhaseClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ContinuousClock.now
    private var lastCPU = PhaseClock.cpuMilliseconds()
    private var phases: [(String, Duration, cpuMilliseconds: Int)] = []
    private var files = 0
    private var renames = 0

    func mark(_ phase: String) {
        lock.lock()
        defer { lock.unlock() }
        // Per-file events are counted, not timed: "file" as each is rendered, "publish" as each
        // rename puts a file, or a folder new to the output, in place.
        if phase == "file" { files += 1 }
        if phase == "publish" { renames += 1 }
        if phase == "file" || phase == "publish" { return }
        let now = ContinuousClock.now
        let cpu = PhaseClock.cpuMilliseconds()
        phases.append((phase, now - last, cpu - lastCPU))
        last = now
        lastCPU = cpu
    }

    /// User and system time of the whole process so far: whether a phase kept both cores busy.
    static func cpuMilliseconds() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        let user = Int(usage.ru_utime.tv_sec) * 1000 + Int(usage.ru_utime.tv_usec) / 1000
        let system = Int(usage.ru_stime.tv_sec) * 1000 + Int(usage.ru_stime.tv_usec) / 1000
        return user + system
    }

    func report() {
        mark("end")
        lock.lock()
        defer { lock.unlock() }
        for (phase, duration, cpu) in phases {
            let milliseconds =
                duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
            FileHandle.standardError.write(Data("phase \(phase): \(milliseconds) ms (cpu \(cpu) ms)\n".utf8))
        }
        FileHandle.standardError.write(Data("files written: \(files)\n".utf8))
        FileHandle.standardError.write(Data("renames: \(renames)\n".utf8))
        let hugePages = HugePages.isOn(current: ProcessInfo.processInfo.environment["GLIBC_TUNABLES"])
        let how = !hugePages ? "not asked for" : Startup.startedAgain ? "asked for, started again" : "asked for"
        FileHandle.standardError.write(Data("huge pages: \(how)\n".utf8))
    }
}

/// Reads CSV files with the product's reader and nothing else: the benchmark's measure of
/// parsing speed.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read CSV files with the built-in reader and report records and MB/s (benchmarks).",
        shouldDisplay: false)

    @Argument(help: "CSV files.") var files: [String]
    @Flag(name: .long, help: "Hash the files' bytes with the ledger's SHA-256 instead of reading them as CSV.")
    var sha = false

    func run() throws {
        if sha { return try hashFiles() }
        var records = 0
        var fields = 0
        var bytes = 0
        let start = ContinuousClock.now
        for file in files {
            let reader = try CSVReader(path: file)
            try reader.forEachRecord(
                { row in
                    records += 1
                    fields += row.count
                    for index in 0..<row.count { bytes &+= row.field(index).count }
                }, onProblem: { _, _, _ in records += 1 })
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var size = 0
        for file in files {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: file) {
                size += (attributes[.size] as? Int) ?? 0
            }
        }
        print("records \(records) fields \(fields) field_bytes \(bytes) file_bytes \(size) seconds \(seconds)")
        print(String(format: "throughput %.1f MB/s", Double(size) / 1e6 / max(seconds, 1e-9)))
    }

    /// Times SHA-256 alone: the files are read into memory first, so the disk and the page cache
    /// do not blur the hash's own speed; they are hashed in 1 MiB pieces, as `Ledger.inputHash` does.
    func hashFiles() throws {
        let contents = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let size = contents.reduce(0) { $0 + $1.count }
        let start = ContinuousClock.now
        var hash = SHA256()
        for data in contents {
            data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + (1 << 20), bytes.count)
                    hash.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                    offset = end
                }
            }
        }
        let digest = hash.hexDigest()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("sha256 \(digest) file_bytes \(size) seconds \(seconds)")
        print(String(format: "throughput %.1f MB/s", Double(size) / 1e6 / max(seconds, 1e-9)))
    }
}

struct WhatIf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Replay the whole history under a scenario, side by side, without touching the books.",
        discussion: """
            Replays every input row through --through in memory, once as the inputs are and once with the
            scenario (plan overrides or new plans, added, removed or moved plan changes, org custom terms),
            and writes comparison.csv, totals.csv and report.html under <output>/whatif/<scenario name>/.
            It never opens the ledger and never uses an invoice number. See README "What-if".
            """)

    @Option(name: .long, help: "Last day to replay (YYYY-MM-DD), e.g. 2026-11-30.")
    var through: String
    @Option(name: .long, help: "Scenario file (YAML).") var scenario: String
    @Option(name: .long, help: "Input folder.") var input = "samples"
    @Option(name: .long, help: "Output folder; files go to <output>/whatif/<scenario name>/.")
    var output = "output"

    func run() throws {
        guard let date = CivilDate.parse(through) else {
            throw ValidationError("--through must be a date like 2026-11-30")
        }
        var options = WhatIfOptions(through: date, inputFolder: input, outputFolder: output, scenarioPath: scenario)
        if isatty(2) != 0 {
            options.onPhase = { phase in FileHandle.standardError.write(Data("… \(phase)\n".utf8)) }
        }
        do {
            print(WhatIfSummary.text(try WhatIfPipeline.run(options)))
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("cycle-runner: " + message + "\n").utf8))
}

/// Whether this process is the program's second start. Read once, first thing, and the marker
/// removed, so that nothing this process starts inherits it.
enum Startup {
    static let startedAgain: Bool = {
        guard getenv(HugePages.marker) != nil else { return false }
        unsetenv(HugePages.marker)
        return true
    }()
}

/// Starts the program again with glibc's allocator asking for transparent huge pages, when
/// `HugePages` says the command gains from it and the process may; nothing has been read or
/// opened yet. If the start fails, the command runs as it is, with the variables as they were.
func startAgainWithHugePagesIfUseful() {
    // Read (and the marker removed) whatever the command, before anything else.
    let startedAgain = Startup.startedAgain
    #if canImport(Glibc)
        let environment = ProcessInfo.processInfo.environment
        let current = environment["GLIBC_TUNABLES"]
        let mode = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)
        guard
            let tunables = HugePages.tunables(
                current: current, transparentHugePages: mode, command: CommandLine.arguments.dropFirst().first,
                preloaded: environment["LD_PRELOAD"]),
            HugePages.mayStartAgain(
                startedAgain: startedAgain, secureExecution: secureExecution(), glibcVersion: glibcVersion(),
                executable: linkTarget("/proc/self/exe"), invokedAs: invokedAs()),
            setenv(HugePages.marker, "1", 1) == 0
        else { return }
        if setenv("GLIBC_TUNABLES", tunables, 1) == 0 {
            execv("/proc/self/exe", CommandLine.unsafeArgv)
        }
        if let current { setenv("GLIBC_TUNABLES", current, 1) } else { unsetenv("GLIBC_TUNABLES") }
        unsetenv(HugePages.marker)
    #else
        _ = startedAgain
    #endif
}

#if canImport(Glibc)
    /// The kernel's `AT_SECURE` for this process, from `/proc/self/auxv` (Swift's Glibc module
    /// has no `getauxval`); nil when it cannot be read, as for a set-user-ID program.
    func secureExecution() -> Bool? {
        let descriptor = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var words = [UInt64](repeating: 0, count: 256)
        let count = words.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let atSecure: UInt64 = 23
        for index in stride(from: 0, to: count / 8 - 1, by: 2) where words[index] == atSecure {
            return words[index + 1] != 0
        }
        return nil
    }

    /// `glibc 2.36`, or nil.
    func glibcVersion() -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
        guard length > 1, length <= buffer.count else { return nil }
        return String(decoding: buffer[..<(length - 1)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What a symbolic link points to, or nil.
    func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first argument as `HugePages.mayStartAgain` takes it: made absolute, without links,
    /// when it holds a slash; as it is otherwise (a name found on the PATH).
    func invokedAs() -> String? {
        guard let first = CommandLine.arguments.first else { return nil }
        guard first.contains("/") else { return first }
        guard let resolved = realpath(first, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
#endif

startAgainWithHugePagesIfUseful()
// Ledger and outputs are the company's books: owner-only unless finance asks otherwise.
umask(0o077)
do {
    var command = try CycleRunnerCommand.parseAsRoot()
    try command.run()
} catch {
    let code = CycleRunnerCommand.exitCode(for: error)
    if code == .success {
        CycleRunnerCommand.exit(withError: error)
    } else if let exit = error as? ExitCode {
        Foundation.exit(exit.rawValue)
    } else {
        // Bad command line: the message, and exit status 1 as the specification asks.
        FileHandle.standardError.write(Data((CycleRunnerCommand.fullMessage(for: error) + "\n").utf8))
        Foundation.exit(1)
    }
}
