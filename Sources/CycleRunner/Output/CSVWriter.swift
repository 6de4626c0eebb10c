import Invoicing

/// RFC 4180 output for spreadsheets and accounting imports, as strings, for the small files
/// (the close's large tables are written as bytes with `CSVText` directly). `CSVText` holds
/// the rule.
public enum CSVWriter {
    /// Quotes a cell when it needs it; a text cell that a spreadsheet would run as a formula
    /// (starting with = + - @, tab or CR) gets a leading apostrophe.
    public static func cell(_ text: String, isText: Bool = true) -> String {
        var bytes: [UInt8] = []
        CSVText.appendCell(text, isText: isText, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func line(_ cells: [String]) -> String {
        var bytes: [UInt8] = []
        CSVText.appendLine(cells, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
