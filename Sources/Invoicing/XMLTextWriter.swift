import CLibXML2

/// libxml2 must be initialised once before threads use it; a global constant is initialised
/// exactly once and thread-safely by the Swift runtime, so touching it is the cheap guard.
let libxml2Initialized: Void = {
    xmlInitParser()
    // Schemas and documents are read from local files only: an http:// import, include or
    // entity in a schema or a document fails instead of reaching out to the network.
    xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader)
}()

/// Why libxml2 could not produce a document.
public enum XMLWriterError: Error, Equatable, Sendable {
    /// A libxml2 writer call reported failure; `operation` names the first one that failed.
    case libxml2Failed(operation: String)
}

/// A thin, element-at-a-time wrapper over libxml2's xmlTextWriter writing into memory.
///
/// Failures are sticky: the first failing call is remembered and `finish()` throws it, so the
/// rendering code reads as a plain sequence of elements instead of a `try` on every line.
final class XMLTextWriter {
    private let buffer: xmlBufferPtr
    private var writer: xmlTextWriterPtr?
    private var failure: XMLWriterError?
    /// How many elements are open, and whether the innermost one's start tag is still open
    /// (nothing written inside it yet): what `raw` needs to know to stand in for `start`.
    private(set) var depth = 0
    private var inStartTag = false
    /// Whether `element` writes a leaf of plain ASCII as bytes of its own (see `writePlainLeaf`);
    /// tests turn it off to compare the two.
    let plainLeaves: Bool

