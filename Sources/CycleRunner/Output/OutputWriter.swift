import Dispatch
import Foundation
import GRDB
import Invoicing
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything one close's files are made of: exactly what the ledger holds for that run.
/// A close builds it from the values it has just committed; a rerun reads it back from the
/// ledger. Either way the same bytes come out, which the rerun tests prove.
public struct RenderSet: Sendable {
    public var run: Ledger.RunInfo
    public var periods: [PeriodRecord]
    public var documents: [Document]
    public var rejected: [RejectedRow]
    public var profiles: [String: OrgProfile]
    /// Every document of the orgs with closed periods issued since the earliest period start,
    /// by org, for the statements' invoice lists.
    public var documentsByOrg: [String: [DocumentSummary]]
    /// The queue the run read, with those orgs' balances at its horizon (statements' forecast).
    public var queue: [OrgID: (jobs: [QueuedJob], balances: Ledger.Balances?)] = [:]
    /// Closed periods around the run's dates, by org: the burn rate and the plan of a document.
    public var histories: [String: [PeriodBrief]] = [:]
    /// SHA-256 over the run's rows in the ledger, for the close report.
    public var ledgerFingerprint = ""

    public static func load(run: Ledger.RunInfo, ledger: Ledger) throws -> RenderSet {
        let periods = try ledger.periods(run: run.id)
        var set = RenderSet(
            run: run, periods: periods, documents: try ledger.documents(run: run.id),
            rejected: try ledger.rejections(run: run.id),
            profiles: Dictionary(
                try ledger.orgs().map { ($0.profile.id.rawValue, $0.profile) }, uniquingKeysWith: { first, _ in first }),
            documentsByOrg: try ledger.documentSummaries(since: periods.map(\.periodStart).min()))
        try set.loadReportContext(from: ledger)
        return set
    }

    /// Reads what statements and the report need beyond the run's own rows. The periods read
    /// start 100 days before the run's earliest period or document, which covers the three
    /// periods a burn rate looks back over and the renewal before any document; only periods
    /// up to the date in question are used, so a later close never changes this close's files.
    public mutating func loadReportContext(from ledger: Ledger) throws {
        queue = try ledger.queue(run: run.id)
        let dates = periods.map(\.periodStart) + documents.map(\.issueDate)
        histories = try ledger.periodBriefs(since: dates.min()?.addingDays(-100))
        ledgerFingerprint = try ledger.fingerprint(run: run.id)
    }
}

/// The few fields of a document a statement lists.
public struct DocumentSummary: Sendable, Hashable {
    public var number: String
    public var kind: DocumentKind
    public var issueDate: CivilDate
    public var currencyCode: String
    public var netMinor: Int64
    public var taxMinor: Int64
    public var totalMinor: Int64
}

/// Renders one close's files. Nothing here reads inputs or the clock, so a rerun writes the
/// same bytes. Files are rendered on every core into a staging folder inside the output folder
/// (inside the close's transaction, so a file that cannot be written rolls the close back),
/// synced to disk once, and put under their real names by renames after the commit.
public enum OutputWriter {
    /// A close's files rendered into a staging folder: complete and on disk, but not yet
    /// under their real names.
    public struct Staged: Sendable {
        public var outputFolder: String
        public var folder: String
        /// The files staged in the flat buckets (see `stagedName`), renamed one by one, in
        /// publishing order (the report last); the others are under `StagingArea.newFoldersName`.
        public var bucketed: [String]
        /// What each file is, for the ledger's list of rendered files: every file, by path.
        public var manifest: [RenderedFile]
        /// The close's totals, for the terminal summary.
        public var totals: CloseTotals
    }

    public typealias FileWriter = @Sendable (String, [UInt8]) throws -> Void
    public typealias FileProgress = @Sendable (_ written: Int, _ total: Int) -> Void

