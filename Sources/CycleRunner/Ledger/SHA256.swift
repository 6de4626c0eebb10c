/// SHA-256 (FIPS 180-4) in plain Swift, for the ledger's hash chain: the chain must be
/// recomputable by anyone from the rows, so it needs a standard cryptographic hash, and the
/// toolchain ships none on Linux (swift-crypto would be a large dependency for one function).
public struct SHA256 {
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        length &+= UInt64(bytes.count)
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= 64 {
            compress(bytes.baseAddress! + offset)
            offset += 64
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Adds one field so that no two different lists of fields hash alike: its byte length,
    /// a colon, the bytes, a newline.
    public mutating func field(_ text: String) {
        update(String(text.utf8.count))
        update([0x3A])
        update(text)
        update([0x0A])
    }

    /// `field(tag + text)` for many small fields, gathered in `buffer` and hashed in large
    /// pieces by `flush`; the bytes hashed are the same as with `field`.
    public static func appendField(_ tag: UInt8, _ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in appendField(tag, UnsafeRawBufferPointer(bytes), to: &buffer) }
    }

    public static func appendField(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        var length = bytes.count + 1
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(0x30 + length % 10))
            length /= 10
        } while length > 0
        buffer.append(contentsOf: digits.reversed())
        buffer.append(0x3A)
        buffer.append(tag)
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
    }

    public mutating func field(_ value: Int64?) { field(value.map { String($0) } ?? "null") }

    public mutating func finish() -> [UInt8] {
        let bitLength = length &* 8
        update([0x80] as [UInt8])
        while pending.count != 56 { update([0x00] as [UInt8]) }
        let lengthBytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: bitLength >> (56 - 8 * UInt64($0))) }
        update(lengthBytes)
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32($0))) } }
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

    private mutating func compress(_ block: UnsafeRawPointer) {
        // The message schedule lives on the stack: a heap array per 64-byte block would cost
        // more than the rounds.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            compress(block, schedule.baseAddress!)
        }
    }

    private mutating func compress(_ block: UnsafeRawPointer, _ w: UnsafeMutablePointer<UInt32>) {
        for index in 0..<16 {
            w[index] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
        }
        // Rotations are spelled out rather than put in a helper: debug builds (the tests') do
        // not inline, and a call per rotation would triple the time of a close's hashing.
        for index in 16..<64 {
            let s0 =
                (w[index - 15] >> 7 | w[index - 15] << 25) ^ (w[index - 15] >> 18 | w[index - 15] << 14)
                ^ (w[index - 15] >> 3)
            let s1 =
                (w[index - 2] >> 17 | w[index - 2] << 15) ^ (w[index - 2] >> 19 | w[index - 2] << 13)
                ^ (w[index - 2] >> 10)
            w[index] = w[index - 16] &+ s0 &+ w[index - 7] &+ s1
        }
        var a = state[0]
        var b = state[1]
        var c = state[2]
        var d = state[3]
        var e = state[4]
        var f = state[5]
        var g = state[6]
        var h = state[7]
        for index in 0..<64 {
            let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ choice &+ SHA256.k[index] &+ w[index]
            let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ majority
            h = g
            g = f
            f = e
            e = d &+ t1
            d = c
            c = b
            b = a
            a = t1 &+ t2
        }
        state[0] &+= a
        state[1] &+= b
        state[2] &+= c
        state[3] &+= d
        state[4] &+= e
        state[5] &+= f
        state[6] &+= g
        state[7] &+= h
    }
}
