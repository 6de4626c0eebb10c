import Invoicing

/// One org's rows summed, for "the orgs that change most".
struct OrgDifference {
    var orgId: OrgID
    var currencyCode: String
    var baselinePlan: PlanID
    var scenarioPlan: PlanID
    var baseline = MeasureValues()
    var scenario = MeasureValues()

    func difference(_ measure: WhatIfMeasure) -> Int64 { scenario[measure] - baseline[measure] }
    var expiredDifference: Int64 { difference(.expiredCap) + difference(.expiredAge) }
    /// How much the org's credits move, for ranking orgs whose money does not change.
    var creditMovement: Int64 {
        abs(expiredDifference) + abs(difference(.overdraft)) + abs(difference(.rolledOver))
            + abs(difference(.overageBilled))
    }

    static func all(_ rows: [ComparisonRow]) -> [OrgDifference] {
        var result: [OrgDifference] = []
        for row in rows {
            if result.last?.orgId != row.orgId {
                result.append(
                    OrgDifference(
                        orgId: row.orgId, currencyCode: row.currencyCode, baselinePlan: row.baselinePlan,
                        scenarioPlan: row.scenarioPlan))
            }
            // Rows come per org in period order, so the last row gives the latest plan.
            result[result.count - 1].baselinePlan = row.baselinePlan
            result[result.count - 1].scenarioPlan = row.scenarioPlan
            result[result.count - 1].baseline.add(row.baseline)
            result[result.count - 1].scenario.add(row.scenario)
        }
        return result
    }
}

/// Numbers as people read them: grouped digits, signed differences, money with its currency.
enum WhatIfFormat {
    /// "1234567" → "1,234,567".
    static func groupDigits(_ digits: Substring) -> String {
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return result
    }

    static func money(_ minor: Int64, _ code: String) -> String {
        let text = DecimalText.format(minor, scale: Currency(code: code)?.exponent ?? 2)
        let unsigned = text.drop { $0 == "-" }
        let parts = unsigned.split(separator: ".", maxSplits: 1)
        var result = groupDigits(parts[0])
        if parts.count == 2 { result += "." + parts[1] }
        return (minor < 0 ? "−" : "") + result
    }

    static func signedMoney(_ minor: Int64, _ code: String) -> String {
        (minor > 0 ? "+" : minor == 0 ? "±" : "") + money(minor, code)
    }

    static func credits(_ value: Int64) -> String {
        (value < 0 ? "−" : "") + groupDigits(Substring(String(value.magnitude)))
    }

    static func signedCredits(_ value: Int64) -> String { (value > 0 ? "+" : value == 0 ? "±" : "") + credits(value) }
}

