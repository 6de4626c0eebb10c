import Invoicing

/// `close --schemas DIR`: every document is written and checked against the UBL 2.1 XSD
/// before the close commits; one invalid document fails the close and commits nothing.
enum DocumentValidation {
    static func validate(_ documents: [Document], schemasFolder: String) throws(CloseError) {
        var validators: [DocumentKind: SchemaValidator] = [:]
        for document in documents {
            let validator: SchemaValidator
            if let existing = validators[document.kind] {
                validator = existing
            } else {
                let path = SchemaValidator.schemaFile(for: document.kind, in: schemasFolder)
                do {
                    validator = try SchemaValidator(schemaPath: path)
                } catch {
                    throw .input(InputError(file: path, "the UBL schema cannot be loaded: \(error)"))
                }
                validators[document.kind] = validator
            }
            let xml: [UInt8]
            do {
                xml = try UBLWriter.render(document)
            } catch {
                throw .invalidDocument("document \(document.number) could not be written: \(error)")
            }
            let problems = validator.validate(xml)
            if !problems.isEmpty {
                throw .invalidDocument(
                    "document \(document.number) fails the UBL schema, nothing was committed: "
                        + problems.prefix(3).joined(separator: "; "))
            }
        }
    }
}
