import CLibXML2

/// Why a schema could not be loaded.
public enum SchemaLoadError: Error, Equatable, Sendable {
    case unreadable(path: String, messages: [String])
}

/// Checks documents against one XML Schema (the UBL 2.1 Invoice or CreditNote XSD) with
/// libxml2, so every exported document is known to be schema-valid before it is written.
///
/// Create it once and reuse it: parsing the UBL schemas (about twenty files) is the expensive
/// part. The parsed schema is only read after `init`, and each `validate` call creates its own
/// libxml2 validation context and error list, so one validator may be used from several
/// threads at once; that is why the class can be `Sendable` although it holds a C pointer.
public final class SchemaValidator: @unchecked Sendable {
    private let schema: xmlSchemaPtr
    public let schemaPath: String

    /// The XSD for a document kind inside the UBL 2.1 `xsd` folder, for example
    /// `/work/shared/einvoice/ubl-2.1/xsd` → `…/maindoc/UBL-Invoice-2.1.xsd`.
    public static func schemaFile(for kind: DocumentKind, in schemasDirectory: String) -> String {
        let directory = schemasDirectory.hasSuffix("/") ? String(schemasDirectory.dropLast()) : schemasDirectory
        switch kind {
        case .invoice: return directory + "/maindoc/UBL-Invoice-2.1.xsd"
        case .creditNote: return directory + "/maindoc/UBL-CreditNote-2.1.xsd"
        }
    }

    public init(schemaPath: String) throws {
        _ = libxml2Initialized
        self.schemaPath = schemaPath
        let collector = ErrorCollector()
        let parsed: xmlSchemaPtr? = collector.collectingGlobalErrors {
            guard let parserContext = xmlSchemaNewParserCtxt(schemaPath) else { return nil }
            defer { xmlSchemaFreeParserCtxt(parserContext) }
            xmlSchemaSetParserStructuredErrors(parserContext, collectErrorCallback, collector.context)
            return xmlSchemaParse(parserContext)
        }
        guard let parsed else {
            throw SchemaLoadError.unreadable(path: schemaPath, messages: collector.messages)
        }
        self.schema = parsed
    }

    deinit {
        xmlSchemaFree(schema)
    }

    /// The schema violations and well-formedness errors of `xml`, one line each with its line
    /// number; empty when the document is valid. The document is parsed without network
    /// access and without expanding entities, so a hostile file cannot reach out or balloon.
    public func validate(_ xml: [UInt8]) -> [String] {
        guard xml.count <= Int(Int32.max) else { return ["document too large to validate (\(xml.count) bytes)"] }
        let collector = ErrorCollector()
        let parsedDocument: xmlDocPtr? = collector.collectingGlobalErrors {
            xml.withUnsafeBytes { raw -> xmlDocPtr? in
                guard let base = raw.baseAddress else { return nil }
                return xmlReadMemory(
                    base.assumingMemoryBound(to: CChar.self), Int32(raw.count), "document.xml", nil,
                    Int32(XML_PARSE_NONET.rawValue))
            }
        }
        guard let document = parsedDocument else {
            return collector.messages.isEmpty ? ["document is not well-formed XML"] : collector.messages
        }
        defer { xmlFreeDoc(document) }
        guard let validationContext = xmlSchemaNewValidCtxt(schema) else {
            return ["libxml2 could not create a schema validation context"]
        }
        defer { xmlSchemaFreeValidCtxt(validationContext) }
        xmlSchemaSetValidStructuredErrors(validationContext, collectErrorCallback, collector.context)
        let result = withExtendedLifetime(collector) { xmlSchemaValidateDoc(validationContext, document) }
        if result != 0, collector.messages.isEmpty {
            return ["schema validation failed with libxml2 code \(result)"]
        }
        return collector.messages
    }
}

/// Collects libxml2's structured errors as text. It is handed to C as an unretained pointer,
/// so whoever installs it keeps it alive for as long as libxml2 may call back.
private final class ErrorCollector {
    var messages: [String] = []

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    func append(message: String, line: Int32) {
        var text = message
        while let last = text.last, last.isNewline || last == " " { text.removeLast() }
        messages.append(line > 0 ? "line \(line): \(text)" : text)
    }

    /// Runs `body` with this collector as the thread's structured error handler: parsing a
    /// document or a schema reports through libxml2's per-thread handler, not a context.
    /// `body` is synchronous, so it cannot hop threads while the handler is installed.
    func collectingGlobalErrors<Result>(_ body: () -> Result) -> Result {
        withExtendedLifetime(self) {
            xmlSetStructuredErrorFunc(context, collectErrorCallback)
            defer { xmlSetStructuredErrorFunc(nil, nil) }
            return body()
        }
    }
}

/// A plain C function pointer (no captures), as libxml2 requires; the collector arrives as
/// the context pointer. The error parameter is left untyped because libxml2 2.12 made it a
/// pointer to const, and the closure then adapts to either header.
private let collectErrorCallback: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    // Warnings do not make a document invalid; only errors and fatal errors are reported.
    guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    let collector = Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue()
    let message = error.pointee.message.map { String(cString: $0) } ?? "unknown libxml2 error"
    collector.append(message: message, line: error.pointee.line)
}
