import Invoicing

/// What the close report shows, gathered from the ledger by `OutputWriter`.
struct CloseReportData {
    var run: Ledger.RunInfo
    var periods: [PeriodRecord]
    var documents: [Document]
    var rejected: [RejectedRow]
    /// Org id → name, for people.
    var orgNames: [String: String]
    /// Document number → the plan in effect at its issue date (the plan of the org's last
    /// renewal on or before it).
    var documentPlans: [String: String]
    /// Plan id → name.
    var planNames: [String: String]
    var ledgerFingerprint: String
}

/// The close at a glance, for the controller who signs it off: totals by plan and currency
/// with charts, the orgs to look at, rejected rows by reason, the row accounting, links to
/// every file, and fingerprints of the inputs and the ledger.
enum ReportHTML {
    static func render(_ data: CloseReportData) -> String {
        let run = data.run
        let invoices = data.documents.filter { $0.kind == .invoice }.count
        let creditNotes = data.documents.count - invoices
        let used = data.periods.reduce(Int64(0)) { $0 + $1.usageCredits }
        let expired = data.periods.reduce(Int64(0)) { $0 + $1.expiredCap + $1.expiredAge + $1.expiredTopUp }
        let overdrawn = data.periods.reduce(Int64(0)) { $0 + $1.overdraft }
        let orgs = Set(data.periods.map(\.orgId)).count
        var body = """
            <header class="top">
            <p class="kicker">Close report</p>
            <h1>Close through \(run.through)</h1>
            <ul class="meta">
            <li><span>Run</span> \(run.id)</li>
            <li><span>Horizon</span> \(run.horizon)</li>
            <li><span>Previous horizon</span> \(run.previousHorizon?.description ?? "none (first close)")</li>
            </ul>
            </header>
            <section>
            <div class="cards">

            """
        body += StatementHTML.card("Periods closed", Int64(data.periods.count), note: counted(orgs, "org", "orgs"))
        body += StatementHTML.card(
            "Documents issued", Int64(data.documents.count),
            note: counted(invoices, "invoice", "invoices") + ", " + counted(creditNotes, "credit note", "credit notes"))
        body += StatementHTML.card("Credits used", used, note: "\(grouped(overdrawn)) overdrawn")
        body += StatementHTML.card("Credits expired", expired, note: "by cap, age and top-up expiry")
        body += StatementHTML.card(
            "Rows rejected", Int64(data.rejected.count), note: "see rejected.csv",
            tone: data.rejected.isEmpty ? nil : "warn")
        body += "</div>\n</section>\n"
        body += fingerprints(data)
        body += creditsByPlan(data)
        body += money(data)
        body += orgsToWatch(data)
        body += rejectedRows(data)
        body += accounting(data)
        body += warnings(data)
        body += statementLinks(data)
        body += documentLinks(data)
        body += """
            <footer>Rendered from the ledger for run \(run.id). Credits are grouped by plan_id as in \
            period-summary.csv (the plan in effect from the renewal that closed the period); documents by the \
            plan of the org's last renewal on or before their issue date.</footer>

            """
        return HTMLPage.render(title: "Close through \(run.through)", body: body)
    }

    static func fingerprints(_ data: CloseReportData) -> String {
        """
        <section>
        <h2>Fingerprints</h2>
        <p>Two people who see the same two lines looked at the same close.</p>
        <div class="wrap"><table>
        <tbody>
        <tr><th scope="row">Inputs</th><td class="fingerprint">\(htmlEscape(data.run.report.inputFingerprint))</td></tr>
        <tr><th scope="row">Ledger</th><td class="fingerprint">\(htmlEscape(data.ledgerFingerprint))</td></tr>
        </tbody></table></div>
        <p class="muted">Inputs: a hash over every row the close read, with the row count. Ledger: SHA-256 over \
        this run's stored rows (the run, its periods, documents, rejected rows and queue).</p>
        </section>

        """
    }

    // MARK: Credits

    struct PlanTotals {
        var periods: Int64 = 0
        var granted: Int64 = 0
        var used: Int64 = 0
        var overdrawn: Int64 = 0
        var rolled: Int64 = 0
        var expiredCap: Int64 = 0
        var expiredAge: Int64 = 0
        var expiredTopUp: Int64 = 0

        mutating func add(_ period: PeriodRecord) {
            periods += 1
            granted += period.freshCredits + period.prorationCredits + period.topUpCredits
            used += period.usageCredits
            overdrawn += period.overdraft
            rolled += period.rolledOver
            expiredCap += period.expiredCap
            expiredAge += period.expiredAge
            expiredTopUp += period.expiredTopUp
        }