/// report.html: for a pricing manager, the headline differences first, then the orgs that
/// change most, then the months and plans. Self-contained: inline CSS and SVG, no script;
/// every text from the inputs or the scenario is escaped.
enum WhatIfReport {
    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1d2330;max-width:62rem}
        h1{font-size:1.45rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #d8dde6}
        h3{font-size:.98rem;margin:1rem 0 .3rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{padding:.25rem .5rem;border-bottom:1px solid #eef0f4;text-align:left}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.muted{color:#525b6b}
        .draft{background:#fff4e5;border-left:4px solid #b35c00;padding:.4rem .7rem;margin:.5rem 0}
        .cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #d8dde6;border-radius:.4rem;padding:.5rem .8rem;min-width:11rem}
        .card b{display:block;font-size:1.25rem}.up{color:#0b6b2f}.down{color:#a8201a}
        svg{max-width:100%;height:auto}svg text{font-size:11px;fill:#1d2330}.s0{fill:#8d98a8}.s1{fill:#1f6fb2}
        .axis{stroke:#5c6577;stroke-width:1}.grid{stroke:#e3e7ee;stroke-width:1}
        @media print{@page{size:A4;margin:14mm}body{margin:0}}
        """

    static func render(_ result: WhatIfResult) -> String {
        let name = htmlEscape(result.scenario.name)
        let comparison = result.comparison
        let orgs = OrgDifference.all(comparison.rows)
        let changed = orgs.filter { $0.baseline != $0.scenario || $0.baselinePlan != $0.scenarioPlan }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>What-if \(name) through \(result.through)</title><style>\(style)</style></head><body>
            <h1>What-if: \(name)</h1>
            <p class="draft"><strong>Draft.</strong> A replay of the whole history through \(result.through), once as the \
            inputs are (baseline) and once with the scenario. Nothing here is booked: the ledger was not opened and no \
            invoice number was used.</p>

            """
        if let description = result.scenario.description {
            html += "<p>\(htmlEscape(description))</p>\n"
        }
        html += "<h2>What the scenario changes</h2>\n<ul>\n"
        if result.changes.isEmpty { html += "<li>Nothing: the scenario is the baseline.</li>\n" }
        for change in result.changes { html += "<li>\(htmlEscape(change))</li>\n" }
        html += "</ul>\n"
        if !result.warnings.isEmpty {
            html += "<p class=\"draft\">Scenario plan changes the engine refused (they change nothing):</p>\n<ul>\n"
            for warning in result.warnings { html += "<li>\(htmlEscape(warning))</li>\n" }
            html += "</ul>\n"
        }
        html += headline(result, orgs: orgs, changed: changed)
        html += mostChanged(changed)
        html += months(result)
        html += plans(comparison)
        html +=
            "<p class=\"muted\">Every org and period: <a href=\"comparison.csv\">comparison.csv</a>; "
            + "sums by plan and currency: <a href=\"totals.csv\">totals.csv</a>. Money is in minor units there "
            + "and never added across currencies.</p>\n</body></html>\n"
        return html
    }

    /// Classes of a money difference cell: green for more invoiced, red for less. The sign is
    /// always written too, so the colour is never the only carrier of the meaning. Credit
    /// differences stay uncoloured: more expired credits are neither good nor bad by colour.
    static func moneyClass(_ value: Int64) -> String { value > 0 ? "n up" : value < 0 ? "n down" : "n" }

    static func headline(_ result: WhatIfResult, orgs: [OrgDifference], changed: [OrgDifference]) -> String {
        let totals = result.comparison.totals
        guard let all = totals.first(where: { $0.group == .all }) else { return "" }
        let currencies = totals.filter { $0.group == .currency }
        var html = "<h2>Headline</h2>\n<div class=\"cards\">\n"
        html +=
            "<div class=\"card\">Orgs that change<b>\(grouped(Int64(changed.count)))</b>"
            + "<span class=\"muted\">of \(grouped(Int64(orgs.count)))</span></div>\n"
        for total in currencies where total.difference(.netInvoicedMinor) != 0 || currencies.count == 1 {
            let code = total.currencyCode ?? ""
            let difference = total.difference(.netInvoicedMinor)
            html +=
                "<div class=\"card\">Net invoiced, \(htmlEscape(code))<b class=\"\(moneyClass(difference))\">"
                + "\(WhatIfFormat.signedMoney(difference, code))</b><span class=\"muted\">"
                + "\(WhatIfFormat.money(total.baseline[.netInvoicedMinor], code)) → "
                + "\(WhatIfFormat.money(total.scenario[.netInvoicedMinor], code))</span></div>\n"
        }
        let expiredBase = all.baseline[.expiredCap] + all.baseline[.expiredAge]
        let expiredScenario = all.scenario[.expiredCap] + all.scenario[.expiredAge]
        for (label, base, scenario) in [
            ("Credits expired", expiredBase, expiredScenario),
            ("Credits overdrawn", all.baseline[.overdraft], all.scenario[.overdraft]),
        ] {
            html +=
                "<div class=\"card\">\(label)<b>\(WhatIfFormat.signedCredits(scenario - base))</b>"
                + "<span class=\"muted\">\(WhatIfFormat.credits(base)) → \(WhatIfFormat.credits(scenario))</span></div>\n"
        }
        html += "</div>\n"
        html +=
            "<table><caption class=\"muted\">All orgs and periods through \(result.through)</caption>\n"
            + "<tr><th scope=\"col\">Measure</th><th class=\"n\" scope=\"col\">Baseline</th>"
            + "<th class=\"n\" scope=\"col\">Scenario</th><th class=\"n\" scope=\"col\">Difference</th></tr>\n"
        let creditRows: [(String, WhatIfMeasure)] = [
            ("Credits used", .usageCredits), ("Rolled over", .rolledOver), ("Expired by cap", .expiredCap),
            ("Expired by age", .expiredAge), ("Overdrawn", .overdraft), ("Billed as overage", .overageBilled),
        ]
        for (label, measure) in creditRows {
            let difference = all.difference(measure)
            html +=
                "<tr><th scope=\"row\">\(label) (credits)</th><td class=\"n\">\(WhatIfFormat.credits(all.baseline[measure]))</td>"
                + "<td class=\"n\">\(WhatIfFormat.credits(all.scenario[measure]))</td>"
                + "<td class=\"n\">\(WhatIfFormat.signedCredits(difference))</td></tr>\n"
        }
        for total in currencies {
            let code = total.currencyCode ?? ""
            for (label, measure) in [
                ("Net invoiced", WhatIfMeasure.netInvoicedMinor), ("Total with tax", .totalInvoicedMinor),
            ] {
                let difference = total.difference(measure)
                html +=
                    "<tr><th scope=\"row\">\(label) (\(htmlEscape(code)))</th>"
                    + "<td class=\"n\">\(WhatIfFormat.money(total.baseline[measure], code))</td>"
                    + "<td class=\"n\">\(WhatIfFormat.money(total.scenario[measure], code))</td>"
                    + "<td class=\"\(moneyClass(difference))\">\(WhatIfFormat.signedMoney(difference, code))</td></tr>\n"
            }
        }
        return html + "</table>\n"
    }

    static let topCount = 10

    static func mostChanged(_ changed: [OrgDifference]) -> String {
        var html = "<h2>Orgs that change most</h2>\n"
        guard !changed.isEmpty else { return html + "<p>No org changes.</p>\n" }
        let header =
            "<tr><th scope=\"col\">Org</th><th scope=\"col\">Plan (baseline → scenario)</th>"
            + "<th class=\"n\" scope=\"col\">Net invoiced, baseline</th><th class=\"n\" scope=\"col\">Scenario</th>"
            + "<th class=\"n\" scope=\"col\">Difference</th><th class=\"n\" scope=\"col\">Expired credits</th>"
            + "<th class=\"n\" scope=\"col\">Overdrawn credits</th></tr>\n"
        func row(_ org: OrgDifference) -> String {
            let code = org.currencyCode
            let plan =
                org.baselinePlan == org.scenarioPlan
                ? htmlEscape(org.baselinePlan.rawValue)
                : "\(htmlEscape(org.baselinePlan.rawValue)) → \(htmlEscape(org.scenarioPlan.rawValue))"
            let money = org.difference(.netInvoicedMinor)
            return "<tr><th scope=\"row\">\(htmlEscape(org.orgId.rawValue))</th><td>\(plan)</td>"
                + "<td class=\"n\">\(WhatIfFormat.money(org.baseline[.netInvoicedMinor], code)) \(htmlEscape(code))</td>"
                + "<td class=\"n\">\(WhatIfFormat.money(org.scenario[.netInvoicedMinor], code)) \(htmlEscape(code))</td>"
                + "<td class=\"\(moneyClass(money))\">\(WhatIfFormat.signedMoney(money, code))</td>"
                + "<td class=\"n\">\(WhatIfFormat.signedCredits(org.expiredDifference))</td>"
                + "<td class=\"n\">\(WhatIfFormat.signedCredits(org.difference(.overdraft)))</td></tr>\n"
        }
        // Money is ranked within each currency: amounts in different currencies do not compare.
        let byCurrency = Dictionary(grouping: changed.filter { $0.difference(.netInvoicedMinor) != 0 }) {
            $0.currencyCode
        }
        for code in byCurrency.keys.sorted() {
            let ranked = byCurrency[code]!.sorted { left, right in
                let (l, r) = (abs(left.difference(.netInvoicedMinor)), abs(right.difference(.netInvoicedMinor)))
                if l != r { return l > r }
                if left.creditMovement != right.creditMovement { return left.creditMovement > right.creditMovement }
                return left.orgId < right.orgId
            }
            html +=
                "<h3>Largest money differences, \(htmlEscape(code)) (\(grouped(Int64(ranked.count)))"
                + " org\(ranked.count == 1 ? "" : "s"))</h3>\n<table>\n" + header
            for org in ranked.prefix(topCount) { html += row(org) }
            html += "</table>\n"
        }
        let byCredits = changed.filter { $0.creditMovement > 0 }.sorted { left, right in
            if left.creditMovement != right.creditMovement { return left.creditMovement > right.creditMovement }
            return left.orgId < right.orgId
        }
        if !byCredits.isEmpty {
            html +=
                "<h3>Largest credit differences (expired, overdrawn, rolled over, overage)</h3>\n<table>\n" + header
            for org in byCredits.prefix(topCount) { html += row(org) }
            html += "</table>\n"
        }
        return html
    }

    /// Money by month of issue and expiries by month of the renewal, as charts with their data.
    static func months(_ result: WhatIfResult) -> String {
        func month(_ date: CivilDate) -> String { String(date.description.prefix(7)) }
        var money: [String: [String: (Int64, Int64)]] = [:]
        for (side, documents) in [(0, result.baseline.documents), (1, result.scenarioSide.documents)] {
            for document in documents {
                var values = MeasureValues()
                values.add(document)
                let key = month(document.issueDate)
                var entry = money[document.currencyCode, default: [:]][key, default: (0, 0)]
                if side == 0 { entry.0 += values[.netInvoicedMinor] } else { entry.1 += values[.netInvoicedMinor] }
                money[document.currencyCode, default: [:]][key] = entry
            }
        }
        var expired: [String: (Int64, Int64)] = [:]
        for row in result.comparison.rows where !row.isOpen {
            var entry = expired[month(row.periodEnd), default: (0, 0)]
            entry.0 += row.baseline[.expiredCap] + row.baseline[.expiredAge]
            entry.1 += row.scenario[.expiredCap] + row.scenario[.expiredAge]
            expired[month(row.periodEnd)] = entry
        }
        var html = "<h2>By month</h2>\n"
        var charts = 0
        for code in money.keys.sorted() {
            let byMonth = money[code]!
            guard byMonth.values.contains(where: { $0.0 != $0.1 }) else { continue }
            let keys = byMonth.keys.sorted()
            html += BarChart(
                id: "money-\(charts)", title: "Net invoiced by month of issue, \(code)",
                categories: keys, baseline: keys.map { byMonth[$0]!.0 }, scenario: keys.map { byMonth[$0]!.1 },
                format: { WhatIfFormat.money($0, code) }
            ).svg()
            charts += 1
        }
        if expired.values.contains(where: { $0.0 != $0.1 }) {
            let keys = expired.keys.sorted()
            html += BarChart(
                id: "expired", title: "Credits expired (cap and age) by month of the renewal", categories: keys,
                baseline: keys.map { expired[$0]!.0 }, scenario: keys.map { expired[$0]!.1 },
                format: WhatIfFormat.credits
            ).svg()
            charts += 1
        }
        if charts == 0 { html += "<p>No month differs between the baseline and the scenario.</p>\n" }
        return html
    }

    static func plans(_ comparison: WhatIfComparison) -> String {
        var html =
            "<h2>By plan</h2>\n<p class=\"muted\">Grouped by the baseline's plan after each period's renewal, "
            + "as in period-summary.csv.</p>\n<table>\n<tr><th scope=\"col\">Plan</th><th scope=\"col\">Currency</th>"
            + "<th class=\"n\" scope=\"col\">Orgs (changed)</th><th class=\"n\" scope=\"col\">Expired credits</th>"
            + "<th class=\"n\" scope=\"col\">Overdrawn credits</th><th class=\"n\" scope=\"col\">Net invoiced, baseline</th>"
            + "<th class=\"n\" scope=\"col\">Scenario</th><th class=\"n\" scope=\"col\">Difference</th></tr>\n"
        for total in comparison.totals where total.group == .plan {
            let code = total.currencyCode ?? ""
            let expired = total.difference(.expiredCap) + total.difference(.expiredAge)
            let money = total.difference(.netInvoicedMinor)
            html +=
                "<tr><th scope=\"row\">\(htmlEscape(total.planId?.rawValue ?? ""))</th><td>\(htmlEscape(code))</td>"
                + "<td class=\"n\">\(grouped(Int64(total.orgs))) (\(grouped(Int64(total.changedOrgs))))</td>"
                + "<td class=\"n\">\(WhatIfFormat.signedCredits(expired))</td>"
                + "<td class=\"n\">\(WhatIfFormat.signedCredits(total.difference(.overdraft)))</td>"
                + "<td class=\"n\">\(WhatIfFormat.money(total.baseline[.netInvoicedMinor], code))</td>"
                + "<td class=\"n\">\(WhatIfFormat.money(total.scenario[.netInvoicedMinor], code))</td>"
                + "<td class=\"\(moneyClass(money))\">\(WhatIfFormat.signedMoney(money, code))</td></tr>\n"
        }
        return html + "</table>\n"
    }
}

/// A grouped bar chart, baseline beside scenario per category, as inline SVG: integer
/// coordinates (the same bytes every run), a title and description for screen readers, a
/// tooltip per bar, and the same numbers as a table under it.
struct BarChart {
    var id: String
    var title: String
    var categories: [String]
    var baseline: [Int64]
    var scenario: [Int64]
    var format: (Int64) -> String

    static let width: Int64 = 640
    static let height: Int64 = 240
    static let left: Int64 = 90
    static let right: Int64 = 10
    static let top: Int64 = 30
    static let bottom: Int64 = 30

    func svg() -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let high = max(0, (baseline + scenario).max() ?? 0)
        let low = min(0, (baseline + scenario).min() ?? 0)
        let range = max(1, high - low)
        /// The y of a value: the plot's top is `high`, its bottom `low`.
        func y(_ value: Int64) -> Int64 {
            Self.top + Arithmetic.mulDivFloor(high - value, plotHeight, range)
        }
        let baseTotal = baseline.reduce(0, +)
        let scenarioTotal = scenario.reduce(0, +)
        let description =
            "Baseline and scenario for \(categories.count) months, \(categories.first ?? "") to \(categories.last ?? ""). "
            + "Baseline total \(format(baseTotal)), scenario total \(format(scenarioTotal)), "
            + "difference \(format(scenarioTotal - baseTotal))."
        var svg = """
            <figure>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Self.width) \(Self.height)" width="\(Self.width)" \
            height="\(Self.height)" role="img" aria-labelledby="\(id)-title \(id)-desc">
            <title id="\(id)-title">\(htmlEscape(title))</title>
            <desc id="\(id)-desc">\(htmlEscape(description))</desc>
            <rect class="s0" x="\(Self.left)" y="8" width="12" height="12"/><text x="\(Self.left + 16)" y="18">Baseline</text>
            <rect class="s1" x="\(Self.left + 90)" y="8" width="12" height="12"/><text x="\(Self.left + 106)" y="18">Scenario</text>

            """
        for tick in [high, low + (high - low) / 2, low] {
            let position = y(tick)
            svg +=
                "<line class=\"grid\" x1=\"\(Self.left)\" y1=\"\(position)\" x2=\"\(Self.width - Self.right)\" "
                + "y2=\"\(position)\"/><text x=\"\(Self.left - 6)\" y=\"\(position + 4)\" text-anchor=\"end\">"
                + "\(htmlEscape(format(tick)))</text>\n"
        }
        let count = Int64(max(1, categories.count))
        let slot = plotWidth / count
        let bar = max(1, slot * 2 / 5)
        let zero = y(0)
        for (index, category) in categories.enumerated() {
            let x = Self.left + Int64(index) * slot + (slot - 2 * bar) / 2
            for (series, values) in [(0, baseline), (1, scenario)] {
                let value = values[index]
                let top = min(y(value), zero)
                let height = max(value == 0 ? 0 : 1, abs(y(value) - zero))
                let label = series == 0 ? "Baseline" : "Scenario"
                svg +=
                    "<rect class=\"s\(series)\" x=\"\(x + Int64(series) * bar)\" y=\"\(top)\" width=\"\(bar)\" "
                    + "height=\"\(height)\"><title>\(htmlEscape("\(category) \(label): \(format(value))"))</title></rect>\n"
            }
            if count <= 12 || index % Int((count + 11) / 12) == 0 {
                svg +=
                    "<text x=\"\(x + bar)\" y=\"\(Self.height - Self.bottom + 16)\" text-anchor=\"middle\">"
                    + "\(htmlEscape(category))</text>\n"
            }
        }
        svg +=
            "<line class=\"axis\" x1=\"\(Self.left)\" y1=\"\(zero)\" x2=\"\(Self.width - Self.right)\" y2=\"\(zero)\"/>\n"
            + "</svg>\n<figcaption>\(htmlEscape(title))</figcaption>\n</figure>\n"
        svg +=
            "<details><summary>\(htmlEscape(title)): the numbers</summary>\n<table>\n"
            + "<tr><th scope=\"col\">Month</th><th class=\"n\" scope=\"col\">Baseline</th>"
            + "<th class=\"n\" scope=\"col\">Scenario</th><th class=\"n\" scope=\"col\">Difference</th></tr>\n"
        for (index, category) in categories.enumerated() {
            svg +=
                "<tr><th scope=\"row\">\(htmlEscape(category))</th><td class=\"n\">\(htmlEscape(format(baseline[index])))</td>"
                + "<td class=\"n\">\(htmlEscape(format(scenario[index])))</td>"
                + "<td class=\"n\">\(htmlEscape(format(scenario[index] - baseline[index])))</td></tr>\n"
        }
        return svg + "</table>\n</details>\n"
    }
}
