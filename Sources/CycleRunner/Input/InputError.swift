/// Bad input that stops the run before the ledger or any output is touched: it names the
/// file, the line and the column (or, in YAML, the key).
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += " (\(column))" }
        return place + ": " + message
    }
}
