import Invoicing

public enum OverdraftPolicy: String, Codable, Sendable {
    /// The deficit is settled out of the next fresh bucket.
    case carry
    /// The whole deficit is billed as overage on the renewal invoice.
    case invoice
}

/// A subscription plan as configured in plans.yaml.
public struct Plan: Codable, Sendable, Hashable {
    public var id: PlanID
    public var name: String
    public var rank: Int
    public var isCustom: Bool
    /// nil on custom plans, whose credits come from the org row.
    public var monthlyCredits: Int64?
    public var bankCap: Int64?
    /// Currency code → price in minor units.
    public var pricesMinor: [String: Int64]
    public var allowsTopUps: Bool
    public var rolloverMaxAgeMonths: Int?
    public var overdraft: OverdraftPolicy
    /// Currency code → overage price per credit.
    public var overagePrices: [String: UnitPrice]
}

public struct Pack: Codable, Sendable, Hashable {
    public var id: PackID
    public var credits: Int64
    public var pricesMinor: [String: Int64]
    public var validMonths: Int?
}

public struct Action: Codable, Sendable, Hashable {
    public var id: ActionID
    public var label: String
}

/// The seller and how its documents are numbered and paid.
public struct Issuer: Codable, Sendable, Hashable {
    public var party: Party
    public var payment: PaymentDetails
    public var invoicePrefix: String
    public var creditNotePrefix: String
    /// Account codes of journal.csv; plans.yaml may set them under `issuer.accounts`.
    public var accounts: JournalAccounts
}

/// Everything plans.yaml configures.
public struct Catalog: Sendable {
    public var issuer: Issuer
    public var plans: [PlanID: Plan]
    public var packs: [PackID: Pack]
    /// Actions in file order; usage rows refer to them by id.
    public var actions: [Action]
    public var actionIndex: [String: Int]

    public init(issuer: Issuer, plans: [PlanID: Plan], packs: [PackID: Pack], actions: [Action]) {
        self.issuer = issuer
        self.plans = plans
        self.packs = packs
        self.actions = actions
        var index: [String: Int] = [:]
        for (position, action) in actions.enumerated() { index[action.id.rawValue] = position }
        self.actionIndex = index
    }
}

/// The terms a plan gives one org: the plan's own numbers, or the org's for a custom plan.
public struct PlanTerms: Sendable, Hashable, Codable {
    public var planId: PlanID
    public var planName: String
    public var rank: Int
    public var monthlyCredits: Int64
    public var bankCap: Int64
    public var priceMinor: Int64
    public var allowsTopUps: Bool
    public var rolloverMaxAgeMonths: Int?
    public var overdraft: OverdraftPolicy
    public var overagePrice: UnitPrice?
}

/// Why a plan cannot serve an org.
public enum TermsProblem: Error, Sendable, Equatable {
    case unknownPlan(PlanID)
    case customTermsMissing(PlanID)
    case currencyNotPriced(PlanID, String)

    public var rejection: Rejection {
        switch self {
        case .unknownPlan(let plan): Rejection(.unknownPlan, "no plan \(plan) in plans.yaml")
        case .customTermsMissing(let plan):
            Rejection(
                .customTermsMissing, "plan \(plan) is custom and the org row has no monthly_credits, bank_cap, price")
        case .currencyNotPriced(let plan, let currency):
            Rejection(.currencyNotPriced, "plan \(plan) has no \(currency) price")
        }
    }
}

extension Catalog {
    public func terms(for planId: PlanID, org: OrgProfile) -> Result<PlanTerms, TermsProblem> {
        guard let plan = plans[planId] else { return .failure(.unknownPlan(planId)) }
        let currency = org.currencyCode
        let monthly: Int64
        let cap: Int64
        let price: Int64
        if plan.isCustom {
            guard let custom = org.customTerms else { return .failure(.customTermsMissing(planId)) }
            monthly = custom.monthlyCredits
            cap = custom.bankCap
            price = custom.priceMinor
        } else {
            guard let planPrice = plan.pricesMinor[currency] else {
                return .failure(.currencyNotPriced(planId, currency))
            }
            monthly = plan.monthlyCredits ?? 0
            cap = plan.bankCap ?? 0
            price = planPrice
        }
        let overage = plan.overagePrices[currency]
        if plan.overdraft == .invoice, overage == nil { return .failure(.currencyNotPriced(planId, currency)) }
        return .success(
            PlanTerms(
                planId: plan.id, planName: plan.name, rank: plan.rank, monthlyCredits: monthly, bankCap: cap,
                priceMinor: price, allowsTopUps: plan.allowsTopUps, rolloverMaxAgeMonths: plan.rolloverMaxAgeMonths,
                overdraft: plan.overdraft, overagePrice: overage))
    }
}
