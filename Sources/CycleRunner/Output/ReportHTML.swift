import Invoicing

/// The close at a glance, for the controller who signs it off.
enum ReportHTML {
    static func render(
        run: Ledger.RunInfo, periods: [PeriodRecord], documents: [Document], rejected: [RejectedRow],
        statements: [(String, String)]
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>Close through \(run.through)</title><style>\(StatementHTML.style)</style></head><body>
            <h1>Close through \(run.through)</h1>
            <p class="muted">Horizon \(run.horizon) · previous horizon \(run.previousHorizon?.description ?? "none (first close)") · input fingerprint \(run.report.inputFingerprint)</p>
            <div class="cards"><div class="card">Periods closed<b>\(grouped(Int64(periods.count)))</b></div>
            <div class="card">Documents issued<b>\(grouped(Int64(documents.count)))</b></div>
            <div class="card">Rows rejected<b>\(grouped(Int64(rejected.count)))</b></div></div>
            <h2>Credits</h2><table>

            """
        func total(_ key: KeyPath<PeriodRecord, Int64>) -> String {
            grouped(periods.reduce(0) { $0 + $1[keyPath: key] })
        }
        let totals: [(String, KeyPath<PeriodRecord, Int64>)] = [
            ("Credits used", \.usageCredits), ("Overdrawn", \.overdraft), ("Rolled over", \.rolledOver),
            ("Expired by cap", \.expiredCap), ("Expired by age", \.expiredAge), ("Fresh credits", \.freshCredits),
            ("Overage billed", \.overageBilled),
        ]
        for (label, key) in totals { html += "<tr><td>\(label)</td><td class=\"n\">\(total(key))</td></tr>\n" }
        html +=
            "</table>\n<h2>Money by currency</h2>\n<table><tr><th>Currency</th><th class=\"n\">Invoiced</th>"
            + "<th class=\"n\">Credited</th><th class=\"n\">Tax</th></tr>\n"
        let currencies = Set(documents.map(\.currencyCode)).sorted()
        for code in currencies {
            let inCurrency = documents.filter { $0.currencyCode == code }
            let exponent = Currency(code: code)?.exponent ?? 2
            let invoiced = inCurrency.filter { $0.kind == .invoice }.reduce(0) { $0 + $1.totalMinor }
            let credited = inCurrency.filter { $0.kind == .creditNote }.reduce(0) { $0 + $1.totalMinor }
            let tax = inCurrency.reduce(0) { $0 + ($1.kind == .invoice ? $1.taxMinor : -$1.taxMinor) }
            html +=
                "<tr><td>\(code)</td><td class=\"n\">\(DecimalText.format(invoiced, scale: exponent))</td>"
                + "<td class=\"n\">\(DecimalText.format(credited, scale: exponent))</td>"
                + "<td class=\"n\">\(DecimalText.format(tax, scale: exponent))</td></tr>\n"
        }
        html +=
            "</table>\n<h2>Rows per input file</h2>\n<table><tr><th>File</th><th class=\"n\">Read</th>"
            + "<th class=\"n\">Applied</th><th class=\"n\">Duplicates</th><th class=\"n\">Rejected</th>"
            + "<th class=\"n\">Pending</th></tr>\n"
        for (file, counts) in zip(run.report.files, run.report.counts) {
            html +=
                "<tr><td>\(htmlEscape(file))</td><td class=\"n\">\(grouped(Int64(counts.read)))</td>"
                + "<td class=\"n\">\(grouped(Int64(counts.applied)))</td>"
                + "<td class=\"n\">\(grouped(Int64(counts.duplicates)))</td>"
                + "<td class=\"n\">\(grouped(Int64(counts.rejected)))</td>"
                + "<td class=\"n\">\(grouped(Int64(counts.pending)))</td></tr>\n"
        }
        if !run.report.documentWarnings.isEmpty {
            html += "</table>\n<h2>Documents that need attention</h2>\n<ul>\n"
            for warning in run.report.documentWarnings { html += "<li>\(htmlEscape(warning))</li>\n" }
            html += "</ul>\n<table>"
        }
        html += "</table>\n<h2>Rejected rows</h2>\n<table><tr><th>Where</th><th>Reason</th><th>Row</th></tr>\n"
        for row in rejected {
            html +=
                "<tr><td>\(htmlEscape(row.sourceFile)):\(row.lineNumber)</td>"
                + "<td>\(htmlEscape(row.rejection.text))</td><td>\(htmlEscape(row.raw))</td></tr>\n"
        }
        html += "</table>\n<h2>Statements</h2>\n<ul>\n"
        for (org, end) in statements {
            let link = "../../statements/\(org)/\(end).html"
            html += "<li><a href=\"\(htmlEscape(link))\">\(htmlEscape(org)) — \(end)</a></li>\n"
        }
        html += "</ul>\n<h2>Documents</h2>\n<ul>\n"
        for document in documents {
            let link = "../../invoices/\(document.number).xml"
            html +=
                "<li><a href=\"\(htmlEscape(link))\">\(htmlEscape(document.number))</a> "
                + "\(htmlEscape(document.orgId)) \(DecimalText.format(document.totalMinor, scale: document.currency.exponent)) "
                + "\(document.currencyCode)</li>\n"
        }
        html += "</ul>\n</body></html>\n"
        return html
    }
}
