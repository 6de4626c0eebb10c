import Invoicing

/// The statement for a person: the balances as the dashboard names them, what needs
/// attention and what to do about it, the forecast, where the credits went (a chart and the
/// numbers), usage, lots and invoices. Self-contained (inline CSS and SVG, no script, no
/// network), readable on a phone, printable on A4, and well-formed XML.
enum StatementHTML {
    static func render(_ statement: Statement) -> [UInt8] {
        let s = statement.summary
        func value(_ key: String) -> Int64 { s[key] ?? 0 }
        let lastDay = CivilDate.parse(statement.periodEnd).map { $0.addingDays(-1).description } ?? statement.periodEnd
        var body = HTMLBytes(capacity: 24_000)
        body += """
            <header class="top">
            <p class="kicker">Credit statement</p>
            <h1>\(escaped: statement.orgName)</h1>
            <ul class="meta">
            <li><span>Org</span> <code>\(escaped: statement.orgId)</code></li>
            <li><span>Period</span> \(statement.periodStart) to \(lastDay)</li>
            <li><span>Renewed</span> \(statement.periodEnd)</li>
            <li><span>Plan from then</span> \(escaped: statement.planName) \
            (\(grouped: statement.monthlyCredits) credits a month)</li>
            </ul>
            </header>

            """
        balances(statement, value, into: &body)
        attention(statement, value, into: &body)
        forecast(statement, into: &body)
        flow(statement, value, into: &body)
        usage(statement, into: &body)
        expensive(statement, into: &body)
        lots(statement, into: &body)
        invoices(statement, into: &body)
        body += """
            <footer>Rendered from the ledger. Amounts are credits \
            unless a currency is shown. A period runs from its start renewal up to, not including, the next.</footer>

            """
        return HTMLPage.render(
            title: "Statement \(statement.orgName) \(statement.periodStart) to \(lastDay)", body: body)
    }

    static func card(_ label: String, _ amount: Int64, note: String? = nil, tone: String? = nil) -> String {
        var html = HTMLBytes()
        card(label, amount, note: note, tone: tone, into: &html)
        return html.string
    }

    static func card(
        _ label: String, _ amount: Int64, note: String? = nil, tone: String? = nil, into html: inout HTMLBytes
    ) {
        let toneClass = tone.map { " " + $0 } ?? ""
        html += "<div class=\"card\(toneClass)\"><span>\(escaped: label)</span><b>\(grouped: amount)</b>"
        if let note { html += "<small>\(escaped: note)</small>" }
        html += "</div>\n"
    }

    static func balances(_ statement: Statement, _ value: (String) -> Int64, into html: inout HTMLBytes) {
        let buffer = statement.flags.bankBufferCredits
        html += "<section>\n<h2>Balances after the renewal on \(statement.periodEnd)</h2>\n<div class=\"cards\">\n"
        card("Current Credits", value("next_current"), note: "fresh bucket, spent first", into: &html)
        card(
            "Rollover Bank", value("next_bank"), note: "buffer target \(grouped(buffer))",
            tone: statement.flags.bankBelowBuffer ? "warn" : nil, into: &html)
        card("Top-up credits", value("next_topup"), note: "credit packs", into: &html)
        card(
            "Deficit", value("next_deficit"), note: "used beyond all balances",
            tone: value("next_deficit") > 0 ? "bad" : nil, into: &html)
        card("Available", statement.forecast.balance, note: "all balances less the deficit", into: &html)
        html += "</div>\n</section>\n"
    }

    // MARK: Flags

    /// A flag's headline and advice are our own sentences around numbers and dates, with
    /// nothing in them to escape.
    static func flag(_ tone: String, _ headline: String, _ advice: String, into html: inout HTMLBytes) {
        html += "<div class=\"flag \(tone)\"><b>\(headline)</b><p>\(advice)</p></div>\n"
    }

