// Shared helpers for the what-if tests: tiny hand-written input folders and a scenario runner.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

enum WhatIfFixtures {
    /// Four plans in USD with round numbers, so every expected value can be worked out by hand.
    static let plans = """
        issuer:
          name: "ACT 3 Studios Ltd"
          street: "1 Stage Road"
          city: London
          postal_code: "EC1A 1AA"
          country: GB
          vat_id: GB123456789
          payment_terms_days: 14
        plans:
          - { id: community, name: Community, rank: 1, monthly_credits: 500, bank_cap: 250, prices: { USD: "9.00" },
              overdraft: carry }
          - { id: standard, name: Standard, rank: 2, monthly_credits: 2000, bank_cap: 1000, prices: { USD: "29.00" },
              overdraft: carry }
          - { id: business, name: Business, rank: 3, monthly_credits: 10000, bank_cap: 10000, topups: true,
              prices: { USD: "99.00" }, overdraft: invoice, overage_price: { USD: "0.0150" } }
          - { id: enterprise, name: Enterprise, rank: 4, custom: true, topups: true, overdraft: invoice,
              overage_price: { USD: "0.0100" } }
        actions:
          - { id: script, label: Script }

        """

    /// An orgs.csv row in USD, standard VAT at 20 %, optionally with custom terms.
    static func org(_ id: String, _ plan: String, _ start: String, custom: String = ",,") -> String {
        "\(id),\(id) Ltd,\(plan),\(start),USD,GB,1 Road,London,EC1A 1AA,S,20,,,,\(custom)"
    }

    /// A new input folder with the given orgs, plan changes and usage rows.
    static func folder(orgs: [String], planChanges: [String] = [], usage: [String] = []) throws -> String {
        let folder = TestPaths.temporaryFolder("whatif-input")
        try FileManager.default.createDirectory(atPath: folder + "/usage", withIntermediateDirectories: true)
        try plans.write(toFile: folder + "/plans.yaml", atomically: true, encoding: .utf8)
        let orgHeader =
            "org_id,name,plan_id,start_date,currency,country,street,city,postal_code,vat_category,vat_rate,"
            + "vat_id,endpoint_id,buyer_reference,monthly_credits,bank_cap,price"
        try ([orgHeader] + orgs).joined(separator: "\n").appending("\n")
            .write(toFile: folder + "/orgs.csv", atomically: true, encoding: .utf8)
        try (["org_id,effective_at,plan_id"] + planChanges).joined(separator: "\n").appending("\n")
            .write(toFile: folder + "/plan_changes.csv", atomically: true, encoding: .utf8)
        try (["event_id,org_id,occurred_at,user_id,action,credits"] + usage).joined(separator: "\n").appending("\n")
            .write(toFile: folder + "/usage/2026.csv", atomically: true, encoding: .utf8)
        return folder
    }

    /// Writes `scenario` to `<name>.yaml` in a new folder and returns its path.
    static func scenarioFile(_ scenario: String, name: String = "scenario") throws -> String {
        let path = TestPaths.temporaryFolder("whatif-scenario") + "/\(name).yaml"
        try scenario.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func options(_ input: String, _ scenario: String, through: String, output: String? = nil) throws
        -> WhatIfOptions
    {
        WhatIfOptions(
            through: CivilDate.parse(through)!, inputFolder: input,
            outputFolder: output ?? TestPaths.temporaryFolder("whatif-output"),
            scenarioPath: try scenarioFile(scenario))
    }

    /// Replays `input` with `scenario` in memory.
    static func compute(_ input: String, _ scenario: String, through: String) throws -> WhatIfResult {
        try WhatIfPipeline.compute(options(input, scenario, through: through))
    }
}

extension WhatIfResult {
    func row(_ org: String, end: String) -> ComparisonRow? {
        comparison.rows.first { $0.orgId.rawValue == org && $0.periodEnd.description == end }
    }

    var all: ComparisonTotal { comparison.totals.first { $0.group == .all }! }
}
