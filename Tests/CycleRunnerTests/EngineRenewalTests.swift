// Proves each step of the renewal of §6.5 (age expiry, rollover, cap, fresh bucket, overage) and the R0 invoice.
import Invoicing
import Testing

@testable import CycleRunnerCore

/// An org that has been running since `start` and is in period k, with the given balances.
func runningState(
    _ profile: OrgProfile, period k: Int, current: Int64, bank: [BankLot] = [], deficit: Int64 = 0
) -> OrgState {
    var state = OrgState(orgId: profile.id, startDate: profile.startDate, plan: profile.firstPlanId)
    state.started = true
    state.periodIndex = k
    state.current = current
    state.bank = bank
    state.deficit = deficit
    var period = PeriodAccumulator(start: state.renewalDate(k), end: state.renewalDate(k + 1))
    period.openingCurrent = current
    period.openingBank = state.bankTotal
    period.openingDeficit = deficit
    state.period = period
    return state
}

func lot(_ date: String, _ amount: Int64) -> BankLot { BankLot(bankedOn: day(date), amount: amount) }

@Suite struct AgeExpiry {
    // Community: 500 a month, cap 250, lots expire 2 months after banking. Anchor 31 Jan, so R4 = 31 May.
    @Test func lotsBankedAtLeastMMonthsBeforeTheRenewalExpire() throws {
        let profile = testProfile(plan: "community", start: "2026-01-31")
        let state = runningState(
            profile, period: 3, current: 60,
            bank: [lot("2026-02-28", 30), lot("2026-03-31", 40), lot("2026-04-01", 20), lot("2026-04-30", 50)])
        let run = try runOrg(profile, state: state, through: "2026-05-31")
        let record = try #require(run.period(ending: "2026-05-31"))
        // 28 Feb + 2 = 28 Apr ≤ 31 May and 31 Mar + 2 = 31 May ≤ 31 May expire; 1 Apr + 2 = 1 Jun does not.
        #expect(record.expiredAge == 70)
        #expect(record.rolledOver == 60)
        #expect(record.expiredCap == 0)
        #expect(record.bankLotsAfter == [lot("2026-04-01", 20), lot("2026-04-30", 50), lot("2026-05-31", 60)])
        #expect(record.nextBank == 130)
        #expect(record.nextCurrent == 500)
    }

    @Test func theNewPlansRuleDecides() throws {
        // Standard keeps lots 6 months; a change to Community dated exactly at R4 applies its 2 months.
        let profile = testProfile(plan: "standard", start: "2026-01-01")
        let bank = [lot("2026-02-01", 300), lot("2026-03-01", 200), lot("2026-04-01", 100)]
        let state = runningState(profile, period: 3, current: 100, bank: bank)

        let kept = try runOrg(profile, state: state, through: "2026-05-01")
        let keptRecord = try #require(kept.period(ending: "2026-05-01"))
        #expect(keptRecord.expiredAge == 0)
        #expect(keptRecord.nextBank == 700)

        let changed = try runOrg(
            profile, state: state, events: [planChange("2026-05-01T00:00:00Z", to: "community")], through: "2026-05-01")
        let record = try #require(changed.period(ending: "2026-05-01"))
        #expect(record.planId == PlanID("community"))
        #expect(record.expiredAge == 500)
        #expect(record.bankLotsAfter == [lot("2026-04-01", 100), lot("2026-05-01", 100)])
        #expect(record.nextCurrent == 500)
    }
}

@Suite struct Rollover {
    @Test func whatIsLeftOfTheBucketBecomesALotBankedOnTheRenewal() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"), events: [usage("e1", "2026-01-10T00:00:00Z", 1200)],
            through: "2026-02-01")
        let record = try #require(run.period(ending: "2026-02-01"))
        #expect(record.closingCurrent == 800)
        #expect(record.rolledOver == 800)
        #expect(record.bankLotsAfter == [lot("2026-02-01", 800)])
        #expect(record.nextBank == 800)
        #expect(record.nextCurrent == 2000)
    }

    @Test func anEmptyBucketBanksNothing() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"), events: [usage("e1", "2026-01-10T00:00:00Z", 2000)],
            through: "2026-02-01")
        let record = try #require(run.period(ending: "2026-02-01"))
        #expect(record.rolledOver == 0)
        #expect(record.bankLotsAfter.isEmpty)
    }
}

struct CapCase: Sendable, CustomTestStringConvertible {
    let bank: [BankLot]
    let current: Int64
    let expiredCap: Int64
    let after: [BankLot]
    var testDescription: String { "bank \(bank.map(\.amount)) + \(current) under cap 1000" }
}