        var cells: [Int64] { [periods, granted, used, overdrawn, rolled, expiredCap, expiredAge, expiredTopUp] }
    }

    static func creditsByPlan(_ data: CloseReportData) -> String {
        var byPlan: [String: PlanTotals] = [:]
        var all = PlanTotals()
        for period in data.periods {
            byPlan[period.planId.rawValue, default: PlanTotals()].add(period)
            all.add(period)
        }
        let plans = byPlan.keys.sorted(by: utf8Less)
        var html = "<section>\n<h2>Credits by plan</h2>\n"
        guard !plans.isEmpty else { return html + "<p class=\"muted\">No period was closed.</p>\n</section>\n" }
        html +=
            "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Plan</th>"
            + [
                "Periods", "Granted", "Used", "Overdrawn", "Rolled over", "Expired (cap)", "Expired (age)",
                "Top-ups expired",
            ].map { "<th scope=\"col\" class=\"n\">\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for plan in plans {
            html += "<tr><td>\(htmlEscape(data.planNames[plan] ?? plan))</td>"
            html += byPlan[plan]!.cells.map { "<td class=\"n\">\(grouped($0))</td>" }.joined() + "</tr>\n"
        }
        html +=
            "<tr class=\"total\"><td>All plans</td>" + all.cells.map { "<td class=\"n\">\(grouped($0))</td>" }.joined()
            + "</tr>\n</tbody></table></div>\n"
        typealias Palette = SVGChart.Palette
        let legend = [
            SVGChart.Segment(name: "Used", value: 0, color: Palette.usage),
            SVGChart.Segment(name: "Overdrawn", value: 0, color: Palette.deficit),
            SVGChart.Segment(name: "Rolled", value: 0, color: Palette.bank),
            SVGChart.Segment(name: "Expired", value: 0, color: Palette.expiry),
        ]
        let groups = plans.map { plan in
            let totals = byPlan[plan]!
            let expired = totals.expiredCap + totals.expiredAge + totals.expiredTopUp
            return SVGChart.Group(
                heading: "\(data.planNames[plan] ?? plan) (\(totals.periods) periods)",
                bars: [
                    SVGChart.Bar(
                        label: "Granted", valueText: grouped(totals.granted),
                        segments: [SVGChart.Segment(name: "Granted", value: totals.granted, color: Palette.grant)]),
                    SVGChart.Bar(
                        label: "Used, rolled and expired", valueText: grouped(totals.used + totals.rolled + expired),
                        segments: [
                            SVGChart.Segment(name: "used", value: totals.used - totals.overdrawn, color: Palette.usage),
                            SVGChart.Segment(name: "overdrawn", value: totals.overdrawn, color: Palette.deficit),
                            SVGChart.Segment(name: "rolled over", value: totals.rolled, color: Palette.bank),
                            SVGChart.Segment(name: "expired", value: expired, color: Palette.expiry),
                        ]),
                ])
        }
        let description =
            "Credits by plan: "
            + plans.map { plan in
                let t = byPlan[plan]!
                return "\(data.planNames[plan] ?? plan): granted \(grouped(t.granted)), used \(grouped(t.used)) "
                    + "of which overdrawn \(grouped(t.overdrawn)), rolled over \(grouped(t.rolled)), expired "
                    + "\(grouped(t.expiredCap + t.expiredAge + t.expiredTopUp))"
            }.joined(separator: "; ") + "."
        html += "<figure>\n"
        html += SVGChart.bars(
            id: "plans", title: "Credits granted and where they went, by plan", description: description,
            legend: legend, groups: groups)
        html +=
            "\n<figcaption>One scale for all plans. Rolled-over credits stay in the banks; "
            + "expired ones are lost to the cap, to age or with their pack.</figcaption>\n</figure>\n"
        return html + "</section>\n"
    }

    // MARK: Money

    struct MoneyTotals {
        var invoices: Int64 = 0
        var creditNotes: Int64 = 0
        var invoiced: Int64 = 0
        var credited: Int64 = 0
        var tax: Int64 = 0
        var net: Int64 = 0

        mutating func add(_ document: Document) {
            if document.kind == .invoice {
                invoices += 1
                invoiced += document.totalMinor
                tax += document.taxMinor
                net += document.netMinor
            } else {
                creditNotes += 1
                credited += document.totalMinor
                tax -= document.taxMinor
                net -= document.netMinor
            }
        }
    }

