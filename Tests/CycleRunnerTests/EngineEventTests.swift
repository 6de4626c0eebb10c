// Proves the event rules of §6.2–§6.7: debit order, overdraft, grants, plan changes, top-ups, refunds, expiry.
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct Debit {
    @Test func currentFirstThenBankLotsOldestFirst() throws {
        let profile = testProfile(plan: "business", start: "2026-01-01")
        let state = runningState(
            profile, period: 2, current: 500, bank: [lot("2026-02-01", 300), lot("2026-03-01", 400)])
        let run = try runOrg(
            profile, state: state, events: [usage("e1", "2026-03-10T00:00:00Z", 700)], through: "2026-03-31")
        #expect(run.state.current == 0)
        #expect(run.state.bank == [lot("2026-02-01", 100), lot("2026-03-01", 400)])
        #expect(run.state.period?.fromCurrent == 500)
        #expect(run.state.period?.fromBank == 200)
        #expect(run.state.deficit == 0)
    }

    @Test func topUpLotsBySoonestExpiryThenPurchaseTimeThenIdWithNeverExpiringLast() throws {
        // Business, period [1 Mar, 1 Apr). pack-1k lasts 3 months, pack-5k 12, pack-20k never expires.
        let profile = testProfile(plan: "business", start: "2026-01-01")
        let state = runningState(
            profile, period: 2, current: 100, bank: [lot("2026-02-01", 50), lot("2026-03-01", 50)])
        let purchases = [
            topUp("never", "2026-03-01T00:00:00Z", "pack-20k"),  // bought first, spent last
            topUp("year", "2026-03-01T06:00:00Z", "pack-5k"),  // expires 1 Mar 2027
            topUp("late30", "2026-03-31T00:00:00Z", "pack-1k"),  // expires 30 Jun (clamped)
            topUp("early30", "2026-03-30T00:00:00Z", "pack-1k"),  // expires 30 Jun, bought earlier
            topUp("p-y", "2026-03-03T00:00:00Z", "pack-1k"),  // expires 3 Jun, same instant as p-x
            topUp("p-x", "2026-03-03T00:00:00Z", "pack-1k"),  // expires 3 Jun
            topUp("jun5", "2026-03-05T00:00:00Z", "pack-1k"),  // expires 5 Jun
            topUp("jun2", "2026-03-02T00:00:00Z", "pack-1k"),  // expires 2 Jun: spent first
        ]
        let spend = usage("e1", "2026-03-31T12:00:00Z", 100 + 100 + 1000 + 1000 + 500)
        let run = try runOrg(profile, state: state, events: purchases + [spend], through: "2026-03-31")
        #expect(run.outcomes.allSatisfy { $0 == .applied })
        #expect(run.state.current == 0)
        #expect(run.state.bank.isEmpty)
        let left = run.state.topUps.map { "\($0.purchaseId)=\($0.amount)" }
        #expect(left == ["p-y=500", "jun5=1000", "early30=1000", "late30=1000", "year=5000", "never=20000"])
        #expect(run.state.period?.fromTopUp == 2500)
        #expect(run.state.purchases[PurchaseID("jun2")] == .touched)
        #expect(run.state.purchases[PurchaseID("p-y")] == .touched)
        #expect(run.state.purchases[PurchaseID("jun5")] == .untouched)
    }

    @Test func whatNoBalanceCoversBecomesADeficit() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"),
            events: [usage("e1", "2026-01-10T00:00:00Z", 1500), usage("e2", "2026-01-11T00:00:00Z", 1000)],
            through: "2026-01-31")
        #expect(run.state.current == 0)
        #expect(run.state.deficit == 500)
        let period = try #require(run.state.period)
        #expect(period.usageEvents == 2)
        #expect(period.usageCredits == 2500)
        #expect(period.fromCurrent == 2000)
        #expect(period.overdraft == 500)
    }
}

