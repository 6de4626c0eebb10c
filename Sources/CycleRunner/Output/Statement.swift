import Invoicing

/// A statement of one org and closed period: the summary row plus what a person needs to
/// understand it. Rendered from the ledger as JSON and HTML.
public struct Statement: Codable, Sendable {
    public struct InvoiceRef: Codable, Sendable {
        public var number: String
        public var kind: String
        public var issueDate: String
        public var currency: String
        public var net: String
        public var tax: String
        public var total: String
        public var totalMinor: Int64

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case currency, issueDate, kind, net, number, tax, total, totalMinor
        }
    }

    public struct Flags: Codable, Sendable {
        public var overdraft: Bool
        public var bankBelowBuffer: Bool
        /// The buffer the seed recommends: 10 % of the monthly credits, rounded up.
        public var bankBufferCredits: Int64
        public var eventsWithoutPermission: Int64
        public var creditsWithoutPermission: Int64
        public var eventsByUnknownMembers: Int64

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case bankBelowBuffer, bankBufferCredits, creditsWithoutPermission, eventsByUnknownMembers,
                eventsWithoutPermission, overdraft
        }
    }

    public struct ActionLine: Codable, Sendable {
        public var action: String
        public var label: String
        public var events: Int64
        public var credits: Int64

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case action, credits, events, label
        }
    }

    /// A rollover lot with the date its age limit would expire it, if the plan has one.
    public struct BankLotLine: Codable, Sendable {
        public var bankedOn: CivilDate
        public var amount: Int64
        /// The renewal at which the lot expires by age under the plan in effect; nil when the
        /// plan has no age limit (the bank cap may still trim it at any renewal).
        public var expiresOn: CivilDate?

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case amount, bankedOn, expiresOn
        }
    }

    public var orgId: String
    public var orgName: String
    public var periodStart: String
    public var periodEnd: String
    public var plan: String
    public var planName: String
    public var monthlyCredits: Int64
    public var nextRenewal: String
    public var summary: [String: Int64]
    public var usageByAction: [ActionLine]
    public var bankLots: [BankLotLine]
    public var topUpLots: [TopUpLot]
    public var flags: Flags
    public var mostExpensiveEvents: [NotableEvent]
    public var invoices: [InvoiceRef]
    public var forecast: Forecast

    /// The names in `summary`: the period summary's columns after the org, its dates and plan.
    static let summaryKeys = Array(PeriodRecord.csvHeader.dropFirst(4))
    /// The same names in the order the JSON writer puts an object's keys (`JSONOut.object`).
    static let summaryKeysInKeyOrder = summaryKeys.sorted(by: utf8Less)

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case bankLots, flags, forecast, invoices, monthlyCredits, mostExpensiveEvents, nextRenewal, orgId, orgName,
            periodEnd, periodStart, plan, planName, summary, topUpLots, usageByAction
    }

    /// - Parameters:
    ///   - history: the org's closed periods up to and including this one (for the burn rate).
    ///   - queue: the queued renders the closing run read, with the org's balances at its
    ///     horizon; only on the org's latest statement of that run.
    ///   - closedThrough: that run's `--through` date, the queue's "as of". Nothing else in a
    ///     statement depends on the close that wrote it, so one close or two write the same file.
    init(
        record: PeriodRecord, profile: OrgProfile?, documents: [DocumentSummary], catalog: Catalog?,
        history: [PeriodBrief], queue: (jobs: [QueuedJob], balances: Ledger.Balances?)?, closedThrough: CivilDate
    ) {
        orgId = record.orgId.rawValue
        orgName = profile?.name ?? record.orgId.rawValue
        periodStart = record.periodStart.description
        periodEnd = record.periodEnd.description
        plan = record.planId.rawValue
        planName = record.planName
        monthlyCredits = record.monthlyCreditsNext
        let renewal = Statement.nextRenewal(after: record.periodEnd, start: profile?.startDate)
        nextRenewal = renewal.description
        var summary: [String: Int64] = [:]
        summary.reserveCapacity(Statement.summaryKeys.count)
        for (name, value) in zip(Statement.summaryKeys, record.numbers) { summary[name] = value }
        self.summary = summary
        let labels = Dictionary(
            (catalog?.actions ?? []).map { ($0.id.rawValue, $0.label) }, uniquingKeysWith: { first, _ in first })
        usageByAction = record.usageByAction.keys.sorted(by: utf8Less).map { action in
            let usage = record.usageByAction[action]!
            return ActionLine(
                action: action, label: labels[action] ?? action, events: usage.events, credits: usage.credits)
        }
        let maxAge = catalog?.plans[record.planId]?.rolloverMaxAgeMonths
        bankLots = record.bankLotsAfter.map { lot in
            BankLotLine(
                bankedOn: lot.bankedOn, amount: lot.amount,
                expiresOn: maxAge.map { months in
                    Statement.renewal(
                        onOrAfter: lot.bankedOn.addingMonths(months), start: profile?.startDate ?? record.periodEnd)
                })
        }
        topUpLots = record.topUpLotsAfter
        flags = Flags(
            overdraft: record.overdraft > 0, bankBelowBuffer: record.bankBelowBuffer,
            bankBufferCredits: (record.monthlyCreditsNext + 9) / 10,
            eventsWithoutPermission: record.eventsWithoutPermission,
            creditsWithoutPermission: record.creditsWithoutPermission,
            eventsByUnknownMembers: record.eventsByUnknownMembers)
        mostExpensiveEvents = record.mostExpensive
        invoices = documents.map { document in
            let scale = Currency(code: document.currencyCode)?.exponent ?? 2
            return InvoiceRef(
                number: document.number, kind: document.kind.rawValue, issueDate: document.issueDate.description,
                currency: document.currencyCode, net: DecimalText.format(document.netMinor, scale: scale),
                tax: DecimalText.format(document.taxMinor, scale: scale),
                total: DecimalText.format(document.totalMinor, scale: scale), totalMinor: document.totalMinor)
        }
        forecast = Forecast.make(
            record: record, history: history, nextRenewal: renewal,
            queue: queue.map { queue in
                (
                    queue.jobs.map { job in
                        Forecast.QueuedLine(
                            jobId: job.jobId, action: job.action, label: labels[job.action] ?? job.action,
                            credits: job.credits)
                    }, queue.balances
                )
            }, closedThrough: closedThrough)
    }

    /// The renewal after `date` on the org's calendar (§5); without a profile, a month later.
    static func nextRenewal(after date: CivilDate, start: CivilDate?) -> CivilDate {
        guard let start else { return date.addingMonths(1) }
        return renewal(onOrAfter: date.addingDays(1), start: start)
    }

    /// The first renewal on or after `date` of an org that started on `start`.
    static func renewal(onOrAfter date: CivilDate, start: CivilDate) -> CivilDate {
        guard start < date else { return start }
        // Months between the two dates, less one to be safe about clamped days, then forward.
        var k = max(0, (date.year - start.year) * 12 + (date.month - start.month) - 1)
        while start.addingMonths(k, anchorDay: start.day) < date { k += 1 }
        return start.addingMonths(k, anchorDay: start.day)
    }
}