    static func attention(_ statement: Statement, _ value: (String) -> Int64, into html: inout HTMLBytes) {
        html += "<section>\n<h2>What needs attention</h2>\n"
        var any = false
        let flags = statement.flags
        if flags.overdraft {
            any = true
            let settlement: String
            if value("overage_billed") > 0 {
                settlement = "The renewal invoice bills \(grouped(value("overage_billed"))) credits of overage."
            } else if value("deficit_settled") > 0 {
                settlement =
                    "\(grouped(value("deficit_settled"))) credits of the deficit were settled out of the fresh bucket."
            } else if value("closing_deficit") == 0 {
                settlement = "Credits granted later in the period repaid it."
            } else {
                settlement = "The deficit carries into the next period."
            }
            flag(
                "bad", "Overdrawn by \(grouped(value("overdraft"))) credits",
                "Jobs used more credits than every balance held. \(settlement) Upgrade the plan, or buy a "
                    + "credit pack before big render days (packs are available on Business and above).", into: &html)
        }
        if flags.bankBelowBuffer {
            any = true
            flag(
                "", "Rollover Bank below the 10 % buffer",
                "The bank holds \(grouped(value("next_bank"))) credits; keep at least \(grouped(flags.bankBufferCredits)) "
                    + "(10 % of \(grouped(statement.monthlyCredits)) monthly credits) for last-minute changes. Draft "
                    + "at Q=1 and regenerate only keeper shots at Q=3 so credits are left over to roll.", into: &html)
        }
        if flags.eventsWithoutPermission > 0 {
            any = true
            flag(
                "bad",
                counted(Int(flags.eventsWithoutPermission), "job", "jobs")
                    + " by members without the Use Credits permission",
                "They used \(grouped(flags.creditsWithoutPermission)) credits. Check these members' roles: grant the "
                    + "permission to those who should spend credits, or remove access.", into: &html)
        }
        if flags.eventsByUnknownMembers > 0 {
            any = true
            flag(
                "", counted(Int(flags.eventsByUnknownMembers), "job", "jobs") + " by users not on the member list",
                "Add them to the member list with their role, so their spending can be checked.", into: &html)
        }
        let expired = value("expired_cap") + value("expired_age") + value("expired_topup")
        if expired > 0 {
            any = true
            var parts: [String] = []
            if value("expired_cap") > 0 { parts.append("\(grouped(value("expired_cap"))) over the bank cap") }
            if value("expired_age") > 0 { parts.append("\(grouped(value("expired_age"))) by age") }
            if value("expired_topup") > 0 { parts.append("\(grouped(value("expired_topup"))) top-up credits") }
            flag(
                "", "\(grouped(expired)) credits expired",
                "Lost: \(parts.joined(separator: ", ")). Banked credits are spent only after the fresh bucket; "
                    + "schedule big renders when the bank is full.", into: &html)
        }
        if statement.forecast.runsOutBeforeRenewal, let date = statement.forecast.runOutDate {
            any = true
            flag(
                "", "At the recent rate the credits run out on \(date)",
                "That is before the next renewal on \(statement.forecast.nextRenewal). Postpone costly jobs, "
                    + "upgrade, or top up.", into: &html)
        }
        if let queue = statement.forecast.queue, !queue.covered {
            any = true
            flag(
                "bad", "Queued renders are short by \(grouped(queue.shortfall)) credits",
                "The queue needs \(grouped(queue.credits)) credits and the balance at the close was "
                    + "\(grouped(queue.balance)). Approve the most important jobs first, or top up.", into: &html)
        }
        // Worth a flag only when the list is a selection, not every job of the period.
        if !statement.mostExpensiveEvents.isEmpty, value("usage_events") > Int64(statement.mostExpensiveEvents.count) {
            any = true
            let top = statement.mostExpensiveEvents.prefix(10).reduce(Int64(0)) { $0 + $1.credits }
            let used = value("usage_credits")
            flag(
                "", "The \(statement.mostExpensiveEvents.count) most expensive jobs used \(grouped(top)) credits",
                "That is \(percent(top, of: used)) % of the period's \(grouped(used)) credits (listed below). "
                    + "Producers can approve or postpone high-credit jobs.", into: &html)
        }
        if !any { flag("ok", "Nothing needs attention", "No overdraft, expiry or permission issue.", into: &html) }
        html += "</section>\n"
    }

