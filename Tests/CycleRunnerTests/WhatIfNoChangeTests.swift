// Proves a scenario that changes nothing gives all-zero differences on random generated inputs:
// the scenario side is the same replay as the baseline, row for row and document for document.
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfNoChangeTests {
    /// Restating plan values as they are, and custom terms of an org that has none to restate,
    /// must not move a credit or a cent.
    static let scenarios = [
        "",
        """
        description: restates the generated plans' own values
        plans:
          standard: { bank_cap: 1000, monthly_credits: 2000, prices: { USD: "29.00" } }
          business: { overdraft: invoice, topups: true }
          community: { rollover_max_age_months: 2 }
        """,
    ]

    @Test func scenarioThatChangesNothingHasZeroDifferences() async throws {
        await propertyCheck(count: 8, input: Gen.int(in: 1...10_000), Gen.int(in: 0...1)) { seed, which in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed), orgs: 8, events: 10)
                let result = try WhatIfFixtures.compute(input, Self.scenarios[which], through: last.description)
                #expect(!result.comparison.rows.isEmpty)
                for row in result.comparison.rows {
                    #expect(!row.changed, "seed \(seed): \(row.orgId) \(row.periodEnd) differs")
                    for measure in WhatIfMeasure.allCases { #expect(row.difference(measure) == 0) }
                }
                for total in result.comparison.totals {
                    #expect(total.changedOrgs == 0)
                    for measure in WhatIfMeasure.allCases { #expect(total.difference(measure) == 0) }
                }
                #expect(result.baseline.periods == result.scenarioSide.periods)
                #expect(result.baseline.documents == result.scenarioSide.documents)
                #expect(result.baseline.rejected == result.scenarioSide.rejected)
                #expect(result.warnings.isEmpty)
            } catch {
                Issue.record("what-if failed for seed \(seed): \(error)")
            }
        }
    }
}
