import Invoicing

/// Escaping for text placed in HTML (and XML) content and attribute values. Control
/// characters that XML 1.0 forbids even as references (a raw rejected row may hold any
/// byte) become U+FFFD, so every page we write still parses as XML.
public func htmlEscape(_ text: String) -> String {
    var text = text
    // Most text (numbers, dates, ids, labels) needs nothing: one pass over the bytes finds
    // out, and the string is returned as it is.
    let plain = text.withUTF8 { !needsHTMLEscaping($0) }
    if plain { return text }
    var result: [UInt8] = []
    appendHTMLEscaped(text, to: &result)
    return String(decoding: result, as: UTF8.self)
}

/// Appends `text` escaped as `htmlEscape` escapes it. Only ASCII that is printable and not
/// markup passes as it is; anything else is rewritten byte by byte.
func appendHTMLEscaped<Target: ByteAppending>(_ text: String, to result: inout Target) {
    var text = text
    text.withUTF8 { bytes in
        if !needsHTMLEscaping(bytes) {
            result.appendBytes(bytes)
            return
        }
        // Bytes that pass as they are (printable ASCII that is not markup, and the bytes of
        // characters beyond ASCII that XML allows) are copied a run at a time: a minus sign
        // (U+2212) sends most chart descriptions here, and a call per byte was most of their
        // escaping.
        let replacement: StaticString = "\u{FFFD}"
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x80 ? (byte != 0xC2 && byte != 0xEF) : (byte >= 0x20 && byte != 0x7F && !htmlMarkup(byte)) {
                index += 1
                continue
            }
            result.appendBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            switch byte {
            case 0x26: result.appendBytes("&amp;")
            case 0x3C: result.appendBytes("&lt;")
            case 0x3E: result.appendBytes("&gt;")
            case 0x22: result.appendBytes("&quot;")
            case 0x27: result.appendBytes("&#39;")
            case 0x09, 0x0A: result.appendByte(byte)
            case 0x0D: result.appendBytes("&#13;")
            case 0x00..<0x20, 0x7F: result.appendBytes(replacement)
            case 0xC2 where index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1]):
                // U+0080 to U+009F, control characters XML forbids.
                result.appendBytes(replacement)
                index += 1
            case 0xEF
            where index + 2 < bytes.count && bytes[index + 1] == 0xBF
                && (bytes[index + 2] == 0xBE || bytes[index + 2] == 0xBF):
                // U+FFFE and U+FFFF, noncharacters XML forbids.
                result.appendBytes(replacement)
                index += 2
            default: result.appendByte(byte)
            }
            index += 1
            runStart = index
        }
        result.appendBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
    }
}

@inline(__always)
private func htmlMarkup(_ byte: UInt8) -> Bool {
    byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27
}

/// Whether any byte of `bytes` is not printable ASCII (below 0x20, 0x7F, or above) or is
/// markup (`&`, `<`, `>`, `"`, `'`): what `appendHTMLEscaped` leaves as it is needs none of these.
///
/// Eight bytes at a time: statements pass hundreds of texts a page through this test, and
/// the byte-by-byte test was 1.7 % of a close's instructions (callgrind, 230 k rows).
func needsHTMLEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    var index = 0
    while index + 8 <= bytes.count {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
        if wordNeedsHTMLEscaping(word) { return true }
        index += 8
    }
    while index < bytes.count {
        let byte = bytes[index]
        if byte < 0x20 || byte >= 0x7F || htmlMarkup(byte) { return true }
        index += 1
    }
    return false
}

/// `needsHTMLEscaping` for the eight bytes of `word` (`ASCIIWords`' masks, each exact for
/// "any byte of the class").
@inline(__always)
func wordNeedsHTMLEscaping(_ word: UInt64) -> Bool {
    let markup =
        ASCIIWords.anyByte(word, is: 0x7F) | ASCIIWords.anyByte(word, is: 0x26) | ASCIIWords.anyByte(word, is: 0x3C)
        | ASCIIWords.anyByte(word, is: 0x3E) | ASCIIWords.anyByte(word, is: 0x22) | ASCIIWords.anyByte(word, is: 0x27)
    return ASCIIWords.controlOrNonASCII(word) | markup != 0
}

