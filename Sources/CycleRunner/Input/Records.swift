import Foundation
import Invoicing

/// Where a row came from: its file (an index into `InputFolder.files`) and line.
public struct RowOrigin: Hashable, Sendable, Codable {
    public var fileIndex: Int32
    public var lineNumber: Int32
}

/// A usage row as read: ids are resolved to indices so the engine compares integers.
///
/// A close holds every row of its input at once (20 million in the scale benchmark), so the
/// record is 48 bytes: the small indices are 16 bits where that is plenty (files, actions;
/// the reader refuses inputs beyond that), and the content hash is not stored but computed
/// from the fields when it is needed (`UsageHasher`).
public struct UsageRecord: Sendable {
    public var eventId: String
    public var instant: Instant
    public var credits: Int64
    public var orgIndex: Int32
    public var userIndex: Int32
    public var lineNumber: Int32
    public var fileIndex: Int16
    public var actionIndex: Int16

    public init(
        eventId: String, orgIndex: Int32, actionIndex: Int16, userIndex: Int32, instant: Instant, credits: Int64,
        origin: RowOrigin
    ) {
        self.eventId = eventId
        self.instant = instant
        self.credits = credits
        self.orgIndex = orgIndex
        self.userIndex = userIndex
        self.lineNumber = origin.lineNumber
        self.fileIndex = Int16(origin.fileIndex)
        self.actionIndex = actionIndex
    }

    public var origin: RowOrigin { RowOrigin(fileIndex: Int32(fileIndex), lineNumber: lineNumber) }
}

/// The content hash of usage rows: a stable hash of everything the engine uses from a row (org,
/// instant, user, action, credits), so two rows with one event_id are the same event exactly
/// when their hashes agree. It is StableHasher over the org id, the instant, the user id, the
/// action id and the credits, the value stored in the ledger for every applied row.
public struct UsageHasher: Sendable {
    /// The hasher after the org id, per org index: the common start of all that org's rows.
    var orgPrefixes: [StableHasher]
    var users: [String]
    var actions: [String]

    public func hash(_ record: UsageRecord) -> Int64 {
        var hasher = orgPrefixes[Int(record.orgIndex)]
        hasher.add(record.instant.microseconds)
        hasher.add(users[Int(record.userIndex)])
        hasher.add(actions[Int(record.actionIndex)])
        hasher.add(record.credits)
        return hasher.value
    }

    /// The content hash of every row, in row order, computed on every core: one row after
    /// another, they were most of a close's classification, with the other core half idle.
    /// Each core hashes four rows at a time, the fixed-size fields of the four in one loop:
    /// StableHasher takes a multiplication per byte, each waiting for the one before, and four
    /// independent rows keep the multiplier busy where one row left it idle most of the time.
    /// The value is `hash(_:)`'s, which stays the reference (the tests compare the two).
    func hashes(of rows: UsageRows) -> [Int64] { hashes(of: rows, in: 0..<rows.count) }

    /// The content hashes of the rows at `range`, in order, computed the same way.
    func hashes(of rows: UsageRows, in range: Range<Int>) -> [Int64] {
        let count = range.count
        // Pieces small enough that a window of the classification (262,144 rows) makes the 64
        // per core that `inParallel` asks for before it starts a second worker: with pieces of
        // 16,384 rows a window was hashed on one core.
        let chunkSize = 2_048
        let userFields = SeparatedFields(users)
        let actionFields = SeparatedFields(actions)
        let prefixes = orgPrefixes.map(\.state)
        return [Int64](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            let target = SharedBuffer(buffer: buffer)
            let hashing: @Sendable (Int) -> Void = { chunk in
                let start = range.lowerBound + chunk * chunkSize
                let piece = start..<min(range.upperBound, start + chunkSize)
                prefixes.withUnsafeBufferPointer { prefixes in
                    userFields.withBytes { users in
                        actionFields.withBytes { actions in
                            rows.forEachRun(in: piece) { records, first in
                                UsageHasher.hashRun(
                                    records, into: target.buffer.baseAddress! + (first - range.lowerBound),
                                    prefixes: prefixes,
                                    users: users, actions: actions)
                            }
                        }
                    }
                }
            }
            inParallel((count + chunkSize - 1) / chunkSize, hashing)
            initializedCount = count
        }
    }

