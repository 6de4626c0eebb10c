// Proves a Document stays a value although copies share one box of fields: a change to a copy
// never shows in the original, equality and hashing go by content, and the JSON is unchanged.
import Foundation
import Invoicing
import Testing

@Suite struct DocumentValueTests {
    /// One change per kind of field: texts, optionals, nested values, the lines and flags.
    static let changes: [(name: String, change: @Sendable (inout Document) -> Void)] = [
        ("number", { $0.number = "INV-2099-000001" }),
        ("kind", { $0.kind = .creditNote }),
        ("orgId", { $0.orgId = "org-other" }),
        ("issueDate", { $0.issueDate = CivilDate.parse("2030-01-01")! }),
        ("buyer's name", { $0.buyer.name = "Someone Else" }),
        ("seller's VAT id", { $0.seller.vatId = nil }),
        ("buyerReference", { $0.buyerReference = "PO-1" }),
        ("tax", { $0.tax = TaxTreatment(categoryCode: "Z", rateHundredths: 0) }),
        ("a line's amount", { $0.lines[0].amountMinor += 1 }),
        ("the lines", { $0.lines.removeAll() }),
        ("referencedNumber", { $0.referencedNumber = "INV-2026-000009" }),
        ("isDraft", { $0.isDraft.toggle() }),
    ]

    /// Keys sorted, so two encodings of one document are the same bytes.
    static func encoded(_ document: Document) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(document)
    }

    @Test(arguments: changes.indices)
    func changingACopyLeavesTheOriginal(index: Int) throws {
        let original = Fixtures.renewalUSD
        let before = try Self.encoded(original)
        var copy = original
        #expect(copy == original)
        Self.changes[index].change(&copy)
        #expect(copy != original, "changing \(Self.changes[index].name) made no difference")
        #expect(try Self.encoded(original) == before)
        #expect(try Self.encoded(Fixtures.renewalUSD) == before)
    }

    @Test(arguments: changes.indices)
    func aChangeMadeTwiceGivesEqualDocuments(index: Int) {
        var first = Fixtures.renewalUSD
        var second = Fixtures.renewalUSD
        Self.changes[index].change(&first)
        Self.changes[index].change(&second)
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
    }

    @Test func equalityAndHashingGoByContentNotByBox() throws {
        // Built twice, so the two share no box.
        let rebuilt = try JSONDecoder().decode(Document.self, from: JSONEncoder().encode(Fixtures.renewalUSD))
        #expect(rebuilt == Fixtures.renewalUSD)
        #expect(rebuilt.hashValue == Fixtures.renewalUSD.hashValue)
        #expect(Set([rebuilt, Fixtures.renewalUSD]).count == 1)
        #expect(rebuilt != Fixtures.topUpEUR)
    }

    @Test func encodesTheSameKeysAsWhenTheFieldsWereItsOwn() throws {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Self.encoded(Fixtures.creditNoteEUR)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "buyer", "currencyCode", "dueDate", "isDraft", "issueDate", "issueInstant", "kind", "lines", "number",
                "orgId", "payment", "referencedNumber", "seller", "source", "sourceId", "tax",
            ])
        #expect(object["number"] as? String == Fixtures.creditNoteEUR.number)
    }

    @Test func copiesChangedOnManyThreadsStayApart() async {
        let original = Fixtures.renewalUSD
        let numbers = await withTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask {
                    var copy = original
                    copy.number = "INV-2026-\(index)"
                    return copy.number
                }
            }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(numbers.count == 64)
        #expect(original == Fixtures.renewalUSD)
    }
}
