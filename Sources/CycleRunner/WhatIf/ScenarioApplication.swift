import Invoicing

/// A scenario resolved against one input folder: the catalog, org profiles and plan changes
/// that the scenario side replays, and a sentence per change for the people who read the
/// report. The inputs themselves are never edited.
struct AppliedScenario: Sendable {
    var catalog: Catalog
    var directory: OrgDirectory
    /// The input with the scenario's plan changes; added rows cite the scenario file and line.
    var input: InputFolder
    var changes: [String]
}

extension Scenario {
    /// Applies plan overrides, org overrides, removed, added and moved plan changes, in that
    /// order, each seeing the ones before. A reference to an unknown org or plan, or a removal
    /// that matches nothing, is an error with the scenario's line and key.
    func apply(catalog base: Catalog, directory baseDirectory: OrgDirectory, input baseInput: InputFolder)
        throws(InputError) -> AppliedScenario
    {
        var changes: [String] = []
        let catalog = try applyPlans(to: base, changes: &changes)
        let directory = try applyOrgs(to: baseDirectory, catalog: catalog, changes: &changes)
        var input = baseInput
        input.catalog = catalog
        let fileIndex = input.addFile(file)
        var planChanges = input.planChanges

        for removal in removedChanges {
            let orgIndex = try org(removal.org, in: directory, removal.place)
            let before = planChanges.count
            planChanges.removeAll { change in
                change.orgIndex == orgIndex && (removal.at == nil || change.instant == removal.at)
                    && (removal.plan == nil || change.planId == removal.plan)
            }
            let removed = before - planChanges.count
            guard removed > 0 else {
                // Listing what the org does have turns a near miss (an offset, a plan) into a fix.
                let existing = planChanges.filter { $0.orgIndex == orgIndex }.map { "\($0.instant) \($0.planId)" }
                throw error(
                    removal.place,
                    "matches no plan change of org \(removal.org) in plan_changes.csv (it has: "
                        + (existing.isEmpty ? "none" : existing.joined(separator: ", ")) + ")")
            }
            changes.append(
                "Removed \(removed) plan change\(removed == 1 ? "" : "s") of \(removal.org) from plan_changes.csv")
        }

        var nextSequence = (input.planChanges.map(\.sequence).max() ?? -1) + 1
        var added = 0
        func add(org orgIndex: Int32, at: Instant, plan: PlanID, place: Place) {
            let profile = directory.profiles[Int(orgIndex)]
            let record = PlanChangeRecord(
                orgIndex: orgIndex, instant: at, planId: plan, sequence: nextSequence,
                origin: RowOrigin(fileIndex: fileIndex, lineNumber: Int32(clamping: place.line ?? 0)),
                raw: "\(profile.id),\(at),\(plan)")
            // Like a repeated row of plan_changes.csv, a change that is already there adds nothing.
            guard !planChanges.contains(where: { $0.key == record.key }) else { return }
            nextSequence += 1
            planChanges.append(record)
            added += 1
        }
        for change in addedChanges {
            let orgIndex = try org(change.org, in: directory, change.place)
            try plan(change.plan, in: catalog, Place(line: change.place.line, key: change.place.key + ".plan"))
            let profile = directory.profiles[Int(orgIndex)]
            guard change.at >= profile.startInstant else {
                throw error(change.place, "\(change.at) is before org \(change.org) starts on \(profile.startDate)")
            }
            add(org: orgIndex, at: change.at, plan: change.plan, place: change.place)
            changes.append("Plan change of \(change.org) to \(change.plan) at \(change.at)")
        }

        for move in moves {
            try plan(move.from, in: catalog, Place(line: move.place.line, key: move.place.key + ".from"))
            try plan(move.to, in: catalog, Place(line: move.place.line, key: move.place.key + ".to"))
            let onPlan = try orgs(on: move.from, at: move.at, directory: directory, catalog: catalog, planChanges)
            for orgIndex in onPlan { add(org: orgIndex, at: move.at, plan: move.to, place: move.place) }
            changes.append(
                "Every org on \(move.from) at \(move.at) moves to \(move.to): \(onPlan.count) org\(onPlan.count == 1 ? "" : "s")"
            )
        }
        input.planChanges = planChanges
        input.counts[Int(fileIndex)].read = added
        return AppliedScenario(catalog: catalog, directory: directory, input: input, changes: changes)
    }

    func error(_ place: Place, _ message: String) -> InputError {
        InputError(file: file, line: place.line, column: place.key, message)
    }