// Standard: cap 1000. Period 2 of an org started 1 Jan 2026, so the renewal is R3 = 1 Apr.
@Test(arguments: [
    // Excess 400 smaller than the oldest lot: it is trimmed.
    CapCase(
        bank: [lot("2026-02-01", 600), lot("2026-03-01", 300)], current: 500, expiredCap: 400,
        after: [lot("2026-02-01", 200), lot("2026-03-01", 300), lot("2026-04-01", 500)]),
    // Excess 400 larger than the oldest lot: it goes, and the next one is trimmed.
    CapCase(
        bank: [lot("2026-02-01", 300), lot("2026-03-01", 600)], current: 500, expiredCap: 400,
        after: [lot("2026-03-01", 500), lot("2026-04-01", 500)]),
    // The rollover alone passes the cap: only the freshest 1000 survive.
    CapCase(
        bank: [lot("2026-02-01", 900)], current: 1800, expiredCap: 1700, after: [lot("2026-04-01", 1000)]),
    // Exactly at the cap: nothing expires.
    CapCase(
        bank: [lot("2026-03-01", 400)], current: 600, expiredCap: 0,
        after: [lot("2026-03-01", 400), lot("2026-04-01", 600)]),
])
func capTrimsTheOldestLotsFirst(_ sample: CapCase) throws {
    let profile = testProfile(plan: "standard", start: "2026-01-01")
    let state = runningState(profile, period: 2, current: sample.current, bank: sample.bank)
    let run = try runOrg(profile, state: state, through: "2026-04-01")
    let record = try #require(run.period(ending: "2026-04-01"))
    #expect(record.expiredAge == 0)
    #expect(record.rolledOver == sample.current)
    #expect(record.expiredCap == sample.expiredCap)
    #expect(record.bankLotsAfter == sample.after)
    #expect(record.nextBank == sample.after.reduce(0) { $0 + $1.amount })
    #expect(record.nextBank <= 1000)
}

@Suite struct FreshBucketWithCarry {
    // Standard: 2000 a month, overdraft carry.
    @Test func aDeficitSmallerThanTheBucketIsSettledOutOfIt() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"), events: [usage("e1", "2026-01-10T00:00:00Z", 2500)],
            through: "2026-02-01")
        let record = try #require(run.period(ending: "2026-02-01"))
        #expect(record.overdraft == 500)
        #expect(record.closingDeficit == 500)
        #expect(record.freshCredits == 2000)
        #expect(record.deficitSettled == 500)
        #expect(record.overageBilled == 0)
        #expect(record.nextCurrent == 1500)
        #expect(record.nextDeficit == 0)
        // Carry bills nothing: the renewal invoice is the subscription alone.
        let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
        #expect(invoice.lines.map(\.kind) == [.subscription])
        #expect(invoice.netMinor == 2900)
    }

    @Test func aDeficitLargerThanTheBucketCarriesOn() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"), events: [usage("e1", "2026-01-10T00:00:00Z", 4500)],
            through: "2026-03-01")
        let first = try #require(run.period(ending: "2026-02-01"))
        #expect(first.closingDeficit == 2500)
        #expect(first.deficitSettled == 2000)
        #expect(first.nextCurrent == 0)
        #expect(first.nextDeficit == 500)
        #expect(first.rolledOver == 0)
        let second = try #require(run.period(ending: "2026-03-01"))
        #expect(second.openingDeficit == 500)
        #expect(second.openingCurrent == 0)
        #expect(second.deficitSettled == 500)
        #expect(second.nextCurrent == 1500)
        #expect(second.nextDeficit == 0)
        #expect(run.state.deficit == 0)
        #expect(run.state.current == 1500)
    }
}

struct OverageCase: Sendable, CustomTestStringConvertible {
    let deficit: Int64
    let amountMinor: Int64
    var testDescription: String { "deficit \(deficit) at 0.0150 USD is \(amountMinor) cents" }
}

