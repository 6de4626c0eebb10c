import Invoicing

/// What the engine needs besides the org's state and events: configuration only, no I/O.
public struct EngineContext: Sendable {
    public var catalog: Catalog
    public var users: [String]
    /// user → may use credits, for this org; nil when the input has no members.csv.
    public var permissions: [String: Bool]?

    public init(catalog: Catalog, users: [String], permissions: [String: Bool]?) {
        self.catalog = catalog
        self.users = users
        self.permissions = permissions
    }
}

/// The result of running one org from its state at the previous horizon to the new one.
public struct OrgRun: Sendable {
    public var state: OrgState
    public var periods: [PeriodRecord] = []
    /// Unnumbered documents in the order they arose; the close numbers them.
    public var documents: [Document] = []
    /// One outcome per input event, in the order the events were given.
    public var outcomes: [EventOutcome] = []
}

/// A configuration problem the engine cannot bill around: the org's plan is gone from
/// plans.yaml or no longer priced in its currency. The close stops with bad input.
public struct EngineConfigurationError: Error, Sendable, CustomStringConvertible {
    public var orgId: OrgID
    public var problem: TermsProblem
    public var description: String { "org \(orgId): \(problem.rejection.detail)" }
}

/// The credit engine of §5–§6.7: pure and deterministic. State and events in; state,
/// closed periods, documents and outcomes out.
public struct Engine {
    let context: EngineContext
    let profile: OrgProfile
    var state: OrgState
    var run: OrgRun
    /// The open period's usage per action index since it was last folded into
    /// `state.period.usageByAction`, and the indices touched: a usage event adds to an array
    /// slot here instead of hashing its action's name into the dictionary.
    var actionUsage: [ActionUsage]
    var actionsTouched: [Int32] = []
    /// The instant of the next renewal and the period it was computed for: every event asks
    /// for it, and it changes only at a renewal.
    var nextRenewal: (started: Bool, periodIndex: Int, instant: Instant)?
    /// The terms `terms(_:)` gave last.
    var lastTerms: PlanTerms?

    /// Runs one org. `events` must be sorted by `OrgEvent.precedes`; every renewal and expiry
    /// before `horizon` is applied, and every event given is either applied or rejected, one
    /// outcome per event in `outcomes`.
    public static func run(
        state initial: OrgState?, profile: OrgProfile, events: [OrgEvent], horizon: Instant,
        context: EngineContext
    ) throws(EngineConfigurationError) -> OrgRun {
        let state = initial ?? OrgState(orgId: profile.id, startDate: profile.startDate, plan: profile.firstPlanId)
        var engine = Engine(
            context: context, profile: profile, state: state, run: OrgRun(state: state),
            actionUsage: Array(repeating: ActionUsage(), count: context.catalog.actions.count))
        engine.run.outcomes.reserveCapacity(events.count)
        for index in events.indices {
            try engine.applyScheduled(before: events[index].instant, kind: events[index].kind)
            engine.run.outcomes.append(try engine.apply(events, at: index))
        }
        try engine.applyScheduled(before: horizon, kind: nil)
        engine.foldActionUsage()
        engine.run.state = engine.state
        return engine.run
    }

