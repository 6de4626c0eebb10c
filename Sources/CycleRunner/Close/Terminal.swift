import Invoicing

/// The short summaries printed at the end of a command.
public enum Terminal {
    public static func summary(_ summary: CloseSummary) -> String {
        var lines = [summary.message]
        if let report = summary.report {
            lines.append(
                "periods closed: \(report.periodsClosed)  documents issued: \(report.documentsIssued)  rows rejected: \(summary.rejectedCount)"
            )
            lines.append("rows per file (read = applied + duplicates + rejected + pending):")
            for (file, counts) in zip(report.files, report.counts) {
                lines.append(
                    "  \(file): \(counts.read) = \(counts.applied) + \(counts.duplicates) + \(counts.rejected) + \(counts.pending)"
                )
            }
            for warning in report.documentWarnings { lines.append("warning: " + warning) }
            lines.append("files: \(summary.outputFolder)/closes/\(summary.through)/")
        }
        return lines.joined(separator: "\n")
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
