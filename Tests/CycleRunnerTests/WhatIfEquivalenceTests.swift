// Proves a scenario equal to an input edit replays exactly what a real close of the edited inputs
// books (period summaries and invoice totals), and the baseline what a close of the inputs books.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfEquivalenceTests {
    /// A copy of `input` with one edit applied to one of its files.
    static func edited(_ input: String, _ file: String, _ edit: (String) -> String) throws -> String {
        let copy = TestPaths.temporaryFolder("whatif-edited")
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let text = try String(contentsOfFile: copy + "/" + file, encoding: .utf8)
        let changed = edit(text)
        #expect(changed != text, "the edit of \(file) changed nothing")
        try changed.write(toFile: copy + "/" + file, atomically: true, encoding: .utf8)
        return copy
    }

    /// What a real close books: period-summary.csv rows, and invoices.csv rows without numbers.
    static func close(_ input: String, through: CivilDate) throws -> (periods: [String], documents: [String]) {
        let output = TestPaths.temporaryFolder("whatif-close")
        _ = try Fixtures.close(input, output, through: through)
        let folder = output + "/closes/\(through)"
        let periods = Fixtures.lines(folder + "/period-summary.csv").dropFirst().map { $0 }
        let documents = Fixtures.lines(folder + "/invoices.csv").dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return cells[1...7].joined(separator: ",")
        }
        return (periods.sorted(), documents.sorted())
    }

    /// The same two lists from one side of a replay.
    static func booked(_ side: ReplaySide) -> (periods: [String], documents: [String]) {
        let periods = side.periods.map { String(CSVWriter.line($0.csvFields).dropLast()) }
        let documents = side.documents.map { document in
            [
                document.kind.rawValue, document.orgId, document.issueDate.description, document.currencyCode,
                String(document.netMinor), String(document.taxMinor), String(document.totalMinor),
            ].joined(separator: ",")
        }
        return (periods.sorted(), documents.sorted())
    }

    static func check(
        _ input: String, edited: String, scenario: String, through: CivilDate, seed: Int
    ) throws {
        let result = try WhatIfFixtures.compute(input, scenario, through: through.description)
        #expect(result.warnings.isEmpty, "seed \(seed): \(result.warnings)")
        let real = try close(edited, through: through)
        let replayed = booked(result.scenarioSide)
        #expect(!real.periods.isEmpty)
        #expect(replayed.periods == real.periods, "seed \(seed): period summaries differ")
        #expect(replayed.documents == real.documents, "seed \(seed): invoices differ")
        let original = try close(input, through: through)
        let baseline = booked(result.baseline)
        #expect(baseline.periods == original.periods, "seed \(seed): baseline period summaries differ")
        #expect(baseline.documents == original.documents, "seed \(seed): baseline invoices differ")
    }

    /// An upgrade to business added to plan_changes.csv, and the same upgrade in a scenario.
    /// Generated orgs start in January, so a change from 2 February on is after every start.
    @Test func addedPlanChangeEqualsAnEditedPlanChangesFile() async throws {
        await propertyCheck(count: 5, input: Gen.int(in: 1...10_000), Gen.int(in: 0...5), Gen.int(in: 32...100)) {
            seed, orgNumber, day in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed))
                let org = "org" + String(repeating: "0", count: 5) + String(orgNumber + 1)
                let at = CivilDate(year: 2026, month: 1, day: 1).addingDays(day).description + "T06:00:00Z"
                let edited = try Self.edited(input, "plan_changes.csv") { $0 + "\(org),\(at),business\n" }
                let scenario = "add_plan_changes:\n  - { org: \(org), at: \"\(at)\", plan: business }\n"
                try Self.check(input, edited: edited, scenario: scenario, through: last, seed: seed)
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }

    /// A different bank cap and monthly credits for standard, in plans.yaml and in a scenario.
    @Test func planOverrideEqualsAnEditedPlansFile() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 1...10_000)) { seed in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed), orgs: 10)
                let edited = try Self.edited(input, "plans.yaml") {
                    $0.replacingOccurrences(
                        of: "monthly_credits: 2000, bank_cap: 1000", with: "monthly_credits: 1500, bank_cap: 3000")
                }
                let scenario = "plans: { standard: { monthly_credits: 1500, bank_cap: 3000 } }"
                try Self.check(input, edited: edited, scenario: scenario, through: last, seed: seed)
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }
}
