import Invoicing

/// Small SVG charts of our own for statements and the close report: no script, no network,
/// integer geometry. Every chart is an image with a title and a description (a text
/// alternative that lists every value), every text is escaped, and each bar carries its own
/// title so a pointer or a screen reader can read it.
enum SVGChart {
    /// The drawing width in SVG units; the page scales the chart to the column.
    static let width: Int64 = 400
    static let rowHeight: Int64 = 34
    static let barHeight: Int64 = 12

    /// Colours that stay apart in print and for the common colour-vision deficiencies.
    enum Palette {
        static let current = "#2f6db5"
        static let bank = "#2a9d8f"
        static let topUp = "#8e6bbf"
        static let deficit = "#c8553d"
        static let grant = "#4f9d5d"
        static let usage = "#e07b39"
        static let expiry = "#b5a642"
        static let moved = "#9aa3b2"
        static let total = "#34495e"
    }

    struct Segment {
        var name: String
        var value: Int64
        var color: String
    }

    struct Bar {
        var label: String
        var valueText: String
        var segments: [Segment]
    }

    struct Group {
        var heading: String?
        var bars: [Bar]
    }

    struct Step {
        enum Kind {
            /// A balance: segments (negative ones drawn left of zero); the value is their sum.
            case total([Segment])
            /// A change of the running balance by `value` (signed).
            case change(color: String)
            /// Credits moved between buckets: drawn for information, the balance stays.
            case moved
        }
        var label: String
        var kind: Kind
        var value: Int64
    }

    // MARK: Waterfall

    /// A horizontal waterfall: totals as stacked bars, changes as floating bars between them.
    static func waterfall(id: String, title: String, description: String, steps: [Step]) -> String {
        var svg = HTMLBytes()
        waterfall(id: id, title: title, description: description, steps: steps, into: &svg)
        return svg.string
    }

    static func waterfall(id: String, title: String, description: String, steps: [Step], into svg: inout HTMLBytes) {
        var running: Int64 = 0
        var spans: [(start: Int64, end: Int64)] = []
        var low: Int64 = 0
        var high: Int64 = 0
        for step in steps {
            switch step.kind {
            case .total(let segments):
                let positive = segments.filter { $0.value > 0 }.reduce(0) { $0 + $1.value }
                let negative = segments.filter { $0.value < 0 }.reduce(0) { $0 + $1.value }
                low = min(low, negative)
                high = max(high, positive)
                running = step.value
                spans.append((min(0, running), max(0, running)))
            case .change:
                spans.append((running, running + step.value))
                running += step.value
            case .moved:
                spans.append((running - step.value, running))
            }
            low = min(low, spans.last!.start, spans.last!.end)
            high = max(high, spans.last!.start, spans.last!.end)
        }
        if high == low { high = low + 1 }
        let scale = Scale(low: low, high: high)
        let legend = [
            Segment(name: "Current", value: 0, color: Palette.current),
            Segment(name: "Bank", value: 0, color: Palette.bank),
            Segment(name: "Top-up", value: 0, color: Palette.topUp),
            Segment(name: "Deficit", value: 0, color: Palette.deficit),
        ]
        let top: Int64 = 24
        let height = top + Int64(steps.count) * rowHeight + 4
        open(id: id, title: title, description: description, height: height, into: &svg)
        legendRow(legend, into: &svg)
        if low < 0 {
            let zero = scale.x(0)
            svg += "<line x1=\"\(zero)\" y1=\"\(top)\" x2=\"\(zero)\" y2=\"\(height)\" stroke=\"#5c6577\" />\n"
        }
        running = 0
        for (index, step) in steps.enumerated() {
            let y = top + Int64(index) * rowHeight
            let barY = y + 17
            svg += "<g>"
            text(step.label, x: 0, y: y + 12, className: nil, into: &svg)
            switch step.kind {
            case .total(let segments):
                text(grouped(step.value), x: width, y: y + 12, className: "v h", anchor: "end", into: &svg)
                var right: Int64 = 0
                var left: Int64 = 0
                for segment in segments where segment.value != 0 {
                    let from = segment.value > 0 ? right : left + segment.value
                    let to = segment.value > 0 ? right + segment.value : left
                    let name = segment.name.lowercased()
                    rect(
                        scale, from, to, y: barY, fill: segment.color,
                        tip: "\(escaped: step.label), \(escaped: name): \(grouped: segment.value) credits", into: &svg)
                    if segment.value > 0 { right += segment.value } else { left += segment.value }
                }
                if segments.allSatisfy({ $0.value == 0 }) {
                    svg += "<line x1=\"\(scale.x(0))\" y1=\"\(barY)\" x2=\"\(scale.x(0))\" y2=\"\(barY + barHeight)\" "
                    svg += "stroke=\"\(Palette.total)\" stroke-width=\"2\" />"
                }
                running = step.value
            case .change(let color):
                text(signed(step.value), x: width, y: y + 12, className: "v", anchor: "end", into: &svg)
                rect(
                    scale, running, running + step.value, y: barY, fill: color,
                    tip: "\(escaped: step.label): \(escaped: signed(step.value)) credits", into: &svg)
                running += step.value
            case .moved:
                text(grouped(step.value) + " moved", x: width, y: y + 12, className: "v m", anchor: "end", into: &svg)
                rect(
                    scale, running - step.value, running, y: barY, fill: Palette.moved,
                    tip: "\(escaped: step.label): \(grouped: step.value) credits moved, the balance is unchanged",
                    dashed: true, into: &svg)
            }
            svg += "</g>\n"
            if index + 1 < steps.count {
                let x = scale.x(running)
                svg += """
                    <line x1="\(x)" y1="\(barY + barHeight)" x2="\(x)" y2="\(barY + rowHeight)" \
                    stroke="#8a93a3" stroke-dasharray="2 2" />

                    """
            }
        }
        svg += "</svg>"
    }

