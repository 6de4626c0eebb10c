import Invoicing

/// Credits rolled over at a renewal; the bank holds these, oldest first.
public struct BankLot: Codable, Sendable, Hashable {
    public var bankedOn: CivilDate
    public var amount: Int64

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case amount, bankedOn
    }
}

/// Credits of one pack purchase.
public struct TopUpLot: Codable, Sendable, Hashable {
    public var purchaseId: PurchaseID
    public var packId: PackID
    public var purchasedAt: Instant
    public var expiresAt: Instant?
    public var amount: Int64
    public var priceMinor: Int64

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case amount, expiresAt, packId, priceMinor, purchaseId, purchasedAt
    }

    /// Spending order of §6.3: soonest expiry first ("never" last), then purchase time and id.
    static func spendsBefore(_ lhs: TopUpLot, _ rhs: TopUpLot) -> Bool {
        switch (lhs.expiresAt, rhs.expiresAt) {
        case (let left?, let right?) where left != right: return left < right
        case (.some, .none): return true
        case (.none, .some): return false
        default: break
        }
        if lhs.purchasedAt != rhs.purchasedAt { return lhs.purchasedAt < rhs.purchasedAt }
        return lhs.purchaseId < rhs.purchaseId
    }
}

/// What became of a purchase, so a refund can be judged after its lot is gone.
public enum PurchaseStatus: String, Codable, Sendable {
    case untouched
    case touched
    case expired
    case refunded
}

public struct ActionUsage: Codable, Sendable, Hashable {
    public var events: Int64 = 0
    public var credits: Int64 = 0

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case credits, events
    }

    mutating func add(credits used: Int64) {
        events += 1
        credits += used
    }

    mutating func add(_ other: ActionUsage) {
        events += other.events
        credits += other.credits
    }
}

/// One of the most expensive usage events of a period, for the statement.
public struct NotableEvent: Codable, Sendable, Hashable {
    public var eventId: String
    public var occurredAt: Instant
    public var action: String
    public var user: String
    public var credits: Int64
    public var late: Bool

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case action, credits, eventId, late, occurredAt, user
    }
}

/// A prorated charge for an upgrade in the period, billed on the next renewal invoice.
public struct ProrationCharge: Codable, Sendable, Hashable {
    public var at: Instant
    public var fromPlan: PlanID
    public var toPlan: PlanID
    public var amountMinor: Int64
    public var credits: Int64

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case amountMinor, at, credits, fromPlan, toPlan
    }
}

