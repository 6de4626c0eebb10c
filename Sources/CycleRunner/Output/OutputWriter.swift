import Dispatch
import Foundation
import GRDB
import Invoicing

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

    public static func load(run: Ledger.RunInfo, ledger: Ledger) throws -> RenderSet {
        let periods = try ledger.periods(run: run.id)
        return RenderSet(
            run: run, periods: periods, documents: try ledger.documents(run: run.id),
            rejected: try ledger.rejections(run: run.id),
            profiles: Dictionary(
                try ledger.orgs().map { ($0.profile.id.rawValue, $0.profile) }, uniquingKeysWith: { first, _ in first }),
            documentsByOrg: try ledger.documentSummaries(since: periods.map(\.periodStart).min()))
    }
}

/// The few fields of a document a statement lists.
public struct DocumentSummary: Sendable, Hashable {
    public var number: String
    public var kind: DocumentKind
    public var issueDate: CivilDate
    public var currencyCode: String
    public var totalMinor: Int64
}

/// Renders one close's files. Nothing here reads inputs or the clock, so a rerun writes the
/// same bytes. Statements and documents are rendered on every core; each file is written under
/// a temporary name and renamed, and the whole output is synced to disk once at the end.
public enum OutputWriter {
    /// Makes a run's files what they were when the run was closed. When the ledger lists what
    /// the run wrote and every file is still there with the same bytes, nothing is rendered;
    /// otherwise everything is rendered again from the ledger. Returns how many files it wrote.
    @discardableResult
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: @Sendable () throws -> Void = {}
    ) throws -> Int {
        guard let run = try ledger.runById(runId) else { return 0 }
        let listed = try ledger.renderedFiles(run: runId)
        if !listed.isEmpty, try allPresent(listed, in: outputFolder) { return 0 }
        let written = try render(
            RenderSet.load(run: run, ledger: ledger), outputFolder: outputFolder, catalog: catalog,
            beforeEachFile: beforeEachFile)
        try ledger.recordRendered(run: runId, files: written)
        return written.count
    }

    /// Whether every listed file exists with its recorded size and content hash.
    static func allPresent(_ files: [RenderedFile], in folder: String) throws -> Bool {
        let mismatch = FirstError()
        struct Mismatch: Error {}
        try inParallel(files.count) { index in
            let file = files[index]
            guard let bytes = readWholeFile(folder + "/" + file.path), bytes.count == file.size,
                contentHash(bytes) == file.contentHash
            else {
                mismatch.set(Mismatch())
                return
            }
        }
        return !mismatch.isSet
    }

    /// FNV-1a over a file's bytes: a check that the file is the one written, not a defence
    /// against tampering (the ledger's own chain is for that).
    static func contentHash(_ bytes: [UInt8]) -> Int64 {
        var hasher = StableHasher()
        hasher.add(bytes: bytes)
        return hasher.value
    }

    /// Renders every file of `set` and returns what it wrote, relative to `outputFolder`.
    @discardableResult
    public static func render(
        _ set: RenderSet, outputFolder: String, catalog: Catalog?, beforeEachFile: @Sendable () throws -> Void = {}
    ) throws -> [RenderedFile] {
        let manifest = RenderedList()
        // Every file goes through here, so a test can stop the rendering between any two files.
        @Sendable func write(_ path: String, _ bytes: [UInt8]) throws {
            try beforeEachFile()
            try writeFileAtomically(path, bytes)
            manifest.add(
                RenderedFile(
                    path: String(path.dropFirst(outputFolder.count + 1)), size: bytes.count,
                    contentHash: contentHash(bytes)))
        }
        @Sendable func write(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }
        let closeFolder = outputFolder + "/closes/" + set.run.through.description
        let documents = set.documents.sorted { utf8Less($0.number, $1.number) }

        var summary = CSVWriter.line(PeriodRecord.csvHeader)
        for period in set.periods { summary += CSVWriter.line(period.csvFields) }
        try write(closeFolder + "/period-summary.csv", summary)

        var invoices = CSVWriter.line([
            "number", "kind", "org_id", "issue_date", "currency", "net_minor", "tax_minor", "total_minor",
            "references",
        ])
        for document in documents {
            invoices += CSVWriter.line([
                document.number, document.kind.rawValue, document.orgId, document.issueDate.description,
                document.currencyCode, String(document.netMinor), String(document.taxMinor),
                String(document.totalMinor), document.referencedNumber ?? "",
            ])
        }
        try write(closeFolder + "/invoices.csv", invoices)

        var rejectedText = CSVWriter.line(["source_file", "line", "reason", "raw"])
        for row in set.rejected {
            rejectedText += CSVWriter.line([row.sourceFile, String(row.lineNumber), row.rejection.text, row.raw])
        }
        try write(closeFolder + "/rejected.csv", rejectedText)

        let accounts = catalog?.issuer.accounts ?? JournalAccounts.defaults
        var journal = Journal.csvHeader + "\n"
        for document in documents {
            for line in Journal.lines(for: document, accounts: accounts) {
                journal += Journal.csvRow(line) + "\n"
            }
        }
        try write(closeFolder + "/journal.csv", journal)

        // Make every statement folder first, so the parallel writers never race to create one.
        for org in Set(set.periods.map(\.orgId.rawValue)) { makeFolder(outputFolder + "/statements/" + org) }
        makeFolder(outputFolder + "/invoices")
        try inParallel(documents.count) { index in
            let document = documents[index]
            try write(outputFolder + "/invoices/" + document.number + ".xml", try UBLWriter.render(document))
        }
        try inParallel(set.periods.count) { index in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let period = set.periods[index]
            let issued = (set.documentsByOrg[period.orgId.rawValue] ?? []).filter {
                $0.issueDate >= period.periodStart && $0.issueDate < period.periodEnd
            }
            let statement = Statement(
                record: period, profile: set.profiles[period.orgId.rawValue], documents: issued, catalog: catalog)
            let base = outputFolder + "/statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
            try write(base + ".json", Array(try encoder.encode(statement)) + [0x0A])
            try write(base + ".html", StatementHTML.render(statement))
        }
        let statementLinks = set.periods.map { ($0.orgId.rawValue, $0.periodEnd.description) }
        try write(
            closeFolder + "/report.html",
            ReportHTML.render(
                run: set.run, periods: set.periods, documents: set.documents, rejected: set.rejected,
                statements: statementLinks))
        syncFolder(outputFolder)
        return manifest.files
    }

    /// Runs `body` for 0..<count on every core, in contiguous slices, and rethrows the first
    /// error. The work items are independent files, so their order does not matter.
    static func inParallel(_ count: Int, _ body: @Sendable (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 64 + 1))
        let failure = FirstError()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = count * worker / workers
            let end = count * (worker + 1) / workers
            for index in start..<end {
                if failure.isSet { return }
                do { try body(index) } catch { failure.set(error) }
            }
        }
        if let error = failure.error { throw error }
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

/// The first error of several workers.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stored != nil
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func set(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
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
        return try pool.read { db in
            var result: [String: [DocumentSummary]] = [:]
            let rows = try GRDB.Row.fetchCursor(
                db,
                sql: """
                    SELECT number, kind, org_id, issue_date, currency, total_minor FROM documents
                    WHERE issue_date >= ? ORDER BY number
                    """, arguments: [since.description])
            while let row = try rows.next() {
                let summary = DocumentSummary(
                    number: row["number"], kind: DocumentKind(rawValue: row["kind"]) ?? .invoice,
                    issueDate: CivilDate.parse(row["issue_date"] as String)!, currencyCode: row["currency"],
                    totalMinor: row["total_minor"])
                result[row["org_id"], default: []].append(summary)
            }
            return result
        }
    }
}