    /// The hashes of `records` into `hashes`, four rows at a time and the rest one by one.
    static func hashRun(
        _ records: UnsafeBufferPointer<UsageRecord>, into hashes: UnsafeMutablePointer<Int64>,
        prefixes: UnsafeBufferPointer<UInt64>, users: SeparatedFields.Bytes, actions: SeparatedFields.Bytes
    ) {
        var index = 0
        while index + 4 <= records.count {
            let first = records[index]
            let second = records[index + 1]
            let third = records[index + 2]
            let fourth = records[index + 3]
            var lanes = (
                prefixes[Int(first.orgIndex)], prefixes[Int(second.orgIndex)], prefixes[Int(third.orgIndex)],
                prefixes[Int(fourth.orgIndex)]
            )
            mixNumbers(
                &lanes, first.instant.microseconds, second.instant.microseconds, third.instant.microseconds,
                fourth.instant.microseconds)
            users.mix(&lanes.0, Int(first.userIndex))
            users.mix(&lanes.1, Int(second.userIndex))
            users.mix(&lanes.2, Int(third.userIndex))
            users.mix(&lanes.3, Int(fourth.userIndex))
            actions.mix(&lanes.0, Int(first.actionIndex))
            actions.mix(&lanes.1, Int(second.actionIndex))
            actions.mix(&lanes.2, Int(third.actionIndex))
            actions.mix(&lanes.3, Int(fourth.actionIndex))
            mixNumbers(&lanes, first.credits, second.credits, third.credits, fourth.credits)
            hashes[index] = Int64(bitPattern: lanes.0)
            hashes[index + 1] = Int64(bitPattern: lanes.1)
            hashes[index + 2] = Int64(bitPattern: lanes.2)
            hashes[index + 3] = Int64(bitPattern: lanes.3)
            index += 4
        }
        while index < records.count {
            let record = records[index]
            var lanes = (prefixes[Int(record.orgIndex)], UInt64(0), UInt64(0), UInt64(0))
            mixNumbers(&lanes, record.instant.microseconds, 0, 0, 0)
            users.mix(&lanes.0, Int(record.userIndex))
            actions.mix(&lanes.0, Int(record.actionIndex))
            mixNumbers(&lanes, record.credits, 0, 0, 0)
            hashes[index] = Int64(bitPattern: lanes.0)
            index += 1
        }
    }

    /// `StableHasher.add(_: Int64)` on four states at once: the eight bytes, low first, then the
    /// separator.
    @inline(__always)
    static func mixNumbers(
        _ lanes: inout (UInt64, UInt64, UInt64, UInt64), _ first: Int64, _ second: Int64, _ third: Int64,
        _ fourth: Int64
    ) {
        var bits = (
            UInt64(bitPattern: first), UInt64(bitPattern: second), UInt64(bitPattern: third),
            UInt64(bitPattern: fourth)
        )
        for _ in 0..<8 {
            lanes.0 = StableHasher.mix(lanes.0, UInt8(truncatingIfNeeded: bits.0))
            lanes.1 = StableHasher.mix(lanes.1, UInt8(truncatingIfNeeded: bits.1))
            lanes.2 = StableHasher.mix(lanes.2, UInt8(truncatingIfNeeded: bits.2))
            lanes.3 = StableHasher.mix(lanes.3, UInt8(truncatingIfNeeded: bits.3))
            bits.0 >>= 8
            bits.1 >>= 8
            bits.2 >>= 8
            bits.3 >>= 8
        }
        lanes.0 = StableHasher.mix(lanes.0, StableHasher.separator)
        lanes.1 = StableHasher.mix(lanes.1, StableHasher.separator)
        lanes.2 = StableHasher.mix(lanes.2, StableHasher.separator)
        lanes.3 = StableHasher.mix(lanes.3, StableHasher.separator)
    }
}

/// Texts laid end to end as UTF-8, each followed by StableHasher's field separator: the
/// hashes of millions of rows read the user and action ids as raw bytes, not through String.
struct SeparatedFields: Sendable {
    let bytes: [UInt8]
    /// Where each text starts in `bytes`, and one more: where the last one ends.
    let starts: [Int]

