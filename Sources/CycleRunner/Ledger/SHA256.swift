internal import CSHA256

/// SHA-256 (FIPS 180-4) for the ledger's hash chain: the chain must be recomputable by anyone
/// from the rows, so it needs a standard cryptographic hash, and the toolchain ships none on Linux
/// (swift-crypto would be a large dependency for one function). The rounds run in C (`CSHA256`),
/// which uses the x86 SHA instructions when the CPU has them; this type buffers and pads.
public struct SHA256: Sendable {
    /// The eight hash words A..H, inline and in order, as the C routine reads and writes them.
    private typealias State = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    private var state: State = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// The start of a block that is not whole yet: its first `pendingCount` bytes. Held inline,
    /// so that the many small updates of `field` allocate nothing.
    private var pending = SIMD64<UInt8>()
    private var pendingCount = 0
    private var length: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress, !bytes.isEmpty else { return }
        var count = bytes.count
        length &+= UInt64(count)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, count)
            withUnsafeMutableBytes(of: &pending) { buffer in
                (buffer.baseAddress! + pendingCount).copyMemory(from: next, byteCount: take)
            }
            pendingCount += take
            next += take
            count -= take
            if pendingCount < 64 { return }
            withUnsafeBytes(of: &pending) { buffer in Self.compress(&state, buffer.baseAddress!, blocks: 1) }
            pendingCount = 0
        }
        let blocks = count / 64
        if blocks > 0 {
            Self.compress(&state, next, blocks: blocks)
            next += 64 * blocks
            count -= 64 * blocks
        }
        if count > 0 {
            withUnsafeMutableBytes(of: &pending) { buffer in
                buffer.baseAddress!.copyMemory(from: next, byteCount: count)
            }
            pendingCount = count
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    private mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    /// Static and given `state` alone, so that it can read blocks from `pending` in place.
    private static func compress(_ state: inout State, _ blocks: UnsafeRawPointer, blocks count: Int) {
        withUnsafeMutablePointer(to: &state) { tuple in
            tuple.withMemoryRebound(to: UInt32.self, capacity: 8) { words in
                csha256_compress_blocks(words, blocks, count)
            }
        }
    }

    /// Adds one field so that no two different lists of fields hash alike: its byte length,
    /// a colon, the bytes, a newline.
    public mutating func field(_ text: String) {
        update(String(text.utf8.count))
        update(byte: 0x3A)
        update(text)
        update(byte: 0x0A)
    }

    /// `field(tag + text)` for many small fields, gathered in `buffer` and hashed in large
    /// pieces by `flush`; the bytes hashed are the same as with `field`.
    public static func appendField(_ tag: UInt8, _ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in appendField(tag, UnsafeRawBufferPointer(bytes), to: &buffer) }
    }

    public static func appendField(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        appendFieldHeader(tag, valueBytes: bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
    }

    /// What `appendField` puts before the value's bytes: the field's length (the tag and the
    /// value) in decimal, a colon and the tag.
    static func appendFieldHeader(_ tag: UInt8, valueBytes: Int, to buffer: inout [UInt8]) {
        // The length in decimal, most significant digit first, without an array for the digits.
        let length = valueBytes + 1
        var power = 1
        while length / power >= 10 { power *= 10 }
        repeat {
            buffer.append(UInt8(0x30 + length / power % 10))
            power /= 10
        } while power > 0
        buffer.append(0x3A)
        buffer.append(tag)
    }

    public mutating func field(_ value: Int64?) { field(value.map { String($0) } ?? "null") }

    public mutating func finish() -> [UInt8] {
        // 0x80, then zeros up to 8 bytes short of a whole block, then the length in bits (FIPS
        // 180-4, section 5.1.1), hashed as one update.
        let bitLength = length &* 8
        let zeros = (64 + 56 - (pendingCount + 1) % 64) % 64
        var tail = [UInt8](repeating: 0, count: 1 + zeros + 8)
        tail[0] = 0x80
        for index in 0..<8 { tail[1 + zeros + index] = UInt8(truncatingIfNeeded: bitLength >> (56 - 8 * index)) }
        update(tail)
        // The digest is the eight state words, each big-endian.
        return withUnsafeBytes(of: &state) { words in
            (0..<32).map { index in
                let word = words.load(fromByteOffset: index & ~3, as: UInt32.self)
                return UInt8(truncatingIfNeeded: word >> (24 - 8 * (index & 3)))
            }
        }
    }

    public mutating func hexDigest() -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in finish() {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func hex(_ text: String) -> String {
        var hash = SHA256()
        hash.update(text)
        return hash.hexDigest()
    }
}
