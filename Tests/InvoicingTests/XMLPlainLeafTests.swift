// Proves a leaf element written as plain bytes of our own is byte for byte what libxml2 writes
// for it, wherever it stands (first child, after siblings, deep, before a parent's end), and that
// any leaf the plain path cannot tell (markup in an attribute, text beyond ASCII, controls)
// still goes through libxml2: random documents are written both ways and compared.
import PropertyBased
import Testing

@testable import Invoicing

@Suite struct XMLPlainLeafTests {
    /// One step of a random document: open an element, write a leaf, or close an element.
    enum Step {
        case open(String)
        case leaf(String, String, attribute: (String, String)?)
        case close
    }

    static func write(_ steps: [Step], plainLeaves: Bool) throws -> [UInt8] {
        let xml = try XMLTextWriter(plainLeaves: plainLeaves)
        xml.start("cac:Root")
        for step in steps {
            switch step {
            case .open(let name): xml.start(name)
            case .leaf(let name, let text, let attribute):
                xml.element(name, text, attribute: attribute.map { (name: $0.0, value: $0.1) })
            case .close: if xml.depth > 1 { xml.end() }
            }
        }
        while xml.depth > 0 { xml.end() }
        return try xml.finish()
    }

    @Test func knownLeavesAsLibxml2WritesThem() throws {
        let steps: [Step] = [
            .leaf("cbc:ID", "INV-1", attribute: nil), .open("cac:Party"),
            .leaf("cbc:Name", "A & B <\"x\"> 'y'", attribute: nil),
            .leaf("cbc:Amount", "12.50", attribute: ("currencyID", "EUR")), .open("cac:Deep"),
            .leaf("cbc:Note", "Zürich", attribute: nil), .leaf("cbc:Q", "1", attribute: ("unitCode", "a&b")), .close,
            .close, .leaf("cbc:Last", "end", attribute: nil),
        ]
        let plain = try Self.write(steps, plainLeaves: true)
        #expect(plain == (try Self.write(steps, plainLeaves: false)))
        #expect(
            String(decoding: plain, as: UTF8.self).contains(
                "\n    <cbc:Name>A &amp; B &lt;&quot;x&quot;&gt; 'y'</cbc:Name>\n"))
    }

    @Test func randomDocumentsAreWrittenAlike() async throws {
        let names = ["cbc:ID", "cbc:Note", "x", "cac:Line"]
        let texts = [
            "a", "12.50", "&", "<", ">", "\"", "'", " ", "Ōsaka", "\t", "\r", "\n", "\u{1}", "\u{7F}", "]]>", "",
        ]
        let text = Gen.element(of: texts).array(of: 0...5).map { $0.compactMap { $0 }.joined() }
        // Kind 0-1 opens, 2 closes, the rest write a leaf; its attribute is none, a currency
        // or a unit, by the name's index.
        let step = zip(Gen.int(in: 0...9), Gen.int(in: 0...(names.count * 3 - 1)), text, text).map {
            kind, nameAndAttribute, text, value -> Step in
            let name = names[nameAndAttribute % names.count]
            let attributeKind = nameAndAttribute / names.count
            switch kind {
            case 0...1: return .open(name)
            case 2: return .close
            default:
                let attribute = attributeKind == 0 ? nil : (attributeKind == 1 ? "currencyID" : "unitCode", value)
                return .leaf(name, text, attribute: attribute)
            }
        }
        await propertyCheck(count: 500, input: step.array(of: 0...30)) { steps in
            let plain = try Self.write(steps, plainLeaves: true)
            let libxml2 = try Self.write(steps, plainLeaves: false)
            #expect(plain == libxml2, "\(String(decoding: libxml2, as: UTF8.self))")
        }
    }
}
