import Foundation
import Invoicing

/// The short summaries printed at the end of a command.
public enum Terminal {
    public static func summary(_ summary: CloseSummary) -> String {
        var lines = [summary.message]
        if let report = summary.report {
            if let totals = summary.totals {
                lines.append(
                    "periods closed: \(totals.periodsClosed) (\(totals.orgs) orgs)  documents issued: "
                        + "\(totals.invoices + totals.creditNotes) (\(totals.invoices) invoices, \(totals.creditNotes) credit \(totals.creditNotes == 1 ? "note" : "notes"))"
                )
                let expired = totals.creditsExpiredByCap + totals.creditsExpiredByAge + totals.creditsExpiredTopUp
                lines.append(
                    "credits: \(grouped(totals.creditsGranted)) granted, \(grouped(totals.creditsUsed)) used "
                        + "(\(grouped(totals.creditsOverdrawn)) overdrawn), \(grouped(totals.creditsRolledOver)) rolled over, "
                        + "\(grouped(expired)) expired")
                for money in totals.money {
                    lines.append(
                        "money \(money.currency): \(groupedDecimal(money.invoiced)) invoiced, \(groupedDecimal(money.credited)) credited, \(groupedDecimal(money.tax)) tax"
                    )
                }
                let reasons = totals.rejectedByReason.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                    .map { "\($0.key) \($0.value)" }
                lines.append(
                    "rows rejected: \(summary.rejectedCount)"
                        + (reasons.isEmpty ? "" : " (" + reasons.joined(separator: ", ") + ")"))
            } else {
                lines.append(
                    "periods closed: \(report.periodsClosed)  documents issued: \(report.documentsIssued)  rows rejected: \(summary.rejectedCount)"
                )
            }
            lines.append("rows per file (read = applied + duplicates + rejected + pending):")
            for (file, counts) in zip(report.files, report.counts) {
                lines.append(
                    "  \(file): \(counts.read) = \(counts.applied) + \(counts.duplicates) + \(counts.rejected) + \(counts.pending)"
                )
            }
            for warning in report.documentWarnings { lines.append("warning: " + warning) }
            lines.append("files: \(summary.outputFolder)/closes/\(summary.through)/ (report.html, CSV exports)")
            lines.append("       \(summary.outputFolder)/statements/ and \(summary.outputFolder)/invoices/")
            if let totals = summary.totals { lines.append("ledger fingerprint: \(totals.ledgerFingerprint)") }
        }
        return lines.joined(separator: "\n")
    }

    /// `close --json`: the summary for machines, one JSON object with sorted keys.
    public struct JSONSummary: Codable, Sendable {
        public struct FileRows: Codable, Sendable {
            public var file: String
            public var read: Int
            public var applied: Int
            public var duplicates: Int
            public var rejected: Int
            public var pending: Int
        }

        public var through: String
        public var message: String
        public var appliedNothing: Bool
        public var ledgerClosedThrough: String?
        public var periodsClosed: Int
        public var documentsIssued: Int
        public var rejected: Int
        public var inputFingerprint: String?
        public var files: [FileRows]
        public var documentWarnings: [String]
        public var totals: CloseTotals?
        public var outputFolder: String
        public var closeFolder: String?
        public var report: String?
    }

    public static func json(_ summary: CloseSummary) -> String {
        let report = summary.report
        let closeFolder = report.map { _ in "\(summary.outputFolder)/closes/\(summary.through)" }
        let value = JSONSummary(
            through: summary.through.description, message: summary.message, appliedNothing: summary.appliedNothing,
            ledgerClosedThrough: summary.ledgerHorizon.map { $0.date.addingDays(-1).description },
            periodsClosed: report?.periodsClosed ?? 0, documentsIssued: report?.documentsIssued ?? 0,
            rejected: summary.rejectedCount, inputFingerprint: report?.inputFingerprint,
            files: zip(report?.files ?? [], report?.counts ?? []).map { file, counts in
                JSONSummary.FileRows(
                    file: file, read: counts.read, applied: counts.applied, duplicates: counts.duplicates,
                    rejected: counts.rejected, pending: counts.pending)
            }, documentWarnings: report?.documentWarnings ?? [], totals: summary.totals,
            outputFolder: summary.outputFolder, closeFolder: closeFolder,
            report: closeFolder.map { $0 + "/report.html" })
        return encodeForTerminal(value)
    }