    // MARK: Forecast

    static func forecast(_ statement: Statement, into html: inout HTMLBytes) {
        let forecast = statement.forecast
        html += "<section>\n<h2>Forecast</h2>\n<div class=\"cards\">\n"
        html += """
            <div class="card"><span>Burn rate</span><b>\(Forecast.tenths(forecast.burnPerDayTenths))</b>\
            <small>credits a day over the last \(forecast.trailingPeriods) \
            \(forecast.trailingPeriods == 1 ? "period" : "periods") (\(grouped: forecast.trailingDays) days)</small></div>

            """
        let runOut: String
        let runOutNote: String
        if forecast.balance <= 0 {
            runOut = "now"
            runOutNote = "nothing is left to spend"
        } else if let date = forecast.runOutDate {
            runOut = date.description
            runOutNote = "in \(grouped(forecast.daysLeft ?? 0)) days, if nothing is added"
        } else if forecast.daysLeft == nil {
            runOut = "never"
            runOutNote = "no credits were used lately"
        } else {
            runOut = "10+ years"
            runOutNote = "at this rate"
        }
        let warn = forecast.runsOutBeforeRenewal || forecast.balance <= 0 ? " warn" : ""
        html += """
            <div class="card\(warn)"><span>Balance runs out</span><b>\(runOut)</b><small>\(escaped: runOutNote)</small></div>
            <div class="card"><span>Next renewal</span><b>\(forecast.nextRenewal)</b>\
            <small>\(grouped: statement.monthlyCredits) fresh credits</small></div>
            </div>
            <p class="muted">The burn rate is the credits used over the last up to \(Forecast.trailingWindow) \
            closed periods divided by their days; the run-out date adds floor(available ÷ daily rate) days \
            to the renewal on \(statement.periodEnd).</p>

            """
        if let queue = forecast.queue {
            html += "<h3>Queued renders at the close through \(queue.asOf)</h3>\n"
            let jobs = counted(queue.jobs.count, "queued job needs", "queued jobs need")
            if queue.covered {
                html += """
                    <p><span class="yes">Covered.</span> The \(jobs) \(grouped: queue.credits) credits; \
                    \(grouped: queue.balanceAfter) of the \(grouped: queue.balance) available would be left
                    """
                html += queue.runOutDateAfter.map { ", lasting until about \($0) at the burn rate." } ?? "."
                html += "</p>\n"
            } else {
                html += """
                    <p><span class="no">Not covered.</span> The \(jobs) \(grouped: queue.credits) credits, \
                    \(grouped: queue.shortfall) more than the \(grouped: queue.balance) available.</p>

                    """
            }
            html += """
                <div class="wrap"><table>
                <thead><tr><th scope="col">Job</th><th scope="col">Action</th>\
                <th scope="col" class="n">Credits</th><th scope="col" class="n">Left after</th></tr></thead>
                <tbody>

                """
            var left = queue.balance
            for job in queue.jobs {
                left -= job.credits
                html += """
                    <tr><td><code>\(escaped: job.jobId)</code></td><td>\(escaped: job.label)</td>\
                    <td class="n">\(grouped: job.credits)</td>\
                    <td class="n\(left < 0 ? " no" : "")">\(grouped: left)</td></tr>

                    """
            }
            html += """
                <tr class="total"><td colspan="2">Queued</td><td class="n">\(grouped: queue.credits)</td>\
                <td class="n">\(grouped: queue.balanceAfter)</td></tr>
                </tbody></table></div>

                """
        }
        html += "</section>\n"
    }

    // MARK: Credit flow