    init(_ texts: [String]) {
        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(texts.count + 1)
        for text in texts {
            bytes.append(contentsOf: text.utf8)
            bytes.append(StableHasher.separator)
            starts.append(bytes.count)
        }
        self.bytes = bytes
        self.starts = starts
    }

    /// The fields in place, for the length of `body`.
    struct Bytes {
        let bytes: UnsafePointer<UInt8>
        let starts: UnsafePointer<Int>
        let textCount: Int

        /// `StableHasher.add(_: String)` of text `index`, on `state`.
        @inline(__always)
        func mix(_ state: inout UInt64, _ index: Int) {
            precondition(index >= 0 && index < textCount, "a user or action index beyond its list")
            var value = state
            for offset in starts[index]..<starts[index + 1] { value = StableHasher.mix(value, bytes[offset]) }
            state = value
        }
    }

    func withBytes<Result>(_ body: (Bytes) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { bytes in
            starts.withUnsafeBufferPointer { starts in
                // An empty list of texts still has one start, and `bytes` is only read between starts.
                body(
                    Bytes(
                        bytes: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!, starts: starts.baseAddress!,
                        textCount: starts.count - 1))
            }
        }
    }
}

/// A buffer that workers fill at disjoint indices.
struct SharedBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>

    /// Moves `elements` into the uninitialized places from `start` on, in order, and leaves
    /// `elements` empty. They are moved, not copied: a copy retained every reference in them
    /// (a document holds dozens), and freeing the originals released each one again.
    func initialize(at start: Int, movingFrom elements: inout [Element]) {
        precondition(start >= 0 && start + elements.count <= buffer.count, "the elements fit in the buffer")
        guard let base = buffer.baseAddress else { return }
        // `popLast` hands over the last element without copying it, so the list is emptied
        // from its end and its elements placed from the last place back.
        var place = start + elements.count
        while let element = elements.popLast() {
            place -= 1
            (base + place).initialize(to: element)
        }
    }
}

public struct PlanChangeRecord: Sendable {
    public var orgIndex: Int32
    public var instant: Instant
    public var planId: PlanID
    /// Plan changes have no id; their position in the file orders them (§6.2).
    public var sequence: Int32
    public var origin: RowOrigin
    public var raw: String

    /// Plan changes are remembered by what they say, since they carry no id.
    public var key: String { "\(orgIndex)|\(instant.microseconds)|\(planId.rawValue)" }
}

public struct TopUpRecord: Sendable {
    public var purchaseId: PurchaseID
    public var orgIndex: Int32
    public var instant: Instant
    public var packId: PackID
    public var origin: RowOrigin
    public var raw: String
}

public struct RefundRecord: Sendable {
    public var refundId: String
    public var purchaseId: PurchaseID
    public var instant: Instant
    public var origin: RowOrigin
    public var raw: String
}

public struct QueuedJob: Sendable, Codable, Hashable {
    public var jobId: String
    public var action: String
    public var credits: Int64
}

/// A row that was not applied, with where it stood and why.
public struct RejectedRow: Sendable, Codable, Hashable {
    public var sourceFile: String
    public var lineNumber: Int
    public var rejection: Rejection
    /// Set only by the initializer, which keeps every raw line storable.
    public private(set) var raw: String

    /// A NUL byte in the raw line becomes U+FFFD: SQLite's text binding ends a string at its
    /// first NUL, so the ledger kept less of the line than the close wrote, and a rerun then
    /// rendered rejected.csv and the report differently (and a NUL has no place in a CSV).
    public init(sourceFile: String, lineNumber: Int, rejection: Rejection, raw: String) {
        self.sourceFile = sourceFile
        self.lineNumber = lineNumber
        self.rejection = rejection
        self.raw = raw.utf8.contains(0) ? raw.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : raw
    }
}

/// Per input file: rows read = applied + duplicates + rejected + pending.
public struct RowCounts: Sendable, Codable, Hashable {
    public var read = 0
    public var applied = 0
    public var duplicates = 0
    public var rejected = 0
    public var pending = 0

    public init() {}

    public var balances: Bool { read == applied + duplicates + rejected + pending }
}
