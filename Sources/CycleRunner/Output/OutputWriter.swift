import Foundation
import GRDB
import Invoicing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Renders one close's files from the ledger. Nothing here reads inputs or the clock, so a
/// rerun writes the same bytes.
public enum OutputWriter {
    /// A close's files rendered into a staging folder inside the output folder: complete and
    /// on disk, but not yet under their real names.
    public struct Staged: Sendable {
        public var outputFolder: String
        public var folder: String
        /// Paths relative to both folders, in the order they were written (the report last).
        public var files: [String] = []
    }

    /// Stages and publishes in one go (a rerun's re-render).
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: () throws -> Void = {}
    ) throws {
        let staged = try stage(
            run: runId, ledger: ledger, outputFolder: outputFolder, catalog: catalog, beforeEachFile: beforeEachFile)
        try publish(staged)
    }

    /// Renders every file of one close into `<output>/.staging-<pid>/`, after removing what
    /// killed runs left behind. Nothing under the real names changes, so a failure here (a full
    /// disk, a read-only folder) leaves the previous files as they were; the staging folder is
    /// removed on failure. `writeFile` is the seam tests use to simulate a failing disk.
    public static func stage(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: () throws -> Void = {},
        writeFile: (String, [UInt8]) throws -> Void = { path, bytes throws(OutputError) in
            try writeNewFile(path, bytes)
        }
    ) throws -> Staged {
        removeLeftovers(outputFolder: outputFolder)
        let stagingName = ".staging-\(getpid())"
        var staged = Staged(outputFolder: outputFolder, folder: outputFolder + "/" + stagingName)
        removeTree(staged.folder)
        try makeFolderInside(outputFolder, stagingName)
        do {
            try renderFiles(run: runId, ledger: ledger, catalog: catalog) { relative, bytes in
                try beforeEachFile()
                let folder = relative.split(separator: "/").dropLast().joined(separator: "/")
                // Refuse a symlinked destination now, before the close commits, not while publishing.
                try checkFolderInside(outputFolder, folder)
                try makeFolderInside(staged.folder, folder)
                try writeFile(staged.folder + "/" + relative, bytes)
                staged.files.append(relative)
            }
        } catch {
            removeTree(staged.folder)
            throw error
        }
        return staged
    }

    /// Moves staged files under their real names, one atomic rename each, the report last, and
    /// removes the staging folder. A kill part way leaves some files new and some old; the
    /// rerun renders them all again.
    public static func publish(_ staged: Staged, beforeEachFile: () throws -> Void = {}) throws {
        for relative in staged.files {
            try beforeEachFile()
            let folder = relative.split(separator: "/").dropLast().joined(separator: "/")
            try makeFolderInside(staged.outputFolder, folder)
            let target = staged.outputFolder + "/" + relative
            if rename(staged.folder + "/" + relative, target) != 0 {
                throw OutputError(path: target, reason: String(cString: strerror(errno)))
            }
        }
        removeTree(staged.folder)
    }

    /// Renders each file of a close and hands it to `write` with its path relative to the
    /// output folder.
    static func renderFiles(
        run runId: Int64, ledger: Ledger, catalog: Catalog?, write writeBytes: (String, [UInt8]) throws -> Void
    ) throws {
        func write(_ path: String, _ bytes: [UInt8]) throws { try writeBytes(path, bytes) }
        func write(_ path: String, _ text: String) throws { try writeBytes(path, Array(text.utf8)) }
        guard let run = try ledger.lastRun().flatMap({ $0.id == runId ? $0 : nil }) ?? ledger.runById(runId) else {
            return
        }
        let closeFolder = "closes/" + run.through.description
        let periods = try ledger.periods(run: runId)
        let documents = try ledger.documents(run: runId)
        let rejected = try ledger.rejections(run: runId)
        let profiles = Dictionary(
            try ledger.orgs().map { ($0.profile.id.rawValue, $0.profile) }, uniquingKeysWith: { first, _ in first })

        var summary = CSVWriter.line(PeriodRecord.csvHeader)
        for period in periods { summary += CSVWriter.line(period.csvFields) }
        try write(closeFolder + "/period-summary.csv", summary)

        var invoices = CSVWriter.line([
            "number", "kind", "org_id", "issue_date", "currency", "net_minor", "tax_minor", "total_minor",
            "references",
        ])
        for document in documents.sorted(by: { utf8Less($0.number, $1.number) }) {
            invoices += CSVWriter.line([
                document.number, document.kind.rawValue, document.orgId, document.issueDate.description,
                document.currencyCode, String(document.netMinor), String(document.taxMinor),
                String(document.totalMinor), document.referencedNumber ?? "",
            ])
        }
        try write(closeFolder + "/invoices.csv", invoices)

        var rejectedText = CSVWriter.line(["source_file", "line", "reason", "raw"])
        for row in rejected {
            rejectedText += CSVWriter.line([row.sourceFile, String(row.lineNumber), row.rejection.text, row.raw])
        }
        try write(closeFolder + "/rejected.csv", rejectedText)

        let accounts = catalog?.issuer.accounts ?? JournalAccounts.defaults
        var journal = Journal.csvHeader + "\n"
        for document in documents.sorted(by: { utf8Less($0.number, $1.number) }) {
            for line in Journal.lines(for: document, accounts: accounts) {
                journal += Journal.csvRow(line) + "\n"
            }
        }
        try write(closeFolder + "/journal.csv", journal)

        for document in documents {
            try write(
                "invoices/" + document.number + ".xml", try UBLWriter.render(document))
        }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var statementLinks: [(String, String)] = []
        for period in periods {
            let issued = try ledger.documents(org: period.orgId, from: period.periodStart, to: period.periodEnd)
            let statement = Statement(
                record: period, profile: profiles[period.orgId.rawValue], documents: issued, catalog: catalog)
            let base = "statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
            try write(base + ".json", Array(try encoder.encode(statement)) + [0x0A])
            try write(base + ".html", StatementHTML.render(statement))
            statementLinks.append((period.orgId.rawValue, period.periodEnd.description))
        }
        try write(
            closeFolder + "/report.html",
            ReportHTML.render(
                run: run, periods: periods, documents: documents, rejected: rejected, statements: statementLinks))
    }
}

extension Ledger {
    func runById(_ id: Int64) throws -> RunInfo? {
        try read { db in
            try GRDB.Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Ledger.runInfo)
        }
    }
}
