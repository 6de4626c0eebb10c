// Proves each kind of scenario change on a small case whose numbers were worked out by hand
// from SPEC §5–§6.8 (plans in WhatIfFixtures: community 500/250 at 9.00, standard 2000/1000 at
// 29.00, business 10000/10000 at 99.00, all USD with 20 % VAT), not taken from the code.
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfScenarioKindTests {
    /// Standard from 1 Jan, no usage, through 31 Mar. Baseline: R1 banks 2000, cap 1000
    /// expires 1000; R2 banks 2000 on 1000 = 3000, expires 2000. With a cap of 2000: R1 expires
    /// nothing; R2 holds 4000 and expires 2000. Money does not move: 3 × 29.00 (+ 5.80 VAT).
    @Test func planOverrideChangesTheBankCap() throws {
        let input = try WhatIfFixtures.folder(orgs: [WhatIfFixtures.org("a", "standard", "2026-01-01")])
        let result = try WhatIfFixtures.compute(input, "plans: { standard: { bank_cap: 2000 } }", through: "2026-03-31")
        let january = try #require(result.row("a", end: "2026-02-01"))
        #expect(january.baseline[.rolledOver] == 2000 && january.scenario[.rolledOver] == 2000)
        #expect(january.baseline[.expiredCap] == 1000)
        #expect(january.scenario[.expiredCap] == 0)
        #expect(january.difference(.expiredCap) == -1000)
        let february = try #require(result.row("a", end: "2026-03-01"))
        #expect(february.baseline[.expiredCap] == 2000 && february.scenario[.expiredCap] == 2000)
        let open = try #require(result.row("a", end: "2026-04-01"))
        #expect(open.isOpen)
        #expect(result.all.baseline[.expiredCap] == 3000)
        #expect(result.all.scenario[.expiredCap] == 2000)
        let usd = try #require(result.comparison.totals.first { $0.group == .currency && $0.currencyCode == "USD" })
        #expect(usd.baseline[.netInvoicedMinor] == 8700 && usd.scenario[.netInvoicedMinor] == 8700)
        #expect(usd.baseline[.totalInvoicedMinor] == 10440)
        #expect(result.changes == ["Plan standard: bank_cap 1,000 → 2,000"])
    }

    /// Standard from 1 Feb; an upgrade to business at 15 Feb 00:00Z is half of the 28-day
    /// period: floor(8000 × 1/2) = 4000 proration credits and round(70.00 × 1/2) = 35.00.
    /// At 1 Mar the scenario banks 6000 (cap 10000, nothing expires) and invoices 99.00 + 35.00
    /// = 134.00 net, 160.80 with VAT; the baseline banks 2000, expires 1000, invoices 29.00.
    @Test func addedPlanChangeUpgradesWithProration() throws {
        let input = try WhatIfFixtures.folder(orgs: [WhatIfFixtures.org("b", "standard", "2026-02-01")])
        let scenario = """
            add_plan_changes:
              - { org: b, at: "2026-02-15T00:00:00Z", plan: business }
            """
        let result = try WhatIfFixtures.compute(input, scenario, through: "2026-03-31")
        let february = try #require(result.row("b", end: "2026-03-01"))
        #expect(february.baselinePlan == PlanID("standard") && february.scenarioPlan == PlanID("business"))
        #expect(february.baseline[.rolledOver] == 2000 && february.scenario[.rolledOver] == 6000)
        #expect(february.baseline[.expiredCap] == 1000 && february.scenario[.expiredCap] == 0)
        #expect(february.baseline[.netInvoicedMinor] == 2900 && february.scenario[.netInvoicedMinor] == 2900)
        let march = try #require(result.row("b", end: "2026-04-01"))
        #expect(march.baseline[.netInvoicedMinor] == 2900)
        #expect(march.scenario[.netInvoicedMinor] == 13400)
        #expect(march.difference(.netInvoicedMinor) == 10500)
        #expect(march.baseline[.totalInvoicedMinor] == 3480 && march.scenario[.totalInvoicedMinor] == 16080)
        let proration = result.scenarioSide.periods.first { $0.periodEnd.description == "2026-03-01" }
        #expect(proration?.prorationCredits == 4000)
    }

    /// The same upgrade in plan_changes.csv, removed by the scenario: the mirror of the case above.
    @Test func removedPlanChangeUndoesTheUpgrade() throws {
        let input = try WhatIfFixtures.folder(
            orgs: [WhatIfFixtures.org("b", "standard", "2026-02-01")],
            planChanges: ["b,2026-02-15T00:00:00Z,business"])
        let result = try WhatIfFixtures.compute(input, "remove_plan_changes: [ { org: b } ]", through: "2026-03-31")
        let february = try #require(result.row("b", end: "2026-03-01"))
        #expect(february.baseline[.expiredCap] == 0 && february.scenario[.expiredCap] == 1000)
        let march = try #require(result.row("b", end: "2026-04-01"))
        #expect(march.baseline[.netInvoicedMinor] == 13400 && march.scenario[.netInvoicedMinor] == 2900)
        #expect(march.difference(.totalInvoicedMinor) == -12600)
        #expect(result.changes == ["Removed 1 plan change of b from plan_changes.csv"])
    }

    /// Community → standard on 1 Mar. c1 (from 1 Jan) renews on 1 Mar: the move takes effect
    /// at that renewal without proration; its bank of 250 + 500 stays under the new cap 1000
    /// (the baseline expires 500 under cap 250), and the open period bills 29.00, not 9.00.
    /// c2 (from 15 Jan) is mid-period [15 Feb, 15 Mar): an upgrade with 14 of 28 days left,
    /// floor(1500 / 2) = 750 credits and round(20.00 / 2) = 10.00. At 15 Mar it banks 1250 on
    /// 250, cap 1000 expires 500 (the baseline also expires 500: 250 + 500 over cap 250), and
    /// bills 29.00 + 10.00. The standard org s1 is not touched.
    @Test func moveAllMovesEveryOrgOfAPlan() throws {
        let input = try WhatIfFixtures.folder(orgs: [
            WhatIfFixtures.org("c1", "community", "2026-01-01"), WhatIfFixtures.org("c2", "community", "2026-01-15"),
            WhatIfFixtures.org("s1", "standard", "2026-01-01"),
        ])
        let scenario = "move_all:\n  - { from: community, to: standard, at: 2026-03-01 }\n"
        let result = try WhatIfFixtures.compute(input, scenario, through: "2026-03-31")
        #expect(result.changes == ["Every org on community at 2026-03-01T00:00:00Z moves to standard: 2 orgs"])

        let c1January = try #require(result.row("c1", end: "2026-02-01"))
        #expect(!c1January.changed)
        #expect(c1January.baseline[.expiredCap] == 250)
        let c1February = try #require(result.row("c1", end: "2026-03-01"))
        #expect(c1February.scenarioPlan == PlanID("standard"))
        #expect(c1February.baseline[.expiredCap] == 500 && c1February.scenario[.expiredCap] == 0)
        let c1March = try #require(result.row("c1", end: "2026-04-01"))
        #expect(c1March.baseline[.netInvoicedMinor] == 900 && c1March.scenario[.netInvoicedMinor] == 2900)

        let c2February = try #require(result.row("c2", end: "2026-03-15"))
        #expect(c2February.baseline[.rolledOver] == 500 && c2February.scenario[.rolledOver] == 1250)
        #expect(c2February.baseline[.expiredCap] == 500 && c2February.scenario[.expiredCap] == 500)
        #expect(c2February.difference(.netInvoicedMinor) == 0)
        let c2March = try #require(result.row("c2", end: "2026-04-15"))
        #expect(c2March.baseline[.netInvoicedMinor] == 900 && c2March.scenario[.netInvoicedMinor] == 3900)
        #expect(c2March.scenario[.totalInvoicedMinor] == 4680)

        #expect(result.comparison.rows.filter { $0.orgId == OrgID("s1") }.allSatisfy { !$0.changed })
        let community = try #require(
            result.comparison.totals.first { $0.group == .plan && $0.planId == PlanID("community") })
        #expect(community.changedOrgs == 2)
    }

    /// Enterprise at 50000 credits, cap 20000, 999.00; the scenario sets cap 30000 and price
    /// 1200.00. R1 banks 50000: the baseline expires 30000, the scenario 20000. R2 banks 50000
    /// more: 70000 − 20000 and 80000 − 30000, both 50000 expire. Each of the three invoices
    /// grows by 201.00 net, 241.20 with VAT.
    @Test func orgCustomTermsOverride() throws {
        let input = try WhatIfFixtures.folder(orgs: [
            WhatIfFixtures.org("e1", "enterprise", "2026-01-01", custom: "50000,20000,999.00")
        ])
        let scenario = "orgs:\n  e1: { bank_cap: 30000, price: \"1200.00\" }\n"
        let result = try WhatIfFixtures.compute(input, scenario, through: "2026-03-31")
        let january = try #require(result.row("e1", end: "2026-02-01"))
        #expect(january.baseline[.expiredCap] == 30000 && january.scenario[.expiredCap] == 20000)
        let february = try #require(result.row("e1", end: "2026-03-01"))
        #expect(february.baseline[.expiredCap] == 50000 && february.scenario[.expiredCap] == 50000)
        #expect(february.difference(.netInvoicedMinor) == 20100)
        #expect(result.all.difference(.expiredCap) == -10000)
        let usd = try #require(result.comparison.totals.first { $0.group == .currency })
        #expect(usd.difference(.netInvoicedMinor) == 60300)
        #expect(usd.difference(.totalInvoicedMinor) == 72360)
    }

    /// A new plan "studio" of the same rank as standard: the change at 15 Feb waits for the
    /// renewal at 1 Mar (§6.6), where the 2000 rolled credits fit under its cap of 2500 and the
    /// invoice is 49.00 instead of 29.00.
    @Test func addedPlanWithAPlanChangeToIt() throws {
        let input = try WhatIfFixtures.folder(orgs: [WhatIfFixtures.org("f", "standard", "2026-02-01")])
        let scenario = """
            plans:
              studio: { name: Studio, rank: 2, monthly_credits: 5000, bank_cap: 2500, prices: { USD: "49.00" },
                        overdraft: carry }
            add_plan_changes:
              - { org: f, at: "2026-02-15T00:00:00Z", plan: studio }
            """
        let result = try WhatIfFixtures.compute(input, scenario, through: "2026-03-31")
        let february = try #require(result.row("f", end: "2026-03-01"))
        #expect(february.scenarioPlan == PlanID("studio"))
        #expect(february.baseline[.expiredCap] == 1000 && february.scenario[.expiredCap] == 0)
        #expect(february.difference(.netInvoicedMinor) == 0)
        let march = try #require(result.row("f", end: "2026-04-01"))
        #expect(march.baseline[.netInvoicedMinor] == 2900 && march.scenario[.netInvoicedMinor] == 4900)
        #expect(result.scenarioSide.periods.first?.freshCredits == 5000)
    }

    /// A plan change the engine refuses (enterprise without custom terms) changes nothing and
    /// is reported with the scenario file and line.
    @Test func refusedScenarioPlanChangeIsAWarning() throws {
        let input = try WhatIfFixtures.folder(orgs: [WhatIfFixtures.org("a", "standard", "2026-01-01")])
        let scenario = "add_plan_changes:\n  - { org: a, at: 2026-02-10, plan: enterprise }\n"
        let result = try WhatIfFixtures.compute(input, scenario, through: "2026-03-31")
        #expect(result.comparison.rows.allSatisfy { !$0.changed })
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.hasPrefix("scenario.yaml:2: ") == true)
    }
}