    /// The waterfall of the period on the net balance (current + bank + top-up − deficit):
    /// opening, grants, usage by source, top-up expiry and refunds, closing, the renewal's age
    /// expiry, rollover (a move) and cap expiry, the fresh bucket and billed overage, next opening.
    static func flowSteps(_ statement: Statement) -> [SVGChart.Step] {
        typealias Step = SVGChart.Step
        typealias Palette = SVGChart.Palette
        func value(_ key: String) -> Int64 { statement.summary[key] ?? 0 }
        func total(_ label: String, _ prefix: String) -> Step {
            let segments = [
                SVGChart.Segment(name: "Current", value: value(prefix + "_current"), color: Palette.current),
                SVGChart.Segment(name: "Bank", value: value(prefix + "_bank"), color: Palette.bank),
                SVGChart.Segment(name: "Top-up", value: value(prefix + "_topup"), color: Palette.topUp),
                SVGChart.Segment(name: "Deficit", value: -value(prefix + "_deficit"), color: Palette.deficit),
            ]
            return Step(label: label, kind: .total(segments), value: segments.reduce(0) { $0 + $1.value })
        }
        var steps = [total("Opening balance on \(statement.periodStart)", "opening")]
        let changes: [(String, Int64, String)] = [
            ("Proration credits (upgrade)", value("proration_credits"), Palette.grant),
            ("Credit packs bought", value("topup_credits"), Palette.grant),
            ("Used from Current Credits", -value("from_current"), Palette.usage),
            ("Used from the Rollover Bank", -value("from_bank"), Palette.usage),
            ("Used from top-up credits", -value("from_topup"), Palette.usage),
            ("Overdrawn (used beyond balances)", -value("overdraft"), Palette.deficit),
            ("Top-up credits expired", -value("expired_topup"), Palette.expiry),
            ("Top-up credits refunded", -value("refunded_credits"), Palette.expiry),
        ]
        for (label, amount, color) in changes where amount != 0 {
            steps.append(Step(label: label, kind: .change(color: color), value: amount))
        }
        steps.append(total("Closing balance before the renewal", "closing"))
        if value("expired_age") != 0 {
            steps.append(
                Step(label: "Expired by age", kind: .change(color: Palette.expiry), value: -value("expired_age")))
        }
        if value("rolled_over") != 0 {
            steps.append(Step(label: "Rolled over into the bank", kind: .moved, value: value("rolled_over")))
        }
        if value("expired_cap") != 0 {
            steps.append(
                Step(
                    label: "Expired over the bank cap", kind: .change(color: Palette.expiry),
                    value: -value("expired_cap")))
        }
        steps.append(
            Step(
                label: "Fresh bucket (\(statement.planName))", kind: .change(color: Palette.grant),
                value: value("fresh_credits")))
        if value("overage_billed") != 0 {
            steps.append(
                Step(
                    label: "Deficit billed as overage", kind: .change(color: Palette.grant),
                    value: value("overage_billed")))
        }
        steps.append(total("Next opening balance on \(statement.periodEnd)", "next"))
        return steps
    }

    static func flow(_ statement: Statement, _ value: (String) -> Int64, into html: inout HTMLBytes) {
        let steps = flowSteps(statement)
        let description =
            "Credit flow of the period: "
            + steps.map { step in
                switch step.kind {
                case .total: "\(step.label) \(grouped(step.value))"
                case .change: "\(step.label) \(signed(step.value))"
                case .moved: "\(step.label) \(grouped(step.value)) (moved, balance unchanged)"
                }
            }.joined(separator: "; ") + "."
        html += "<section>\n<h2>Where the credits went</h2>\n<div class=\"two\">\n<figure>\n"
        SVGChart.waterfall(
            id: "flow", title: "Credit flow from \(statement.periodStart) to \(statement.periodEnd)",
            description: description, steps: steps, into: &html)
        html += """

            <figcaption>Balances are current + bank + top-up − deficit. Green adds credits, orange spends \
            them, olive expires them; the grey bar is moved from Current Credits into the bank.</figcaption>
            </figure>
            <div class="wrap"><table>
            <thead><tr><th scope="col">Movement</th><th scope="col" class="n">Credits</th></tr></thead>
            <tbody>

            """
        for (label, key, sub) in flowRows {
            html += """
                <tr><td\(sub ? " class=\"sub\"" : "")>\(escaped: label)</td><td class="n">\(grouped: value(key))</td></tr>

                """
        }
        html += "</tbody></table></div>\n</div>\n</section>\n"
    }

