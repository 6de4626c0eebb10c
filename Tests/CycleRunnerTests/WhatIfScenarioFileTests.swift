// Proves a scenario file's mistakes stop the what-if with the file, the line and the key, like
// plans.yaml, and that every form the README documents is read.
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfScenarioFileTests {
    static func input() throws -> String {
        try WhatIfFixtures.folder(
            orgs: [
                WhatIfFixtures.org("a", "standard", "2026-01-01"),
                WhatIfFixtures.org("e1", "enterprise", "2026-01-01", custom: "50000,20000,999.00"),
            ],
            planChanges: ["a,2026-02-10T00:00:00Z,business"])
    }

    /// The error a scenario raises, or nil when it is accepted.
    static func error(_ scenario: String) throws -> InputError? {
        let options = try WhatIfFixtures.options(input(), scenario, through: "2026-03-31")
        do {
            _ = try WhatIfPipeline.compute(options)
            return nil
        } catch {
            guard case .input(let inputError) = error else { return nil }
            return inputError
        }
    }

    @Test(arguments: [
        ("plans:\n  standard:\n    bank_cap: lots\n", 3, "plans.standard.bank_cap", "whole number"),
        ("plans:\n  standard: { bank_capp: 2000 }\n", 2, "plans.standard.bank_capp", "unknown key bank_capp"),
        ("standard: { bank_cap: 2000 }\n", 1, "standard", "plan overrides go under plans:"),
        (
            "plans:\n  studio: { monthly_credits: 5, bank_cap: 0, prices: { USD: \"1.00\" } }\n", 2, "plans.studio",
            "rank"
        ),
        ("plans:\n  standard: { overdraft: invoice }\n", 2, "plans.standard", "overage_price"),
        ("plans:\n  standard: { prices: { USD: \"29.001\" } }\n", 2, "plans.standard.prices.USD", "decimals"),
        (
            "add_plan_changes:\n  - { org: a, at: 2026-02-10, plan: platinum }\n", 2, "add_plan_changes[0].plan",
            "no plan"
        ),
        (
            "add_plan_changes:\n  - { org: nobody, at: 2026-02-10, plan: business }\n", 2, "add_plan_changes[0]",
            "no org"
        ),
        ("add_plan_changes:\n  - { org: a, at: 2026-02-30, plan: business }\n", 2, "add_plan_changes[0].at", "date"),
        ("add_plan_changes:\n  - { org: a, at: 2025-12-01, plan: business }\n", 2, "add_plan_changes[0]", "before"),
        ("add_plan_changes:\n  - { org: a, plan: business }\n", 2, "at", "missing key at"),
        (
            "remove_plan_changes:\n  - { org: a, plan: community }\n", 2, "remove_plan_changes[0]",
            "matches no plan change of org a in plan_changes.csv (it has: 2026-02-10T00:00:00Z business)"
        ),
        ("move_all:\n  - { from: community, to: gold, at: 2026-02-01 }\n", 2, "move_all[0].to", "no plan gold"),
        ("move_all:\n  - { from: standard, to: standard, at: 2026-02-01 }\n", 2, "move_all[0]", "same plan"),
        ("plans:\n  enterprise: { bank_cap: 5000 }\n", 2, "plans.enterprise", "set them under orgs:"),
        ("orgs:\n  a: { bank_cap: 5000 }\n", 2, "orgs.a", "no custom terms"),
        ("orgs:\n  e1: { price: \"12.345\" }\n", 2, "orgs.e1.price", "at most 2 decimals"),
        ("orgs:\n  e1: {}\n", 2, "orgs.e1", "at least one"),
        ("name: ../escape\n", 1, "name", "names a folder"),
        ("plans: [ standard ]\n", 1, "plans", "expected a mapping"),
    ])
    func mistakesNameTheLineAndTheKey(_ scenario: String, _ line: Int, _ key: String, _ words: String) throws {
        let error = try #require(try Self.error(scenario), "accepted: \(scenario)")
        #expect(error.file == "scenario.yaml")
        #expect(error.line == line, "\(error)")
        #expect(error.column == key, "\(error)")
        #expect(error.message.contains(words), "\(error)")
    }

    @Test func everyDocumentedFormIsRead() throws {
        let scenario = """
            name: all-forms
            description: "Every form at once"
            plans:
              standard: { bank_cap: 2000, prices: { USD: "35.00" }, rollover_max_age_months: none }
              business: { overage_price: { USD: "0.0200" } }
              studio:
                name: Studio
                rank: 2
                monthly_credits: 5000
                bank_cap: 2500
                prices: { USD: "49.00" }
                overdraft: carry
            orgs:
              e1: { monthly_credits: 60000 }
            add_plan_changes:
              - { org: a, at: "2026-03-01T00:00:00+01:00", plan: studio }
            remove_plan_changes:
              - { org: a, at: "2026-02-10T00:00:00Z", plan: business }
            move_all:
              - { from: community, to: standard, at: 2026-02-01 }
            """
        let result = try WhatIfFixtures.compute(try Self.input(), scenario, through: "2026-03-31")
        #expect(result.scenario.name == "all-forms")
        #expect(result.scenario.description == "Every form at once")
        #expect(
            result.changes == [
                "Plan business: overage_price USD 0.015000 → 0.020000",
                "Plan standard: bank_cap 1,000 → 2,000; prices USD 29.00 → 35.00",
                "New plan studio (Studio, rank 2)",
                "Org e1 custom terms: monthly_credits 50,000 → 60,000",
                "Removed 1 plan change of a from plan_changes.csv",
                "Plan change of a to studio at 2026-02-28T23:00:00Z",
                "Every org on community at 2026-02-01T00:00:00Z moves to standard: 0 orgs",
            ])
        #expect(result.warnings.isEmpty)
    }

    /// An empty file is the baseline against itself, named after the file.
    @Test func emptyFileChangesNothing() throws {
        let result = try WhatIfFixtures.compute(try Self.input(), "", through: "2026-03-31")
        #expect(result.scenario.name == "scenario")
        #expect(result.changes.isEmpty)
        #expect(result.comparison.rows.allSatisfy { !$0.changed })
    }
}
