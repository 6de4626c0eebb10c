// Proves org names, users, job ids, actions and rejected rows full of markup, quotes and control characters come out escaped.
import Foundation
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct HostileNamesTests {
    @Test func markupFromTheInputNeverBecomesMarkup() throws {
        let output = try ReportFixture.close()
        let pages = ReportFixture.files(in: output, endingWith: ".html")
        #expect(!pages.isEmpty)
        for page in pages {
            let text = try ReportFixture.text(output + "/" + page)
            for raw in ["<script", "<img", "<b>unknown", "<b>2</b>", "<i>teleport", "\u{01}", "onerror=alert(1)>"] {
                #expect(!text.contains(raw), "\(page) carries \(raw.debugDescription) unescaped")
            }
        }
        let statement = try ReportFixture.text(output + "/" + ReportFixture.goldenStatement)
        #expect(statement.contains("<h1>&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; Sons</h1>"))
        #expect(statement.contains("<code>&lt;img src=x onerror=alert(1)&gt;</code>"))
        #expect(statement.contains("<td>&lt;b&gt;unknown&lt;/b&gt;</td>"))
        #expect(statement.contains("<td>&lt;img src=x&gt;</td>"))
        let amp = try ReportFixture.text(output + "/statements/amp-films/2026-04-10.html")
        #expect(amp.contains("Ampersand &amp; &quot;Quote&quot; &lt;Films&gt; &#39;Ltd&#39;"))
        let report = try ReportFixture.text(output + "/" + ReportFixture.goldenReport)
        // The rejected row's unknown org carries a control character; it shows as U+FFFD.
        #expect(report.contains("&lt;script&gt;x&lt;/script&gt;\u{FFFD}"))
        #expect(report.contains("&lt;i&gt;teleport&lt;/i&gt;"))
    }

    @Test func escapeCoversTextAndAttributes() {
        #expect(htmlEscape("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;")
        #expect(htmlEscape("tab\tnew\nline\rreturn") == "tab\tnew\nline&#13;return")
        #expect(
            htmlEscape("nul\u{0}bell\u{7}esc\u{1B}c1\u{85}\u{FFFF}")
                == "nul\u{FFFD}bell\u{FFFD}esc\u{FFFD}c1\u{FFFD}\u{FFFD}")
        #expect(htmlEscape("Ōkami 株式会社 — ok") == "Ōkami 株式会社 — ok")
    }

    /// The byte-level escape agrees with the rule written scalar by scalar, on any text.
    @Test func escapeAgreesWithTheRuleOnAnyText() async {
        func reference(_ text: String) -> String {
            var result = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "&": result += "&amp;"
                case "<": result += "&lt;"
                case ">": result += "&gt;"
                case "\"": result += "&quot;"
                case "'": result += "&#39;"
                case "\t", "\n": result.unicodeScalars.append(scalar)
                case "\r": result += "&#13;"
                default:
                    let value = scalar.value
                    let forbidden =
                        value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF
                    result.unicodeScalars.append(forbidden ? "\u{FFFD}" : scalar)
                }
            }
            return result
        }
        let specials = Gen.element(of: ["\u{FFFE}", "\u{FFFF}", "\u{FFFD}", "\u{EFBF}", "株", "—", "🎉", "\u{9F}"])
        await propertyCheck(input: Gen.latin1.string(of: 0...30), specials.array(of: 0...4)) { text, extra in
            let mixed = text + extra.compactMap { $0 }.joined() + text
            #expect(htmlEscape(mixed) == reference(mixed))
        }
    }

    @Test func chartsEscapeTheirTitlesLabelsAndTips() {
        let hostile = "<script>alert('x')</script> & \"co\""
        let svg = SVGChart.bars(
            id: "x\"y", title: hostile, description: hostile,
            groups: [
                SVGChart.Group(
                    heading: hostile,
                    bars: [
                        SVGChart.Bar(
                            label: hostile, valueText: hostile,
                            segments: [SVGChart.Segment(name: hostile, value: 5, color: SVGChart.Palette.usage)])
                    ])
            ])
        #expect(!svg.contains("<script"))
        #expect(svg.contains("id=\"x&quot;y-title\""))
        #expect(
            svg.contains(
                "<title id=\"x&quot;y-title\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</title>"
            ))
    }
}