    func org(_ id: String, in directory: OrgDirectory, _ place: Place) throws(InputError) -> Int32 {
        guard let index = directory.indexById[id] else { throw error(place, "no org \(id) in orgs.csv") }
        return index
    }

    func plan(_ id: PlanID, in catalog: Catalog, _ place: Place) throws(InputError) {
        guard catalog.plans[id] != nil else {
            throw error(place, "no plan \(id) in plans.yaml or the scenario's plans")
        }
    }

    func applyPlans(to base: Catalog, changes: inout [String]) throws(InputError) -> Catalog {
        var catalog = base
        for patch in plans {
            let existing = catalog.plans[patch.id]
            var plan =
                existing
                ?? Plan(
                    id: patch.id, name: patch.id.rawValue, rank: 0, isCustom: false, monthlyCredits: nil,
                    bankCap: nil, pricesMinor: [:], allowsTopUps: false, rolloverMaxAgeMonths: nil,
                    overdraft: .carry, overagePrices: [:])
            if existing == nil {
                // A new plan states what plans.yaml asks of every plan.
                if patch.rank == nil { throw error(patch.place, "a new plan needs rank") }
                if patch.overdraft == nil { throw error(patch.place, "a new plan needs overdraft (carry or invoice)") }
            }
            if let value = patch.name { plan.name = value }
            if let value = patch.rank { plan.rank = value }
            if let value = patch.custom { plan.isCustom = value }
            if let value = patch.monthlyCredits { plan.monthlyCredits = value }
            if let value = patch.bankCap { plan.bankCap = value }
            if let value = patch.prices { plan.pricesMinor.merge(value) { $1 } }
            if let value = patch.topUps { plan.allowsTopUps = value }
            if let value = patch.rolloverMaxAgeMonths { plan.rolloverMaxAgeMonths = value }
            if let value = patch.overdraft { plan.overdraft = value }
            if let value = patch.overagePrices { plan.overagePrices.merge(value) { $1 } }
            if !plan.isCustom {
                if plan.monthlyCredits == nil || plan.bankCap == nil || plan.pricesMinor.isEmpty {
                    throw error(
                        patch.place, "plan \(patch.id) is not custom: it needs monthly_credits, bank_cap, prices")
                }
            } else {
                // A custom plan's credits, cap and price come from the org row, as in plans.yaml;
                // setting them on the plan would silently change nothing.
                if patch.monthlyCredits != nil || patch.bankCap != nil || patch.prices != nil {
                    throw error(
                        patch.place,
                        "plan \(patch.id) is custom: its monthly_credits, bank_cap and price come from each org "
                            + "(set them under orgs:)")
                }
                plan.monthlyCredits = nil
                plan.bankCap = nil
                plan.pricesMinor = [:]
            }
            if plan.overdraft == .invoice, plan.overagePrices.isEmpty {
                throw error(
                    patch.place, "plan \(patch.id) bills overdrafts (overdraft: invoice): it needs overage_price")
            }
            catalog.plans[patch.id] = plan
            if let existing {
                let described = Self.describe(existing, plan)
                if !described.isEmpty { changes.append("Plan \(patch.id): " + described.joined(separator: "; ")) }
            } else {
                changes.append("New plan \(patch.id) (\(plan.name), rank \(plan.rank))")
            }
        }
        return catalog
    }

    /// "bank_cap 1000 → 2000" for every field a patch changed.
    static func describe(_ old: Plan, _ new: Plan) -> [String] {
        var parts: [String] = []
        func note(_ name: String, _ before: String, _ after: String) {
            if before != after { parts.append("\(name) \(before) → \(after)") }
        }
        func text(_ value: Int64?) -> String { value.map { grouped($0) } ?? "none" }
        /// Only the currencies whose price changed: "prices USD 29.00 → 35.00".
        func prices(_ name: String, _ before: [String: Int64], _ after: [String: Int64], extra: Int = 0) {
            for code in Set(before.keys).union(after.keys).sorted() where before[code] != after[code] {
                let scale = (Currency(code: code)?.exponent ?? 2) + extra
                func text(_ value: Int64?) -> String { value.map { DecimalText.format($0, scale: scale) } ?? "none" }
                parts.append("\(name) \(code) \(text(before[code])) → \(text(after[code]))")
            }
        }
        note("name", old.name, new.name)
        note("rank", String(old.rank), String(new.rank))
        note("custom", String(old.isCustom), String(new.isCustom))
        note("monthly_credits", text(old.monthlyCredits), text(new.monthlyCredits))
        note("bank_cap", text(old.bankCap), text(new.bankCap))
        prices("prices", old.pricesMinor, new.pricesMinor)
        note("topups", String(old.allowsTopUps), String(new.allowsTopUps))
        note(
            "rollover_max_age_months", old.rolloverMaxAgeMonths.map(String.init) ?? "none",
            new.rolloverMaxAgeMonths.map(String.init) ?? "none")
        note("overdraft", old.overdraft.rawValue, new.overdraft.rawValue)
        prices(
            "overage_price", old.overagePrices.mapValues(\.scaledAmount), new.overagePrices.mapValues(\.scaledAmount),
            extra: UnitPrice.extraDigits)
        return parts
    }

