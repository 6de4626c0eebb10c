import Invoicing

/// The kinds of event in the order they apply at one instant (§6.2).
public enum EventKind: Int, Codable, Sendable, Comparable {
    case topUpExpiry = 0
    case planChange = 1
    case renewal = 2
    case topUpPurchase = 3
    case refund = 4
    case usage = 5

    public static func < (lhs: EventKind, rhs: EventKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An input event of one org, as the close hands it to the engine.
public struct OrgEvent: Sendable {
    public enum Payload: Sendable {
        /// A usage event's id is the event's `id`: a second copy of it here was retained and
        /// released with every copy and every destruction of millions of events.
        case usage(credits: Int64, actionIndex: Int32, userIndex: Int32)
        case planChange(PlanID)
        case topUp(PurchaseID, PackID)
        case refund(refundId: String, purchaseId: PurchaseID)
    }

    public var kind: EventKind
    /// When it applies: its own instant, or the previous horizon for a late event.
    public var instant: Instant
    public var originalInstant: Instant
    /// The id that orders events of one kind at one instant (empty for plan changes).
    public var id: String
    /// File order, the last tie-breaker (plan changes keep their order in the file).
    public var sequence: Int32
    public var late: Bool
    public var payload: Payload

    public init(
        kind: EventKind, instant: Instant, originalInstant: Instant, id: String, sequence: Int32, late: Bool,
        payload: Payload
    ) {
        self.kind = kind
        self.instant = instant
        self.originalInstant = originalInstant
        self.id = id
        self.sequence = sequence
        self.late = late
        self.payload = payload
    }

    /// The order of §6.2: instant, kind, original instant, id as UTF-8 bytes, file order.
    public static func precedes(_ lhs: OrgEvent, _ rhs: OrgEvent) -> Bool {
        if lhs.instant != rhs.instant { return lhs.instant < rhs.instant }
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        if lhs.originalInstant != rhs.originalInstant { return lhs.originalInstant < rhs.originalInstant }
        // Bytes, not Swift's String equality, which merges canonically equivalent ids.
        let idOrder = compareUTF8(lhs.id, rhs.id)
        if idOrder != 0 { return idOrder < 0 }
        return lhs.sequence < rhs.sequence
    }
}

/// A usage row as the close hands it to the engine beside the org's other events: plain
/// values, with no reference in them. As an `OrgEvent` each row carried its id and a payload
/// enum, which every copy retained and every destruction released, and the close made, sorted
/// and freed millions of them.
public struct UsageStep: Sendable, Equatable {
    /// When it applies: its own instant, or the previous horizon for a late row.
    public var instant: Instant
    public var originalInstant: Instant
    public var credits: Int64
    /// The row's place in the input, through which the engine asks for its id (only for a
    /// row that enters the period's most expensive events).
    public var row: Int32
    public var userIndex: Int32
    public var actionIndex: Int32
    public var late: Bool

    public init(
        instant: Instant, originalInstant: Instant, credits: Int64, row: Int32, userIndex: Int32, actionIndex: Int32,
        late: Bool
    ) {
        self.instant = instant
        self.originalInstant = originalInstant
        self.credits = credits
        self.row = row
        self.userIndex = userIndex
        self.actionIndex = actionIndex
        self.late = late
    }
}

/// What the engine did with one input event.
public enum EventOutcome: Sendable, Equatable {
    case applied
    case rejected(Rejection)
}