    /// Makes a run's files what they were when the run was closed. When the ledger lists what
    /// the run wrote and every file is still there with the same bytes, nothing is rendered
    /// (and nil is returned); otherwise everything is rendered again from the ledger.
    @discardableResult
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: @escaping @Sendable () throws -> Void = {}, writeFile: FileWriter? = nil,
        onFile: FileProgress? = nil
    ) throws -> Staged? {
        guard let run = try ledger.runById(runId) else { return nil }
        // A run killed while putting files in place leaves its staging folder behind, even
        // when every file made it; clear that before deciding there is nothing to do.
        removeLeftovers(outputFolder: outputFolder)
        let listed = try ledger.renderedFiles(run: runId)
        if !listed.isEmpty, allPresent(listed, in: outputFolder) { return nil }
        let staged = try stage(
            RenderSet.load(run: run, ledger: ledger), outputFolder: outputFolder, catalog: catalog,
            beforeEachFile: beforeEachFile, writeFile: writeFile, onFile: onFile)
        try publish(staged)
        try ledger.recordRendered(run: runId, files: staged.manifest)
        return staged
    }

    /// Whether every listed file exists with its recorded size and content hash. This is all a
    /// rerun with nothing new does, so it reads each file into a buffer its worker keeps, up to
    /// one byte past the recorded size (a longer file is a mismatch without a stat): a new
    /// zero-filled array and an fstat per file were a fifth of the rerun's time.
    static func allPresent(_ files: [RenderedFile], in folder: String) -> Bool {
        let mismatch = FirstError()
        struct Mismatch: Error {}
        let filesPerPiece = 256
        inParallel((files.count + filesPerPiece - 1) / filesPerPiece) { piece in
            var buffer: [UInt8] = []
            for file in files[(piece * filesPerPiece)..<min(files.count, (piece + 1) * filesPerPiece)] {
                if mismatch.isSet { return }
                guard
                    let hash = contentHash(ofFile: folder + "/" + file.path, expectedSize: file.size, buffer: &buffer),
                    hash == file.contentHash
                else {
                    mismatch.set(Mismatch())
                    return
                }
            }
        }
        return !mismatch.isSet
    }

    /// The content hash of the file at `path` if it holds exactly `expectedSize` bytes, read
    /// into `buffer`; nil if it cannot be read or its size differs. The file is opened without
    /// blocking, so a FIFO planted under a file's name reads as empty instead of waiting.
    static func contentHash(ofFile path: String, expectedSize: Int, buffer: inout [UInt8]) -> Int64? {
        // A size no file of ours reaches (a damaged or hand-edited list) is a mismatch, not an
        // allocation of that size or an overflow of `expectedSize + 1`.
        guard expectedSize >= 0, expectedSize < 1 << 32 else { return nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let wanted = expectedSize + 1
        if buffer.count < wanted { buffer = [UInt8](repeating: 0, count: max(wanted, 2 * buffer.count)) }
        return buffer.withUnsafeMutableBytes { raw -> Int64? in
            var done = 0
            while done < wanted {
                let count = read(descriptor, raw.baseAddress! + done, wanted - done)
                if count < 0 { return nil }
                if count == 0 { break }
                done += count
            }
            guard done == expectedSize else { return nil }
            return contentHash(UnsafeRawBufferPointer(rebasing: raw[0..<done]))
        }
    }

    /// A 64-bit hash of a file's bytes, eight at a time: a check that the file is the one
    /// written, not a defence against tampering (the ledger's own chain is for that). FNV-1a,
    /// one multiply per byte, took most of a rerun that had nothing to write; a ledger that
    /// recorded FNV-1a hashes sees every file as changed once and writes the same bytes again.
    static func contentHash(_ raw: UnsafeRawBufferPointer) -> Int64 {
        var state: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(raw.count)
        var offset = 0
        while offset + 8 <= raw.count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            state = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
            state ^= state >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < raw.count {
            tail |= UInt64(raw[offset]) << shift
            shift += 8
            offset += 1
        }
        state = (state ^ tail) &* 0x9E37_79B9_7F4A_7C15
        state ^= state >> 33
        state &*= 0xFF51_AFD7_ED55_8CCD
        state ^= state >> 33
        return Int64(bitPattern: state)
    }

    /// The same hash of an array's bytes.
    static func contentHash(_ bytes: [UInt8]) -> Int64 {
        bytes.withUnsafeBytes { contentHash($0) }
    }

    /// Renders every file of `set` into `<output>/.staging-<pid>/` (see `stagedName`), after removing what killed
    /// runs left behind. Nothing under the real names changes, so a failure here (a full disk,
    /// a read-only folder) leaves the previous files as they were; the staging folder is
    /// removed on failure. `writeFile` is the seam tests use to simulate a failing disk;
    /// `onFile` hears, after each file, how many of how many are written (a progress bar).
    public static func stage(
        _ set: RenderSet, outputFolder: String, catalog: Catalog?,
        beforeEachFile: @escaping @Sendable () throws -> Void = {},
        writeFile: FileWriter? = nil, onFile: FileProgress? = nil
    ) throws -> Staged {
        let area = try StagingArea(
            outputFolder: outputFolder, through: set.run.through,
            fileCount: StagingArea.fileCount(set.periods.count, set.documents.count),
            beforeEachFile: beforeEachFile, writeFile: writeFile, onFile: onFile)
        return try stage(set, into: area, catalog: catalog)
    }

    /// Renders the rest of `set` into a staging area that may already hold its documents.
    public static func stage(_ set: RenderSet, into area: StagingArea, catalog: Catalog?) throws -> Staged {
        do {
            precondition(
                area.lastFile == reportPath(through: set.run.through), "the area publishes this run's report last")
            let (manifest, totals) = try renderFiles(set, area: area, catalog: catalog)
            syncFolder(area.folder)
            return area.staged(manifest: manifest, totals: totals)
        } catch {
            area.remove()
            throw error
        }
    }

    /// Moves staged files under their real names, the report last, and removes the staging
    /// folder. A folder that was new to the output when the close was staged is moved whole,
    /// in one rename; every other file is renamed on its own. A kill part way leaves some
    /// files new and some old; the rerun finds them changed and renders them all again.
    public static func publish(_ staged: Staged, beforeEachFile: @Sendable () throws -> Void = {}) throws {
        try moveNewFolders(
            from: staged.folder + "/" + StagingArea.newFoldersName, into: staged.outputFolder, relative: "",
            beforeEachFile: beforeEachFile)
        // Folders first, then the renames on every core (each is one system call, and tens of
        // thousands of them were a second or more), then the report alone, last. The folders
        // are made on every core too, after their parents, so the workers never race on a
        // shared parent; they are usually there already (a folder new to the output was moved
        // in whole above), and the report's is made here when the close folder is not.
        var folderSet: Set<Substring> = []
        for relative in staged.bucketed {
            if let slash = relative.lastIndex(of: "/") { folderSet.insert(relative[..<slash]) }
        }
        let folders = folderSet.map(String.init).sorted(by: utf8Less)
        let parents = Set(folders.compactMap { folder in folder.lastIndex(of: "/").map { String(folder[..<$0]) } })
        for parent in parents.sorted(by: utf8Less) { try makeFolderInside(staged.outputFolder, parent) }
        try inParallel(folders.count) { index in try makeFolderInside(staged.outputFolder, folders[index]) }
        @Sendable func move(_ relative: String) throws {
            try beforeEachFile()
            let target = staged.outputFolder + "/" + relative
            if rename(staged.folder + "/" + stagedName(relative), target) != 0 {
                throw OutputError(path: target, reason: String(cString: strerror(errno)))
            }
        }
        let files = staged.bucketed
        if let report = files.last {
            try inParallel(files.count - 1) { index in try move(files[index]) }
            try move(report)
        }
        removeTree(staged.folder)
        syncFolder(staged.outputFolder)
    }

    /// Merges the staged copy of the output's layout at `staging`/`relative` into the output:
    /// an entry the output lacks is renamed into place whole (a new org's statements folder,
    /// or the whole `statements` folder on a first close: one rename instead of thousands), and
    /// a folder the output has is merged entry by entry. Nothing inside the output is followed
    /// through a symlink. The output can only have gained an entry since the close looked (it
    /// holds the ledger's lock, and nothing of a close removes a folder), so a staged file
    /// whose name has appeared replaces that file, as a rename would anyway.
    static func moveNewFolders(
        from staging: String, into output: String, relative: String, beforeEachFile: @Sendable () throws -> Void
    ) throws {
        let names = (folderEntries(relative.isEmpty ? staging : staging + "/" + relative) ?? []).sorted(by: utf8Less)
        try inParallel(names.count) { index in
            let entry = relative.isEmpty ? names[index] : relative + "/" + names[index]
            let source = staging + "/" + entry
            let target = output + "/" + entry
            switch (pathKind(target), pathKind(source)) {
            case (.folder, .folder):
                try moveNewFolders(from: staging, into: output, relative: entry, beforeEachFile: beforeEachFile)
            case (.missing, _), (.other, .other):
                try beforeEachFile()
                if rename(source, target) != 0 {
                    throw OutputError(path: target, reason: String(cString: strerror(errno)))
                }
            case (.symlink, _):
                throw OutputError(path: target, reason: "is a symlink; refusing to follow it inside the output")
            case (.folder, _):
                throw OutputError(path: target, reason: "is a folder where a file is needed")
            case (.other, _):
                throw OutputError(path: target, reason: "is a file where a folder is needed")
            }
        }
    }

    /// A file whose folder the output already has is staged in one of a few dozen flat folders
    /// rather than in a copy of that folder: one folder per org in staging meant ten thousand
    /// more folders to make, sync and remove per monthly close, and a few dozen keep the
    /// writers on different cores out of each other's folder locks. (A file whose folder is new
    /// goes to `StagingArea.newFoldersName`, where its folder is made once either way.)
    static let stagingBuckets = 64

    /// The path of a close's report, the file published last.
    static func reportPath(through: CivilDate) -> String { "closes/\(through)/report.html" }

    /// Where a file is staged, relative to the staging folder: its bucket, then its path with
    /// `%` written `%25` and `/` written `%2F`, which no two paths share.
    ///
    /// Built from the path's UTF-8 bytes: `%` and `/` are ASCII, and no byte of a multi-byte
    /// UTF-8 sequence is. Appended a Unicode scalar at a time, the name cost 435 instructions a
    /// character (callgrind), 2 % of a 2.3 M-row close's CPU for its 133,000 names.
    static func stagedName(_ relative: String) -> String {
        var hasher = StableHasher()
        hasher.add(relative)
        let bucket = Int(UInt64(bitPattern: hasher.value) % UInt64(stagingBuckets))
        var name = Array(String(bucket).utf8)
        name.reserveCapacity(name.count + 1 + relative.utf8.count + 8)
        name.append(0x2F)
        for byte in relative.utf8 {
            switch byte {
            case 0x25: name.append(contentsOf: [0x25, 0x32, 0x35])
            case 0x2F: name.append(contentsOf: [0x25, 0x32, 0x46])
            default: name.append(byte)
            }
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// Renders each file into the staging area under its path relative to the output folder
    /// (of the documents, those the area's low-priority writer has not reached); returns what
    /// the area holds, sorted by path, and the close's totals.
    static func renderFiles(_ set: RenderSet, area: StagingArea, catalog: Catalog?) throws -> (
        [RenderedFile], CloseTotals
    ) {
        @Sendable func write(_ relative: String, _ bytes: [UInt8]) throws { try area.write(relative, bytes) }
        let closeFolder = "closes/" + set.run.through.description
        let documents = byNumber(set.documents)
        // Every folder is checked for planted symlinks before the parallel writers start, so
        // nothing is followed out of the output when the files are put in place.
        // The same look decides where each folder's files are staged (`StagingArea.isNew`).
        var folders = [closeFolder, "invoices"]
        folders += Set(set.periods.map { "statements/" + $0.orgId.rawValue }).sorted(by: utf8Less)
        for folder in folders { _ = try area.isNew(folder) }

        // The close's tables, journal and report are a file each, written on one thread while
        // the statements are written on every core: one after another, they left a core idle
        // for most of a second.
        let closeFiles = inBackground {
            try writeCloseFiles(set, documents: documents, closeFolder: closeFolder, catalog: catalog, write: write)
        }
        do {
            try area.writeRemainingDocuments(documents)
            try writeStatements(set, catalog: catalog, write: write)
        } catch {
            _ = closeFiles.wait()
            throw error
        }
        if let error = closeFiles.wait() { throw error }
        try area.finishDocuments()
        let totals = CloseTotals(
            periods: set.periods, documents: documents, rejected: set.rejected,
            ledgerFingerprint: set.ledgerFingerprint, filesWritten: area.written.value)
        return (area.manifest.files, totals)
    }
}

extension OutputWriter {
    /// Documents in number order. Usually they already are, and otherwise indices are sorted:
    /// sorting documents themselves copied them again and again.
    static func byNumber(_ documents: [Document]) -> [Document] {
        let sorted = documents.indices.dropFirst().allSatisfy {
            utf8Less(documents[$0 - 1].number, documents[$0].number)
        }
        if sorted { return documents }
        let order = documents.indices.sorted { utf8Less(documents[$0].number, documents[$1].number) }
        return order.map { documents[$0] }
    }

    /// The close's period summary, invoice list, rejected rows, journal and report.
    static func writeCloseFiles(
        _ set: RenderSet, documents: [Document], closeFolder: String, catalog: Catalog?,
        write: (String, [UInt8]) throws -> Void
    ) throws {
        // The tables are written as bytes: built as strings, a line cost 19,000 instructions.
        var summary: [UInt8] = []
        CSVText.appendLine(PeriodRecord.csvHeader, to: &summary)
        for period in set.periods { CSVText.appendLine(period.csvFields, to: &summary) }
        try write(closeFolder + "/period-summary.csv", summary)

        var invoices: [UInt8] = []
        CSVText.appendLine(
            [
                "number", "kind", "org_id", "issue_date", "currency", "net_minor", "tax_minor", "total_minor",
                "references",
            ], to: &invoices)
        for document in documents {
            CSVText.appendLine(
                [
                    document.number, document.kind.rawValue, document.orgId, document.issueDate.description,
                    document.currencyCode, String(document.netMinor), String(document.taxMinor),
                    String(document.totalMinor), document.referencedNumber ?? "",
                ], to: &invoices)
        }
        try write(closeFolder + "/invoices.csv", invoices)

        var rejectedText: [UInt8] = []
        CSVText.appendLine(["source_file", "line", "reason", "raw"], to: &rejectedText)
        for row in set.rejected {
            CSVText.appendLine(
                [row.sourceFile, String(row.lineNumber), row.rejection.text, row.raw], to: &rejectedText)
        }
        try write(closeFolder + "/rejected.csv", rejectedText)

        let accounts = catalog?.issuer.accounts ?? JournalAccounts.defaults
        var journal = Array((Journal.csvHeader + "\n").utf8)
        for document in documents {
            for line in Journal.lines(for: document, accounts: accounts) {
                Journal.appendCSVRow(line, to: &journal)
            }
        }
        try write(closeFolder + "/journal.csv", journal)

        // A document falls under the plan of its org's last renewal on or before its issue date.
        var documentPlans: [String: String] = [:]
        for document in documents {
            let renewed = set.histories[document.orgId]?.last { $0.periodEnd <= document.issueDate }
            documentPlans[document.number] =
                renewed?.planId.rawValue ?? set.profiles[document.orgId]?.firstPlanId.rawValue ?? ""
        }
        var planNames: [String: String] = [:]
        for plan in catalog?.plans.values.map({ $0 }) ?? [] { planNames[plan.id.rawValue] = plan.name }
        for period in set.periods { planNames[period.planId.rawValue] = period.planName }
        let data = CloseReportData(
            run: set.run, periods: set.periods, documents: documents, rejected: set.rejected,
            orgNames: set.profiles.mapValues(\.name), documentPlans: documentPlans, planNames: planNames,
            ledgerFingerprint: set.ledgerFingerprint)
        try write(reportPath(through: set.run.through), Array(ReportHTML.render(data).utf8))
    }

    /// Each closed period's statement, JSON and HTML, on every core.
    static func writeStatements(
        _ set: RenderSet, catalog: Catalog?, write: @Sendable (String, [UInt8]) throws -> Void
    ) throws {
        // The queue is a snapshot at this close, so only an org's latest statement shows it.
        var latestEnd: [String: CivilDate] = [:]
        for period in set.periods { latestEnd[period.orgId.rawValue] = period.periodEnd }
        let latest = latestEnd
        try inParallel(set.periods.count) { index in
            let period = set.periods[index]
            let issued = (set.documentsByOrg[period.orgId.rawValue] ?? []).filter {
                $0.issueDate >= period.periodStart && $0.issueDate < period.periodEnd
            }
            let statement = Statement(
                record: period, profile: set.profiles[period.orgId.rawValue], documents: issued, catalog: catalog,
                history: (set.histories[period.orgId.rawValue] ?? []).filter { $0.periodEnd <= period.periodEnd },
                queue: latest[period.orgId.rawValue] == period.periodEnd ? set.queue[period.orgId] : nil,
                closedThrough: set.run.through)
            let base = "statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
            var json = JSONOut.encode(statement, prettyPrinted: true, escapesSlashes: false)
            json.append(0x0A)
            try write(base + ".json", json)
            try write(base + ".html", StatementHTML.render(statement))
        }
    }
}

/// A staging folder being filled: `<output>/.staging-<pid>/`, with its 64 bucket folders.
/// Creating it removes what killed runs left behind. A close creates it before its ledger
/// transaction and writes the documents' XML into it on other threads while the ledger rows
/// are written (they need nothing from the ledger), then the rest inside the transaction.
public final class StagingArea: @unchecked Sendable {
    public let outputFolder: String
    public let folder: String
    let manifest = RenderedList()
    let written = FileCounter()
    private let fileCount: Int
    private let beforeEachFile: @Sendable () throws -> Void
    private let writeFile: OutputWriter.FileWriter
    private let onFile: OutputWriter.FileProgress?
    /// Set once the documents are started on another thread. Only the close's own steps touch
    /// it, one after another (on its thread, or inside the ledger's transaction on SQLite's
    /// writer queue while the close waits), never the document writers.
    private(set) var documentsStarted = false
    private var documentQueue: DocumentQueue?

    /// How many files a close of this many periods and documents writes: the progress bar's total.
    public static func fileCount(_ periods: Int, _ documents: Int) -> Int { 5 + documents + 2 * periods }

    /// The file published after every other: the report of the close through `through`.
    let lastFile: String
    /// Where the files of folders new to the output are staged, in the output's own layout, so
    /// that publishing moves each such folder with one rename: on a first close, the whole
    /// `statements` folder (ten thousand org folders) and `invoices`, where renaming each of
    /// 66,714 files had taken 0.4 s of a 3.5 s close. Not a number, so no bucket's name.
    static let newFoldersName = "new"
    /// What the area knows of a folder (relative to the output) it was asked about.
    private enum FolderPlan {
        /// The output has it: its files go to the buckets.
        case inOutput
        /// The output lacks it; no file of it is staged yet, so the copy does not have it either.
        case new
        /// The output lacks it, and the copy has it: its files are staged there.
        case newAndMade
    }
    private let plansLock = NSLock()
    private var plans: [String: FolderPlan] = [:]
    private var bucketed: [String] = []

    public init(
        outputFolder: String, through: CivilDate, fileCount: Int,
        beforeEachFile: @escaping @Sendable () throws -> Void = {},
        writeFile: OutputWriter.FileWriter? = nil, onFile: OutputWriter.FileProgress? = nil
    ) throws {
        removeLeftovers(outputFolder: outputFolder)
        let name = ".staging-\(getpid())"
        self.outputFolder = outputFolder
        folder = outputFolder + "/" + name
        lastFile = OutputWriter.reportPath(through: through)
        self.fileCount = fileCount
        self.beforeEachFile = beforeEachFile
        self.writeFile = writeFile ?? { path, bytes in try writeNewFile(path, bytes) }
        self.onFile = onFile
        removeTree(folder)
        try makeFolderInside(outputFolder, name)
        do {
            for bucket in 0..<OutputWriter.stagingBuckets { try makeFolderInside(folder, String(bucket)) }
            try makeFolderInside(folder, Self.newFoldersName)
        } catch {
            removeTree(folder)
            throw error
        }
    }

    /// Whether the output lacks `relative` (a folder), so that its files are staged under
    /// `newFoldersName`. A symlink or a file on the way is refused here, before anything is
    /// published: nothing is followed out of the output when the files are put in place.
    func isNew(_ relative: String) throws -> Bool {
        if let plan = plansLock.withLock({ plans[relative] }) { return plan != .inOutput }
        // Two workers may both get here for one folder: they find the same answer.
        let new = try !checkFolderInside(outputFolder, relative)
        plansLock.withLock {
            if plans[relative] == nil { plans[relative] = new ? .new : .inOutput }
        }
        return new
    }

    /// Whether the files of `relative` (a folder) are staged in the copy of the output's
    /// layout, which gets the folder with its first file: a folder only looked at (`invoices`
    /// for a close without documents) never reaches the output.
    private func stagesInCopy(_ relative: String) throws -> Bool {
        switch plansLock.withLock({ plans[relative] }) {
        case .inOutput: return false
        case .newAndMade: return true
        case .new, nil:
            guard try isNew(relative) else { return false }
            // Making a folder that another worker has just made is not an error.
            try makeFolderInside(folder + "/" + Self.newFoldersName, relative)
            plansLock.withLock { plans[relative] = .newAndMade }
            return true
        }
    }

    /// Where `relative` is staged: in the copy of the output's layout when its folder is new to
    /// the output (the report excepted, which is always renamed on its own, last), else in its
    /// bucket.
    func stagedPath(_ relative: String) throws -> String {
        if relative != lastFile, let slash = relative.lastIndex(of: "/"),
            try stagesInCopy(String(relative[..<slash]))
        {
            return folder + "/" + Self.newFoldersName + "/" + relative
        }
        plansLock.withLock { bucketed.append(relative) }
        return folder + "/" + OutputWriter.stagedName(relative)
    }

    /// What the area holds once every file is written (`manifest`, sorted by path), in
    /// publishing order: the report last.
    func staged(manifest: [RenderedFile], totals: CloseTotals) -> OutputWriter.Staged {
        precondition(manifest.contains { $0.path == lastFile }, "a close's files include its report")
        let bucketed = plansLock.withLock { self.bucketed }.sorted(by: utf8Less)
        return OutputWriter.Staged(
            outputFolder: outputFolder, folder: folder, bucketed: bucketed.filter { $0 != lastFile } + [lastFile],
            manifest: manifest, totals: totals)
    }

    /// Writes one file under its staged name. Every file goes through here, so a test can stop
    /// the rendering between any two files.
    func write(_ relative: String, _ bytes: [UInt8]) throws {
        try beforeEachFile()
        try writeFile(try stagedPath(relative), bytes)
        manifest.add(RenderedFile(path: relative, size: bytes.count, contentHash: OutputWriter.contentHash(bytes)))
        let count = written.increment()
        onFile?(count, fileCount)
    }

    /// Writes each document's XML, on every core.
    func writeDocuments(_ documents: [Document]) throws {
        try inParallel(documents.count) { index in try writeDocument(documents[index]) }
    }

    /// Writes one document's XML under invoices/.
    func writeDocument(_ document: Document) throws {
        try write("invoices/" + document.number + ".xml", try UBLWriter.render(document))
    }

    /// Starts writing the documents on a thread that gets a core only when the ledger's commit
    /// leaves one idle (`runThisThreadOnlyOnIdleCores`); `writeRemainingDocuments` writes what it
    /// has not reached, on every core, once the rows are in.
    ///
    /// Before, the documents had a core of their own at normal priority during the commit, and
    /// the ledger's row encoding (on every core, ahead of the inserts) shared that core with
    /// them: the commit waited for encoded rows while invoices were written. Written after the
    /// commit instead, they left a core idle whenever the ledger's thread worked alone (the
    /// usage id blocks, the seal).
    public func startDocuments(_ documents: [Document]) {
        precondition(!documentsStarted, "the documents are staged once")
        documentsStarted = true
        let queue = DocumentQueue(documents)
        documentQueue = queue
        let thread = Thread {
            runThisThreadOnlyOnIdleCores()
            queue.drain(self, stoppable: true)
            queue.backgroundDone.signal()
        }
        thread.start()
    }

    /// Writes the documents the low-priority thread has not taken, on every core, and waits for
    /// that thread to finish the one it is writing; or writes them all if none were started.
    func writeRemainingDocuments(_ documents: [Document]) throws {
        guard let queue = documentQueue else {
            try writeDocuments(documents)
            return
        }
        // The started writer has the close's own list (in another order); it must be the same set.
        precondition(queue.documents.count == documents.count, "the documents started are the ones rendered")
        queue.stopBackground.store(true, ordering: .relaxed)
        let workers = ProcessInfo.processInfo.activeProcessorCount
        DispatchQueue.concurrentPerform(iterations: workers) { _ in queue.drain(self, stoppable: false) }
        try finishDocuments()
    }

    /// Waits for the low-priority document writer, if one was started; its failure, or any
    /// writer's, is this call's.
    func finishDocuments() throws {
        guard let queue = documentQueue else { return }
        documentQueue = nil
        queue.stopBackground.store(true, ordering: .relaxed)
        queue.backgroundDone.wait()
        if let error = queue.failure.error { throw error }
    }

    /// Removes the staging folder, after the documents' writers have stopped.
    public func remove() {
        try? finishDocuments()
        removeTree(folder)
    }
}

/// The documents of a close, handed out one at a time to the low-priority writer and then to
/// every core, through one counter, so each is written exactly once.
final class DocumentQueue: Sendable {
    let documents: [Document]
    let next = Atomic<Int>(0)
    let stopBackground = Atomic<Bool>(false)
    let backgroundDone = DispatchSemaphore(value: 0)
    let failure = FirstError()

    init(_ documents: [Document]) { self.documents = documents }

    /// Writes documents until none is left, a writer has failed, or (for a `stoppable` writer,
    /// the low-priority one) `stopBackground` is set.
    func drain(_ area: StagingArea, stoppable: Bool) {
        while !failure.isSet, !(stoppable && stopBackground.load(ordering: .relaxed)) {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < documents.count else { return }
            do {
                try area.writeDocument(documents[index])
            } catch {
                failure.set(error)
            }
        }
    }
}

/// The files a render wrote, gathered from every worker.
final class RenderedList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [RenderedFile] = []

    func add(_ file: RenderedFile) {
        lock.lock()
        defer { lock.unlock() }
        stored.append(file)
    }

    var files: [RenderedFile] {
        lock.lock()
        defer { lock.unlock() }
        return stored.sorted { utf8Less($0.path, $1.path) }
    }
}

/// How many files the workers have written.
final class FileCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

extension Ledger {
    func runById(_ id: Int64) throws -> RunInfo? {
        try pool.read { db in
            try GRDB.Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Ledger.runInfo)
        }
    }

    /// Number, kind, date, currency and total of every document issued on or after `since`,
    /// by org: what statements list, without decoding whole documents.
    public func documentSummaries(since: CivilDate?) throws -> [String: [DocumentSummary]] {
        guard let since else { return [:] }
        return try read { db in
            var result: [String: [DocumentSummary]] = [:]
            let rows = try GRDB.Row.fetchCursor(
                db,
                sql: """
                    SELECT number, kind, org_id, issue_date, currency, net_minor, tax_minor, total_minor FROM documents
                    WHERE issue_date >= ? ORDER BY number
                    """, arguments: [since.description])
            while let row = try rows.next() {
                let summary = DocumentSummary(
                    number: row["number"], kind: DocumentKind(rawValue: row["kind"]) ?? .invoice,
                    issueDate: CivilDate.parse(row["issue_date"] as String)!, currencyCode: row["currency"],
                    netMinor: row["net_minor"], taxMinor: row["tax_minor"], totalMinor: row["total_minor"])
                result[row["org_id"], default: []].append(summary)
            }
            return result
        }
    }
}