    /// `run` over an org's other events and its usage rows apart: positions below
    /// `others.count` in `order` are `others`, the rest `usage` after them (the order of
    /// `OrgEvent.precedes` over both, as the close sorts them). It does what `run` does with the
    /// rows made into usage events, but each usage row is applied from its plain values, and
    /// only rejections come back, as positions in `order`, in order: the close applies millions
    /// of rows and rejects almost none. `usageId` gives a row's event id from its `row`.
    public static func run(
        state initial: OrgState?, profile: OrgProfile, others: [OrgEvent], usage: [UsageStep], order: [Int],
        usageId: (Int32) -> String, horizon: Instant, context: EngineContext
    ) throws(EngineConfigurationError) -> (run: OrgRun, rejected: [(position: Int, rejection: Rejection)]) {
        precondition(order.count == others.count + usage.count, "the order lists every event once")
        let state = initial ?? OrgState(orgId: profile.id, startDate: profile.startDate, plan: profile.firstPlanId)
        var engine = Engine(
            context: context, profile: profile, state: state, run: OrgRun(state: state),
            actionUsage: Array(repeating: ActionUsage(), count: context.catalog.actions.count))
        var rejected: [(position: Int, rejection: Rejection)] = []
        for (position, source) in order.enumerated() {
            if source < others.count {
                try engine.applyScheduled(before: others[source].instant, kind: others[source].kind)
                if case .rejected(let rejection) = try engine.apply(others, at: source) {
                    rejected.append((position, rejection))
                }
                continue
            }
            let step = usage[source - others.count]
            try engine.applyScheduled(before: step.instant, kind: .usage)
            guard engine.state.started else {
                rejected.append((position, Engine.beforeStart(step.originalInstant)))
                continue
            }
            engine.debit(
                credits: step.credits, actionIndex: step.actionIndex, userIndex: step.userIndex, late: step.late,
                occurredAt: step.originalInstant, eventId: usageId(step.row))
        }
        try engine.applyScheduled(before: horizon, kind: nil)
        engine.foldActionUsage()
        engine.run.state = engine.state
        return (engine.run, rejected)
    }

    /// The rejection of an event at `originalInstant` that comes before the org's first
    /// renewal, for both ways of giving the engine usage.
    static func beforeStart(_ originalInstant: Instant) -> Rejection {
        Rejection(.beforeOrgStart, "\(originalInstant) is before the org's start")
    }

    /// The terms of `plan` for this org, kept for the last plan asked: a renewal asks for its
    /// plan's terms twice and a month later again, and each answer looked the plan and its
    /// prices up by name (a tenth of a renewal's instructions). The terms depend only on the
    /// plan and the org's profile, which a run never changes.
    mutating func terms(_ plan: PlanID) throws(EngineConfigurationError) -> PlanTerms {
        if let lastTerms, lastTerms.planId == plan { return lastTerms }
        switch context.catalog.terms(for: plan, org: profile) {
        case .success(let terms):
            lastTerms = terms
            return terms
        case .failure(let problem): throw EngineConfigurationError(orgId: profile.id, problem: problem)
        }
    }

    /// Applies the expiries and renewals that come before an event at `instant` of `kind`
    /// (or, with no kind, everything strictly before `instant`).
    mutating func applyScheduled(before instant: Instant, kind: EventKind?) throws(EngineConfigurationError) {
        while true {
            let renewal = nextRenewalInstant()
            let expiry = state.topUps.lazy.compactMap(\.expiresAt).min()
            // An expiry at an instant goes before everything else at that instant; a renewal
            // goes after expiries and plan changes.
            if let expiry, expiry < instant || (expiry == instant && kind != nil), expiry <= renewal {
                expireTopUps(at: expiry)
                continue
            }
            let renewalFirst: Bool
            if let kind {
                renewalFirst = renewal < instant || (renewal == instant && EventKind.renewal < kind)
            } else {
                renewalFirst = renewal < instant
            }
            if renewalFirst {
                try renew()
                continue
            }
            return
        }
    }

    /// `Instant(date: state.nextRenewalDate)`, computed once per period.
    mutating func nextRenewalInstant() -> Instant {
        if let nextRenewal, nextRenewal.started == state.started, nextRenewal.periodIndex == state.periodIndex {
            return nextRenewal.instant
        }
        let instant = Instant(date: state.nextRenewalDate)
        nextRenewal = (state.started, state.periodIndex, instant)
        return instant
    }

    mutating func expireTopUps(at instant: Instant) {
        var kept: [TopUpLot] = []
        for lot in state.topUps {
            if let expiresAt = lot.expiresAt, expiresAt <= instant {
                state.period?.expiredTopUp += lot.amount
                if state.purchases[lot.purchaseId] == .untouched || state.purchases[lot.purchaseId] == .touched {
                    state.purchases[lot.purchaseId] = .expired
                }
            } else {
                kept.append(lot)
            }
        }
        state.topUps = kept
    }

    // MARK: Renewal (§6.5)