    /// `close --json` when the close fails: the message and the exit status, on stdout.
    public static func jsonError(_ message: String, exitCode: Int32) -> String {
        struct Failure: Codable {
            var error: String
            var exitCode: Int32
        }
        return encodeForTerminal(Failure(error: message, exitCode: exitCode))
    }

    static func encodeForTerminal<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Balances from the ledger, read-only, so it can run while a close is writing (WAL).
public enum BalanceReport {
    public static func render(ledgerPath: String, org: String?) throws -> String {
        let ledger = try Ledger(path: ledgerPath, readOnly: true)
        // One snapshot for the horizon and every org, so a close committing meanwhile is seen
        // wholly or not at all.
        return try ledger.snapshot { try render(ledger, org: org) }
    }

    static func render(_ ledger: Ledger, org: String?) throws -> String {
        let horizon = try ledger.horizon()
        var lines = ["ledger closed through \(horizon.map { $0.date.addingDays(-1).description } ?? "(never)")"]
        lines.append("org_id,plan_id,current,bank,topup,deficit")
        for stored in try ledger.orgs() where org == nil || stored.profile.id.rawValue == org {
            guard let state = stored.state, state.started else {
                lines.append("\(stored.profile.id),\(stored.profile.firstPlanId),0,0,0,0")
                continue
            }
            lines.append(
                "\(state.orgId),\(state.plan),\(state.current),\(state.bankTotal),\(state.topUpTotal),\(state.deficit)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `validate`: reads everything as a close would, against no ledger, and writes only the
/// rejected rows.
public enum InputValidation {
    public static func validate(folder: String, reportFolder: String) throws -> String {
        let catalog = try CatalogReader.read(path: folder + "/plans.yaml")
        let (orgs, orgRejected, orgCounts) = try InputReader.readOrgs(folder: folder, catalog: catalog)
        var input = InputFolder(catalog: catalog)
        _ = input.addFile("orgs.csv")
        var counts = orgCounts
        counts.applied = orgs.count
        input.counts[0] = counts
        input.rejected = orgRejected
        try InputReader.readEvents(
            folder: folder, catalog: catalog, orgs: OrgDirectory(profiles: orgs.sorted { $0.id < $1.id }),
            into: &input)
        var text = CSVWriter.line(["source_file", "line", "reason", "raw"])
        for row in input.rejected {
            text += CSVWriter.line([row.sourceFile, String(row.lineNumber), row.rejection.text, row.raw])
        }
        try writeFileAtomically(reportFolder + "/rejected.csv", text)
        var lines = ["rows per file (read, kept for a close, duplicates, rejected):"]
        for (file, fileCounts) in zip(input.files, input.counts) {
            let kept = fileCounts.read - fileCounts.duplicates - fileCounts.rejected
            lines.append(
                "  \(file): \(fileCounts.read) read, \(kept) valid, \(fileCounts.duplicates) duplicates, \(fileCounts.rejected) rejected"
            )
        }
        lines.append("rejected: \(input.rejected.count) (see \(reportFolder)/rejected.csv)")
        for org in orgs {
            if let endpoint = org.endpointId, let problem = EndpointCheck.problem(endpoint) {
                lines.append("warning: org \(org.id) endpoint_id: \(problem)")
            }
        }
        for org in orgs where ["AE", "K"].contains(org.tax.categoryCode) && org.vatId == nil {
            lines.append(
                "warning: org \(org.id) is \(org.tax.categoryCode) without vat_id; its e-invoices cannot pass BR-\(org.tax.categoryCode)-02"
            )
        }
        return lines.joined(separator: "\n")
    }
}
