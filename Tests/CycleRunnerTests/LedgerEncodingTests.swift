// Proves the state the ledger stores is encoded deterministically: dictionaries keyed by ids are
// JSON objects with sorted keys, not arrays in the process's random hash order.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct LedgerEncodingTests {
    @Test func purchasesAreAnObjectWithSortedKeys() throws {
        var first = OrgState(orgId: OrgID("o1"), startDate: CivilDate(year: 2026, month: 1, day: 1), plan: PlanID("b"))
        var second = first
        let ids = (1...40).map { "p\($0)" }
        for id in ids { first.purchases[PurchaseID(id)] = .untouched }
        for id in ids.reversed() { second.purchases[PurchaseID(id)] = .untouched }
        let text = try encode(first)
        #expect(text == (try encode(second)))
        #expect(text.contains("\"purchases\":{\"p1\":\"untouched\",\"p10\":\"untouched\""))
        let decoded = try decode(OrgState.self, text)
        #expect(decoded == first)
    }
}
