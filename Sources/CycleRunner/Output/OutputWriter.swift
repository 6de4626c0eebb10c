import Foundation
import GRDB
import Invoicing

/// Renders one close's files from the ledger. Nothing here reads inputs or the clock, so a
/// rerun writes the same bytes.
public enum OutputWriter {
    /// Writes every file of one close and returns its totals. `onFile` hears, after each
    /// file, how many of how many are written (for a progress bar).
    @discardableResult
    public static func render(
        run runId: Int64, ledger: Ledger, outputFolder: String, catalog: Catalog?,
        beforeEachFile: () throws -> Void = {}, onFile: ((_ written: Int, _ total: Int) -> Void)? = nil
    ) throws -> CloseTotals? {
        guard let run = try ledger.lastRun().flatMap({ $0.id == runId ? $0 : nil }) ?? ledger.runById(runId) else {
            return nil
        }
        let closeFolder = outputFolder + "/closes/" + run.through.description
        let periods = try ledger.periods(run: runId)
        let documents = try ledger.documents(run: runId)
        let rejected = try ledger.rejections(run: runId)
        let queue = try ledger.queue(run: runId)
        let profiles = Dictionary(
            try ledger.orgs().map { ($0.profile.id.rawValue, $0.profile) }, uniquingKeysWith: { first, _ in first })
        let total = 5 + documents.count + 2 * periods.count
        var written = 0
        // Every file goes through here, so a test can stop the rendering between any two files.
        func write(_ path: String, _ bytes: [UInt8]) throws {
            try beforeEachFile()
            try writeFileAtomically(path, bytes)
            written += 1
            onFile?(written, total)
        }
        func write(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }

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

        // Each org's closed periods, for the burn rate and for the plan a document falls under.
        // Only periods ending by the date in question count, so a later close never changes
        // what this close renders.
        var histories: [String: [PeriodRecord]] = [:]
        func history(_ org: OrgID) throws -> [PeriodRecord] {
            if let known = histories[org.rawValue] { return known }
            let loaded = try ledger.periods(org: org)
            histories[org.rawValue] = loaded
            return loaded
        }
        var latestEnd: [String: CivilDate] = [:]
        for period in periods { latestEnd[period.orgId.rawValue] = period.periodEnd }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        for period in periods {
            let issued = try ledger.documents(org: period.orgId, from: period.periodStart, to: period.periodEnd)
            // The queue is a snapshot at this close, so only the org's latest statement shows it.
            let isLatest = latestEnd[period.orgId.rawValue] == period.periodEnd
            let statement = Statement(
                record: period, profile: profiles[period.orgId.rawValue], documents: issued, catalog: catalog,
                history: try history(period.orgId).filter { $0.periodEnd <= period.periodEnd },
                queue: isLatest ? queue[period.orgId] : nil, closedThrough: run.through)
            let base = outputFolder + "/statements/" + period.orgId.rawValue + "/" + period.periodEnd.description
            try write(base + ".json", Array(try encoder.encode(statement)) + [0x0A])
            try write(base + ".html", StatementHTML.render(statement))
        }

        var documentPlans: [String: String] = [:]
        for document in documents {
            let org = OrgID(document.orgId)
            let renewed = try history(org).last { $0.periodEnd <= document.issueDate }
            documentPlans[document.number] =
                renewed?.planId.rawValue ?? profiles[document.orgId]?.firstPlanId.rawValue ?? ""
        }
        var planNames: [String: String] = [:]
        for plan in catalog?.plans.values.map({ $0 }) ?? [] { planNames[plan.id.rawValue] = plan.name }
        for period in periods { planNames[period.planId.rawValue] = period.planName }
        let fingerprint = try ledger.fingerprint(run: runId)
        let data = CloseReportData(
            run: run, periods: periods, documents: documents, rejected: rejected,
            orgNames: profiles.mapValues(\.name), documentPlans: documentPlans, planNames: planNames,
            ledgerFingerprint: fingerprint)
        try write(closeFolder + "/report.html", ReportHTML.render(data))
        return CloseTotals(
            periods: periods, documents: documents, rejected: rejected, ledgerFingerprint: fingerprint,
            filesWritten: written)
    }
}

extension Ledger {
    func runById(_ id: Int64) throws -> RunInfo? {
        try pool.read { db in
            try GRDB.Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Ledger.runInfo)
        }
    }
}