    /// The movements table beside the waterfall: label, summary key, and whether the row is a
    /// part of the row above it.
    static let flowRows: [(String, String, Bool)] = [
        ("Opening current", "opening_current", false), ("Opening bank", "opening_bank", false),
        ("Opening top-up", "opening_topup", false), ("Opening deficit", "opening_deficit", false),
        ("Proration credits", "proration_credits", false), ("Top-up credits bought", "topup_credits", false),
        ("Deficit repaid by grants", "deficit_repaid", true), ("Usage events", "usage_events", false),
        ("Credits used", "usage_credits", false), ("from Current Credits", "from_current", true),
        ("from the Rollover Bank", "from_bank", true), ("from top-ups", "from_topup", true),
        ("overdrawn", "overdraft", true), ("Top-up credits expired", "expired_topup", false),
        ("Top-up credits refunded", "refunded_credits", false), ("Closing current", "closing_current", false),
        ("Closing bank", "closing_bank", false), ("Closing top-up", "closing_topup", false),
        ("Closing deficit", "closing_deficit", false), ("Expired by age", "expired_age", false),
        ("Rolled over", "rolled_over", false), ("Expired by cap", "expired_cap", false),
        ("Fresh credits", "fresh_credits", false), ("Deficit settled from them", "deficit_settled", true),
        ("Overage billed", "overage_billed", false), ("Late events", "late_events", false),
    ]

    // MARK: Usage, jobs, lots, invoices

    static func usage(_ statement: Statement, into html: inout HTMLBytes) {
        html += "<section>\n<h2>Usage by action</h2>\n"
        guard !statement.usageByAction.isEmpty else {
            html += "<p class=\"muted\">No credits were used in this period.</p>\n</section>\n"
            return
        }
        let total = statement.usageByAction.reduce(Int64(0)) { $0 + $1.credits }
        let ordered = statement.usageByAction.sorted { ($1.credits, $0.action) < ($0.credits, $1.action) }
        let bars = ordered.map { line in
            SVGChart.Bar(
                label: line.label, valueText: "\(grouped(line.credits)) (\(percent(line.credits, of: total)) %)",
                segments: [SVGChart.Segment(name: line.label, value: line.credits, color: SVGChart.Palette.usage)])
        }
        html += "<div class=\"two\">\n<figure>\n"
        SVGChart.bars(
            id: "usage", title: "Credits used by action",
            description: "Credits used by action: "
                + ordered.map { "\($0.label) \(grouped($0.credits)) credits in \(grouped($0.events)) events" }
                .joined(separator: "; ") + ".",
            groups: [SVGChart.Group(heading: nil, bars: bars)], into: &html)
        html += """

            </figure>
            <div class="wrap"><table>
            <thead><tr><th scope="col">Action</th><th scope="col" class="n">Events</th>\
            <th scope="col" class="n">Credits</th><th scope="col" class="n">Share</th></tr></thead>
            <tbody>

            """
        for line in ordered {
            html += """
                <tr><td>\(escaped: line.label)</td><td class="n">\(grouped: line.events)</td>\
                <td class="n">\(grouped: line.credits)</td><td class="n">\(percent(line.credits, of: total)) %</td></tr>

                """
        }
        let events = statement.usageByAction.reduce(Int64(0)) { $0 + $1.events }
        html += """
            <tr class="total"><td>Total</td><td class="n">\(grouped: events)</td>\
            <td class="n">\(grouped: total)</td><td class="n">100 %</td></tr>
            </tbody></table></div>
            </div>
            </section>

            """
    }