    /// Adds the usage counted by action index since the last fold to the open period's
    /// dictionary, which is what the period's record and the stored state hold.
    mutating func foldActionUsage() {
        guard !actionsTouched.isEmpty else { return }
        guard var period = state.period.take() else { preconditionFailure("usage without an open period") }
        // Room for every action touched at once: grown entry by entry, the dictionary was
        // rehashed about twice a period (40 % of the fold's instructions).
        period.usageByAction.reserveCapacity(period.usageByAction.count + actionsTouched.count)
        for index in actionsTouched {
            let name = context.catalog.actions[Int(index)].id.rawValue
            let usage = actionUsage[Int(index)]
            period.usageByAction[name, default: ActionUsage()].add(usage)
            actionUsage[Int(index)] = ActionUsage()
        }
        actionsTouched.removeAll(keepingCapacity: true)
        state.period = period
    }

    mutating func renew() throws(EngineConfigurationError) {
        foldActionUsage()
        let date = state.nextRenewalDate
        let at = Instant(date: date)
        if !state.started {
            state.plan = state.pendingPlan ?? state.plan
            state.pendingPlan = nil
            let newTerms = try terms(state.plan)
            state.started = true
            state.periodIndex = 0
            state.current = newTerms.monthlyCredits
            openPeriod()
            issueRenewalInvoice(at: at, date: date, terms: newTerms, prorations: [], overage: nil)
            return
        }
        let previousTerms = try terms(state.plan)
        let newPlan = state.pendingPlan ?? state.plan
        let newTerms = try terms(newPlan)
        var period = state.period ?? PeriodAccumulator(start: state.renewalDate(state.periodIndex), end: date)
        let closingCurrent = state.current
        let closingBank = state.bankTotal
        let closingTopUp = state.topUpTotal
        let closingDeficit = state.deficit

        // 1. Age expiry under the new plan's rule.
        var expiredAge: Int64 = 0
        if let months = newTerms.rolloverMaxAgeMonths {
            state.bank.removeAll { lot in
                let expires = lot.bankedOn.addingMonths(months) <= date
                if expires { expiredAge += lot.amount }
                return expires
            }
        }
        // 2. Rollover of what is left of the bucket.
        let rolledOver = state.current
        if state.current > 0 {
            state.bank.append(BankLot(bankedOn: date, amount: state.current))
            state.current = 0
        }
        // 3. Cap, trimming the oldest lots so the freshest credits survive.
        let expiredCap = state.takeFromBank(state.bankTotal - newTerms.bankCap)
        // 4. The fresh bucket, settling a deficit under the policy of the plan that made it.
        var fresh = newTerms.monthlyCredits
        var settled: Int64 = 0
        var overageBilled: Int64 = 0
        if state.deficit > 0 {
            switch previousTerms.overdraft {
            case .carry:
                settled = min(state.deficit, fresh)
                fresh -= settled
                state.deficit -= settled
            case .invoice:
                overageBilled = state.deficit
                state.deficit = 0
            }
        }
        // 5. The new bucket.
        state.current = fresh
        state.plan = newPlan
        state.pendingPlan = nil

        let record = PeriodRecord(
            orgId: profile.id, periodStart: period.start, periodEnd: date, planId: newPlan,
            openingCurrent: period.openingCurrent, openingBank: period.openingBank,
            openingTopUp: period.openingTopUp, openingDeficit: period.openingDeficit,
            usageEvents: period.usageEvents, usageCredits: period.usageCredits, fromCurrent: period.fromCurrent,
            fromBank: period.fromBank, fromTopUp: period.fromTopUp, overdraft: period.overdraft,
            prorationCredits: period.prorationCredits, topUpCredits: period.topUpCredits,
            deficitRepaid: period.deficitRepaid, expiredTopUp: period.expiredTopUp,
            refundedCredits: period.refundedCredits, closingCurrent: closingCurrent, closingBank: closingBank,
            closingTopUp: closingTopUp, closingDeficit: closingDeficit, expiredAge: expiredAge,
            rolledOver: rolledOver, expiredCap: expiredCap, freshCredits: newTerms.monthlyCredits,
            deficitSettled: settled, overageBilled: overageBilled, nextCurrent: state.current,
            nextBank: state.bankTotal, nextTopUp: state.topUpTotal, nextDeficit: state.deficit,
            lateEvents: period.lateEvents, planName: newTerms.planName, monthlyCreditsNext: newTerms.monthlyCredits,
            usageByAction: period.usageByAction, mostExpensive: period.mostExpensive,
            eventsWithoutPermission: period.eventsWithoutPermission,
            creditsWithoutPermission: period.creditsWithoutPermission,
            eventsByUnknownMembers: period.eventsByUnknownMembers, bankLotsAfter: state.bank,
            topUpLotsAfter: state.topUps)
        run.periods.append(record)
        let prorations = period.prorations
        state.periodIndex += 1
        openPeriod()
        period = state.period!
        issueRenewalInvoice(
            at: at, date: date, terms: newTerms, prorations: prorations,
            overage: overageBilled > 0 ? (overageBilled, previousTerms) : nil)
    }

