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

    /// A writer of a whole document, which starts with the XML declaration. The declaration's
    /// encoding also decides how libxml2 writes attribute values: without one, it writes every
    /// non-ASCII character as a character reference.
    init() throws {
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
        start(name)
        if let attribute { self.attribute(attribute.name, attribute.value) }
        // xmlTextWriterWriteString escapes `&`, `<` and `>`; the bytes passed are UTF-8.
        withXMLString(safe) { check(xmlTextWriterWriteString(writer, $0), "xmlTextWriterWriteString \(name)") }
        end()
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

    /// Whether every byte of `text` is 0x20 to 0x7F, eight bytes at a time: a document asks
    /// this of every text it writes, and through the string's generic UTF-8 view it cost about
    /// 400 instructions a text (callgrind). A byte's low seven bits plus 0x60 carry into its
    /// high bit exactly when they are 0x20 or more, and never into the next byte.
    static func isPrintableASCII(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return true }
            let highs: UInt64 = 0x8080_8080_8080_8080
            let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            let carries: UInt64 = 0x6060_6060_6060_6060
            var index = 0
            while index + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if (word | ~((word & lows) &+ carries)) & highs != 0 { return false }
                index += 8
            }
            while index < bytes.count {
                if bytes[index] < 0x20 || bytes[index] >= 0x80 { return false }
                index += 1
            }
            return true
        }
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
