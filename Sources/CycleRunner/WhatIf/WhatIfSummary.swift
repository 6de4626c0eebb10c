import Invoicing

/// The few lines a what-if prints at the end: what changed, and the numbers that answer
/// the question (orgs affected, credits expired and overdrawn, money per currency).
public enum WhatIfSummary {
    public static func text(_ result: WhatIfResult) -> String {
        var lines = [
            "what-if \(result.scenario.name) through \(result.through): replayed in memory; "
                + "the ledger was not opened and no invoice number was used"
        ]
        if result.changes.isEmpty { lines.append("scenario: changes nothing") }
        for change in result.changes { lines.append("scenario: " + change) }
        for warning in result.warnings { lines.append("warning: " + warning) }
        let orgs = OrgDifference.all(result.comparison.rows)
        let changed = orgs.filter { $0.baseline != $0.scenario || $0.baselinePlan != $0.scenarioPlan }.count
        lines.append(
            "orgs that change: \(grouped(Int64(changed))) of \(grouped(Int64(orgs.count))) "
                + "(\(grouped(Int64(result.comparison.rows.count))) org periods compared)")
        if let all = result.comparison.totals.first(where: { $0.group == .all }) {
            func line(_ label: String, _ base: Int64, _ scenario: Int64) {
                lines.append(
                    "\(label): \(WhatIfFormat.credits(base)) → \(WhatIfFormat.credits(scenario)) "
                        + "(\(WhatIfFormat.signedCredits(scenario - base)))")
            }
            line(
                "credits expired (cap + age)", all.baseline[.expiredCap] + all.baseline[.expiredAge],
                all.scenario[.expiredCap] + all.scenario[.expiredAge])
            line("credits rolled over", all.baseline[.rolledOver], all.scenario[.rolledOver])
            line("credits overdrawn", all.baseline[.overdraft], all.scenario[.overdraft])
            line("credits billed as overage", all.baseline[.overageBilled], all.scenario[.overageBilled])
        }
        for total in result.comparison.totals where total.group == .currency {
            let code = total.currencyCode ?? ""
            let base = total.baseline[.netInvoicedMinor]
            let scenario = total.scenario[.netInvoicedMinor]
            lines.append(
                "net invoiced \(code): \(WhatIfFormat.money(base, code)) → \(WhatIfFormat.money(scenario, code)) "
                    + "(\(WhatIfFormat.signedMoney(scenario - base, code)))")
        }
        if !result.folder.isEmpty { lines.append("files: \(result.folder)/ (report.html, comparison.csv, totals.csv)") }
        return lines.joined(separator: "\n")
    }
}