    mutating func openPeriod() {
        var period = PeriodAccumulator(
            start: state.renewalDate(state.periodIndex), end: state.renewalDate(state.periodIndex + 1))
        period.openingCurrent = state.current
        period.openingBank = state.bankTotal
        period.openingTopUp = state.topUpTotal
        period.openingDeficit = state.deficit
        state.period = period
    }

    mutating func issueRenewalInvoice(
        at: Instant, date: CivilDate, terms: PlanTerms, prorations: [ProrationCharge],
        overage: (credits: Int64, terms: PlanTerms)?
    ) {
        let periodEnd = state.renewalDate(state.periodIndex + 1).addingDays(-1)
        var lines: [DocumentLine] = []
        if terms.priceMinor > 0 {
            lines.append(
                .single(
                    kind: .subscription, itemName: "\(terms.planName) plan subscription",
                    note: "\(terms.monthlyCredits) credits a month", amountMinor: terms.priceMinor,
                    periodStart: date, periodEnd: periodEnd))
        }
        for charge in prorations where charge.amountMinor > 0 {
            lines.append(
                .single(
                    kind: .proration, itemName: "Upgrade from \(charge.fromPlan) to \(charge.toPlan), prorated",
                    note: "Effective \(charge.at), \(charge.credits) prorated credits", amountMinor: charge.amountMinor)
            )
        }
        if let overage, let price = overage.terms.overagePrice {
            let amount = price.lineAmountMinor(quantity: overage.credits)
            if amount > 0 {
                lines.append(
                    DocumentLine(
                        kind: .overage, itemName: "Overage credits (\(overage.terms.planName) plan)",
                        note: "Credits used beyond all balances", quantity: overage.credits, unitPrice: price,
                        amountMinor: amount))
            }
        }
        issue(
            kind: .invoice, source: .renewal, sourceId: "renewal:\(date)", at: at, lines: lines,
            periodStart: date, periodEnd: periodEnd)
    }

    mutating func issue(
        kind: DocumentKind, source: DocumentSource, sourceId: String, at: Instant, lines: [DocumentLine],
        periodStart: CivilDate? = nil, periodEnd: CivilDate? = nil, referencedSourceId: String? = nil
    ) {
        guard !lines.isEmpty else { return }
        let issuer = context.catalog.issuer
        let issueDate = at.date
        let document = Document(
            kind: kind, source: source, sourceId: sourceId, orgId: profile.id.rawValue, issueInstant: at,
            issueDate: issueDate, dueDate: issueDate.addingDays(issuer.payment.paymentTermsDays),
            currencyCode: profile.currencyCode, seller: issuer.party, buyer: profile.party,
            buyerReference: profile.buyerReference, payment: issuer.payment, tax: profile.tax, lines: lines,
            periodStart: periodStart, periodEnd: periodEnd, referencedSourceId: referencedSourceId)
        guard document.totalMinor > 0 else { return }
        run.documents.append(document)
    }

    // MARK: Events