/// The statement's forecast, as the seed's dashboard shows it: the trailing burn rate, the
/// day the balance would run out at that rate, and whether it covers the queued renders.
/// Integers only: the rate is kept as credits and days, and shown in tenths.
public struct Forecast: Codable, Sendable, Hashable {
    public struct QueuedLine: Codable, Sendable, Hashable {
        public var jobId: String
        public var action: String
        public var label: String
        public var credits: Int64

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case action, credits, jobId, label
        }
    }

    public struct Queue: Codable, Sendable, Hashable {
        /// The close whose queue.csv this is; balances are at its horizon.
        public var asOf: CivilDate
        public var balance: Int64
        public var jobs: [QueuedLine]
        public var credits: Int64
        public var covered: Bool
        public var shortfall: Int64
        public var balanceAfter: Int64
        public var runOutDateAfter: CivilDate?

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case asOf, balance, balanceAfter, covered, credits, jobs, runOutDateAfter, shortfall
        }
    }

    /// Current + bank + top-up − deficit just after the renewal at period end.
    public var balance: Int64
    public var trailingPeriods: Int
    public var trailingDays: Int64
    public var trailingUsage: Int64
    /// Credits per day, times ten, rounded half up: 123 reads "12.3".
    public var burnPerDayTenths: Int64
    /// Whole days the balance lasts at the trailing rate; nil when nothing was used.
    public var daysLeft: Int64?
    /// Period end + daysLeft; nil when nothing was used or it is more than ten years away.
    public var runOutDate: CivilDate?
    public var nextRenewal: CivilDate
    public var queue: Queue?

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case balance, burnPerDayTenths, daysLeft, nextRenewal, queue, runOutDate, trailingDays, trailingPeriods,
            trailingUsage
    }

    public var runsOutBeforeRenewal: Bool { runOutDate.map { $0 < nextRenewal } ?? false }

    /// How many closed periods the trailing rate looks back over, at most.
    static let trailingWindow = 3
    /// Run-out dates further away than this many days are not worth a date.
    static let horizonDays: Int64 = 3660

    static func make(
        record: PeriodRecord, history: [PeriodBrief], nextRenewal: CivilDate,
        queue: (jobs: [QueuedLine], balances: Ledger.Balances?)?, closedThrough: CivilDate
    ) -> Forecast {
        let window = history.filter { $0.periodEnd <= record.periodEnd }.suffix(trailingWindow)
        let usage = window.reduce(0) { $0 + $1.usageCredits }
        let days = window.reduce(0) { $0 + ($1.periodEnd.daysSinceEpoch - $1.periodStart.daysSinceEpoch) }
        let balance = record.nextCurrent + record.nextBank + record.nextTopUp - record.nextDeficit
        let left = daysLeft(balance: balance, usage: usage, days: days)
        var forecast = Forecast(
            balance: balance, trailingPeriods: window.count, trailingDays: days, trailingUsage: usage,
            burnPerDayTenths: days > 0 ? (Arithmetic.mulDivFloor(usage, 20, days) + 1) / 2 : 0, daysLeft: left,
            runOutDate: runOut(from: record.periodEnd, days: left), nextRenewal: nextRenewal, queue: nil)
        if let queue {
            let start = queue.balances?.available ?? balance
            let from = queue.balances == nil ? record.periodEnd : closedThrough.addingDays(1)
            let credits = queue.jobs.reduce(0) { $0 + $1.credits }
            let after = start - credits
            forecast.queue = Queue(
                asOf: closedThrough, balance: start, jobs: queue.jobs, credits: credits, covered: after >= 0,
                shortfall: max(0, -after), balanceAfter: after,
                runOutDateAfter: runOut(from: from, days: daysLeft(balance: after, usage: usage, days: days)))
        }
        return forecast
    }

    /// floor(balance / (usage / days)) = floor(balance × days / usage), exact in integers;
    /// zero when nothing is left, nil when nothing was used.
    static func daysLeft(balance: Int64, usage: Int64, days: Int64) -> Int64? {
        guard usage > 0, days > 0 else { return nil }
        guard balance > 0 else { return 0 }
        return Arithmetic.mulDivFloor(balance, days, usage)
    }

    static func runOut(from date: CivilDate, days: Int64?) -> CivilDate? {
        guard let days, days <= horizonDays else { return nil }
        return date.addingDays(Int(days))
    }

    /// "12.3" from 123.
    static func tenths(_ value: Int64) -> String { "\(grouped(value / 10)).\(value % 10)" }
}