    /// A writer of a whole document, which starts with the XML declaration. The declaration's
    /// encoding also decides how libxml2 writes attribute values: without one, it writes every
    /// non-ASCII character as a character reference.
    init(plainLeaves: Bool = true) throws {
        self.plainLeaves = plainLeaves
        _ = libxml2Initialized
        guard let buffer = xmlBufferCreate() else { throw XMLWriterError.libxml2Failed(operation: "xmlBufferCreate") }
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else {
            xmlBufferFree(buffer)
            throw XMLWriterError.libxml2Failed(operation: "xmlNewTextWriterMemory")
        }
        self.buffer = buffer
        self.writer = writer
        check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
        withXMLString("  ") { check(xmlTextWriterSetIndentString(writer, $0), "xmlTextWriterSetIndentString") }
        check(xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil), "xmlTextWriterStartDocument")
    }

    deinit {
        if let writer { xmlFreeTextWriter(writer) }
        xmlBufferFree(buffer)
    }

    /// Opens an element; every `start` needs a matching `end`.
    func start(_ name: String) {
        guard let writer else { return }
        withXMLString(name) { check(xmlTextWriterStartElement(writer, $0), "xmlTextWriterStartElement \(name)") }
        depth += 1
        inStartTag = true
    }

    func end() {
        guard let writer else { return }
        check(xmlTextWriterEndElement(writer), "xmlTextWriterEndElement")
        depth -= 1
        inStartTag = false
    }

    /// Writes a whole element made by `fragment(depth:_:)` at this writer's depth, byte for
    /// byte what writing the element here would have written.
    ///
    /// libxml2 writes raw bytes after closing an open start tag with `>` alone, where the
    /// start of a child writes `>` and a line feed; and it then leaves out the indentation
    /// before the parent's end tag, which a child's end would have restored. The line feed is
    /// added here, and `xmlTextWriterSetIndent` (which sets that flag again) restores the rest.
    func raw(_ fragment: XMLFragment) {
        guard let writer else { return }
        precondition(fragment.depth == depth + 1, "a fragment is written at the depth it was made for")
        if inStartTag { check(xmlTextWriterWriteRawLen(writer, "\n", 1), "xmlTextWriterWriteRawLen") }
        fragment.bytes.withUnsafeBufferPointer { pointer in
            check(
                xmlTextWriterWriteRawLen(writer, pointer.baseAddress, Int32(pointer.count)), "xmlTextWriterWriteRawLen")
        }
        check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
        inStartTag = false
    }

    /// The bytes `body` writes for one element (with its indentation and the line feed after
    /// it) when that element is at `depth` (1 for a document's root), made by a document writer
    /// of its own (the same declaration, so the same escaping) under `depth - 1` placeholder
    /// elements, so that its indentation is libxml2's own; only the element's bytes are kept.
    static func fragment(depth: Int, _ body: (XMLTextWriter) -> Void) throws -> XMLFragment {
        precondition(depth >= 1, "an element is at least at depth 1")
        let scratch = try XMLTextWriter()
        guard let writer = scratch.writer else {
            throw XMLWriterError.libxml2Failed(operation: "xmlNewTextWriterMemory")
        }
        for _ in 1..<depth { scratch.start("x") }
        if depth > 1 {
            // Closes the placeholder's start tag now, so that what follows is the element's alone.
            scratch.check(xmlTextWriterWriteRawLen(writer, "", 0), "xmlTextWriterWriteRawLen")
            scratch.check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
            scratch.inStartTag = false
        }
        scratch.check(xmlTextWriterFlush(writer), "xmlTextWriterFlush")
        let before = Int(xmlBufferLength(scratch.buffer))
        body(scratch)
        precondition(scratch.depth == depth - 1, "a fragment is one whole element")
        scratch.check(xmlTextWriterFlush(writer), "xmlTextWriterFlush")
        if let failure = scratch.failure { throw failure }
        let after = Int(xmlBufferLength(scratch.buffer))
        guard let content = xmlBufferContent(scratch.buffer) else { return XMLFragment(depth: depth, bytes: []) }
        return XMLFragment(
            depth: depth, bytes: Array(UnsafeBufferPointer(start: content + before, count: after - before)))
    }

    func attribute(_ name: String, _ value: String) {
        guard let writer else { return }
        withXMLString(name) { namePointer in
            withXMLString(XMLTextWriter.xmlSafe(value)) { valuePointer in
                check(
                    xmlTextWriterWriteAttribute(writer, namePointer, valuePointer),
                    "xmlTextWriterWriteAttribute \(name)")
            }
        }
    }

    /// Writes `<name attribute="…">text</name>` (UBL elements carry at most one attribute:
    /// a currency, unit or scheme). Empty text writes nothing at all, because an empty element
    /// is never meaningful in UBL and Peppol rejects it (PEPPOL-EN16931-R008).
    func element(_ name: String, _ text: String, attribute: (name: String, value: String)? = nil) {
        let safe = XMLTextWriter.xmlSafe(text)
        guard let writer, !safe.isEmpty else { return }
        if plainLeaves, writePlainLeaf(writer, name, safe, attribute) { return }
        start(name)
        if let attribute { self.attribute(attribute.name, attribute.value) }
        // xmlTextWriterWriteString escapes `&`, `<` and `>`; the bytes passed are UTF-8.
        withXMLString(safe) { check(xmlTextWriterWriteString(writer, $0), "xmlTextWriterWriteString \(name)") }
        end()
    }

    /// Writes a leaf element whose name, text and attribute are printable ASCII (and whose
    /// attribute value holds none of `&`, `<`, `>` and `"`) as the bytes libxml2 would write for
    /// it here, in one raw write, and returns true; returns false, having written nothing, for
    /// any other leaf. A document is mostly such leaves, and writing each through libxml2
    /// (open, attribute, escaped text, close: a copy of the name, a node on its stack, an
    /// escaped copy of the text and a write per indentation level) cost about 5,000
    /// instructions, a twelfth of a close's.
    ///
    /// The bytes follow libxml2's rules for an element at this depth + 1: two spaces of
    /// indentation a level, `&`, `<`, `>` and `"` escaped in the text (`xmlEncodeSpecialChars`),
    /// and a line feed after the end tag. An open parent start tag is closed by the raw write
    /// itself (`>`), with the line feed a child's start would write; then, as in `raw`,
    /// `xmlTextWriterSetIndent` restores the indentation before the parent's end tag.
    /// `XMLPlainLeafTests` compares documents written both ways.
    private func writePlainLeaf(
        _ writer: xmlTextWriterPtr, _ name: String, _ text: String, _ attribute: (name: String, value: String)?
    ) -> Bool {
        guard XMLTextWriter.isPrintableASCII(text), XMLTextWriter.isPrintableASCII(name) else { return false }
        if let attribute {
            guard XMLTextWriter.isPrintableASCII(attribute.name), XMLTextWriter.isPrintableASCII(attribute.value),
                !attribute.value.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 })
            else { return false }
        }
        var name = name
        var text = text
        var attributeName = attribute?.name ?? ""
        var attributeValue = attribute?.value ?? ""
        // The bytes the escaping adds: the size is counted first so that the leaf is written
        // into one buffer on the stack.
        let escapedExtra = text.withUTF8 { bytes in
            bytes.reduce(0) { extra, byte in
                switch byte {
                case 0x26: extra + 4
                case 0x3C, 0x3E: extra + 3
                case 0x22: extra + 5
                default: extra
                }
            }
        }
        let nameCount = name.utf8.count
        let attributeCount = attribute == nil ? 0 : attributeName.utf8.count + attributeValue.utf8.count + 4
        let size =
            (inStartTag ? 1 : 0) + 2 * depth + 1 + nameCount + attributeCount + 1 + text.utf8.count + escapedExtra + 2
            + nameCount + 2
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var cursor = ByteCursor(buffer)
            if inStartTag { cursor.put(0x0A) }
            cursor.put(0x20, count: 2 * depth)
            cursor.put(0x3C)
            cursor.put(&name)
            if attribute != nil {
                cursor.put(0x20)
                cursor.put(&attributeName)
                cursor.put(0x3D)
                cursor.put(0x22)
                cursor.put(&attributeValue)
                cursor.put(0x22)
            }
            cursor.put(0x3E)
            text.withUTF8 { bytes in
                var runStart = 0
                for index in bytes.indices {
                    let entity: StaticString
                    switch bytes[index] {
                    case 0x26: entity = "&amp;"
                    case 0x3C: entity = "&lt;"
                    case 0x3E: entity = "&gt;"
                    case 0x22: entity = "&quot;"
                    default: continue
                    }
                    cursor.put(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                    cursor.put(entity)
                    runStart = index + 1
                }
                cursor.put(UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
            cursor.put(0x3C)
            cursor.put(0x2F)
            cursor.put(&name)
            cursor.put(0x3E)
            cursor.put(0x0A)
            let position = cursor.position
            precondition(position == size, "a plain leaf's size is counted before it is written")
            check(xmlTextWriterWriteRawLen(writer, buffer.baseAddress, Int32(size)), "xmlTextWriterWriteRawLen")
        }
        check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
        inStartTag = false
        return true
    }

    /// Closes the document and returns its bytes, or the first failure.
    func finish() throws -> [UInt8] {
        if let writer {
            check(xmlTextWriterEndDocument(writer), "xmlTextWriterEndDocument")
            // Freeing the writer flushes it into the buffer.
            xmlFreeTextWriter(writer)
            self.writer = nil
        }
        if let failure { throw failure }
        let count = Int(xmlBufferLength(buffer))
        guard let content = xmlBufferContent(buffer) else { return [] }
        return Array(UnsafeBufferPointer(start: content, count: count))
    }

    private func check(_ result: Int32, _ operation: @autoclosure () -> String) {
        if result < 0, failure == nil { failure = .libxml2Failed(operation: operation()) }
    }

    /// Drops the characters XML 1.0 cannot carry at all (C0 controls other than tab, line feed
    /// and carriage return, and U+FFFE/U+FFFF): libxml2 would write them through and produce a
    /// document no parser accepts. Swift strings never hold lone surrogates.
    static func xmlSafe(_ text: String) -> String {
        // Nearly every text is printable ASCII, which needs no look at its scalars.
        if isPrintableASCII(text) || text.unicodeScalars.allSatisfy(isXMLCharacter) { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.filter(isXMLCharacter))
        return String(scalars)
    }

    /// Whether every byte of `text` is 0x20 to 0x7F, eight bytes at a time (`ASCIIWords`): a
    /// document asks this of every text it writes, and through the string's generic UTF-8 view
    /// it cost about 400 instructions a text (callgrind).
    static func isPrintableASCII(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { ASCIIWords.isPrintableASCII($0) }
    }

    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xFFFD: true
        case 0x10000...0x10FFFF: true
        default: false
        }
    }
}

