// Shared fixtures: the conformance plans.yaml, an org profile, event builders and temp folders.
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The plans.yaml of the conformance cases (identical in every case folder), read from the
/// shared folder so the tests and the cases can never drift apart.
let conformancePlansYAML: String = {
    let path = TestPaths.conformance.appendingPathComponent("01-anchor-month-end/input/plans.yaml").path
    guard let text = try? readTextFile(path) else { fatalError("cannot read \(path)") }
    return text
}()

let testCatalog: Catalog = {
    do {
        return try CatalogReader.parse(conformancePlansYAML, file: "plans.yaml")
    } catch {
        fatalError("the conformance plans.yaml does not parse: \(error)")
    }
}()

/// An RFC 3339 literal of a test; a typo stops the run at once.
func at(_ text: String) -> Instant {
    guard let instant = Instant.parse(text) else { preconditionFailure("bad instant literal \(text)") }
    return instant
}

func day(_ text: String) -> CivilDate {
    guard let date = CivilDate.parse(text) else { preconditionFailure("bad date literal \(text)") }
    return date
}

func testProfile(plan: String, start: String, id: String = "o1", currency: String = "USD") -> OrgProfile {
    OrgProfile(
        id: OrgID(id), name: "Org \(id)", firstPlanId: PlanID(plan), startDate: day(start), currencyCode: currency,
        countryCode: "GB", street: "1 Main St", city: "London", postalCode: "EC1A 1AA",
        tax: TaxTreatment(categoryCode: "S", rateHundredths: 2000), vatId: nil, endpointId: nil,
        buyerReference: nil, customTerms: nil)
}

func usage(_ id: String, _ instant: String, _ credits: Int64) -> OrgEvent {
    OrgEvent(
        kind: .usage, instant: at(instant), originalInstant: at(instant), id: id, sequence: 0, late: false,
        payload: .usage(credits: credits, actionIndex: 0, userIndex: 0))
}

func planChange(_ instant: String, to plan: String, sequence: Int32 = 0) -> OrgEvent {
    OrgEvent(
        kind: .planChange, instant: at(instant), originalInstant: at(instant), id: "", sequence: sequence,
        late: false, payload: .planChange(PlanID(plan)))
}

func topUp(_ id: String, _ instant: String, _ pack: String) -> OrgEvent {
    OrgEvent(
        kind: .topUpPurchase, instant: at(instant), originalInstant: at(instant), id: id, sequence: 0, late: false,
        payload: .topUp(PurchaseID(id), PackID(pack)))
}

func refund(_ id: String, of purchase: String, _ instant: String) -> OrgEvent {
    OrgEvent(
        kind: .refund, instant: at(instant), originalInstant: at(instant), id: id, sequence: 0, late: false,
        payload: .refund(refundId: id, purchaseId: PurchaseID(purchase)))
}

/// Runs one org from a fresh state (or `state`) through `through` (horizon: 00:00Z the day after),
/// with the events sorted as the close sorts them.
func runOrg(
    _ profile: OrgProfile, state: OrgState? = nil, events: [OrgEvent] = [], through: String
) throws -> OrgRun {
    try Engine.run(
        state: state, profile: profile, events: events.sorted(by: OrgEvent.precedes),
        horizon: Instant(date: day(through).addingDays(1)),
        context: EngineContext(catalog: testCatalog, users: ["u1"], permissions: nil))
}

extension OrgRun {
    func period(ending end: String) -> PeriodRecord? { periods.first { $0.periodEnd == day(end) } }
    func renewalInvoice(on date: String) -> Document? {
        documents.first { $0.source == .renewal && $0.issueDate == day(date) }
    }
}

/// A fresh folder inside this test process's scratch folder.
func makeTempFolder() -> String {
    var template = Array((TestScratch.root + "/folder-XXXXXX").utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: result)
    }
    guard let path else { preconditionFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
    return path
}

/// The one folder every test of this process writes under, removed when the process exits.
///
/// Tests used to leave their folders behind, and a machine that ran the suite a few hundred
/// times filled its disk (65 GB of closes in one week). Removing each folder in each test is easy
/// to forget, so the whole process gets a single root instead: `atexit` removes it, and the next
/// test process removes the roots of processes that died before they could (a crash, a kill).
///
/// A root is in use while its `.lock` is locked (`flock`, held until the process ends, which
/// releases it however it ends): process ids are reused, and differ between containers that
/// share a temporary folder. Roots live in a folder of this user's own (mode 0700): a sweep never
/// looks in a folder it does not own, or follows a link planted in a shared temporary folder.
enum TestScratch {
    /// The system's temporary folder.
    static let temporary: String = {
        var folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if folder.isEmpty { folder = "/tmp" }
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        return folder
    }()

    static let base = temporary + "/cycle-runner-tests-\(getuid())"