@Suite struct Grants {
    @Test func aPackRepaysTheDeficitFirst() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [
                usage("e1", "2026-01-05T00:00:00Z", 10300), topUp("q1", "2026-01-06T00:00:00Z", "pack-1k"),
                refund("r1", of: "q1", "2026-01-07T00:00:00Z"),
            ],
            through: "2026-01-31")
        #expect(run.state.deficit == 0)
        #expect(run.state.topUps.map(\.amount) == [700])
        #expect(run.state.topUps.first?.expiresAt == at("2026-04-06T00:00:00Z"))
        let period = try #require(run.state.period)
        #expect(period.topUpCredits == 1000)
        #expect(period.deficitRepaid == 300)
        // Repaying the deficit touched the pack, so it can no longer be refunded.
        #expect(run.outcomes.last?.reason == .packTouched)
    }

    @Test func aPackSmallerThanTheDeficitLeavesNoLot() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [usage("e1", "2026-01-05T00:00:00Z", 11500), topUp("q1", "2026-01-06T00:00:00Z", "pack-1k")],
            through: "2026-01-31")
        #expect(run.state.deficit == 500)
        #expect(run.state.topUps.isEmpty)
        #expect(run.state.period?.deficitRepaid == 1000)
        // The pack is invoiced all the same.
        #expect(run.documents.filter { $0.source == .topUp }.map(\.netMinor) == [1000])
    }
}

extension EventOutcome {
    var reason: Rejection.Reason? {
        if case .rejected(let rejection) = self { return rejection.reason }
        return nil
    }
}