/// The running totals of the open period; it becomes a `PeriodRecord` at the renewal that
/// ends the period, and it lives in the ledger between closes.
public struct PeriodAccumulator: Codable, Sendable, Hashable {
    public var start: CivilDate
    public var end: CivilDate
    public var openingCurrent: Int64 = 0
    public var openingBank: Int64 = 0
    public var openingTopUp: Int64 = 0
    public var openingDeficit: Int64 = 0
    public var usageEvents: Int64 = 0
    public var usageCredits: Int64 = 0
    public var fromCurrent: Int64 = 0
    public var fromBank: Int64 = 0
    public var fromTopUp: Int64 = 0
    public var overdraft: Int64 = 0
    public var prorationCredits: Int64 = 0
    public var topUpCredits: Int64 = 0
    public var deficitRepaid: Int64 = 0
    public var expiredTopUp: Int64 = 0
    public var refundedCredits: Int64 = 0
    public var lateEvents: Int64 = 0
    public var usageByAction: [String: ActionUsage] = [:]
    public var mostExpensive: [NotableEvent] = []
    public var eventsWithoutPermission: Int64 = 0
    public var creditsWithoutPermission: Int64 = 0
    public var eventsByUnknownMembers: Int64 = 0
    public var prorations: [ProrationCharge] = []

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case creditsWithoutPermission, deficitRepaid, end, eventsByUnknownMembers, eventsWithoutPermission,
            expiredTopUp, fromBank, fromCurrent, fromTopUp, lateEvents, mostExpensive, openingBank, openingCurrent,
            openingDeficit, openingTopUp, overdraft, prorationCredits, prorations, refundedCredits, start, topUpCredits,
            usageByAction, usageCredits, usageEvents
    }

    init(start: CivilDate, end: CivilDate) {
        self.start = start
        self.end = end
    }

    static let notableCount = 10

    /// Counts one usage event: where its credits came from, what went into overdraft, and,
    /// when the org lists its members' permissions (`permitted` not nil), whether the member
    /// was allowed the action (nil inside: not a listed member). Returns `mayNote` for the
    /// event, which the engine asked in a second access to the period of every event.
    mutating func count(
        credits: Int64, fromCurrent: Int64, fromBank: Int64, fromTopUp: Int64, overdraft: Int64, late: Bool,
        permitted: Bool??, occurredAt: Instant
    ) -> Bool {
        usageEvents += 1
        usageCredits += credits
        self.fromCurrent += fromCurrent
        self.fromBank += fromBank
        self.fromTopUp += fromTopUp
        self.overdraft += overdraft
        if late { lateEvents += 1 }
        switch permitted {
        case .some(.some(false)):
            eventsWithoutPermission += 1
            creditsWithoutPermission += credits
        case .some(.none):
            eventsByUnknownMembers += 1
        case .some(.some(true)), .none:
            break
        }
        return PeriodAccumulator.mayNote(credits: credits, occurredAt: occurredAt, in: mostExpensive)
    }

    /// False when an event of `credits` that occurred at `occurredAt` cannot enter the list, so
    /// the event need not be built. The list is ordered by credits, the earlier first among
    /// equals, so a full list still takes an event with as many credits as its last entry but
    /// an earlier time (a late event, applied after later ones).
    func mayNote(credits: Int64, occurredAt: Instant) -> Bool {
        PeriodAccumulator.mayNote(credits: credits, occurredAt: occurredAt, in: mostExpensive)
    }

    /// `mayNote` over the list alone: the engine asks it of the period inside its optional
    /// state, where calling the method copied the whole period first, on every usage event.
    static func mayNote(credits: Int64, occurredAt: Instant, in list: [NotableEvent]) -> Bool {
        guard list.count == PeriodAccumulator.notableCount, let last = list.last else { return true }
        return last.credits < credits || (last.credits == credits && last.occurredAt > occurredAt)
    }

    mutating func note(_ event: consuming NotableEvent) {
        guard mayNote(credits: event.credits, occurredAt: event.occurredAt) else { return }
        let position =
            mostExpensive.firstIndex { existing in
                existing.credits < event.credits
                    || (existing.credits == event.credits && existing.occurredAt > event.occurredAt)
            } ?? mostExpensive.count
        // The new event goes at the end (in place of the last, on a full list), and is then
        // moved back to `position` past the ones after it, by moving their memory: Array's
        // insert went through its general replacement, several hundred instructions for a
        // third of a month's usage events, and swapping copied and released every string.
        // Room for the whole list at once: grown by appends, it was reallocated about five
        // times a period.
        if mostExpensive.capacity < PeriodAccumulator.notableCount {
            mostExpensive.reserveCapacity(PeriodAccumulator.notableCount)
        }
        // `>=`: a list that somehow holds more than ten (only a damaged ledger could give one)
        // keeps its length, as inserting and dropping the last did, and an event that would go
        // after its last falls off.
        if mostExpensive.count >= PeriodAccumulator.notableCount {
            guard position < mostExpensive.count else { return }
            mostExpensive[mostExpensive.count - 1] = event
        } else {
            mostExpensive.append(event)
        }
        let last = mostExpensive.count - 1
        guard position < last else { return }
        mostExpensive.withUnsafeMutableBufferPointer { events in
            let base = events.baseAddress!
            let moving = (base + last).move()
            (base + position + 1).moveInitialize(from: base + position, count: last - position)
            (base + position).initialize(to: moving)
        }
    }
}

/// The state of one org at the ledger's horizon (§6.1).
public struct OrgState: Codable, Sendable, Hashable {
    public var orgId: OrgID
    public var startDate: CivilDate
    /// False until the renewal at the start date has been applied.
    public var started = false
    /// k of the open period [Rk, Rk+1).
    public var periodIndex = 0
    public var plan: PlanID
    public var pendingPlan: PlanID?
    public var current: Int64 = 0
    public var bank: [BankLot] = []
    public var topUps: [TopUpLot] = []
    public var deficit: Int64 = 0
    public var purchases: [PurchaseID: PurchaseStatus] = [:]
    public var period: PeriodAccumulator?

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case bank, current, deficit, orgId, pendingPlan, period, periodIndex, plan, purchases, startDate, started,
            topUps
    }

    public init(orgId: OrgID, startDate: CivilDate, plan: PlanID) {
        self.orgId = orgId
        self.startDate = startDate
        self.plan = plan
    }

    public var bankTotal: Int64 { bank.reduce(0) { $0 + $1.amount } }

    /// Takes up to `amount` credits from the bank, oldest lot first, and returns how many it
    /// took: a debit spends the oldest credits, and the cap expires them first.
    mutating func takeFromBank(_ amount: Int64) -> Int64 {
        // Most debits are covered by the month's credits and many banks are empty: asking
        // whether the lots are shared before writing to them (the empty array always is) cost
        // a call to the runtime per usage event.
        guard amount > 0, !bank.isEmpty else { return 0 }
        var taken: Int64 = 0
        while taken < amount, !bank.isEmpty {
            let take = min(amount - taken, bank[0].amount)
            bank[0].amount -= take
            taken += take
            if bank[0].amount == 0 { bank.removeFirst() }
        }
        return taken
    }

    public var topUpTotal: Int64 { topUps.reduce(0) { $0 + $1.amount } }

    /// Rk: the k-th month after the start, on the start's day clamped to the month.
    public func renewalDate(_ k: Int) -> CivilDate { startDate.addingMonths(k, anchorDay: startDate.day) }

    /// The next renewal to apply: R0 before the start, else R(k+1).
    public var nextRenewalDate: CivilDate { started ? renewalDate(periodIndex + 1) : startDate }
}
