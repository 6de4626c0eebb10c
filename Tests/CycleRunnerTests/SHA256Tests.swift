// Proves the ledger's SHA-256: it gives the standard digests, the same digest however the bytes are split into
// updates or handed to the background hasher's thread, and the SHA-instruction and portable C compressions agree.
import CSHA256
import Foundation
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct SHA256Tests {
    static func digest(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }

    @Test func matchesTheFIPS180Vectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex(String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length from 0 to 199 bytes, so every way the padding can fall (55, 56, 63, 64 bytes
    /// into a block...): the digests, concatenated in hex, hash to what Python's hashlib gives.
    @Test func padsEveryLengthAsTheStandardDoes() {
        var all = ""
        for count in 0..<200 {
            all += Self.digest((0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) })
        }
        #expect(SHA256.hex(all) == "466ee381bbc4a6de34133ad71e2d19bd7ac1efe7fbd78829b39564fb7a8e7d20")
    }

    @Test func unevenPiecesGiveTheSameDigest() {
        var pieces = SHA256()
        let text = String(repeating: "0123456789", count: 25)
        var rest = Substring(text)
        for size in [1, 63, 64, 65, 7, 50] {
            pieces.update(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        #expect(pieces.hexDigest() == SHA256.hex(text))
    }

    @Test func anySplitGivesTheSameDigestAsOneUpdate() async {
        let bytes = Gen.uint8().array(of: 0...300)
        let cuts = Gen.int(in: 0...300).array(of: 0...8)
        await propertyCheck(count: 300, input: bytes, cuts) { bytes, cuts in
            var hash = SHA256()
            var start = 0
            for cut in cuts.map({ min($0, bytes.count) }).sorted() + [bytes.count] {
                bytes[start..<cut].withUnsafeBytes { hash.update($0) }
                start = cut
            }
            #expect(hash.hexDigest() == Self.digest(bytes))
        }
    }

    /// Many pieces and fields, more than the background hasher holds at once, arrive in order;
    /// one dropped unfinished (a commit that failed) is released, not kept by its thread, which
    /// holds only the worker that its release closes.
    @Test func theBackgroundHasherDigestsWhatItIsGivenInOrder() {
        let background = BackgroundSHA256()
        var direct = SHA256()
        for index in 0..<200 {
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index * 37)
            background.update(bytes)
            direct.update(bytes)
            background.field("field \(index)")
            direct.field("field \(index)")
        }
        #expect(background.hexDigest() == direct.hexDigest())
        weak var dropped: BackgroundSHA256?
        do {
            let unfinished = BackgroundSHA256()
            unfinished.update([1, 2, 3])
            dropped = unfinished
        }
        #expect(dropped == nil)
    }

    /// `appendField` writes the length itself, so check it across the lengths where a digit is added.
    @Test func appendFieldHashesAsField() {
        for count in [0, 1, 8, 9, 10, 11, 98, 99, 100, 998, 999, 1000, 12_345] {
            let text = String(repeating: "x", count: count)
            var one = SHA256()
            one.field("s" + text)
            var buffer: [UInt8] = []
            SHA256.appendField(UInt8(ascii: "s"), text, to: &buffer)
            var other = SHA256()
            other.update(buffer)
            #expect(one.hexDigest() == other.hexDigest(), "\(count) bytes")
        }
    }

    @Test func shaInstructionsAndPortableCodeAgree() async {
        #if os(Linux) && arch(x86_64)
            // On a CPU with the SHA extensions the fast path must be taken, not silently skipped.
            let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
            if cpuinfo.contains(" sha_ni") { #expect(csha256_uses_sha_extensions()) }
        #endif
        let states = Gen.uint32().array(of: 8)
        let blocks = Gen.uint8().array(of: 0...(8 * 64))
        await propertyCheck(count: 200, input: states, blocks) { state, bytes in
            let count = bytes.count / 64
            var fast = state
            var portable = state
            bytes.withUnsafeBytes { data in
                guard let base = data.baseAddress else { return }
                csha256_compress_blocks(&fast, base, count)
                csha256_compress_blocks_portable(&portable, base, count)
            }
            #expect(fast == portable)
        }
    }
}