@Suite struct PlanChanges {
    @Test func upgradeProrationMatchesConformanceCase06() throws {
        // Standard → Business at 10 Jan 12:00Z of a 31-day period: 21.5 of 31 days remain.
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01", id: "u1"),
            events: [
                usage("e0001", "2026-01-09T00:00:00Z", 2100), planChange("2026-01-10T12:00:00Z", to: "business"),
                usage("e0002", "2026-01-15T00:00:00Z", 100),
            ],
            through: "2026-02-28")
        let record = try #require(run.period(ending: "2026-02-01"))
        // The row of expected/closes/2026-02-28/period-summary.csv, after its first three columns.
        #expect(record.planId == PlanID("business"))
        #expect(
            record.numbers == [
                2000, 0, 0, 0, 2, 2200, 2100, 0, 0, 100, 5548, 0, 100, 0, 0, 5348, 0, 0, 0, 0, 5348, 0, 10000, 0, 0,
                10000, 5348, 0, 0, 0,
            ])
        let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
        #expect(invoice.lines.map(\.kind) == [.subscription, .proration])
        #expect(invoice.lines.map(\.amountMinor) == [9900, 4855])
        #expect(invoice.netMinor == 14755)
        #expect(invoice.taxMinor == 2951)
        #expect(invoice.totalMinor == 17706)
    }

    struct ProrationCase: Sendable, CustomTestStringConvertible {
        let at: String
        let credits: Int64
        let chargeMinor: Int64
        var testDescription: String { "upgrade at \(at)" }
    }

    // Standard → Business: +8000 credits and +70.00 USD a month, January has 31 days.
    @Test(arguments: [
        // 12 of 31 days: 3096.77… credits (floor 3096), 2709.68 cents (2710).
        ProrationCase(at: "2026-01-20T00:00:00Z", credits: 3096, chargeMinor: 2710),
        // 4017.6 s remain: 12 credits exactly, 10.5 cents → 11 (half away from zero).
        ProrationCase(at: "2026-01-31T22:53:02.4Z", credits: 12, chargeMinor: 11),
        // At the very start of the period: the whole difference.
        ProrationCase(at: "2026-01-01T00:00:00.000001Z", credits: 7999, chargeMinor: 7000),
    ])
    func prorationFloorsCreditsAndRoundsTheCharge(_ sample: ProrationCase) throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"), events: [planChange(sample.at, to: "business")],
            through: "2026-02-01")
        let record = try #require(run.period(ending: "2026-02-01"))
        #expect(record.prorationCredits == sample.credits)
        #expect(record.closingCurrent == 2000 + sample.credits)
        let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
        #expect(invoice.lines.filter { $0.kind == .proration }.map(\.amountMinor) == [sample.chargeMinor])
    }

    @Test func aDowngradeWaitsForTheNextRenewal() throws {
        let profile = testProfile(plan: "business", start: "2026-01-01")
        let events = [planChange("2026-01-15T00:00:00Z", to: "standard"), usage("e1", "2026-01-20T00:00:00Z", 3000)]
        let open = try runOrg(profile, events: events, through: "2026-01-31")
        #expect(open.state.plan == PlanID("business"))
        #expect(open.state.pendingPlan == PlanID("standard"))
        #expect(open.state.current == 7000)

        let run = try runOrg(profile, events: events, through: "2026-02-01")
        let record = try #require(run.period(ending: "2026-02-01"))
        #expect(record.planId == PlanID("standard"))
        #expect(record.prorationCredits == 0)
        #expect(record.rolledOver == 7000)
        #expect(record.expiredCap == 6000)  // Standard's cap of 1000 applies at the renewal
        #expect(record.nextCurrent == 2000)
        let invoice = try #require(run.renewalInvoice(on: "2026-02-01"))
        #expect(invoice.lines.map(\.kind) == [.subscription])
        #expect(invoice.netMinor == 2900)
        #expect(run.state.pendingPlan == nil)
    }

    @Test func aLaterChangeReplacesAPendingOne() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [
                planChange("2026-01-10T00:00:00Z", to: "community"), planChange("2026-01-20T00:00:00Z", to: "standard"),
            ],
            through: "2026-02-01")
        #expect(run.period(ending: "2026-02-01")?.planId == PlanID("standard"))
        #expect(run.state.current == 2000)
    }

    @Test func changesAtOneInstantKeepTheirFileOrder() throws {
        let profile = testProfile(plan: "standard", start: "2026-01-01")
        // File order wins over array order and over plan ids: free (line 1), then community (line 2).
        let run = try runOrg(
            profile,
            events: [
                planChange("2026-01-10T00:00:00Z", to: "community", sequence: 1),
                planChange("2026-01-10T00:00:00Z", to: "free", sequence: 0),
            ],
            through: "2026-02-01")
        #expect(run.period(ending: "2026-02-01")?.planId == PlanID("community"))
    }

    @Test func anUpgradeDropsAPendingDowngrade() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"),
            events: [
                planChange("2026-01-10T00:00:00Z", to: "community"), planChange("2026-01-20T00:00:00Z", to: "business"),
            ],
            through: "2026-01-31")
        #expect(run.state.plan == PlanID("business"))
        #expect(run.state.pendingPlan == nil)
        #expect(run.state.period?.prorationCredits == 3096)
    }

    @Test func aChangeDatedExactlyAtARenewalTakesEffectThereWithoutProration() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"),
            events: [planChange("2026-02-01T00:00:00Z", to: "business"), usage("e1", "2026-02-01T00:00:00Z", 10)],
            through: "2026-03-01")
        let first = try #require(run.period(ending: "2026-02-01"))
        #expect(first.planId == PlanID("business"))
        #expect(first.prorationCredits == 0)
        #expect(first.freshCredits == 10000)
        #expect(first.nextCurrent == 10000)
        #expect(first.usageEvents == 0)
        let renewal = try #require(run.renewalInvoice(on: "2026-02-01"))
        #expect(renewal.lines.map(\.kind) == [.subscription])
        #expect(renewal.netMinor == 9900)
        // The usage at the renewal instant is in the new period, on the new bucket.
        #expect(run.period(ending: "2026-03-01")?.fromCurrent == 10)
        #expect(run.renewalInvoice(on: "2026-03-01")?.lines.map(\.kind) == [.subscription])
    }

    @Test func aChangeAtTheStartDecidesTheFirstPlan() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"),
            events: [planChange("2026-01-01T00:00:00Z", to: "business")], through: "2026-01-01")
        #expect(run.state.plan == PlanID("business"))
        #expect(run.state.current == 10000)
        #expect(run.documents.map(\.netMinor) == [9900])
    }
}

