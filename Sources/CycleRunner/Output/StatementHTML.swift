import Invoicing

/// The statement for a person: self-contained (inline CSS, no script, no network) and
/// printable on A4.
enum StatementHTML {
    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1d2330;max-width:60rem}
        h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #d8dde6}
        table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{padding:.25rem .5rem;border-bottom:1px solid #eef0f4;text-align:left}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#5c6577}
        .cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #d8dde6;border-radius:.4rem;padding:.5rem .8rem;min-width:9rem}
        .card b{display:block;font-size:1.2rem}.flag{background:#fff4e5;border-left:4px solid #e8a33d;padding:.4rem .7rem;margin:.3rem 0}
        @media print{@page{size:A4;margin:14mm}body{margin:0}}
        """

    static func render(_ statement: Statement) -> String {
        let s = statement.summary
        func value(_ key: String) -> String { grouped(s[key] ?? 0) }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>Statement \(htmlEscape(statement.orgId)) \(statement.periodStart) to \(statement.periodEnd)</title>
            <style>\(style)</style></head><body>
            <h1>\(htmlEscape(statement.orgName))</h1>
            <p class="muted">Org \(htmlEscape(statement.orgId)) · period \(statement.periodStart) to \(statement.periodEnd) · plan from \(statement.periodEnd): \(htmlEscape(statement.plan))</p>
            <h2>Balances after the renewal on \(statement.periodEnd)</h2>
            <div class="cards"><div class="card">Current Credits<b>\(value("next_current"))</b></div>
            <div class="card">Rollover Bank<b>\(value("next_bank"))</b></div>
            <div class="card">Top-up credits<b>\(value("next_topup"))</b></div>
            <div class="card">Deficit<b>\(value("next_deficit"))</b></div></div>

            """
        html += "<h2>Flags</h2>\n"
        var anyFlag = false
        if statement.flags.overdraft {
            anyFlag = true
            html +=
                "<p class=\"flag\">Overdraft: \(value("overdraft")) credits were used beyond all balances. "
                + "Consider a larger plan or a credit pack.</p>\n"
        }
        if statement.flags.bankBelowBuffer {
            anyFlag = true
            html +=
                "<p class=\"flag\">The Rollover Bank is below 10 % of the monthly credits: "
                + "keep a buffer for last-minute renders.</p>\n"
        }
        if statement.flags.eventsWithoutPermission > 0 {
            anyFlag = true
            html +=
                "<p class=\"flag\">\(grouped(statement.flags.eventsWithoutPermission)) events were started by "
                + "members without the Use Credits permission.</p>\n"
        }
        if !anyFlag { html += "<p class=\"muted\">Nothing to flag.</p>\n" }
        html += "<h2>Credit movements</h2>\n<table>\n"
        let rows: [(String, String)] = [
            ("Opening current", "opening_current"), ("Opening bank", "opening_bank"),
            ("Opening top-up", "opening_topup"), ("Opening deficit", "opening_deficit"),
            ("Usage events", "usage_events"), ("Credits used", "usage_credits"),
            ("  from current", "from_current"), ("  from bank", "from_bank"), ("  from top-ups", "from_topup"),
            ("  overdrawn", "overdraft"), ("Proration credits", "proration_credits"),
            ("Top-up credits bought", "topup_credits"), ("Deficit repaid", "deficit_repaid"),
            ("Top-up credits expired", "expired_topup"), ("Top-up credits refunded", "refunded_credits"),
            ("Closing current", "closing_current"), ("Closing bank", "closing_bank"),
            ("Closing top-up", "closing_topup"), ("Closing deficit", "closing_deficit"),
            ("Expired by age", "expired_age"), ("Rolled over", "rolled_over"), ("Expired by cap", "expired_cap"),
            ("Fresh credits", "fresh_credits"), ("Deficit settled", "deficit_settled"),
            ("Overage billed", "overage_billed"), ("Late events", "late_events"),
        ]
        for (label, key) in rows {
            html += "<tr><td>\(htmlEscape(label))</td><td class=\"n\">\(value(key))</td></tr>\n"
        }
        html += "</table>\n<h2>Usage by action</h2>\n"
        html += "<table><tr><th>Action</th><th class=\"n\">Events</th><th class=\"n\">Credits</th></tr>\n"
        for line in statement.usageByAction {
            html +=
                "<tr><td>\(htmlEscape(line.label))</td><td class=\"n\">\(grouped(line.events))</td>"
                + "<td class=\"n\">\(grouped(line.credits))</td></tr>\n"
        }
        html +=
            "</table>\n<h2>Lots after the renewal</h2>\n<table><tr><th>Lot</th><th>Date</th><th>Expires</th>"
            + "<th class=\"n\">Credits</th></tr>\n"
        for lot in statement.bankLots {
            html +=
                "<tr><td>Rollover bank</td><td>\(lot.bankedOn)</td><td></td>"
                + "<td class=\"n\">\(grouped(lot.amount))</td></tr>\n"
        }
        for lot in statement.topUpLots {
            html +=
                "<tr><td>Pack \(htmlEscape(lot.packId.rawValue)) (\(htmlEscape(lot.purchaseId.rawValue)))</td>"
                + "<td>\(lot.purchasedAt.date)</td><td>\(lot.expiresAt.map { $0.date.description } ?? "never")</td>"
                + "<td class=\"n\">\(grouped(lot.amount))</td></tr>\n"
        }
        html +=
            "</table>\n<h2>Most expensive events</h2>\n<table><tr><th>Event</th><th>When</th><th>Action</th>"
            + "<th>User</th><th class=\"n\">Credits</th></tr>\n"
        for event in statement.mostExpensiveEvents {
            html +=
                "<tr><td>\(htmlEscape(event.eventId))\(event.late ? " (late)" : "")</td><td>\(event.occurredAt)</td>"
                + "<td>\(htmlEscape(event.action))</td><td>\(htmlEscape(event.user))</td>"
                + "<td class=\"n\">\(grouped(event.credits))</td></tr>\n"
        }
        html +=
            "</table>\n<h2>Invoices in the period</h2>\n<table><tr><th>Number</th><th>Kind</th><th>Date</th>"
            + "<th class=\"n\">Total</th></tr>\n"
        for invoice in statement.invoices {
            html +=
                "<tr><td>\(htmlEscape(invoice.number))</td><td>\(invoice.kind)</td><td>\(invoice.issueDate)</td>"
                + "<td class=\"n\">\(invoice.total) \(invoice.currency)</td></tr>\n"
        }
        html += "</table>\n</body></html>\n"
        return html
    }
}
