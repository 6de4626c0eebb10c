// Proves that a file's name in the staging folder is its bucket and its whole path in one flat
// name, `%` and `/` escaped, so the path can be read back from it and no two paths share one.
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
        #expect(decoded.path == path)
        #expect((0..<OutputWriter.stagingBuckets).contains(decoded.bucket))
        #expect(name.utf8.filter { $0 == 0x2F }.count == 1, "\(name) has a folder level beyond its bucket")
    }

    static let pool: [Character] = ["a", "Z", "0", "%", "/", "2", "F", "5", ".", "é", "€", "😀", "e\u{301}"]

    @Test func everyPathIsReadBackFromItsName() async {
        let text = Gen<Character?>.element(of: Self.pool).map { $0! }.string(of: 0...24)
        await propertyCheck(count: 1000, input: text, text) { lhs, rhs in
            let left = OutputWriter.stagedName(lhs)
            #expect(Self.decode(left)?.path == lhs, "\(lhs.debugDescription) -> \(left.debugDescription)")
            #expect(
                (left == OutputWriter.stagedName(rhs)) == (lhs == rhs),
                "\(lhs.debugDescription), \(rhs.debugDescription)")
        }
    }
}