    // MARK: Bars

    /// Horizontal bars in groups; a bar may be stacked. With `scalePerGroup` each group gets
    /// its own scale (for amounts in different currencies), otherwise one scale serves all.
    static func bars(
        id: String, title: String, description: String, legend: [Segment] = [], groups: [Group],
        scalePerGroup: Bool = false
    ) -> String {
        var svg = HTMLBytes()
        bars(
            id: id, title: title, description: description, legend: legend, groups: groups,
            scalePerGroup: scalePerGroup, into: &svg)
        return svg.string
    }

    static func bars(
        id: String, title: String, description: String, legend: [Segment] = [], groups: [Group],
        scalePerGroup: Bool = false, into svg: inout HTMLBytes
    ) {
        func extent(_ bars: [Bar]) -> Int64 {
            max(1, bars.map { $0.segments.reduce(0) { $0 + max(0, $1.value) } }.max() ?? 1)
        }
        let globalHigh = extent(groups.flatMap(\.bars))
        let top: Int64 = legend.isEmpty ? 0 : 24
        var height = top
        for group in groups { height += (group.heading == nil ? 0 : 22) + Int64(group.bars.count) * rowHeight + 6 }
        open(id: id, title: title, description: description, height: max(height, 10), into: &svg)
        if !legend.isEmpty { legendRow(legend, into: &svg) }
        var y = top
        for group in groups {
            let scale = Scale(low: 0, high: scalePerGroup ? extent(group.bars) : globalHigh)
            if let heading = group.heading {
                text(heading, x: 0, y: y + 15, className: "h", into: &svg)
                svg += "\n"
                y += 22
            }
            for bar in group.bars {
                svg += "<g>"
                text(bar.label, x: 0, y: y + 12, className: nil, into: &svg)
                text(bar.valueText, x: width, y: y + 12, className: "v", anchor: "end", into: &svg)
                var right: Int64 = 0
                for segment in bar.segments where segment.value > 0 {
                    let tip: HTMLPiece =
                        bar.segments.count > 1
                        ? "\(escaped: bar.label), \(escaped: segment.name): \(grouped: segment.value)"
                        : "\(escaped: bar.label): \(grouped: segment.value)"
                    rect(scale, right, right + segment.value, y: y + 17, fill: segment.color, tip: tip, into: &svg)
                    right += segment.value
                }
                if right == 0 {
                    svg += """
                        <line x1="0" y1="\(y + 17)" x2="0" y2="\(y + 17 + barHeight)" \
                        stroke="\(Palette.total)" stroke-width="2" />
                        """
                }
                svg += "</g>\n"
                y += rowHeight
            }
            y += 6
        }
        svg += "</svg>"
    }