@Suite struct TopUpsAndRefunds {
    @Test func aTopUpOnAPlanWithoutTopUpsIsRejected() throws {
        let run = try runOrg(
            testProfile(plan: "standard", start: "2026-01-01"),
            events: [topUp("q3", "2026-01-04T00:00:00Z", "pack-1k")], through: "2026-01-31")
        #expect(run.outcomes.map(\.reason?.rawValue) == ["topups_not_allowed"])
        #expect(run.state.topUps.isEmpty)
        #expect(run.documents.map(\.source) == [.renewal])
    }

    @Test func aTopUpIsInvoicedAtOnce() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [topUp("q2", "2026-01-03T10:00:00Z", "pack-5k")], through: "2026-01-31")
        let invoice = try #require(run.documents.first { $0.source == .topUp })
        #expect(invoice.kind == .invoice)
        #expect(invoice.sourceId == "q2")
        #expect(invoice.issueDate == day("2026-01-03"))
        #expect(invoice.lines.map(\.kind) == [.pack])
        #expect(invoice.totalMinor == 5400)
        #expect(run.state.topUps.first?.expiresAt == at("2027-01-03T10:00:00Z"))
    }

    @Test func refundOfAnUntouchedPackIssuesACreditNote() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [topUp("q2", "2026-01-03T00:00:00Z", "pack-5k"), refund("r1", of: "q2", "2026-01-07T00:00:00Z")],
            through: "2026-02-01")
        #expect(run.outcomes == [.applied, .applied])
        #expect(run.state.topUps.isEmpty)
        #expect(run.state.purchases[PurchaseID("q2")] == .refunded)
        #expect(run.period(ending: "2026-02-01")?.refundedCredits == 5000)
        #expect(run.period(ending: "2026-02-01")?.topUpCredits == 5000)
        let note = try #require(run.documents.first { $0.kind == .creditNote })
        #expect(note.source == .refund)
        #expect(note.sourceId == "r1")
        #expect(note.issueDate == day("2026-01-07"))
        #expect(note.lines.map(\.kind) == [.pack])
        #expect(note.netMinor == 4500)
        #expect(note.totalMinor == 5400)
    }

    @Test func refundOfATouchedPackIsRejected() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [
                topUp("q1", "2026-01-02T00:00:00Z", "pack-1k"), usage("e1", "2026-01-05T00:00:00Z", 10500),
                refund("r3", of: "q1", "2026-01-09T00:00:00Z"),
            ],
            through: "2026-01-31")
        #expect(run.outcomes.map(\.reason?.rawValue) == [nil, nil, "pack_touched"])
        #expect(run.state.topUps.map(\.amount) == [500])
        #expect(!run.documents.contains { $0.kind == .creditNote })
    }

    @Test func refundsOfUnknownOrAlreadyRefundedPurchasesAreRejected() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [
                refund("r0", of: "nothing", "2026-01-02T00:00:00Z"), topUp("q1", "2026-01-03T00:00:00Z", "pack-1k"),
                refund("r1", of: "q1", "2026-01-04T00:00:00Z"), refund("r2", of: "q1", "2026-01-05T00:00:00Z"),
            ],
            through: "2026-01-31")
        #expect(run.outcomes.map(\.reason) == [.unknownPurchase, nil, nil, .alreadyRefunded])
        #expect(run.documents.filter { $0.kind == .creditNote }.count == 1)
    }

    @Test func anExpiryAtExactlyAPeriodEndCountsInThatPeriod() throws {
        // pack-1k bought at R0 expires at 1 Apr 00:00Z, which is R3.
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [topUp("q0", "2026-01-01T00:00:00Z", "pack-1k")], through: "2026-05-01")
        #expect(run.outcomes == [.applied])
        #expect(run.period(ending: "2026-03-01")?.nextTopUp == 1000)
        #expect(run.period(ending: "2026-03-01")?.expiredTopUp == 0)
        let ending = try #require(run.period(ending: "2026-04-01"))
        #expect(ending.expiredTopUp == 1000)
        #expect(ending.nextTopUp == 0)
        #expect(ending.topUpLotsAfter.isEmpty)
        let after = try #require(run.period(ending: "2026-05-01"))
        #expect(after.openingTopUp == 0)
        #expect(after.expiredTopUp == 0)
        #expect(run.state.purchases[PurchaseID("q0")] == .expired)
    }

    @Test func anExpiryJustAfterAPeriodEndCountsInTheNextPeriod() throws {
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [topUp("q0", "2026-01-01T00:00:00.000001Z", "pack-1k")], through: "2026-05-01")
        #expect(run.period(ending: "2026-04-01")?.expiredTopUp == 0)
        #expect(run.period(ending: "2026-04-01")?.nextTopUp == 1000)
        #expect(run.period(ending: "2026-05-01")?.expiredTopUp == 1000)
    }
}