    static let root: String = {
        mkdir(base, 0o700)
        let privateBase = isPrivateFolder(base)
        if privateBase { sweepAbandoned() }
        // Made under a name no sweep touches, locked, then renamed into view: a sweep in another
        // process never sees a root whose lock is not held yet.
        let parent = privateBase ? base : temporary
        var template = Array((parent + "/.new-cycle-runner-tests-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: result)
        }
        guard let made else { preconditionFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
        let lock = open(made + "/.lock", O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        precondition(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0, "cannot lock \(made)/.lock")
        // The descriptor stays open: the lock is this process's until it ends.
        let suffix = made.split(separator: "-").last.map(String.init) ?? "root"
        let path =
            privateBase
            ? base + "/run-\(getpid())-" + suffix : temporary + "/cycle-runner-tests-\(getuid())-\(getpid())-" + suffix
        precondition(rename(made, path) == 0, "cannot rename \(made): \(String(cString: strerror(errno)))")
        atexit { removeTree(TestScratch.root) }
        return path
    }()

    /// Whether `path` is a folder (not a link to one) owned by this user.
    static func isPrivateFolder(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR && status.st_uid == getuid()
    }

    /// Removes the roots no running process holds, roots being made by a process that died an
    /// hour or more ago, and what earlier versions of these tests left: roots without a lock
    /// whose process is gone, and, an hour after they were made, their loose folders (in the
    /// shared `cycle-runner-tests` folder and as `cycle-runner-tests-XXXXXX` in the temporary
    /// folder). Only folders of this user's own are looked into or removed. The tests pass
    /// folders of their own, so that they never sweep what another test process is using.
    static func sweepAbandoned(base: String = TestScratch.base, temporary: String = TestScratch.temporary) {
        let anHourAgo = time(nil) - 3600
        func isOld(_ path: String) -> Bool {
            var status = stat()
            return lstat(path, &status) == 0 && status.st_mtim.tv_sec < anHourAgo
        }
        for name in folderEntries(base) ?? [] {
            let path = base + "/" + name
            guard isPrivateFolder(path) else { continue }
            if name.hasPrefix("run-") {
                if isAbandoned(root: path, name: name) { removeTree(path) }
            } else if name.hasPrefix(".new-") && isOld(path) {
                removeTree(path)
            }
        }
        let legacyBase = temporary + "/cycle-runner-tests"
        if isPrivateFolder(legacyBase) {
            for name in folderEntries(legacyBase) ?? [] {
                let path = legacyBase + "/" + name
                let abandoned = name.hasPrefix("run-") ? isAbandoned(root: path, name: name) : isOld(path)
                if abandoned { removeTree(path) }
            }
            rmdir(legacyBase)
        }
        for name in folderEntries(temporary) ?? [] where isLegacyFolderName(name) {
            let path = temporary + "/" + name
            // A folder holding roots is some user's base (a uid of six digits looks like a
            // mkdtemp suffix), never an earlier version's loose folder.
            let holdsRoots = (folderEntries(path) ?? []).contains { $0.hasPrefix("run-") }
            if path != base && !holdsRoots && isPrivateFolder(path) && isOld(path) { removeTree(path) }
        }
    }

    /// Whether no running process holds the root at `path`: its lock can be taken, or, for a
    /// root an earlier version made without one, the process its name gives is gone. A lock
    /// that exists but cannot be opened (too many open files, no permission) keeps the root.
    static func isAbandoned(root path: String, name: String) -> Bool {
        let lock = open(path + "/.lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if lock >= 0 {
            defer { close(lock) }
            return flock(lock, LOCK_EX | LOCK_NB) == 0
        }
        guard errno == ENOENT, let owner = runOwner(name) else { return false }
        return kill(owner, 0) != 0 && errno == ESRCH
    }

    /// The process id in a root's name (`run-<pid>-XXXXXX`), or nil for any other name.
    static func runOwner(_ name: String) -> pid_t? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "run" else { return nil }
        return pid_t(parts[1])
    }

    /// `cycle-runner-tests-XXXXXX`, what `mkdtemp` made for an earlier version of these tests.
    static func isLegacyFolderName(_ name: String) -> Bool {
        let prefix = "cycle-runner-tests-"
        guard name.hasPrefix(prefix) else { return false }
        let suffix = name.utf8.dropFirst(prefix.utf8.count)
        return suffix.count == 6 && !suffix.allSatisfy { (0x30...0x39).contains($0) }
            && suffix.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
            }
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let handle = fopen(path, "wb") else { preconditionFailure("cannot write \(path)") }
    defer { fclose(handle) }
    if !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, handle) }
        precondition(written == bytes.count, "short write to \(path)")
    }
}

func writeFile(_ path: String, _ text: String) { writeFile(path, Array(text.utf8)) }

func makeTestFolder(_ path: String) { precondition(mkdir(path, 0o755) == 0, "cannot create \(path)") }
