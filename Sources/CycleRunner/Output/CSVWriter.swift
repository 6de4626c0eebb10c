/// RFC 4180 output for spreadsheets and accounting imports.
public enum CSVWriter {
    /// First bytes that make a spreadsheet treat a cell as a formula: = + - @ tab CR.
    static let formulaStarts: Set<UInt8> = [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D]
    /// Bytes that force a cell into quotes: comma, quote, LF, CR.
    static let quoteTriggers: Set<UInt8> = [0x2C, 0x22, 0x0A, 0x0D]

    /// Quotes a cell when it needs it; a text cell that a spreadsheet would run as a formula
    /// (starting with = + - @, tab or CR) gets a leading apostrophe.
    public static func cell(_ text: String, isText: Bool = true) -> String {
        var value = text
        if isText, let first = value.utf8.first, formulaStarts.contains(first) {
            value = "'" + value
        }
        let needsQuotes = value.utf8.contains { quoteTriggers.contains($0) }
        guard needsQuotes else { return value }
        var quoted = "\""
        for character in value {
            if character == "\"" { quoted += "\"\"" } else { quoted.append(character) }
        }
        return quoted + "\""
    }

    public static func line(_ cells: [String]) -> String {
        cells.map { cell($0) }.joined(separator: ",") + "\n"
    }
}