@Suite struct OrderAtOneInstant {
    @Test func expiryPlanChangeRenewalPurchaseRefundUsage() throws {
        // Everything at R3 = 1 Apr 00:00Z, where pack q0 (bought at R0) expires.
        let run = try runOrg(
            testProfile(plan: "business", start: "2026-01-01"),
            events: [
                usage("e1", "2026-04-01T00:00:00Z", 50),
                refund("r0", of: "q0", "2026-04-01T00:00:00Z"),
                topUp("q1", "2026-04-01T00:00:00Z", "pack-1k"),
                planChange("2026-04-01T00:00:00Z", to: "standard"),
                topUp("q0", "2026-01-01T00:00:00Z", "pack-1k"),
            ],
            through: "2026-04-01")
        // Outcomes follow the sorted order: q0, plan change, q1, r0, e1.
        #expect(run.outcomes.map(\.reason) == [nil, nil, .topUpsNotAllowed, .packTouched, nil])
        let record = try #require(run.period(ending: "2026-04-01"))
        #expect(record.expiredTopUp == 1000)  // the expiry came first
        #expect(record.planId == PlanID("standard"))  // the change took effect at the renewal
        #expect(record.usageEvents == 0)  // the usage belongs to the new period
        #expect(record.nextCurrent == 2000)
        #expect(run.state.current == 1950)
        #expect(run.state.period?.usageEvents == 1)
    }

    @Test func sortOrderIsInstantKindOriginalInstantIdThenFileOrder() {
        let instant = at("2026-03-01T00:00:00Z")
        func event(_ kind: EventKind, _ id: String, original: String = "2026-03-01T00:00:00Z", sequence: Int32 = 0)
            -> OrgEvent
        {
            OrgEvent(
                kind: kind, instant: instant, originalInstant: at(original), id: id, sequence: sequence, late: false,
                payload: .planChange(PlanID("x")))
        }
        let expected = [
            event(.planChange, "", sequence: 0), event(.planChange, "", sequence: 1),
            event(.topUpPurchase, "p"), event(.refund, "r"),
            event(.usage, "z", original: "2026-02-10T00:00:00Z"),  // late: its original instant orders it
            event(.usage, "B"), event(.usage, "a10"), event(.usage, "a9"), event(.usage, "b"),
            event(.usage, "\u{E9}"),  // é: 0xC3 0xA9 sorts after every ASCII byte
        ]
        let later = OrgEvent(
            kind: .planChange, instant: at("2026-03-01T00:00:00.000001Z"), originalInstant: instant, id: "",
            sequence: 0, late: false, payload: .planChange(PlanID("x")))
        let describe: (OrgEvent) -> String = { "\($0.kind)/\($0.id)/\($0.sequence)/\($0.originalInstant)" }
        let shuffled = [later] + expected.reversed()
        #expect(shuffled.sorted(by: OrgEvent.precedes).map(describe) == (expected + [later]).map(describe))
    }
}