// Business: 10000 a month, overdraft invoice at 0.0150 USD a credit; amounts rounded half away from zero.
@Test(arguments: [
    OverageCase(deficit: 4500, amountMinor: 6750),
    OverageCase(deficit: 4501, amountMinor: 6752),  // 6751.5
    OverageCase(deficit: 4499, amountMinor: 6749),  // 6748.5
    OverageCase(deficit: 33, amountMinor: 50),  // 49.5
    OverageCase(deficit: 1, amountMinor: 2),  // 1.5
    OverageCase(deficit: 100, amountMinor: 150),
])
func invoicePolicyBillsTheWholeDeficit(_ sample: OverageCase) throws {
    let run = try runOrg(
        testProfile(plan: "business", start: "2026-01-01"),
        events: [usage("e1", "2026-01-10T00:00:00Z", 10000 + sample.deficit)], through: "2026-02-01")
    let record = try #require(run.period(ending: "2026-02-01"))
    #expect(record.closingDeficit == sample.deficit)
    #expect(record.overageBilled == sample.deficit)
    #expect(record.deficitSettled == 0)
    #expect(record.nextDeficit == 0)
    #expect(record.nextCurrent == 10000)

    let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
    #expect(invoice.lines.map(\.kind) == [.subscription, .overage])
    let overage = try #require(invoice.lines.last)
    #expect(overage.quantity == sample.deficit)
    #expect(overage.unitPrice == UnitPrice(scaledAmount: 15_000))  // 0.0150 in 10^-6 dollars
    #expect(overage.amountMinor == sample.amountMinor)
    #expect(invoice.netMinor == 9900 + sample.amountMinor)
}

@Test func overageMatchesConformanceCase03() throws {
    // 03-spending-order: INV-2026-000005 on 1 Mar 2026 is 16650 net, 3330 tax, 19980 total.
    let run = try runOrg(
        testProfile(plan: "business", start: "2026-02-01"), events: [usage("e1", "2026-02-10T00:00:00Z", 14500)],
        through: "2026-03-01")
    let invoice = try #require(run.renewalInvoice(on: "2026-03-01"))
    #expect(invoice.netMinor == 16650)
    #expect(invoice.taxMinor == 3330)
    #expect(invoice.totalMinor == 19980)
}

@Test func thePlanInEffectBeforeTheRenewalDecidesTheOverdraftPolicy() throws {
    // A Business deficit is billed at Business's price even when a downgrade to Standard (carry)
    // takes effect at the same renewal; the new Standard bucket is then full.
    let run = try runOrg(
        testProfile(plan: "business", start: "2026-01-01"),
        events: [usage("e1", "2026-01-10T00:00:00Z", 10200), planChange("2026-01-20T00:00:00Z", to: "standard")],
        through: "2026-02-01")
    let record = try #require(run.period(ending: "2026-02-01"))
    #expect(record.planId == PlanID("standard"))
    #expect(record.overageBilled == 200)
    #expect(record.deficitSettled == 0)
    #expect(record.nextCurrent == 2000)
    let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
    #expect(invoice.lines.map(\.amountMinor) == [2900, 300])
}

@Test func r0IssuesTheFirstInvoice() throws {
    let run = try runOrg(testProfile(plan: "standard", start: "2026-01-31"), through: "2026-01-31")
    #expect(run.periods.isEmpty)
    #expect(run.state.started)
    #expect(run.state.current == 2000)
    #expect(run.documents.count == 1)
    let invoice = try #require(run.documents.first)
    #expect(invoice.kind == .invoice)
    #expect(invoice.source == .renewal)
    #expect(invoice.issueDate == day("2026-01-31"))
    #expect(invoice.dueDate == day("2026-02-14"))
    #expect(invoice.periodStart == day("2026-01-31"))
    #expect(invoice.periodEnd == day("2026-02-27"))
    #expect(invoice.lines.count == 1)
    #expect(invoice.lines.first?.kind == .subscription)
    #expect(invoice.lines.first?.quantity == 1)
    #expect(invoice.netMinor == 2900)
    #expect(invoice.taxMinor == 580)
    #expect(invoice.totalMinor == 3480)
}

@Test func nothingBeforeTheStartAndNoRenewalAtTheHorizon() throws {
    let profile = testProfile(plan: "standard", start: "2026-02-01")
    let before = try runOrg(profile, through: "2026-01-31")
    #expect(!before.state.started)
    #expect(before.documents.isEmpty)
    // Through 28 Feb the horizon is 1 Mar 00:00Z: R1 on 1 Mar belongs to the next close.
    let through = try runOrg(profile, through: "2026-02-28")
    #expect(through.periods.isEmpty)
    #expect(through.documents.map(\.issueDate) == [day("2026-02-01")])
}

@Test func freePlanIssuesNoInvoice() throws {
    let run = try runOrg(
        testProfile(plan: "free", start: "2026-01-01"), events: [usage("e1", "2026-01-10T00:00:00Z", 30)],
        through: "2026-03-31")
    #expect(run.documents.isEmpty)
    #expect(run.periods.map(\.periodEnd) == [day("2026-02-01"), day("2026-03-01")])
    let first = try #require(run.period(ending: "2026-02-01"))
    // Cap 0: the 70 left over roll and expire at once.
    #expect(first.rolledOver == 70)
    #expect(first.expiredCap == 70)
    #expect(first.nextBank == 0)
    #expect(first.nextCurrent == 100)
    #expect(run.state.current == 100)
}