/// Bytes written one after another into a buffer that has room for them all (its size is
/// counted first): a plain leaf's, with no capacity test per write in release builds. Debug
/// builds (the tests, AddressSanitizer's among them) check each write against the room.
private struct ByteCursor {
    let base: UnsafeMutablePointer<UInt8>
    let room: Int
    var position = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        room = buffer.count
    }

    mutating func put(_ byte: UInt8) {
        assert(position < room, "a plain leaf writes no more than it counted")
        base[position] = byte
        position += 1
    }

    mutating func put(_ byte: UInt8, count: Int) {
        assert(position + count <= room, "a plain leaf writes no more than it counted")
        (base + position).initialize(repeating: byte, count: count)
        position += count
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        assert(position + bytes.count <= room, "a plain leaf writes no more than it counted")
        (base + position).update(from: source, count: bytes.count)
        position += bytes.count
    }

    mutating func put(_ literal: StaticString) {
        literal.withUTF8Buffer { put($0) }
    }

    mutating func put(_ text: inout String) {
        text.withUTF8 { put($0) }
    }
}

/// One element's bytes as a writer at `depth` writes them, kept to be written again (see
/// `XMLTextWriter.raw`).
struct XMLFragment: Sendable {
    let depth: Int
    let bytes: [UInt8]
}

/// Calls `body` with `text` as NUL-terminated UTF-8 typed as libxml2's `xmlChar`. A native
/// string lends its own storage (already NUL-terminated) and a small one a copy on the stack,
/// instead of a new array per call (grown once more for the NUL) as before.
func withXMLString<Result>(_ text: String, _ body: (UnsafePointer<xmlChar>) -> Result) -> Result {
    text.withCString { pointer in
        pointer.withMemoryRebound(to: xmlChar.self, capacity: text.utf8.count + 1) { body($0) }
    }
}
