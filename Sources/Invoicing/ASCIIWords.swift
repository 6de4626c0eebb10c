/// Tests of eight bytes at a time, for the texts every writer and reader checks byte class by
/// byte class (CSV quotes, HTML escaping, XML's printable ASCII). Each mask has its high bit set
/// for bytes of the class; a zero mask means no byte of the word is in it.
public enum ASCIIWords {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080
    @usableFromInline static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The bytes below 0x20 or above 0x7F, exactly: a byte's low seven bits plus 0x60 carry
    /// into its high bit when they are 0x20 or more, and never into the next byte.
    @inlinable @inline(__always)
    public static func controlOrNonASCII(_ word: UInt64) -> UInt64 {
        (word | ~((word & lows) &+ (ones &* 0x60))) & highs
    }

    /// Non-zero exactly when some byte of `word` is `byte` (the borrow test: it may also mark a
    /// byte above a match, never one when there is no match).
    @inlinable @inline(__always)
    public static func anyByte(_ word: UInt64, is byte: UInt8) -> UInt64 {
        let value = word ^ (ones &* UInt64(byte))
        return (value &- ones) & ~value & highs
    }

    /// Whether every byte is 0x20 to 0x7F.
    @inlinable
    public static func isPrintableASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        while index + 8 <= bytes.count {
            if controlOrNonASCII(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) != 0 { return false }
            index += 8
        }
        while index < bytes.count {
            if bytes[index] < 0x20 || bytes[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }
}
