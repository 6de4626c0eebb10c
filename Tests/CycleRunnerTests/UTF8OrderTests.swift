// Proves the byte order of ids and paths: `compareUTF8` orders any two texts as their UTF-8
// bytes compare, short (inline) and long (heap) strings, substrings made into strings, and
// canonically equivalent spellings, which Swift's own `<` and `==` would merge.
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct UTF8OrderTests {
    static func byteOrder(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        if left == right { return 0 }
        return left.lexicographicallyPrecedes(right) ? -1 : 1
    }

    static let pool: [Character] = ["a", "b", "Z", "0", "\0", "é", "e\u{301}", "€", "😀", "/", "-"]

    @Test func ordersAsTheBytesCompare() async {
        let text = Gen<Character?>.element(of: Self.pool).map { $0! }.string(of: 0...24)
        await propertyCheck(count: 500, input: text, text, Gen.int(in: 0...30)) { lhs, rhs, prefixLength in
            // Long strings live on the heap, short ones inline; a shared prefix makes the tail decide.
            let prefix = String(repeating: "p", count: prefixLength)
            for (left, right) in [(lhs, rhs), (prefix + lhs, prefix + rhs), (lhs, lhs + rhs)] {
                let order = compareUTF8(left, right)
                #expect(
                    order.signum() == Self.byteOrder(left, right), "\(left.debugDescription) \(right.debugDescription)")
                #expect(utf8Less(left, right) == (Self.byteOrder(left, right) < 0))
            }
        }
    }

    @Test func canonicallyEquivalentSpellingsDiffer() {
        #expect("é" == "e\u{301}")
        #expect(compareUTF8("é", "e\u{301}") != 0)
        #expect(!utf8Equal("é", "e\u{301}"))
        let long = String(repeating: "x", count: 40)
        #expect(compareUTF8(long + "é", long + "e\u{301}") > 0)
        #expect(compareUTF8(String(Substring(long + "a").dropFirst(1)), String(long.dropFirst(1)) + "a") == 0)
    }
}
