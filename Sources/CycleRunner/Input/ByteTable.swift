#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open-addressing hash table from byte strings to dense indices, for the hot path of the
/// usage reader: millions of lookups of org ids, user ids and event ids straight from the CSV
/// buffer, without making a String or running Swift's seeded SipHash for each.
///
/// Each slot is one 64-bit word: the index + 1 in the high half (0 is empty) and the low half
/// of the key's hash in the low half, so a probe touches one cache line, most mismatches are
/// rejected without looking at the key, and the table can double without asking for keys
/// again (the slot comes from those same low bits). At 20 million event ids the table is the largest
/// thing a close holds after the rows themselves, so it fills to three quarters before it
/// doubles rather than to one half, and keeps no full hashes.
struct ByteTable {
    private var slots: ZeroedWords
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        slots = ZeroedWords(count: size)
        mask = size - 1
    }

    /// The bytes eight at a time, each word multiplied in, then MurmurHash3's final mix, so that
    /// the low bits that pick a slot and the bits kept as the tag are both well spread. The
    /// reader hashes four ids a row (org, user, action, event); FNV-1a, a multiplication per byte
    /// each waiting for the one before, took about a tenth of reading. The value lives only in
    /// this process's tables: nothing stores it.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let count = bytes.count
        var state = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count) &* 0xff51_afd7_ed55_8ccd
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            var offset = 0
            while offset + 8 <= count {
                state = mixWord(state, raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            if offset < count {
                // The last one to seven bytes as the low bytes of a word; the length, mixed in
                // first, tells "a" from "a\0".
                state = mixWord(state, tail(raw, count: count, left: count - offset))
            }
        }
        state ^= state >> 33
        state &*= 0xff51_afd7_ed55_8ccd
        state ^= state >> 33
        state &*= 0xc4ce_b9fe_1a85_ec53
        state ^= state >> 33
        return state
    }

    /// The last `left` (1 to 7) of `count` bytes at `raw` as the low bytes of a word, first
    /// byte lowest, read by whole loads that stay inside the bytes: a word ending at the last
    /// byte when there are eight, else two overlapping smaller loads. A loop of a byte at a time
    /// was a tenth of reading a usage row, whose org, user and action ids are all short.
    @inline(__always)
    static func tail(_ raw: UnsafeRawPointer, count: Int, left: Int) -> UInt64 {
        // Little-endian loads, so the first byte is lowest on any machine.
        if count >= 8 {
            let last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            return last >> UInt64(8 * (8 - left))
        }
        if left >= 4 {
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: left - 4, as: UInt32.self)))
            return low | (high >> UInt64(8 * (8 - left))) << 32
        }
        var word = UInt64(raw.load(as: UInt8.self))
        if left >= 2 {
            let last = UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: left - 2, as: UInt16.self)))
            word |= last << UInt64(8 * (left - 2))
        }
        return word
    }

    @inline(__always)
    private static func mixWord(_ state: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (state ^ word) &* 0x9FB2_1C65_1E98_DF25
        return mixed ^ (mixed >> 29)
    }

    @inline(__always)
    private static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF }

    /// The index stored for `bytes`, where `matches(index)` confirms an index really holds
    /// these bytes (equal tags are not proof).
    @inline(__always)
    func find(hash: UInt64, matches: (Int32) -> Bool) -> Int32? {
        let tag = ByteTable.tag(hash)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots.words[slot]
            if stored == 0 { return nil }
            if stored & 0xFFFF_FFFF == tag {
                let index = Int32(truncatingIfNeeded: stored >> 32) - 1
                if matches(index) { return index }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Reads the first slot `hash` probes and returns it. The merge reads the slots of the
    /// next rows together, before it looks any of them up: at millions of ids the table is far
    /// larger than the caches, and loads that do not depend on each other wait for memory all
    /// at once rather than one after another.
    @inline(__always)
    func touch(hash: UInt64) -> UInt64 { slots.words[Int(truncatingIfNeeded: hash) & mask] }

    /// The index a slot word read by `touch` holds when its tag is `hash`'s: the likely
    /// answer of `find`, which still checks it, for reading what it points to early.
    @inline(__always)
    static func candidate(in slot: UInt64, for hash: UInt64) -> Int32? {
        guard slot != 0, slot & 0xFFFF_FFFF == tag(hash) else { return nil }
        return Int32(truncatingIfNeeded: slot >> 32) - 1
    }

    /// Records `index` for a key known to be absent.
    mutating func insert(hash: UInt64, index: Int32) {
        precondition(index >= 0 && index < Int32.max, "ByteTable indices are 0 ..< Int32.max")
        if (count + 1) * 4 > slots.count * 3 {
            grow()
        } else if !isKnownUniquelyReferenced(&slots) {
            slots = slots.copy()
        }
        let words = slots.words
        var slot = Int(truncatingIfNeeded: hash) & mask
        while words[slot] != 0 { slot = (slot + 1) & mask }
        words[slot] = UInt64(UInt32(index + 1)) << 32 | ByteTable.tag(hash)
        count += 1
    }

    private mutating func grow() {
        precondition(slots.count < 1 << 32, "a ByteTable picks slots with 32 bits of hash")
        let old = slots
        slots = ZeroedWords(count: old.count * 2)
        mask = slots.count - 1
        let words = slots.words
        // The old slots are read through a pointer, so their owner is kept alive by name.
        withExtendedLifetime(old) {
            for stored in UnsafeBufferPointer(start: old.words, count: old.count) where stored != 0 {
                var target = Int(truncatingIfNeeded: stored & 0xFFFF_FFFF) & mask
                while words[target] != 0 { target = (target + 1) & mask }
                words[target] = stored
            }
        }
    }
}

/// A table's slots: words that start as zero without being written. `[UInt64](repeating: 0,
/// count:)` wrote every word, and a close's event table (32 MiB at 2.3 M rows) was zeroed and
/// faulted in on the close's thread before the workers started reading, 20 to 40 ms with the
/// other cores idle. `calloc` takes large blocks from the kernel, whose fresh pages are zero
/// already, so each page is faulted in when the merge first writes it, beside the workers.
/// Shared by copies of a table until one of them inserts (`ByteTable.insert` copies first).
final class ZeroedWords: @unchecked Sendable {
    let words: UnsafeMutablePointer<UInt64>
    let count: Int

    init(count: Int) {
        precondition(count > 0, "a table has slots")
        guard let memory = calloc(count, MemoryLayout<UInt64>.stride) else {
            preconditionFailure("out of memory for \(count) table slots")
        }
        words = memory.bindMemory(to: UInt64.self, capacity: count)
        self.count = count
    }

    /// A copy of `other`'s words, which are all written, so not zeroed first.
    private init(copying other: ZeroedWords) {
        guard let memory = malloc(other.count * MemoryLayout<UInt64>.stride) else {
            preconditionFailure("out of memory for \(other.count) table slots")
        }
        words = memory.bindMemory(to: UInt64.self, capacity: other.count)
        words.initialize(from: other.words, count: other.count)
        count = other.count
    }

    func copy() -> ZeroedWords { ZeroedWords(copying: self) }

    deinit { free(words) }
}

/// Keys' UTF-8 bytes end to end in memory of its own, so that a field read from the CSV buffer
/// is compared with a key without a String: comparing with a String's bytes retained and
/// released the string twice, six calls into the runtime for the org, user and action ids of
/// each usage row. One thread appends; the reader's lookups hand a finished arena to every
/// worker, which only reads it.
final class KeyArena: @unchecked Sendable {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity: Int
    /// Key `i` is `bytes[starts[i] ..< starts[i + 1]]`.
    private var starts: UnsafeMutablePointer<Int>
    private var keyCapacity: Int
    private(set) var count = 0

    init() {
        byteCapacity = 256
        keyCapacity = 16
        bytes = .allocate(capacity: byteCapacity)
        starts = .allocate(capacity: keyCapacity + 1)
        starts.initialize(to: 0)
    }

    convenience init(_ keys: some Sequence<String>) {
        self.init()
        for key in keys { append(key) }
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
    }

    func append(_ key: String) {
        var key = key
        key.withUTF8 { append($0) }
    }

    func append(_ key: UnsafeBufferPointer<UInt8>) {
        let used = starts[count]
        if used + key.count > byteCapacity {
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(2 * byteCapacity, used + key.count))
            grown.initialize(from: bytes, count: used)
            bytes.deallocate()
            bytes = grown
            byteCapacity = max(2 * byteCapacity, used + key.count)
        }
        if count == keyCapacity {
            let grown = UnsafeMutablePointer<Int>.allocate(capacity: 2 * keyCapacity + 1)
            grown.initialize(from: starts, count: count + 1)
            starts.deallocate()
            starts = grown
            keyCapacity *= 2
        }
        if let source = key.baseAddress { (bytes + used).initialize(from: source, count: key.count) }
        (starts + count + 1).initialize(to: used + key.count)
        count += 1
    }

    /// Whether key `index` is exactly `other`'s bytes.
    @inline(__always)
    func equals(_ index: Int32, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[Int(index)]
        return bytesEqual(UnsafeBufferPointer(start: bytes + start, count: starts[Int(index) + 1] - start), other)
    }
}

/// Whether two byte strings are equal, compared eight bytes at a time, not by `memcmp`: the ids,
/// users and actions compared for every usage row are a few bytes long, and the call through
/// the C library cost more than the comparison.
@inline(__always)
func bytesEqual(_ mine: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard mine.count == bytes.count else { return false }
    guard let left = mine.baseAddress, let right = bytes.baseAddress else { return true }
    let count = mine.count
    var offset = 0
    while offset + 8 <= count {
        if UnsafeRawPointer(left).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != UnsafeRawPointer(right).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        {
            return false
        }
        offset += 8
    }
    while offset < count {
        if left[offset] != right[offset] { return false }
        offset += 1
    }
    return true
}

extension String {
    /// Whether the string's UTF-8 bytes equal `bytes`.
    @inline(__always)
    func utf8Equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var copy = self
        return copy.withUTF8 { bytesEqual($0, bytes) }
    }
}