    static func money(_ data: CloseReportData) -> String {
        var byCurrency: [String: MoneyTotals] = [:]
        var byPlan: [String: MoneyTotals] = [:]
        for document in data.documents {
            byCurrency[document.currencyCode, default: MoneyTotals()].add(document)
            let plan = data.documentPlans[document.number] ?? ""
            byPlan[plan + "\u{1F}" + document.currencyCode, default: MoneyTotals()].add(document)
        }
        var html = "<section>\n<h2>Money by currency</h2>\n"
        guard !byCurrency.isEmpty else { return html + "<p class=\"muted\">No document was issued.</p>\n</section>\n" }
        func amount(_ minor: Int64, _ code: String) -> String {
            groupedDecimal(DecimalText.format(minor, scale: Currency(code: code)?.exponent ?? 2))
        }
        let header =
            ["Invoices", "Credit notes", "Invoiced", "Credited", "Net revenue", "Tax"].map {
                "<th scope=\"col\" class=\"n\">\($0)</th>"
            }.joined()
        func cells(_ totals: MoneyTotals, _ code: String) -> String {
            "<td class=\"n\">\(grouped(totals.invoices))</td><td class=\"n\">\(grouped(totals.creditNotes))</td>"
                + [totals.invoiced, totals.credited, totals.net, totals.tax].map {
                    "<td class=\"n\">\(amount($0, code))</td>"
                }.joined()
        }
        let currencies = byCurrency.keys.sorted(by: utf8Less)
        html +=
            "<p class=\"muted\">Invoiced and credited are totals with tax; net revenue and tax are invoices "
            + "less credit notes.</p>\n<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Currency</th>"
            + header + "</tr></thead>\n<tbody>\n"
        for code in currencies {
            html += "<tr><td>\(htmlEscape(code))</td>\(cells(byCurrency[code]!, code))</tr>\n"
        }
        html += "</tbody></table></div>\n<h3>By plan and currency</h3>\n"
        html +=
            "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Plan</th><th scope=\"col\">Currency</th>"
            + header + "</tr></thead>\n<tbody>\n"
        for key in byPlan.keys.sorted(by: utf8Less) {
            let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            let planName = parts[0].isEmpty ? "(unknown)" : data.planNames[parts[0]] ?? parts[0]
            html +=
                "<tr><td>\(htmlEscape(planName))</td><td>\(htmlEscape(parts[1]))</td>"
                + "\(cells(byPlan[key]!, parts[1]))</tr>\n"
        }
        html += "</tbody></table></div>\n"
        let groups = currencies.map { code in
            let totals = byCurrency[code]!
            let bars: [(String, Int64, String)] = [
                ("Invoiced", totals.invoiced, SVGChart.Palette.grant),
                ("Credited", totals.credited, SVGChart.Palette.deficit),
                ("Tax", max(0, totals.tax), SVGChart.Palette.current),
            ]
            return SVGChart.Group(
                heading: code,
                bars: bars.map { label, value, color in
                    SVGChart.Bar(
                        label: label, valueText: "\(amount(value, code)) \(code)",
                        segments: [SVGChart.Segment(name: label, value: value, color: color)])
                })
        }
        let description =
            "Money by currency: "
            + currencies.map { code in
                let t = byCurrency[code]!
                return "\(code): invoiced \(amount(t.invoiced, code)), credited \(amount(t.credited, code)), "
                    + "tax \(amount(t.tax, code))"
            }.joined(separator: "; ") + "."
        html += "<figure>\n"
        html += SVGChart.bars(
            id: "money", title: "Invoiced, credited and tax by currency", description: description, groups: groups,
            scalePerGroup: true)
        html += "\n<figcaption>Each currency has its own scale.</figcaption>\n</figure>\n"
        return html + "</section>\n"
    }

    // MARK: Orgs