    static func expensive(_ statement: Statement, into html: inout HTMLBytes) {
        guard !statement.mostExpensiveEvents.isEmpty else { return }
        html += """
            <section>
            <h2>The \(statement.mostExpensiveEvents.count) most expensive jobs</h2>
            <div class="wrap"><table>
            <thead><tr><th scope="col">Job</th><th scope="col">When (UTC)</th>\
            <th scope="col">Action</th><th scope="col">User</th><th scope="col" class="n">Credits</th></tr></thead>
            <tbody>

            """
        for event in statement.mostExpensiveEvents {
            html += """
                <tr><td><code>\(escaped: event.eventId)</code>\(event.late ? " <small>(late)</small>" : "")</td>\
                <td>\(event.occurredAt)</td>\
                <td>\(escaped: label(event.action, statement))</td><td>\(escaped: event.user)</td>\
                <td class="n">\(grouped: event.credits)</td></tr>

                """
        }
        html += "</tbody></table></div>\n</section>\n"
    }

    static func label(_ action: String, _ statement: Statement) -> String {
        statement.usageByAction.first { $0.action == action }?.label ?? action
    }

    static func lots(_ statement: Statement, into html: inout HTMLBytes) {
        html += "<section>\n<h2>Lots after the renewal</h2>\n"
        if statement.bankLots.isEmpty && statement.topUpLots.isEmpty {
            html += "<p class=\"muted\">No banked or top-up credits.</p>\n</section>\n"
            return
        }
        html += """
            <div class="wrap"><table>
            <thead><tr><th scope="col">Lot</th><th scope="col">Banked or bought</th>\
            <th scope="col">Expires</th><th scope="col" class="n">Credits</th></tr></thead>
            <tbody>

            """
        for lot in statement.bankLots {
            let expiry = lot.expiresOn.map { "at the renewal on \($0)" } ?? "no age limit (cap applies)"
            html += """
                <tr><td>Rollover bank</td><td>\(lot.bankedOn)</td><td>\(expiry)</td>\
                <td class="n">\(grouped: lot.amount)</td></tr>

                """
        }
        for lot in statement.topUpLots {
            html += """
                <tr><td>Pack \(escaped: lot.packId.rawValue) <small>(\(escaped: lot.purchaseId.rawValue))</small></td>\
                <td>\(lot.purchasedAt.date)</td><td>\(lot.expiresAt.map { $0.date.description } ?? "never")</td>\
                <td class="n">\(grouped: lot.amount)</td></tr>

                """
        }
        let total =
            statement.bankLots.reduce(Int64(0)) { $0 + $1.amount } + statement.topUpLots.reduce(0) { $0 + $1.amount }
        html += "<tr class=\"total\"><td colspan=\"3\">Total</td><td class=\"n\">\(grouped: total)</td></tr>\n"
        html += "</tbody></table></div>\n</section>\n"
    }

    static func invoices(_ statement: Statement, into html: inout HTMLBytes) {
        html += "<section>\n<h2>Invoices in the period</h2>\n"
        guard !statement.invoices.isEmpty else {
            html += "<p class=\"muted\">No invoice or credit note was issued in this period.</p>\n</section>\n"
            return
        }
        html += """
            <div class="wrap"><table>
            <thead><tr><th scope="col">Number</th><th scope="col">Kind</th>\
            <th scope="col">Date</th><th scope="col" class="n">Net</th><th scope="col" class="n">Tax</th>\
            <th scope="col" class="n">Total</th></tr></thead>
            <tbody>

            """
        for invoice in statement.invoices {
            let kind = invoice.kind == "credit_note" ? "Credit note" : "Invoice"
            html += """
                <tr><td><a href="../../invoices/\(escaped: invoice.number).xml">\(escaped: invoice.number)</a></td>\
                <td>\(kind)</td><td>\(invoice.issueDate)</td><td class="n">\(groupedDecimal(invoice.net))</td>\
                <td class="n">\(groupedDecimal(invoice.tax))</td>\
                <td class="n">\(groupedDecimal(invoice.total)) \(escaped: invoice.currency)</td></tr>

                """
        }
        html += "</tbody></table></div>\n</section>\n"
    }
}