    // MARK: Pieces

    /// Maps values onto [0, width] with integer arithmetic.
    struct Scale {
        var low: Int64
        var high: Int64

        func x(_ value: Int64) -> Int64 {
            let clamped = min(max(value, low), high)
            return Arithmetic.mulDivFloor(clamped - low, SVGChart.width, high - low)
        }
    }

    static func open(id: String, title: String, description: String, height: Int64, into svg: inout HTMLBytes) {
        let titleId = htmlEscape(id + "-title")
        let descId = htmlEscape(id + "-desc")
        svg += """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(width) \(height)" \
            width="\(width)" height="\(height)" role="img" aria-labelledby="\(titleId) \(descId)">
            <title id="\(titleId)">\(escaped: title)</title>
            <desc id="\(descId)">\(escaped: description)</desc>

            """
    }

    static func legendRow(_ items: [Segment], into svg: inout HTMLBytes) {
        svg += "<g aria-hidden=\"true\">"
        let slot = width / Int64(max(items.count, 4))
        for (index, item) in items.enumerated() {
            let x = Int64(index) * slot
            svg += "<rect x=\"\(x)\" y=\"5\" width=\"10\" height=\"10\" rx=\"2\" fill=\"\(item.color)\" />"
            text(item.name, x: x + 14, y: 14, className: "m", into: &svg)
        }
        svg += "</g>\n"
    }

    static func text(
        _ content: String, x: Int64, y: Int64, className: String?, anchor: String? = nil, into svg: inout HTMLBytes
    ) {
        svg += "<text x=\"\(x)\" y=\"\(y)\""
        if let className { svg += " class=\"\(className)\"" }
        if let anchor { svg += " text-anchor=\"\(anchor)\"" }
        svg += ">\(escaped: shortened(content))</text>"
    }

    /// A bar from `from` to `to`; `tip` is its title, already escaped.
    static func rect(
        _ scale: Scale, _ from: Int64, _ to: Int64, y: Int64, fill: String, tip: HTMLPiece, dashed: Bool = false,
        into svg: inout HTMLBytes
    ) {
        let left = scale.x(min(from, to))
        // A non-zero amount never disappears: one unit is the narrowest bar.
        let right = max(scale.x(max(from, to)), left + (from == to ? 0 : 1))
        svg += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(right - left)\" height=\"\(barHeight)\" "
        if dashed {
            svg += "fill=\"\(fill)\" fill-opacity=\"0.45\" stroke=\"#5c6577\" stroke-dasharray=\"3 2\""
        } else {
            svg += "fill=\"\(fill)\""
        }
        svg += "><title>\(tip)</title></rect>"
    }

    /// Labels longer than a chart row are cut with an ellipsis; the tables beside the charts
    /// show them in full.
    static func shortened(_ text: String, limit: Int = 52) -> String {
        // Counting characters means finding grapheme boundaries; a text of no more bytes than
        // the limit has no more characters either, which settles almost every label at once.
        if text.utf8.count <= limit { return text }
        return text.count <= limit ? text : String(text.prefix(limit - 1)) + "\u{2026}"
    }
}
