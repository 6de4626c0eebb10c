// Proves the ledger keeps each org's start and first plan as first seen: a later orgs.csv row that
// changes them, or a new org starting before the horizon, is rejected with its line, and the org
// goes on renewing from the ledger's copy.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct OrgLedgerTests {
    @Test func changedStartsAndLateNewOrgsAreRejectedWithTheirLines() throws {
        let source = TestPaths.conformance.appendingPathComponent("01-anchor-month-end/input").path
        let input = TestPaths.temporaryFolder("org-ledger-input")
        for name in ["plans.yaml", "orgs.csv", "plan_changes.csv"] {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: input + "/" + name)
        }
        try FileManager.default.createDirectory(atPath: input + "/usage", withIntermediateDirectories: true)
        let output = TestPaths.temporaryFolder("org-ledger-output")
        _ = try Fixtures.close(input, output, through: CivilDate.parse("2026-02-28")!)

        let header =
            "org_id,name,plan_id,start_date,currency,country,street,city,postal_code,vat_category,vat_rate,"
            + "vat_id,monthly_credits,bank_cap,price\n"
        let rows = [
            "a31,Org a31 renamed,standard,2026-01-30,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,",
            "n1,New but late,standard,2026-02-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,",
            "n2,New and on time,standard,2026-03-15,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,",
        ]
        try (header + rows.joined(separator: "\n") + "\n").write(
            toFile: input + "/orgs.csv", atomically: true, encoding: .utf8)
        let summary = try Fixtures.close(input, output, through: CivilDate.parse("2026-03-31")!)
        #expect(summary.rejectedCount == 2)

        let rejected = CSVTestParser.rows(
            try String(contentsOfFile: output + "/closes/2026-03-31/rejected.csv", encoding: .utf8))
        #expect(rejected.count == 3)
        #expect(rejected[1][1] == "2" && rejected[1][2].hasPrefix("org_changed:"))
        #expect(rejected[2][1] == "3" && rejected[2][2].hasPrefix("org_starts_in_closed_period:"))

        // a31 still renews on its first anchor (31st, clamped), and n2 starts on time.
        let periods = Fixtures.lines(output + "/closes/2026-03-31/period-summary.csv")
        #expect(periods.contains { $0.hasPrefix("a31,2026-02-28,2026-03-31,") })
        let invoices = Fixtures.lines(output + "/closes/2026-03-31/invoices.csv")
        #expect(invoices.contains { $0.contains(",n2,2026-03-15,") })
        #expect(!invoices.contains { $0.contains(",n1,") })
    }
}