    /// Applies `events[index]`, read where it lies: a usage event (nearly every event) is
    /// applied from its fields; passed whole, each event was copied, its id retained and
    /// released, for millions of events.
    mutating func apply(_ events: [OrgEvent], at index: Int) throws(EngineConfigurationError) -> EventOutcome {
        if case .usage(let credits, let actionIndex, let userIndex) = events[index].payload, state.started {
            debit(
                credits: credits, actionIndex: actionIndex, userIndex: userIndex, late: events[index].late,
                occurredAt: events[index].originalInstant, eventId: events[index].id)
            return .applied
        }
        let event = events[index]
        if !state.started {
            // Only a plan change dated exactly at the start can come before the first renewal;
            // the readers reject everything else that is earlier than the start.
            if case .planChange(let plan) = event.payload, event.instant == profile.startInstant {
                if case .failure(let problem) = context.catalog.terms(for: plan, org: profile) {
                    return .rejected(problem.rejection)
                }
                state.pendingPlan = plan
                return .applied
            }
            return .rejected(Engine.beforeStart(event.originalInstant))
        }
        switch event.payload {
        case .usage:
            preconditionFailure("a started org's usage is applied above")
        case .planChange(let plan):
            return try changePlan(to: plan, at: event.instant)
        case .topUp(let purchaseId, let packId):
            return try buy(purchaseId: purchaseId, packId: packId, event: event)
        case .refund(let refundId, let purchaseId):
            return refund(refundId: refundId, purchaseId: purchaseId, at: event.instant)
        }
    }

    // §6.3
    /// `eventId` is read only for an event the period notes among its most expensive.
    mutating func debit(
        credits: Int64, actionIndex: Int32, userIndex: Int32, late: Bool, occurredAt: Instant,
        eventId: @autoclosure () -> String
    ) {
        var owed = credits
        let fromCurrent = min(owed, state.current)
        state.current -= fromCurrent
        owed -= fromCurrent
        let fromBank = state.takeFromBank(owed)
        owed -= fromBank
        var fromTopUp: Int64 = 0
        while owed > 0, !state.topUps.isEmpty {
            let take = min(owed, state.topUps[0].amount)
            state.topUps[0].amount -= take
            owed -= take
            fromTopUp += take
            if take > 0 { state.purchases[state.topUps[0].purchaseId] = .touched }
            if state.topUps[0].amount == 0 { state.topUps.removeFirst() }
        }
        state.deficit += owed
        if actionUsage[Int(actionIndex)].events == 0 { actionsTouched.append(actionIndex) }
        actionUsage[Int(actionIndex)].add(credits: credits)
        // The period is changed where it lies in the state, in one access. Taken out and put
        // back, its couple of hundred bytes were copied twice per usage event (the engine's
        // largest cost in a profile); a copy left behind would share its dictionaries and
        // lists, and the first change to each would copy them whole. (`case .some`, since
        // `!= nil` compared the whole period through its Equatable conformance.) The user's
        // id is read only where it is used: most events need neither a permission nor a place
        // among the most expensive.
        guard case .some = state.period else { preconditionFailure("usage before the first renewal") }
        let entersList = state.period!.count(
            credits: credits, fromCurrent: fromCurrent, fromBank: fromBank, fromTopUp: fromTopUp, overdraft: owed,
            late: late, permitted: context.permissions.map { $0[context.users[Int(userIndex)]] },
            occurredAt: occurredAt)
        if entersList {
            let notable = NotableEvent(
                eventId: eventId(), occurredAt: occurredAt,
                action: context.catalog.actions[Int(actionIndex)].id.rawValue, user: context.users[Int(userIndex)],
                credits: credits, late: late)
            state.period!.note(notable)
        }
    }

    // §6.4: a grant repays the deficit first and returns what is left.
    mutating func repayDeficit(from credits: Int64) -> Int64 {
        let repaid = min(credits, state.deficit)
        state.deficit -= repaid
        state.period?.deficitRepaid += repaid
        return credits - repaid
    }

