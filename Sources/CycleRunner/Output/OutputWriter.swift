import Foundation
import GRDB
import Invoicing

/// Renders one close's files from the ledger. Nothing here reads inputs or the clock, so a
/// rerun writes the same bytes.
public enum OutputWriter {
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: () throws -> Void = {}
    ) throws {
        // Every file goes through here, so a test can stop the rendering between any two files.
        func write(_ path: String, _ bytes: [UInt8]) throws {
            try beforeEachFile()
            try writeFileAtomically(path, bytes)
        }
        func write(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }
        guard let run = try ledger.lastRun().flatMap({ $0.id == runId ? $0 : nil }) ?? ledger.runById(runId) else {
            return
        }
        let closeFolder = outputFolder + "/closes/" + run.through.description
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
                outputFolder + "/invoices/" + document.number + ".xml", try UBLWriter.render(document))
        }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var statementLinks: [(String, String)] = []
        for period in periods {
            let issued = try ledger.documents(org: period.orgId, from: period.periodStart, to: period.periodEnd)
            let statement = Statement(
                record: period, profile: profiles[period.orgId.rawValue], documents: issued, catalog: catalog)
            let base = outputFolder + "/statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
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
        try pool.read { db in
            try GRDB.Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Ledger.runInfo)
        }
    }
}
