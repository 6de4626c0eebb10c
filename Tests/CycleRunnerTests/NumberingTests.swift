// Proves document numbers are formed as <prefix><YYYY>-<six or more digits>, are gapless per
// prefix and year across several closes, across a year boundary and after an interrupted close,
// that documents are numbered in the order a stable sort by their numbering key gives, and
// that invoices.csv, the UBL XML and journal.csv agree on every document's totals.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct NumberingTests {
    @Test(arguments: [
        ("INV-", 2026, Int64(1), "INV-2026-000001"),
        ("INV-", 2026, 999_999, "INV-2026-999999"),
        ("CN", 2027, 1_000_000, "CN2027-1000000"),
        ("", 7, 42, "0007-000042"),
        ("Ä/", 9999, Int64.max, "Ä/9999-9223372036854775807"),
        ("INV-", 10_000, 3, "INV-10000-000003"),
    ])
    func aNumberIsThePrefixTheYearAndTheSequence(prefix: String, year: Int, sequence: Int64, expected: String) {
        #expect(DocumentNumber.format(prefix: prefix, year: year, sequence: sequence) == expected)
    }

    /// Every number of every close, grouped by prefix and year, must be 1...n.
    func expectGapless(_ numbers: [String]) {
        var byKey: [String: [Int]] = [:]
        for number in numbers {
            let parts = number.split(separator: "-")
            guard parts.count == 3, let sequence = Int(parts[2]) else {
                Issue.record("malformed number \(number)")
                continue
            }
            byKey["\(parts[0])-\(parts[1])", default: []].append(sequence)
        }
        for (key, sequences) in byKey {
            #expect(sequences.sorted() == Array(1...sequences.count), "\(key) has a gap or a repeat")
        }
    }

    func numbers(_ output: String, closes: [CivilDate]) -> [String] {
        closes.flatMap { through in
            Fixtures.lines(output + "/closes/\(through)/invoices.csv").dropFirst().map {
                String($0.split(separator: ",")[0])
            }
        }
    }

    /// Few instants, orgs, sources and ids, so that most keys tie on the instant and many on
    /// every field: the order is a stable sort by key, whole ties in position order.
    @Test func numberingOrderIsAStableSortByKey() async throws {
        let template = try #require(
            runOrg(testProfile(plan: "standard", start: "2026-01-01"), through: "2026-01-01").documents.first)
        let sources: [DocumentSource] = [.renewal, .topUp, .refund]
        let texts = ["", "a", "b", "e\u{301}", "\u{e9}", "org10", "org9"]
        let fields = Gen.int(in: 0...1_000).array(of: 4...4)
        await propertyCheck(count: 300, input: fields.array(of: 0...80)) { rows in
            let keys = rows.map { row in
                var key = NumberingKey(template)
                key.issueInstant = Instant(microseconds: Int64(row[0] % 3) * 86_400_000_000 - 1)
                key.orgId = texts[row[1] % texts.count]
                key.source = sources[row[2] % sources.count]
                key.sourceId = texts[row[3] % texts.count]
                return key
            }
            // Whole ties by position, written out rather than left to the sort's stability.
            let expected = keys.indices.sorted { keys[$0] < keys[$1] || (!(keys[$1] < keys[$0]) && $0 < $1) }
            #expect(CloseWork.numberingOrder(keys) == expected)
        }
    }

    @Test func gaplessAcrossClosesAndAYearBoundary() throws {
        let (input, _) = try Fixtures.generatedInput(seed: 21, orgs: 8, months: 3, events: 10, start: "2026-11-01")
        let output = TestPaths.temporaryFolder("numbering-year")
        let closes = ["2026-11-30", "2026-12-31", "2027-01-31"].map { CivilDate.parse($0)! }
        for through in closes { _ = try Fixtures.close(input, output, through: through) }
        let all = numbers(output, closes: closes)
        #expect(all.contains { $0.hasPrefix("INV-2026-") })
        #expect(all.contains("INV-2027-000001"))
        #expect(Set(all).count == all.count, "a number was issued twice")
        expectGapless(all)
    }

    @Test func gaplessAfterACloseInterruptedInsideItsTransaction() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 22, orgs: 8, months: 3, events: 10)
        let middle = CivilDate(year: 2026, month: 2, day: 15)
        let reference = TestPaths.temporaryFolder("numbering-reference")
        _ = try Fixtures.close(input, reference, through: middle)
        _ = try Fixtures.close(input, reference, through: last)
        let output = TestPaths.temporaryFolder("numbering-interrupted")
        _ = try Fixtures.close(input, output, through: middle)
        #expect(throws: CloseError.self) {
            try Fixtures.close(input, output, through: last) { phase in
                if phase == "inside-commit" { throw Interrupter.Stop() }
            }
        }
        _ = try Fixtures.close(input, output, through: last)
        let got = numbers(output, closes: [middle, last])
        #expect(got == numbers(reference, closes: [middle, last]))
        expectGapless(got)
    }

    @Test func invoicesCSVTheXMLAndTheJournalAgree() async throws {
        await propertyCheck(count: 6, input: Gen.int(in: 1...10_000)) { seed in
            do {
                let (input, last) = try Fixtures.generatedInput(seed: UInt64(seed), orgs: 8, events: 10)
                let output = TestPaths.temporaryFolder("agreement")
                _ = try Fixtures.close(input, output, through: last)
                try checkAgreement(output, through: last)
            } catch {
                Issue.record("close failed: \(error)")
            }
        }
    }

    func checkAgreement(_ output: String, through: CivilDate) throws {
        let rows = CSVTestParser.rows(
            try String(contentsOfFile: output + "/closes/\(through)/invoices.csv", encoding: .utf8))
        let journal = CSVTestParser.rows(
            try String(contentsOfFile: output + "/closes/\(through)/journal.csv", encoding: .utf8))
        let header = journal[0]
        let numberColumn = try #require(header.firstIndex(of: "document_number"))
        let debitColumn = try #require(header.firstIndex(of: "debit"))
        let creditColumn = try #require(header.firstIndex(of: "credit"))
        var debits: [String: Int64] = [:]
        var credits: [String: Int64] = [:]
        for line in journal.dropFirst() {
            debits[line[numberColumn], default: 0] += thousandths(line[debitColumn])
            credits[line[numberColumn], default: 0] += thousandths(line[creditColumn])
        }
        #expect(rows.count > 1)
        for row in rows.dropFirst() {
            let number = row[0]
            let currency = try #require(Currency(code: row[4]))
            let total = try #require(Int64(row[7]))
            // The journal balances and its receivable side is the document's total.
            #expect(debits[number] == credits[number], "\(number) journal does not balance")
            #expect(debits[number].map { rescale($0, to: currency) } == total, "\(number) journal total")
            // The XML's payable amount is the same total.
            let xml = try String(contentsOfFile: output + "/invoices/\(number).xml", encoding: .utf8)
            let payable = try #require(xml.firstMatch(of: /PayableAmount currencyID="[A-Z]+">([0-9.]+)</)?.1)
            #expect(minor(String(payable), currency) == total, "\(number) XML PayableAmount")
        }
    }

    /// A journal amount in thousandths of the unit, whatever the currency's exponent (journal amounts are
    /// written with the currency's decimals).
    func thousandths(_ text: String) -> Int64 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = Int64(parts[0]) ?? 0
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let padded = (fraction + "000").prefix(3)
        return whole * 1000 + (Int64(padded) ?? 0)
    }

    func rescale(_ thousandths: Int64, to currency: Currency) -> Int64 {
        thousandths / Arithmetic.powerOfTen(3 - currency.exponent)
    }

    func minor(_ text: String, _ currency: Currency) -> Int64 {
        rescale(thousandths(text), to: currency)
    }
}
