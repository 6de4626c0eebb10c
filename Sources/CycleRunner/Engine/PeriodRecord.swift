import Invoicing

/// One closed period of one org: the row of period-summary.csv and everything its
/// statement shows. Stored in the ledger; every output renders from it.
public struct PeriodRecord: Codable, Sendable, Hashable {
    public var orgId: OrgID
    public var periodStart: CivilDate
    public var periodEnd: CivilDate
    /// The plan in effect for the next period.
    public var planId: PlanID
    public var openingCurrent: Int64
    public var openingBank: Int64
    public var openingTopUp: Int64
    public var openingDeficit: Int64
    public var usageEvents: Int64
    public var usageCredits: Int64
    public var fromCurrent: Int64
    public var fromBank: Int64
    public var fromTopUp: Int64
    public var overdraft: Int64
    public var prorationCredits: Int64
    public var topUpCredits: Int64
    public var deficitRepaid: Int64
    public var expiredTopUp: Int64
    public var refundedCredits: Int64
    public var closingCurrent: Int64
    public var closingBank: Int64
    public var closingTopUp: Int64
    public var closingDeficit: Int64
    public var expiredAge: Int64
    public var rolledOver: Int64
    public var expiredCap: Int64
    public var freshCredits: Int64
    public var deficitSettled: Int64
    public var overageBilled: Int64
    public var nextCurrent: Int64
    public var nextBank: Int64
    public var nextTopUp: Int64
    public var nextDeficit: Int64
    public var lateEvents: Int64
    // What the statement adds to the summary row.
    public var planName: String
    public var monthlyCreditsNext: Int64
    public var usageByAction: [String: ActionUsage]
    public var mostExpensive: [NotableEvent]
    public var eventsWithoutPermission: Int64
    public var creditsWithoutPermission: Int64
    public var eventsByUnknownMembers: Int64
    public var bankLotsAfter: [BankLot]
    public var topUpLotsAfter: [TopUpLot]

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case bankLotsAfter, closingBank, closingCurrent, closingDeficit, closingTopUp, creditsWithoutPermission,
            deficitRepaid, deficitSettled, eventsByUnknownMembers, eventsWithoutPermission, expiredAge, expiredCap,
            expiredTopUp, freshCredits, fromBank, fromCurrent, fromTopUp, lateEvents, monthlyCreditsNext, mostExpensive,
            nextBank, nextCurrent, nextDeficit, nextTopUp, openingBank, openingCurrent, openingDeficit, openingTopUp,
            orgId, overageBilled, overdraft, periodEnd, periodStart, planId, planName, prorationCredits,
            refundedCredits, rolledOver, topUpCredits, topUpLotsAfter, usageByAction, usageCredits, usageEvents
    }

    public static let csvHeader = [
        "org_id", "period_start", "period_end", "plan_id", "opening_current", "opening_bank", "opening_topup",
        "opening_deficit", "usage_events", "usage_credits", "from_current", "from_bank", "from_topup", "overdraft",
        "proration_credits", "topup_credits", "deficit_repaid", "expired_topup", "refunded_credits",
        "closing_current", "closing_bank", "closing_topup", "closing_deficit", "expired_age", "rolled_over",
        "expired_cap", "fresh_credits", "deficit_settled", "overage_billed", "next_current", "next_bank",
        "next_topup", "next_deficit", "late_events",
    ]

    /// The numbers of the summary row after the three text columns, in header order.
    public var numbers: [Int64] {
        [
            openingCurrent, openingBank, openingTopUp, openingDeficit, usageEvents, usageCredits, fromCurrent,
            fromBank, fromTopUp, overdraft, prorationCredits, topUpCredits, deficitRepaid, expiredTopUp,
            refundedCredits, closingCurrent, closingBank, closingTopUp, closingDeficit, expiredAge, rolledOver,
            expiredCap, freshCredits, deficitSettled, overageBilled, nextCurrent, nextBank, nextTopUp, nextDeficit,
            lateEvents,
        ]
    }

    public var csvFields: [String] {
        [orgId.rawValue, periodStart.description, periodEnd.description, planId.rawValue]
            + numbers.map { String($0) }
    }

    /// The seed's "bank buffer" practice: keep at least 10 % of monthly credits banked.
    public var bankBelowBuffer: Bool { nextBank * 10 < monthlyCreditsNext }
}
