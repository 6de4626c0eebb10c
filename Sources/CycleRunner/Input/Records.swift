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
    func hashes(of rows: UsageRows) -> [Int64] {
        let count = rows.count
        let chunkSize = 16_384
        return [Int64](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            let target = SharedBuffer(buffer: buffer)
            let hashing: @Sendable (Int) -> Void = { chunk in
                for index in chunk * chunkSize..<min(count, (chunk + 1) * chunkSize) {
                    target.buffer[index] = hash(rows[index])
                }
            }
            inParallel((count + chunkSize - 1) / chunkSize, hashing)
            initializedCount = count
        }
    }
}

/// A buffer that workers fill at disjoint indices.
struct SharedBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
}

/// Elements that workers read in place, for the length of a call that keeps them alive.
struct SharedElements<Element: Sendable>: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Element>
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
