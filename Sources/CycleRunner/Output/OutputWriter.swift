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
/// same bytes. Statements and documents are rendered on every core; each file is written under
/// a temporary name and renamed, and the whole output is synced to disk once at the end.
public enum OutputWriter {
    @discardableResult
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: @Sendable () throws -> Void = {}, onFile: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> CloseTotals? {
        guard let run = try ledger.runById(runId) else { return nil }
        return try render(
            RenderSet.load(run: run, ledger: ledger), outputFolder: outputFolder, catalog: catalog,
            beforeEachFile: beforeEachFile, onFile: onFile)
    }

    /// Writes every file of one close and returns its totals. `onFile` hears, after each file,
    /// how many of how many are written (for a progress bar); workers call it concurrently.
    @discardableResult
    public static func render(
        _ set: RenderSet, outputFolder: String, catalog: Catalog?, beforeEachFile: @Sendable () throws -> Void = {},
        onFile: (@Sendable (_ written: Int, _ total: Int) -> Void)? = nil
    ) throws -> CloseTotals {
        let total = 5 + set.documents.count + 2 * set.periods.count
        let written = FileCounter()
        // Every file goes through here, so a test can stop the rendering between any two files.
        @Sendable func write(_ path: String, _ bytes: [UInt8]) throws {
            try beforeEachFile()
            try writeFileAtomically(path, bytes)
            let count = written.increment()
            onFile?(count, total)
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
        // The queue is a snapshot at this close, so only an org's latest statement shows it.
        var latestEnd: [String: CivilDate] = [:]
        for period in set.periods { latestEnd[period.orgId.rawValue] = period.periodEnd }
        let latest = latestEnd
        try inParallel(set.periods.count) { index in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let period = set.periods[index]
            let issued = (set.documentsByOrg[period.orgId.rawValue] ?? []).filter {
                $0.issueDate >= period.periodStart && $0.issueDate < period.periodEnd
            }
            let statement = Statement(
                record: period, profile: set.profiles[period.orgId.rawValue], documents: issued, catalog: catalog,
                history: (set.histories[period.orgId.rawValue] ?? []).filter { $0.periodEnd <= period.periodEnd },
                queue: latest[period.orgId.rawValue] == period.periodEnd ? set.queue[period.orgId] : nil,
                closedThrough: set.run.through)
            let base = outputFolder + "/statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
            try write(base + ".json", Array(try encoder.encode(statement)) + [0x0A])
            try write(base + ".html", StatementHTML.render(statement))
        }
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
        try write(closeFolder + "/report.html", ReportHTML.render(data))
        syncFolder(outputFolder)
        return CloseTotals(
            periods: set.periods, documents: documents, rejected: set.rejected,
            ledgerFingerprint: set.ledgerFingerprint, filesWritten: written.value)
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