    // §6.6
    mutating func changePlan(to plan: PlanID, at instant: Instant) throws(EngineConfigurationError)
        -> EventOutcome
    {
        let newTerms: PlanTerms
        switch context.catalog.terms(for: plan, org: profile) {
        case .success(let terms): newTerms = terms
        case .failure(let problem): return .rejected(problem.rejection)
        }
        let renewal = nextRenewalInstant()
        if instant == renewal {
            // Dated exactly at a renewal: it takes effect there, without proration.
            state.pendingPlan = plan
            return .applied
        }
        let oldTerms = try terms(state.plan)
        guard newTerms.rank > oldTerms.rank else {
            state.pendingPlan = plan
            return .applied
        }
        let periodStart = Instant(date: state.renewalDate(state.periodIndex))
        let length = renewal.microseconds - periodStart.microseconds
        let remaining = renewal.microseconds - instant.microseconds
        let credits = Arithmetic.mulDivFloor(
            max(0, newTerms.monthlyCredits - oldTerms.monthlyCredits), remaining, length)
        let chargeMinor = Arithmetic.mulDivRoundedHalfAwayFromZero(
            newTerms.priceMinor - oldTerms.priceMinor, remaining, length)
        state.plan = plan
        state.pendingPlan = nil
        state.period?.prorationCredits += credits
        state.current += repayDeficit(from: credits)
        if chargeMinor > 0 {
            state.period?.prorations.append(
                ProrationCharge(
                    at: instant, fromPlan: oldTerms.planId, toPlan: plan, amountMinor: chargeMinor, credits: credits))
        }
        return .applied
    }

    // §6.7
    mutating func buy(purchaseId: PurchaseID, packId: PackID, event: OrgEvent) throws(EngineConfigurationError)
        -> EventOutcome
    {
        let terms = try terms(state.plan)
        guard terms.allowsTopUps else {
            return .rejected(Rejection(.topUpsNotAllowed, "plan \(state.plan) does not allow credit packs"))
        }
        guard let pack = context.catalog.packs[packId] else {
            return .rejected(Rejection(.unknownPack, "pack \(packId) is not in plans.yaml"))
        }
        guard let price = pack.pricesMinor[profile.currencyCode] else {
            return .rejected(Rejection(.currencyNotPriced, "pack \(packId) has no \(profile.currencyCode) price"))
        }
        if state.purchases[purchaseId] != nil {
            return .rejected(Rejection(.conflictingDuplicate, "purchase \(purchaseId) was already applied"))
        }
        let remainder = repayDeficit(from: pack.credits)
        state.period?.topUpCredits += pack.credits
        if event.late { state.period?.lateEvents += 1 }
        state.purchases[purchaseId] = remainder == pack.credits ? .untouched : .touched
        let lot = TopUpLot(
            purchaseId: purchaseId, packId: packId, purchasedAt: event.originalInstant,
            expiresAt: pack.validMonths.map { event.originalInstant.addingMonths($0) }, amount: remainder,
            priceMinor: price)
        if remainder > 0 {
            let position = state.topUps.firstIndex { TopUpLot.spendsBefore(lot, $0) } ?? state.topUps.count
            state.topUps.insert(lot, at: position)
        }
        // A late purchase keeps its purchase date on the invoice.
        issue(
            kind: .invoice, source: .topUp, sourceId: purchaseId.rawValue, at: event.originalInstant,
            lines: [
                .single(
                    kind: .pack, itemName: "Credit pack \(packId)", note: "\(pack.credits) credits",
                    amountMinor: price)
            ])
        return .applied
    }

    mutating func refund(refundId: String, purchaseId: PurchaseID, at instant: Instant) -> EventOutcome {
        switch state.purchases[purchaseId] {
        case .none:
            return .rejected(Rejection(.unknownPurchase, "purchase \(purchaseId) was never applied"))
        case .refunded:
            return .rejected(Rejection(.alreadyRefunded, "purchase \(purchaseId) was already refunded"))
        case .touched:
            return .rejected(Rejection(.packTouched, "credits of purchase \(purchaseId) were already used"))
        case .expired:
            return .rejected(Rejection(.packTouched, "purchase \(purchaseId) has expired"))
        case .untouched:
            break
        }
        guard let position = state.topUps.firstIndex(where: { $0.purchaseId == purchaseId }) else {
            return .rejected(Rejection(.packTouched, "purchase \(purchaseId) has no credits left"))
        }
        let lot = state.topUps.remove(at: position)
        state.purchases[purchaseId] = .refunded
        state.period?.refundedCredits += lot.amount
        issue(
            kind: .creditNote, source: .refund, sourceId: refundId, at: instant,
            lines: [
                .single(
                    kind: .pack, itemName: "Refund of credit pack \(lot.packId)",
                    note: "\(lot.amount) credits of purchase \(purchaseId)", amountMinor: lot.priceMinor)
            ], referencedSourceId: purchaseId.rawValue)
        return .applied
    }
}
