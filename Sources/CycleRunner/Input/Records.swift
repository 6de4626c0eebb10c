import Invoicing

/// Where a row came from: its file (an index into `InputFolder.files`) and line.
public struct RowOrigin: Hashable, Sendable, Codable {
    public var fileIndex: Int32
    public var lineNumber: Int32
}

/// A usage row as read: ids are resolved to indices so the engine compares integers.
public struct UsageRecord: Sendable {
    public var eventId: String
    public var orgIndex: Int32
    public var actionIndex: Int32
    public var userIndex: Int32
    public var instant: Instant
    public var credits: Int64
    public var origin: RowOrigin

    /// A stable hash of everything the engine uses from the row (org, instant, user, action,
    /// credits): two rows with one event_id are the same event exactly when these agree.
    public var contentHash: Int64
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
    public var raw: String
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