    static func orgsToWatch(_ data: CloseReportData) -> String {
        var overdrawn: [String: (credits: Int64, billed: Int64)] = [:]
        var expired: [String: (cap: Int64, age: Int64, topUp: Int64)] = [:]
        var latest: [String: String] = [:]
        for period in data.periods {
            let org = period.orgId.rawValue
            latest[org] = period.periodEnd.description
            if period.overdraft > 0 {
                overdrawn[org, default: (0, 0)].credits += period.overdraft
                overdrawn[org, default: (0, 0)].billed += period.overageBilled
            }
            if period.expiredCap + period.expiredAge + period.expiredTopUp > 0 {
                expired[org, default: (0, 0, 0)].cap += period.expiredCap
                expired[org, default: (0, 0, 0)].age += period.expiredAge
                expired[org, default: (0, 0, 0)].topUp += period.expiredTopUp
            }
        }
        func orgCell(_ org: String) -> String {
            let link = "../../statements/\(org)/\(latest[org] ?? "").html"
            return "<td><a href=\"\(htmlEscape(link))\">\(htmlEscape(data.orgNames[org] ?? org))</a> "
                + "<small class=\"muted\">\(htmlEscape(org))</small></td>"
        }
        var html = "<section>\n<h2>Orgs to look at</h2>\n<h3>Overdrew the most</h3>\n"
        let topOverdrawn = overdrawn.keys.sorted {
            (overdrawn[$1]!.credits, $0) < (overdrawn[$0]!.credits, $1)
        }.prefix(10)
        if topOverdrawn.isEmpty {
            html += "<p class=\"muted\">No org overdrew.</p>\n"
        } else {
            html +=
                "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Org</th><th scope=\"col\" class=\"n\">Overdrawn</th>"
                + "<th scope=\"col\" class=\"n\">Billed as overage</th></tr></thead>\n<tbody>\n"
            for org in topOverdrawn {
                html +=
                    "<tr>\(orgCell(org))<td class=\"n\">\(grouped(overdrawn[org]!.credits))</td>"
                    + "<td class=\"n\">\(grouped(overdrawn[org]!.billed))</td></tr>\n"
            }
            html += "</tbody></table></div>\n"
        }
        html += "<h3>Lost the most to expiry</h3>\n"
        func lost(_ org: String) -> Int64 { expired[org]!.cap + expired[org]!.age + expired[org]!.topUp }
        let topExpired = expired.keys.sorted { (lost($1), $0) < (lost($0), $1) }.prefix(10)
        if topExpired.isEmpty {
            html += "<p class=\"muted\">No credits expired.</p>\n"
        } else {
            html +=
                "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Org</th><th scope=\"col\" class=\"n\">Expired</th>"
                + "<th scope=\"col\" class=\"n\">by cap</th><th scope=\"col\" class=\"n\">by age</th>"
                + "<th scope=\"col\" class=\"n\">top-ups</th></tr></thead>\n<tbody>\n"
            for org in topExpired {
                let entry = expired[org]!
                html +=
                    "<tr>\(orgCell(org))<td class=\"n\">\(grouped(lost(org)))</td><td class=\"n\">\(grouped(entry.cap))</td>"
                    + "<td class=\"n\">\(grouped(entry.age))</td><td class=\"n\">\(grouped(entry.topUp))</td></tr>\n"
            }
            html += "</tbody></table></div>\n"
        }
        return html + "</section>\n"
    }

    // MARK: Rows

    static func rejectedRows(_ data: CloseReportData) -> String {
        var html = "<section>\n<h2>Rejected rows</h2>\n"
        guard !data.rejected.isEmpty else { return html + "<p class=\"muted\">No row was rejected.</p>\n</section>\n" }
        var groups: [Rejection.Reason: [RejectedRow]] = [:]
        for row in data.rejected { groups[row.rejection.reason, default: []].append(row) }
        let reasons = groups.keys.sorted {
            (groups[$1]!.count, $0.rawValue) < (groups[$0]!.count, $1.rawValue)
        }
        html +=
            "<p>\(grouped(Int64(data.rejected.count))) rows in \(reasons.count) reasons; every row is in "
            + "<a href=\"rejected.csv\">rejected.csv</a>. Up to three examples per reason:</p>\n"
        html +=
            "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Reason</th><th scope=\"col\" class=\"n\">Rows</th>"
            + "<th scope=\"col\">Examples (file:line, detail, row)</th></tr></thead>\n<tbody>\n"
        for reason in reasons {
            let rows = groups[reason]!
            let examples = rows.prefix(3).map { row in
                "<li><code>\(htmlEscape(row.sourceFile)):\(row.lineNumber)</code> \(htmlEscape(row.rejection.detail))"
                    + "<br /><code class=\"muted raw\">\(htmlEscape(SVGChart.shortened(row.raw, limit: 120)))</code></li>"
            }.joined()
            html +=
                "<tr><td><code class=\"nowrap\">\(htmlEscape(reason.rawValue))</code></td><td class=\"n\">\(grouped(Int64(rows.count)))</td>"
                + "<td><ul class=\"links\">\(examples)</ul></td></tr>\n"
        }
        return html + "</tbody></table></div>\n</section>\n"
    }

