// Proves the what-if files: comparison.csv and totals.csv add up and never mix currencies, the
// report puts the headline first, escapes every input text, and draws an accessible SVG chart.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct WhatIfReportTests {
    static func run() throws -> (WhatIfResult, String) {
        let input = try WhatIfFixtures.folder(orgs: [
            WhatIfFixtures.org("c1", "community", "2026-01-01"), WhatIfFixtures.org("s1", "standard", "2026-01-01"),
        ])
        let output = TestPaths.temporaryFolder("whatif-report")
        let scenario = """
            name: tag-test
            description: "<script>alert(1)</script> & friends"
            plans:
              studio: { name: "<b>Studio</b>", rank: 2, monthly_credits: 5000, bank_cap: 2500,
                        prices: { USD: "49.00" }, overdraft: carry }
            move_all:
              - { from: community, to: studio, at: 2026-02-01 }
            """
        let result = try WhatIfPipeline.run(
            WhatIfFixtures.options(input, scenario, through: "2026-04-30", output: output))
        return (result, output + "/whatif/tag-test")
    }

    @Test func reportEscapesInputAndChartsAccessibly() throws {
        let (_, folder) = try Self.run()
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends"))
        #expect(html.contains("&lt;b&gt;Studio&lt;/b&gt;"))
        #expect(!html.contains("<b>Studio"))
        // The headline comes before the orgs that change most, which come before the charts.
        let headline = try #require(html.range(of: "<h2>Headline</h2>")).lowerBound
        let orgs = try #require(html.range(of: "<h2>Orgs that change most</h2>")).lowerBound
        let chart = try #require(html.range(of: "<svg")).lowerBound
        #expect(headline < orgs && orgs < chart)
        #expect(html.contains("role=\"img\" aria-labelledby=\"money-0-title money-0-desc\""))
        #expect(html.contains("<title id=\"money-0-title\">") && html.contains("<desc id=\"money-0-desc\">"))
        #expect(html.contains("<th scope=\"row\">c1</th>"))
        // Only the moved org appears among the orgs that change.
        #expect(!html.contains("<th scope=\"row\">s1</th>"))
    }

    @Test func csvFilesAddUpByCurrency() throws {
        let (result, folder) = try Self.run()
        let rows = Fixtures.lines(folder + "/comparison.csv")
        #expect(rows.count == result.comparison.rows.count + 1)
        let header = rows[0].split(separator: ",").map(String.init)
        let net = try #require(header.firstIndex(of: "net_invoiced_minor_diff"))
        let sum = rows.dropFirst().reduce(Int64(0)) { $0 + Int64($1.split(separator: ",")[net])! }
        // c1 moves to studio at its renewal of 1 Feb: Feb, Mar and Apr bill 49.00 instead of 9.00.
        #expect(sum == 3 * 4000)
        let totals = Fixtures.lines(folder + "/totals.csv")
        let usd = try #require(totals.first { $0.hasPrefix("currency,,USD,") })
        #expect(usd.split(separator: ",", omittingEmptySubsequences: false)[net - 2] == "12000")
        // The row over every currency leaves money empty rather than adding currencies up.
        let all = try #require(totals.last)
        #expect(all.hasPrefix("all,,,"))
        #expect(all.hasSuffix(",,,,,,"))
    }
}
