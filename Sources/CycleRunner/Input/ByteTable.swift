#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open-addressing hash table from byte strings to dense indices, for the hot path of the
/// usage reader: millions of lookups of org ids, user ids and event ids straight from the CSV
/// buffer, without making a String or running Swift's seeded SipHash for each.
struct ByteTable {
    /// Slot → index + 1 (0 is empty).
    private var slots: [Int32]
    private var slotHashes: [UInt64]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        slotHashes = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// FNV-1a with a final mix, so that the low bits that pick a slot are well spread.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            state ^= UInt64(byte)
            state &*= 0x0000_0100_0000_01b3
        }
        state ^= state >> 33
        state &*= 0xff51_afd7_ed55_8ccd
        state ^= state >> 33
        return state
    }

    /// The index stored for `bytes`, where `matches(index)` confirms an index really holds
    /// these bytes (equal hashes are not proof).
    @inline(__always)
    func find(hash: UInt64, matches: (Int32) -> Bool) -> Int32? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            if slotHashes[slot] == hash, matches(stored - 1) { return stored - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// Records `index` for a key known to be absent.
    mutating func insert(hash: UInt64, index: Int32) {
        if (count + 1) * 2 > slots.count { grow() }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = index + 1
        slotHashes[slot] = hash
        count += 1
    }

    private mutating func grow() {
        let oldSlots = slots
        let oldHashes = slotHashes
        slots = [Int32](repeating: 0, count: oldSlots.count * 2)
        slotHashes = [UInt64](repeating: 0, count: oldSlots.count * 2)
        mask = slots.count - 1
        for (slot, stored) in oldSlots.enumerated() where stored != 0 {
            var target = Int(truncatingIfNeeded: oldHashes[slot]) & mask
            while slots[target] != 0 { target = (target + 1) & mask }
            slots[target] = stored
            slotHashes[target] = oldHashes[slot]
        }
    }
}

extension String {
    /// Whether the string's UTF-8 bytes equal `bytes`.
    @inline(__always)
    func utf8Equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var copy = self
        return copy.withUTF8 { mine in
            mine.count == bytes.count
                && (mine.count == 0 || memcmp(mine.baseAddress!, bytes.baseAddress!, mine.count) == 0)
        }
    }
}