    static func accounting(_ data: CloseReportData) -> String {
        var html =
            "<section>\n<h2>Rows per input file</h2>\n<p>Every row read is applied, a duplicate, rejected or "
            + "pending (dated after the close).</p>\n<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">File</th>"
            + ["Read", "Applied", "Duplicates", "Rejected", "Pending"].map {
                "<th scope=\"col\" class=\"n\">\($0)</th>"
            }
            .joined() + "<th scope=\"col\">Adds up</th></tr></thead>\n<tbody>\n"
        var total = RowCounts()
        for (file, counts) in zip(data.run.report.files, data.run.report.counts) {
            html += "<tr><td><code>\(htmlEscape(file))</code></td>" + countCells(counts) + "</tr>\n"
            total.read += counts.read
            total.applied += counts.applied
            total.duplicates += counts.duplicates
            total.rejected += counts.rejected
            total.pending += counts.pending
        }
        html += "<tr class=\"total\"><td>All files</td>" + countCells(total) + "</tr>\n"
        return html + "</tbody></table></div>\n</section>\n"
    }

    static func countCells(_ counts: RowCounts) -> String {
        [counts.read, counts.applied, counts.duplicates, counts.rejected, counts.pending].map {
            "<td class=\"n\">\(grouped(Int64($0)))</td>"
        }.joined() + (counts.balances ? "<td class=\"yes\">yes</td>" : "<td class=\"no\">NO</td>")
    }

    static func warnings(_ data: CloseReportData) -> String {
        guard !data.run.report.documentWarnings.isEmpty else { return "" }
        var html =
            "<section>\n<h2>Documents that need attention</h2>\n<p>Issued, because the sale happened, but their "
            + "data breaks an e-invoice rule until orgs.csv is corrected.</p>\n<ul>\n"
        for warning in data.run.report.documentWarnings { html += "<li>\(htmlEscape(warning))</li>\n" }
        return html + "</ul>\n</section>\n"
    }

    // MARK: Links

    static func statementLinks(_ data: CloseReportData) -> String {
        var html = "<section>\n<h2>Statements</h2>\n"
        guard !data.periods.isEmpty else { return html + "<p class=\"muted\">None.</p>\n</section>\n" }
        var ends: [String: [String]] = [:]
        for period in data.periods { ends[period.orgId.rawValue, default: []].append(period.periodEnd.description) }
        html +=
            "<div class=\"wrap\"><table>\n<thead><tr><th scope=\"col\">Org</th><th scope=\"col\">Periods closed "
            + "(renewal dates)</th></tr></thead>\n<tbody>\n"
        for org in ends.keys.sorted(by: utf8Less) {
            let links = ends[org]!.map { end in
                "<a href=\"\(htmlEscape("../../statements/\(org)/\(end).html"))\">\(end)</a>"
            }.joined(separator: " ")
            html +=
                "<tr><td>\(htmlEscape(data.orgNames[org] ?? org)) <small class=\"muted\">\(htmlEscape(org))</small></td>"
                + "<td>\(links)</td></tr>\n"
        }
        return html + "</tbody></table></div>\n</section>\n"
    }

    static func documentLinks(_ data: CloseReportData) -> String {
        guard !data.documents.isEmpty else {
            return "<section>\n<h2>Documents</h2>\n<p class=\"muted\">None.</p>\n</section>\n"
        }
        // A row per document of the close (tens of thousands): written as bytes, and the
        // documents sorted by position rather than moved.
        var html = HTMLBytes(capacity: 64 * 1024)
        html += """
            <section>
            <h2>Documents</h2>
            <p>Also in <a href="invoices.csv">invoices.csv</a> and, as journal lines, \
            <a href="journal.csv">journal.csv</a>.</p>
            <div class="wrap"><table>
            <thead><tr><th scope="col">Number</th><th scope="col">Kind</th>\
            <th scope="col">Org</th><th scope="col">Date</th><th scope="col" class="n">Net</th>\
            <th scope="col" class="n">Tax</th><th scope="col" class="n">Total</th></tr></thead>
            <tbody>

            """
        let documents = data.documents
        let order = documents.indices.sorted { utf8Less(documents[$0].number, documents[$1].number) }
        for index in order {
            let document = documents[index]
            let scale = document.currency.exponent
            let kind = document.kind == .invoice ? "Invoice" : "Credit note"
            html += """
                <tr><td><a href="../../invoices/\(escaped: document.number).xml">\(escaped: document.number)</a></td>\
                <td>\(kind)</td><td>\(escaped: data.orgNames[document.orgId] ?? document.orgId)</td>\
                <td>\(document.issueDate)</td>\
                <td class="n">\(groupedDecimal(DecimalText.format(document.netMinor, scale: scale)))</td>\
                <td class="n">\(groupedDecimal(DecimalText.format(document.taxMinor, scale: scale)))</td>\
                <td class="n">\(groupedDecimal(DecimalText.format(document.totalMinor, scale: scale))) \
                \(escaped: document.currencyCode)</td></tr>

                """
        }
        html += "</tbody></table></div>\n</section>\n"
        return html.string
    }
}