/// Groups digits in threes for people (12345 → 12,345).
public func grouped(_ value: Int64) -> String {
    // Decoded straight from the digits' buffer: most numbers fit a small string, which needs
    // no allocation, where an array in between cost one (and 800 instructions a number).
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
        let start = writeDecimal(value, groupingThousands: true, endingAt: buffer)
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self)
    }
}

/// Appends a number's decimal digits, as `String(value)` writes them, or as `grouped` does.
/// Written from the last digit backwards into a small buffer: statements call this hundreds
/// of times each.
func appendDecimal<Target: ByteAppending>(_ value: Int64, groupingThousands: Bool = false, to bytes: inout Target) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
        let start = writeDecimal(value, groupingThousands: groupingThousands, endingAt: buffer)
        bytes.appendBytes(UnsafeBufferPointer(rebasing: buffer[start...]))
    }
}

/// Writes a number's digits (grouped or not, as `appendDecimal`) so that they end at the end of
/// `buffer`, which holds 32 bytes, and returns where they start.
@inline(__always)
private func writeDecimal(_ value: Int64, groupingThousands: Bool, endingAt buffer: UnsafeMutableBufferPointer<UInt8>)
    -> Int
{
    var magnitude = value.magnitude
    var position = buffer.count
    var digits = 0
    repeat {
        if groupingThousands, digits > 0, digits % 3 == 0 {
            position -= 1
            buffer[position] = 0x2C
        }
        position -= 1
        buffer[position] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
        magnitude /= 10
        digits += 1
    } while magnitude > 0
    if value < 0 {
        position -= 1
        buffer[position] = 0x2D
    }
    return position
}

/// A signed amount for flows: "+1,200", "−300" (a true minus sign), "0".
func signed(_ value: Int64) -> String {
    if value > 0 { return "+" + grouped(value) }
    if value < 0 { return "\u{2212}" + grouped(-value) }
    return "0"
}

/// `part` as a whole percentage of `whole`, rounded half up; 0 when the whole is 0.
func percent(_ part: Int64, of whole: Int64) -> Int64 {
    guard whole > 0 else { return 0 }
    // Twice the percentage, floored, then halved rounding up: integer half-up rounding.
    return (Arithmetic.mulDivFloor(part, 200, whole) + 1) / 2
}

/// The page frame shared by statements and the close report: XHTML-compatible HTML5 (every
/// element closed, void elements self-closed, no named entities), so the same bytes parse as
/// HTML in a browser and as XML in our tests; inline CSS only, no script, no network.
enum HTMLPage {
    static func render(title: String, body: String) -> String {
        String(decoding: render(title: title, body: HTMLBytes(raw: body)), as: UTF8.self)
    }

    static func render(title: String, body: HTMLBytes) -> [UInt8] {
        var page = HTMLBytes(capacity: styleBytes.count + body.count + 512)
        page += """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">
            <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="color-scheme" content="light" />
            <title>\(escaped: title)</title>
            <style>

            """
        page.append(raw: styleBytes)
        page += "\n</style>\n</head>\n<body>\n<main>\n"
        page += body
        page += "</main>\n</body>\n</html>\n"
        return page.takeBytes()
    }

    static let styleBytes = Array(style.utf8)

