// Proves that a file's name in the staging folder is its bucket and its whole path in one flat
// name, `%` and `/` escaped, so the path can be read back from it and no two paths share one,
// and that names are byte for byte what the earlier scalar-by-scalar builder made.
import Foundation
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct StagedNameTests {
    /// The path a staged name stands for, and its bucket: the inverse of the escaping.
    static func decode(_ name: String) -> (bucket: Int, path: String)? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bucket = Int(parts[0]) else { return nil }
        var bytes: [UInt8] = []
        var flat = Array(parts[1].utf8)[...]
        while let byte = flat.popFirst() {
            guard byte == 0x25 else {
                bytes.append(byte)
                continue
            }
            switch (flat.popFirst(), flat.popFirst()) {
            case (0x32, 0x35): bytes.append(0x25)
            case (0x32, 0x46): bytes.append(0x2F)
            default: return nil
            }
        }
        return (bucket, String(decoding: bytes, as: UTF8.self))
    }

    @Test(arguments: [
        "statements/org-1/2026-02-24.json",
        "invoices/INV-2026-000001.xml",
        "statements/100%/a%2Fb.html",
        "closes/2026-03-31/report.html",
        "statements/ünïcödé/€/😀.json",
        "/",
        "%",
        "",
    ])
    func aStagedNameHoldsItsPathEscaped(path: String) throws {
        let name = OutputWriter.stagedName(path)
        let decoded = try #require(Self.decode(name), "\(name) is not a bucket and an escaped path")
        #expect(Array(decoded.path.utf8) == Array(path.utf8))
        #expect(Array(name.utf8) == Array(Self.scalarBuiltName(path).utf8))
        #expect((0..<OutputWriter.stagingBuckets).contains(decoded.bucket))
        #expect(name.utf8.filter { $0 == 0x2F }.count == 1, "\(name) has a folder level beyond its bucket")
    }

    /// The name as it was built before, a Unicode scalar at a time, which the byte-built name
    /// must equal for every path.
    static func scalarBuiltName(_ relative: String) -> String {
        var hasher = StableHasher()
        hasher.add(relative)
        let bucket = Int(UInt64(bitPattern: hasher.value) % UInt64(OutputWriter.stagingBuckets))
        var flat = ""
        for character in relative.unicodeScalars {
            switch character {
            case "%": flat += "%25"
            case "/": flat += "%2F"
            default: flat.unicodeScalars.append(character)
            }
        }
        return String(bucket) + "/" + flat
    }

    static let pool: [Character] = ["a", "Z", "0", "%", "/", "2", "F", "5", ".", "é", "€", "😀", "e\u{301}"]

    @Test func everyPathIsReadBackFromItsName() async {
        let text = Gen<Character?>.element(of: Self.pool).map { $0! }.string(of: 0...24)
        await propertyCheck(count: 1000, input: text, text) { lhs, rhs in
            // Compared as bytes: `==` takes "é" and "e\u{301}" for one text, but they are two paths.
            let left = OutputWriter.stagedName(lhs)
            #expect(
                Self.decode(left).map { Array($0.path.utf8) } == Array(lhs.utf8),
                "\(lhs.debugDescription) -> \(left.debugDescription)")
            #expect(Array(left.utf8) == Array(Self.scalarBuiltName(lhs).utf8), "\(lhs.debugDescription)")
            #expect(
                left.utf8.elementsEqual(OutputWriter.stagedName(rhs).utf8) == lhs.utf8.elementsEqual(rhs.utf8),
                "\(lhs.debugDescription), \(rhs.debugDescription)")
        }
    }
}
