/// RFC 4180 output for spreadsheets and accounting imports.
public enum CSVWriter {
    /// First bytes that make a spreadsheet treat a cell as a formula: = + - @ tab CR. (A
    /// switch, not a `Set`: a set hashed every byte of every cell of a close's tables.)
    static func isFormulaStart(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D: true
        default: false
        }
    }

    /// Bytes that force a cell into quotes: comma, quote, LF, CR.
    static func isQuoteTrigger(_ byte: UInt8) -> Bool {
        byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D
    }

    /// Quotes a cell when it needs it; a text cell that a spreadsheet would run as a formula
    /// (starting with = + - @, tab or CR) gets a leading apostrophe.
    public static func cell(_ text: String, isText: Bool = true) -> String {
        var value = text
        if isText, let first = value.utf8.first, isFormulaStart(first) {
            value = "'" + value
        }
        let needsQuotes = value.utf8.contains(where: isQuoteTrigger)
        guard needsQuotes else { return value }
        var quoted = "\""
        for character in value {
            if character == "\"" { quoted += "\"\"" } else { quoted.append(character) }
        }
        return quoted + "\""
    }

    public static func line(_ cells: [String]) -> String {
        var line = ""
        for (index, text) in cells.enumerated() {
            if index > 0 { line += "," }
            line += cell(text)
        }
        line += "\n"
        return line
    }
}
