// Proves the SVG charts add up and stay inside their box: the statement's credit flow ends at the next opening balance for every sample period.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct ChartTests {
    static let samples: String = {
        let output = TestPaths.temporaryFolder("charts")
        _ = try! ClosePipeline.close(
            CloseOptions(
                through: CivilDate.parse("2026-11-30")!, inputFolder: TestPaths.repository.path + "/samples",
                outputFolder: output))
        return output
    }()

    static func statements() throws -> [Statement] {
        try ReportFixture.files(in: samples, endingWith: ".json").filter { $0.hasPrefix("statements/") }.map { path in
            try JSONDecoder().decode(Statement.self, from: Data(try ReportFixture.text(samples + "/" + path).utf8))
        }
    }

    @Test func theCreditFlowWalksFromOpeningThroughClosingToTheNextOpening() throws {
        let statements = try Self.statements()
        #expect(statements.count == 46)
        for statement in statements {
            var running: Int64 = 0
            var totals: [Int64] = []
            for step in StatementHTML.flowSteps(statement) {
                switch step.kind {
                case .total(let segments):
                    #expect(segments.reduce(0) { $0 + $1.value } == step.value)
                    // Every balance the chart shows is where the changes before it lead.
                    if !totals.isEmpty { #expect(running == step.value, "\(statement.orgId) \(statement.periodEnd)") }
                    running = step.value
                    totals.append(step.value)
                case .change: running += step.value
                case .moved: #expect(step.value > 0)
                }
            }
            let s = statement.summary
            #expect(totals.count == 3)
            #expect(totals.last == (s["next_current"]! + s["next_bank"]! + s["next_topup"]! - s["next_deficit"]!))
            #expect(
                totals.first == statement.summary["opening_current"]! + s["opening_bank"]! + s["opening_topup"]! - s[
                    "opening_deficit"]!)
        }
    }

    /// Numbers in an attribute, for the geometry checks.
    static func attributes(_ name: String, in svg: String) -> [Int64] {
        svg.components(separatedBy: " \(name)=\"").dropFirst().compactMap { Int64($0.prefix { $0 != "\"" }) }
    }

    @Test func barsStayInsideTheChartAndNothingIsNegativeWidth() throws {
        for statement in try Self.statements() {
            let svg = SVGChart.waterfall(
                id: "t", title: "t", description: "d", steps: StatementHTML.flowSteps(statement))
            for x in Self.attributes("x", in: svg) { #expect((0...SVGChart.width).contains(x)) }
            for width in Self.attributes("width", in: svg).dropFirst() { #expect((0...SVGChart.width).contains(width)) }
            #expect(!svg.contains("nan") && !svg.contains("inf"))
        }
    }

    @Test func aNonZeroAmountIsNeverInvisible() {
        let svg = SVGChart.bars(
            id: "tiny", title: "t", description: "d",
            groups: [
                SVGChart.Group(
                    heading: nil,
                    bars: [
                        SVGChart.Bar(
                            label: "big", valueText: "1,000,000",
                            segments: [SVGChart.Segment(name: "big", value: 1_000_000, color: "#000")]),
                        SVGChart.Bar(
                            label: "small", valueText: "1",
                            segments: [SVGChart.Segment(name: "small", value: 1, color: "#000")]),
                    ])
            ])
        #expect(svg.contains("width=\"400\" height=\"12\""))
        #expect(svg.contains("width=\"1\" height=\"12\""))
    }

    @Test func negativeBalancesDrawLeftOfAZeroLine() {
        let steps = [
            SVGChart.Step(
                label: "open", kind: .total([SVGChart.Segment(name: "Deficit", value: -100, color: "#c00")]),
                value: -100),
            SVGChart.Step(label: "grant", kind: .change(color: "#0c0"), value: 300),
            SVGChart.Step(
                label: "next", kind: .total([SVGChart.Segment(name: "Current", value: 200, color: "#00c")]), value: 200),
        ]
        let svg = SVGChart.waterfall(id: "neg", title: "t", description: "d", steps: steps)
        // The scale runs from -100 to 200 over 400 units: zero sits at 133.
        #expect(svg.contains("<line x1=\"133\""))
        #expect(svg.contains("<rect x=\"0\" y=\"41\" width=\"133\""))
        #expect(svg.contains("<rect x=\"0\" y=\"75\" width=\"400\""))
    }

    @Test(arguments: [
        (Int64(0), "0"), (7, "7"), (999, "999"), (1000, "1,000"), (-1000, "-1,000"), (123_456, "123,456"),
        (-1_234_567, "-1,234,567"), (Int64.max, "9,223,372,036,854,775,807"),
        (Int64.min, "-9,223,372,036,854,775,808"),
    ])
    func creditsAreGroupedByThousands(value: Int64, text: String) {
        #expect(grouped(value) == text)
    }

    @Test func numbersAreFormattedForPeople() {
        #expect(groupedDecimal("9802.12") == "9,802.12")
        #expect(groupedDecimal("-1234567") == "-1,234,567")
        #expect(groupedDecimal("0.50") == "0.50")
        #expect(percent(1, of: 3) == 33)
        #expect(percent(2, of: 3) == 67)
        #expect(percent(1, of: 200) == 1)
        #expect(percent(5, of: 0) == 0)
        #expect(signed(-1234) == "\u{2212}1,234")
        #expect(signed(5) == "+5")
    }
}
