/// RFC 4180 cells and lines written as UTF-8 bytes: the one rule for every CSV file the tool
/// writes (the close's tables, the journal, the what-if comparisons, generated inputs).
///
/// A cell is quoted when it holds a comma, a quote, LF or CR, and each quote byte inside is
/// doubled. A text cell that a spreadsheet would run as a formula (starting with = + - @, tab or
/// CR) gets a leading apostrophe first. The rule works on bytes, not characters: a quote
/// followed by a combining mark is one `Character` that is not `"`, and a character-by-character
/// rule left that quote undoubled, which breaks the line for any RFC 4180 reader.
public enum CSVText {
    /// First bytes that make a spreadsheet treat a cell as a formula: = + - @ tab CR. (A
    /// switch, not a `Set`: a set hashed every byte of every cell of a close's tables.)
    @inline(__always)
    public static func isFormulaStart(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D: true
        default: false
        }
    }

    /// Bytes that force a cell into quotes: comma, quote, LF, CR.
    @inline(__always)
    public static func isQuoteTrigger(_ byte: UInt8) -> Bool {
        byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D
    }

    /// Appends one cell, quoted when it needs it; `isText: false` is for numbers and dates,
    /// which never get the apostrophe.
    public static func appendCell(_ text: String, isText: Bool = true, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            let apostrophe = isText && utf8.first.map(isFormulaStart) == true
            guard utf8.contains(where: isQuoteTrigger) else {
                if apostrophe { bytes.append(0x27) }
                bytes.append(contentsOf: utf8)
                return
            }
            bytes.append(0x22)
            if apostrophe { bytes.append(0x27) }
            var start = 0
            for index in utf8.indices where utf8[index] == 0x22 {
                // Up to and including the quote, then the quote again.
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...index]))
                bytes.append(0x22)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
            bytes.append(0x22)
        }
    }

    /// Appends the cells, each as `appendCell` writes a text cell, separated by commas and
    /// ended by LF.
    public static func appendLine(_ cells: [String], to bytes: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            appendCell(cell, to: &bytes)
        }
        bytes.append(0x0A)
    }
}
