// Proves that HTML pieces write the same bytes however they are built, nested or on many threads.
import Dispatch
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct HTMLPieceTests {
    @Test func literalsInterpolationsAndNestedPiecesWriteTheirBytes() {
        var html = HTMLBytes()
        html += "<p>"
        let inner: HTMLPiece = "\(escaped: "a<b"), \(grouped: 1_234_567)"
        html += "<b title=\"\(inner)\">\(Int64(-5)) \(7) \(escaped: "\"Ōsaka\" & co")</b>"
        html += "</p>\n"
        html.append(raw: "<hr />")
        #expect(
            html.string
                == "<p><b title=\"a&lt;b, 1,234,567\">-5 7 &quot;Ōsaka&quot; &amp; co</b></p>\n<hr />")
    }

    /// An instant is written from its digits, as its description reads, years beyond four
    /// digits included.
    @Test(arguments: [
        0 as Int64, 1_769_722_863_000_000, 1_769_722_863_000_123, -62_135_596_800_000_000,
        253_402_300_799_999_999, 253_402_300_800_000_000, -9_000_000_000_000_000_000,
    ])
    func instantsAreWrittenAsTheyRead(microseconds: Int64) {
        let instant = Instant(microseconds: microseconds)
        var html = HTMLBytes()
        html += "<td>\(instant)</td>"
        #expect(html.string == "<td>" + instant.description + "</td>")
    }

    @Test func aPieceLongerThanTheKeptBufferIsWrittenWhole() {
        let long = String(repeating: "x", count: 100_000)
        var html = HTMLBytes()
        html += "<p>\(long)</p>"
        html += "<p>\(escaped: "short")</p>"
        #expect(html.bytes.count == 100_007 + 12)
        #expect(html.string.hasSuffix("</p><p>short</p>"))
    }

    @Test func piecesBuiltOnManyThreadsAtOnceStayApart() {
        let expected = (0..<2_000).map { "<li id=\"n\($0)\">item &amp; \($0)</li>" }
        let results = ResultSlots<String>(count: expected.count)
        DispatchQueue.concurrentPerform(iterations: expected.count) { index in
            var html = HTMLBytes()
            html += "<li id=\"n\(index)\">\(escaped: "item & \(index)")</li>"
            results.set(index, html.string)
        }
        #expect(results.takeValues() == expected)
    }
}