    /// One stylesheet for both pages. It must hold no "<" or "&" so the page stays XML.
    static let style = """
        :root{--ink:#1d2330;--muted:#5c6577;--line:#d8dde6;--soft:#f4f6f9;--accent:#2f6db5}
        *{box-sizing:border-box}
        body{margin:0;color:var(--ink);background:#fff;line-height:1.4;\
        font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
        main{max-width:60rem;margin:0 auto;padding:1.2rem 1rem 2rem}
        header.top{border-bottom:3px solid var(--accent);padding-bottom:.6rem;margin-bottom:.8rem}
        .kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:.75rem;color:var(--accent);font-weight:600}
        h1{font-size:1.55rem;margin:.1rem 0 .3rem;overflow-wrap:anywhere}
        h2{font-size:1.1rem;margin:1.6rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
        h3{font-size:.95rem;margin:1rem 0 .3rem}
        p{margin:.3rem 0 .6rem}
        .muted{color:var(--muted)}
        .meta{display:flex;flex-wrap:wrap;gap:.2rem 1.4rem;margin:0;padding:0;list-style:none;font-size:.9rem}
        .meta li span{color:var(--muted)}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.6rem;margin:.4rem 0}
        .card{border:1px solid var(--line);border-radius:.5rem;padding:.5rem .8rem;background:var(--soft)}
        .card span{display:block;font-size:.8rem;color:var(--muted)}
        .card b{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
        .card small{display:block;color:var(--muted);font-size:.75rem}
        .card.warn{background:#fff6e8;border-color:#efc27a}
        .card.bad{background:#fdeeea;border-color:#e5a493}
        .wrap{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.3rem 0}
        th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ef;text-align:left;vertical-align:top}
        th{font-weight:600;background:var(--soft)}
        td{overflow-wrap:break-word}
        .raw{word-break:break-all}
        .nowrap{white-space:nowrap;overflow-wrap:normal}
        .n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        tr.total td{font-weight:600;border-top:2px solid var(--line)}
        td.sub{padding-left:1.4rem}
        .flag{border-left:4px solid #e8a33d;background:#fff6e8;padding:.5rem .8rem;margin:.5rem 0;border-radius:0 .4rem .4rem 0}
        .flag.bad{border-color:#c8553d;background:#fdeeea}
        .flag.ok{border-color:#4f9d5d;background:#eef7ef}
        .flag b{display:block}
        .flag p{margin:.15rem 0 0}
        figure{margin:.6rem 0 1rem}
        figure svg{display:block;width:100%;max-width:30rem;height:auto}
        .two{display:grid;grid-template-columns:repeat(auto-fit,minmax(19rem,1fr));gap:0 1.5rem;align-items:start}
        figcaption{font-size:.8rem;color:var(--muted);margin-top:.2rem}
        .chart text{font-family:inherit;font-size:12px;fill:#1d2330;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
        .chart text.v{font-variant-numeric:tabular-nums}
        .chart text.h{font-weight:600}
        .chart text.m{fill:#5c6577}
        code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em;overflow-wrap:anywhere}
        .fingerprint{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85rem;overflow-wrap:anywhere;\
        background:var(--soft);padding:.4rem .6rem;border-radius:.3rem}
        a{color:var(--accent)}
        ul.links{padding-left:1.1rem}
        .yes{color:#2e7d3c;font-weight:600}.no{color:#b2412b;font-weight:600}
        footer{margin-top:2rem;font-size:.8rem;color:var(--muted);border-top:1px solid var(--line);padding-top:.5rem}
        @media (max-width:40rem){main{padding:.8rem .6rem}h1{font-size:1.25rem}.card b{font-size:1.15rem}\
        table{font-size:.8rem}th,td{padding:.25rem .3rem}}
        @media print{@page{size:A4;margin:14mm 12mm}body{font-size:9pt}th,td{padding:.15rem .4rem}main{max-width:none;padding:0}\
        h2,h3{break-after:avoid}h2{margin-top:1.1rem}figure,tr,.card,.flag{break-inside:avoid}\
        a{color:inherit;text-decoration:none}.wrap{overflow:visible}\
        *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """
}

/// "1 credit note", "3 credit notes".
func counted(_ count: Int, _ one: String, _ many: String) -> String {
    "\(grouped(Int64(count))) \(count == 1 ? one : many)"
}

/// Groups the whole part of a decimal amount for people ("9802.12" → "9,802.12"); the
/// exports keep the plain form.
func groupedDecimal(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let unsigned = negative ? text.dropFirst() : Substring(text)
    let whole = unsigned.prefix { $0 != "." }
    let fraction = unsigned.dropFirst(whole.count)
    guard let value = Int64(whole) else { return text }
    return (negative ? "-" : "") + grouped(value) + fraction
}
