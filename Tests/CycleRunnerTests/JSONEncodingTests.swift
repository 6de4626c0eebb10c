// Proves that SortedJSONEncoder writes exactly the bytes Foundation's JSONEncoder writes with
// sorted keys, plain or pretty, with and without escaped slashes, for every shape our ledger
// rows and statements use, including the project's real period records and documents.
import Foundation
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct JSONEncodingTests {
    struct Inner: Codable, Equatable {
        var name: String
        var amount: Int64
        var flag: Bool
        var note: String?
    }

    struct Shapes: Codable, Equatable {
        var zeta: Int64
        var alpha: String
        var beta: Bool
        var bUnderscore: [Int64]
        var emptyList: [String]
        var emptyMap: [String: Int64]
        var nested: Inner
        var list: [Inner]
        var map: [String: Inner]
        var optionalPresent: Int64?
        var optionalAbsent: String?
        var nestedLists: [[Int64]]
        var optionals: [Int64?]
        var count: Int
        var small: Int32

        /// Keys with a capital and an underscore, which sort differently by bytes and by letters.
        enum CodingKeys: String, CodingKey {
            case zeta, alpha, emptyList, emptyMap, nested, list, map, optionalPresent, optionalAbsent, nestedLists
            case optionals, count, small
            case beta = "Beta"
            case bUnderscore = "b_underscore"
        }
    }

    static func foundation(_ pretty: Bool, _ escapesSlashes: Bool) -> JSONEncoder {
        Fixtures.foundationEncoder(pretty: pretty, escapesSlashes: escapesSlashes)
    }

    static func sample(_ text: String) -> Shapes {
        Shapes(
            zeta: Int64.min, alpha: text, beta: true, bUnderscore: [0, -1, Int64.max], emptyList: [], emptyMap: [:],
            nested: Inner(
                name: "a/b \"q\" \\ \t\n\r\u{08}\u{0C}\u{01}\u{1F}\u{7F} é 日本 🎉", amount: 42, flag: false, note: nil),
            list: [
                Inner(name: "x", amount: 1, flag: true, note: "n"), Inner(name: "", amount: 0, flag: false, note: nil),
            ],
            map: [
                "p10": Inner(name: "ten", amount: 10, flag: true, note: nil),
                "p9": Inner(name: "nine", amount: 9, flag: false, note: "/"),
                "P1": Inner(name: "", amount: -5, flag: true),
                "é": Inner(name: "e", amount: 1, flag: true), "_": Inner(name: "u", amount: 2, flag: false),
            ],
            optionalPresent: 7, optionalAbsent: nil, nestedLists: [[], [1, 2], []], optionals: [1, nil, 3],
            count: -12, small: 3)
    }

    @Test(arguments: [(false, true), (false, false), (true, true), (true, false)])
    func matchesFoundationOnEveryShape(pretty: Bool, escapesSlashes: Bool) throws {
        let value = Self.sample("plain")
        let ours = try SortedJSONEncoder(prettyPrinted: pretty, escapesSlashes: escapesSlashes).encode(value)
        let theirs = Array(try Self.foundation(pretty, escapesSlashes).encode(value))
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self))
        #expect(try JSONDecoder().decode(Shapes.self, from: Data(ours)) == value)
    }

    @Test func matchesFoundationOnAnyText() async {
        await propertyCheck(input: Gen.latin1.string(of: 0...24), Gen.latin1.string(of: 0...8)) {
            text, key in
            var value = Self.sample(text)
            value.map[key] = Inner(name: key, amount: 1, flag: true)
            for (pretty, slashes) in [(false, true), (true, false)] {
                let ours = try? SortedJSONEncoder(prettyPrinted: pretty, escapesSlashes: slashes).encode(value)
                let theirs = try? Array(Self.foundation(pretty, slashes).encode(value))
                #expect(ours != nil && ours == theirs)
            }
        }
    }

    @Test func matchesFoundationOnTopLevelValues() throws {
        for pretty in [false, true] {
            let encoder = SortedJSONEncoder(prettyPrinted: pretty)
            #expect(try encoder.encode([Int64]()) == Array(try Self.foundation(pretty, true).encode([Int64]())))
            #expect(
                try encoder.encode([String: String]())
                    == Array(try Self.foundation(pretty, true).encode([String: String]())))
            #expect(try encoder.encode(["a", "b/"]) == Array(try Self.foundation(pretty, true).encode(["a", "b/"])))
        }
    }

    /// Every kind of row a real close stores, from a generated input with plan changes, top-ups
    /// and refunds, encodes to Foundation's bytes.
    @Test func matchesFoundationOnTheLedgersRows() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 11, orgs: 8, months: 3, events: 12)
        let output = TestPaths.temporaryFolder("json-rows")
        _ = try Fixtures.close(input, output, through: last)
        let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
        let foundation = Self.foundation(false, true)
        var compared = 0
        func check<T: Encodable>(_ value: T) throws {
            #expect(try SortedJSONEncoder().encode(value) == Array(try foundation.encode(value)))
            compared += 1
        }
        for value in try Fixtures.ledgerValues(ledger) { try check(value) }
        #expect(compared > 30)
    }

    /// The statements a real close writes are Foundation's bytes too, and every object of the
    /// ledger's rows and the statements is written in place: only dictionaries, whose keys come
    /// in hash order, are rewritten in key order. A type whose `CodingKeys` are not declared in
    /// key order (or that has none) shows up here by name.
    @Test func theLedgersRowsAndStatementsAreWrittenInPlace() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 12, orgs: 8, months: 3, events: 12)
        let output = TestPaths.temporaryFolder("json-in-place")
        _ = try Fixtures.close(input, output, through: last)
        let ledger = try Ledger(path: output + "/ledger.sqlite", readOnly: true)
        var rewritten: Set<String> = []
        var compared = 0
        func check<T: Encodable>(_ value: T, pretty: Bool = false, slashes: Bool = true) throws {
            let encoder = SortedJSONEncoder(prettyPrinted: pretty, escapesSlashes: slashes)
            let (bytes, types) = try encoder.encodeNamingRewrites(value)
            #expect(bytes == Array(try Self.foundation(pretty, slashes).encode(value)))
            rewritten.formUnion(types)
            compared += 1
        }
        for value in try Fixtures.ledgerValues(ledger) { try check(value) }
        let statements = try FileManager.default.subpathsOfDirectory(atPath: output + "/statements")
            .filter { $0.hasSuffix(".json") }
        for path in statements {
            let data = try Data(contentsOf: URL(fileURLWithPath: output + "/statements/" + path))
            try check(try JSONDecoder().decode(Statement.self, from: data), pretty: true, slashes: false)
        }
        #expect(statements.count > 10 && compared > 40 + statements.count)
        #expect(rewritten.filter { !$0.contains("_DictionaryCodingKey") }.sorted() == [])
    }

    /// Keys declared in order, with absent optionals and empty objects among them.
    struct InOrder: Codable {
        var alpha: Int64
        var beta: String?
        var delta: [InOrder]
        var gamma: Bool?
        var zeta: String
        var zetaMap: [String: Int64]
    }

    /// Keys in order for three members, then one that sorts first: written in place, then
    /// rewritten from the middle of the object.
    struct OrderBrokenLate: Codable {
        var b: Int64
        var c: InOrder
        var d: String?
        var a: [Int64]
    }

    @Test(arguments: [(false, true), (false, false), (true, true), (true, false)])
    func matchesFoundationWhenKeysComeInOrderOrStopDoingSo(pretty: Bool, escapesSlashes: Bool) throws {
        let leaf = InOrder(alpha: -1, beta: nil, delta: [], gamma: false, zeta: "a/b", zetaMap: [:])
        let tree = InOrder(alpha: 2, beta: "\"", delta: [leaf, leaf], gamma: nil, zeta: "", zetaMap: ["y": 1, "x": 2])
        let broken = [OrderBrokenLate(b: 1, c: tree, d: nil, a: [3]), OrderBrokenLate(b: 0, c: leaf, d: "d", a: [])]
        let encoder = SortedJSONEncoder(prettyPrinted: pretty, escapesSlashes: escapesSlashes)
        #expect(try encoder.encode(tree) == Array(try Self.foundation(pretty, escapesSlashes).encode(tree)))
        let (bytes, rewritten) = try encoder.encodeNamingRewrites(broken)
        #expect(bytes == Array(try Self.foundation(pretty, escapesSlashes).encode(broken)))
        #expect(rewritten.filter { $0.contains("OrderBrokenLate") }.count == 2)
        #expect(!rewritten.contains { $0.contains("InOrder") })
    }

    struct Integers: Codable {
        var int8: Int8
        var int16: Int16
        var uint8: UInt8
        var uint16: UInt16
        var uint32: UInt32
        var uint64: UInt64
        var uint: UInt
        var list: [UInt16]
    }

    /// A value that asks for no container at all.
    struct Nothing: Encodable {
        func encode(to encoder: Encoder) throws {}
    }

    @Test(arguments: [false, true])
    func matchesFoundationOnOtherIntegersAndEmptyValues(pretty: Bool) throws {
        let integers = Integers(
            int8: -128, int16: 32767, uint8: 255, uint16: 0, uint32: 4_000_000_000, uint64: UInt64.max, uint: 7,
            list: [1, 65535])
        let encoder = SortedJSONEncoder(prettyPrinted: pretty)
        #expect(try encoder.encode(integers) == Array(try Self.foundation(pretty, true).encode(integers)))
        let nested = ["a": [Nothing()], "b": []]
        #expect(try encoder.encode(nested) == Array(try Self.foundation(pretty, true).encode(nested)))
    }

    /// Two dictionaries whose keys are different spellings of the same text (one code point, or
    /// a letter and a combining accent) sort differently by bytes; the order remembered for
    /// one must not be reused for the other.
    @Test func keysThatAreEquivalentTextButDifferentBytesAreNotConfused() throws {
        let composed: [String: Int64] = ["\u{E9}x": 1, "fx": 2]
        let decomposed: [String: Int64] = ["e\u{301}x": 1, "fx": 2]
        for _ in 0..<20 {
            for value in [composed, decomposed] {
                #expect(try SortedJSONEncoder().encode(value) == Array(try Self.foundation(false, true).encode(value)))
            }
        }
    }

    @Test func refusesFloatingPoint() {
        #expect(throws: JSONEncodingUnsupported.self) { try SortedJSONEncoder().encode([1.5]) }
    }
}
