// Proves the close's invariants on random generated inputs: reruns are byte-identical, a close
// split at any date equals one close, an interrupted close then rerun writes the same files,
// and every period conserves credits and chains to the next.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct CloseInvariantTests {
    @Test func rerunAppliesNothingAndWritesTheSameBytes() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 11)
        let output = TestPaths.temporaryFolder("rerun")
        _ = try Fixtures.close(input, output, through: last)
        let first = Fixtures.snapshot(output)
        let ledgerBefore = try ledgerCounts(output)
        let again = try Fixtures.close(input, output, through: last)
        #expect(again.appliedNothing)
        #expect(Fixtures.snapshot(output) == first)
        #expect(try ledgerCounts(output) == ledgerBefore)
        // An earlier date re-renders nothing new either.
        let earlier = try Fixtures.close(input, output, through: last.addingDays(-20))
        #expect(earlier.appliedNothing)
        #expect(try ledgerCounts(output) == ledgerBefore)
    }

    @Test func rerunRestoresFilesThatWereRemovedOrChanged() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 12)
        let output = TestPaths.temporaryFolder("restore")
        _ = try Fixtures.close(input, output, through: last)
        let first = Fixtures.snapshot(output)
        let xml = try #require(first.keys.first { $0.hasPrefix("invoices/") })
        let statement = try #require(first.keys.first { $0.hasSuffix(".json") })
        try FileManager.default.removeItem(atPath: output + "/" + xml)
        // Same size, other bytes: only the content hash can tell.
        var changed = try #require(first[statement])
        changed[changed.count - 2] ^= 0x01
        try changed.write(to: URL(fileURLWithPath: output + "/" + statement))
        let again = try Fixtures.close(input, output, through: last)
        #expect(again.appliedNothing)
        #expect(again.message.contains("written again"))
        #expect(Fixtures.snapshot(output) == first)
        let untouched = try Fixtures.close(input, output, through: last)
        #expect(untouched.message.contains("are as written"))
    }

    @Test func splitCloseEqualsOneClose() async throws {
        await propertyCheck(count: 12, input: Gen.int(in: 1...10_000), Gen.int(in: 1...110)) { seed, splitDay in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed))
                let whole = TestPaths.temporaryFolder("whole")
                _ = try Fixtures.close(input, whole, through: last)
                let split = TestPaths.temporaryFolder("split")
                let middle = CivilDate(year: 2026, month: 1, day: 1).addingDays(splitDay)
                _ = try Fixtures.close(input, split, through: middle)
                _ = try Fixtures.close(input, split, through: last)
                let wholeFiles = Fixtures.snapshot(whole)
                let splitFiles = Fixtures.snapshot(split)
                // Statements and documents are the same files, byte for byte.
                let documents = wholeFiles.keys.filter { !$0.hasPrefix("closes/") }
                #expect(Set(documents) == Set(splitFiles.keys.filter { !$0.hasPrefix("closes/") }))
                for key in documents { #expect(wholeFiles[key] == splitFiles[key], "\(key) differs") }
                // The two closes' summary and invoice rows add up to the one close's rows.
                for name in ["period-summary.csv", "invoices.csv"] {
                    let one = Fixtures.lines(whole + "/closes/\(last)/\(name)").dropFirst()
                    let two =
                        Fixtures.lines(split + "/closes/\(middle)/\(name)").dropFirst()
                        + Fixtures.lines(split + "/closes/\(last)/\(name)").dropFirst()
                    #expect(Array(one).sorted() == Array(two).sorted(), "\(name) seed \(seed) split \(middle)")
                }
            } catch {
                Issue.record("close failed: \(error)")
            }
        }
    }

    @Test func interruptedCloseThenRerunWritesTheSameFiles() async throws {
        let (input, last) = try Fixtures.generatedInput(seed: 5)
        let reference = TestPaths.temporaryFolder("reference")
        let counter = Interrupter(stopAt: 0)
        _ = try Fixtures.close(input, reference, through: last, onPhase: counter.tick)
        let expected = Fixtures.snapshot(reference)
        let points = counter.count
        #expect(points > 10)
        await propertyCheck(count: 15, input: Gen.int(in: 1...points)) { stopAt in
            do {
                let output = TestPaths.temporaryFolder("interrupted")
                let interrupter = Interrupter(stopAt: stopAt)
                #expect(throws: CloseError.self) {
                    try Fixtures.close(input, output, through: last, onPhase: interrupter.tick)
                }
                _ = try Fixtures.close(input, output, through: last)
                #expect(Fixtures.snapshot(output) == expected, "stopped at point \(stopAt)")
            } catch {
                Issue.record("rerun failed: \(error)")
            }
        }
    }

    @Test func periodsConserveCreditsAndChain() async throws {
        await propertyCheck(count: 10, input: Gen.int(in: 1...10_000)) { seed in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed), orgs: 10, events: 12)
                let output = TestPaths.temporaryFolder("identities")
                _ = try Fixtures.close(input, output, through: last)
                let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
                let run = try #require(try ledger.lastRun())
                var previous: [OrgID: PeriodRecord] = [:]
                for period in try ledger.periods(run: run.id) {
                    checkIdentities(period)
                    if let before = previous[period.orgId] {
                        #expect(before.periodEnd == period.periodStart)
                        #expect(before.nextCurrent == period.openingCurrent)
                        #expect(before.nextBank == period.openingBank)
                        #expect(before.nextTopUp == period.openingTopUp)
                        #expect(before.nextDeficit == period.openingDeficit)
                    }
                    previous[period.orgId] = period
                }
            } catch {
                Issue.record("close failed: \(error)")
            }
        }
    }

    /// The identities the specification implies for one period.
    func checkIdentities(_ p: PeriodRecord) {
        #expect(p.usageCredits == p.fromCurrent + p.fromBank + p.fromTopUp + p.overdraft, "usage split \(p.orgId)")
        let opening = p.openingCurrent + p.openingBank + p.openingTopUp - p.openingDeficit
        let closing = p.closingCurrent + p.closingBank + p.closingTopUp - p.closingDeficit
        let flows = p.prorationCredits + p.topUpCredits - p.usageCredits - p.expiredTopUp - p.refundedCredits
        #expect(opening + flows == closing, "credits conserved \(p.orgId) \(p.periodEnd)")
        #expect(p.closingDeficit == 0 || (p.closingCurrent == 0 && p.closingBank == 0 && p.closingTopUp == 0))
        #expect(p.closingCurrent == p.rolledOver)
        #expect(p.nextBank == p.closingBank + p.rolledOver - p.expiredAge - p.expiredCap)
        #expect(p.nextCurrent == p.freshCredits - p.deficitSettled)
        #expect(p.nextDeficit == p.closingDeficit - p.deficitSettled - p.overageBilled)
        #expect(p.nextTopUp == p.closingTopUp)
        #expect(p.deficitSettled == 0 || p.overageBilled == 0)
    }

    func ledgerCounts(_ output: String) throws -> [Int] {
        let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
        return try ledger.tableCounts()
    }
}