    func applyOrgs(to base: OrgDirectory, catalog: Catalog, changes: inout [String]) throws(InputError)
        -> OrgDirectory
    {
        var profiles = base.profiles
        for patch in orgs {
            let index = Int(try org(patch.id, in: base, patch.place))
            let profile = profiles[index]
            var priceMinor: Int64?
            if let (text, place) = patch.price {
                let exponent = Currency(code: profile.currencyCode)?.exponent ?? 2
                guard case .success(let value) = DecimalText.parse(text, scale: exponent), value >= 0 else {
                    throw error(
                        place, "\(text) is not a \(profile.currencyCode) amount with at most \(exponent) decimals")
                }
                priceMinor = value
            }
            let old = profile.customTerms
            guard let monthly = patch.monthlyCredits ?? old?.monthlyCredits, let cap = patch.bankCap ?? old?.bankCap,
                let price = priceMinor ?? old?.priceMinor
            else {
                throw error(
                    patch.place,
                    "org \(patch.id) has no custom terms in orgs.csv: give monthly_credits, bank_cap and price")
            }
            let terms = CustomTerms(monthlyCredits: monthly, bankCap: cap, priceMinor: price)
            profiles[index].customTerms = terms
            let exponent = Currency(code: profile.currencyCode)?.exponent ?? 2
            func money(_ value: Int64?) -> String {
                value.map { "\(profile.currencyCode) \(DecimalText.format($0, scale: exponent))" } ?? "none"
            }
            var parts: [String] = []
            if old?.monthlyCredits != monthly {
                parts.append(
                    "monthly_credits \(old.map { grouped($0.monthlyCredits) } ?? "none") → \(grouped(monthly))")
            }
            if old?.bankCap != cap {
                parts.append("bank_cap \(old.map { grouped($0.bankCap) } ?? "none") → \(grouped(cap))")
            }
            if old?.priceMinor != price { parts.append("price \(money(old?.priceMinor)) → \(money(price))") }
            if !parts.isEmpty { changes.append("Org \(patch.id) custom terms: " + parts.joined(separator: "; ")) }
        }
        return OrgDirectory(profiles: profiles)
    }

    /// The orgs whose plan in effect at `at` is `plan`, after everything dated at or before
    /// `at` (the renewal at `at` included). The engine itself replays each org's plan changes,
    /// so upgrades, pending downgrades and rejected changes count exactly as in the replay.
    func orgs(
        on plan: PlanID, at: Instant, directory: OrgDirectory, catalog: Catalog, _ planChanges: [PlanChangeRecord]
    ) throws(InputError) -> [Int32] {
        var changesByOrg: [Int32: [OrgEvent]] = [:]
        for change in planChanges where change.instant <= at {
            changesByOrg[change.orgIndex, default: []].append(
                OrgEvent(
                    kind: .planChange, instant: change.instant, originalInstant: change.instant, id: "",
                    sequence: change.sequence, late: false, payload: .planChange(change.planId)))
        }
        let context = EngineContext(catalog: catalog, users: [], permissions: nil)
        let horizon = Instant(microseconds: at.microseconds + 1)
        var result: [Int32] = []
        for (position, profile) in directory.profiles.enumerated() where profile.startInstant <= at {
            let index = Int32(position)
            let events = (changesByOrg[index] ?? []).sorted(by: OrgEvent.precedes)
            do throws(EngineConfigurationError) {
                let run = try Engine.run(
                    state: nil, profile: profile, events: events, horizon: horizon, context: context)
                if run.state.started, run.state.plan == plan { result.append(index) }
            } catch {
                throw InputError(file: file, "with the scenario's plans, \(error.description)")
            }
        }
        return result
    }
}
