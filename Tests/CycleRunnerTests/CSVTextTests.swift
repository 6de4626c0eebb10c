// Proves the one CSV cell rule every written table follows (quoting, doubled quotes, the
// formula apostrophe), byte for byte, and that any line it writes reads back through our RFC 4180
// reader as the cells it was given (the apostrophe aside).
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct CSVTextTests {
    @Test(arguments: [
        ("plain", true, "plain"), ("", true, ""), ("a,b", true, "\"a,b\""),
        ("say \"hi\"", true, "\"say \"\"hi\"\"\""), ("two\nlines", true, "\"two\nlines\""),
        ("cr\rhere", true, "\"cr\rhere\""), ("=SUM(A1)", true, "'=SUM(A1)"), ("+1", true, "'+1"),
        ("-5", true, "'-5"), ("-5", false, "-5"), ("@home", true, "'@home"), ("\tx", true, "'\tx"),
        ("\rx", true, "\"'\rx\""), ("=a,b", true, "\"'=a,b\""), ("Ōsaka \"東京\"", true, "\"Ōsaka \"\"東京\"\"\""),
        // A quote followed by a combining accent is one Character that is not `"`; its quote
        // byte is doubled all the same.
        ("x\"\u{301}y", true, "\"x\"\"\u{301}y\""),
    ])
    func cells(text: String, isText: Bool, written: String) {
        var bytes: [UInt8] = []
        CSVText.appendCell(text, isText: isText, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == written)
        #expect(CSVWriter.cell(text, isText: isText) == written)
    }

    @Test func aLineIsItsCellsJoinedByCommasAndEndedByALineFeed() {
        #expect(CSVWriter.line(["a", "b,c", "=d"]) == "a,\"b,c\",'=d\n")
        #expect(CSVWriter.line([]) == "\n")
    }

    /// Random cells from pieces that matter to the rule, written as a line and read back.
    @Test func anyLineReadsBackAsItsCells() async throws {
        let pieces = [
            "a", "Z9", ",", "\"", "\n", "\r", "\r\n", "=", "+", "-", "@", "\t", " ", "é", "\u{301}", "東", "'", "😀",
        ]
        let cell = Gen.int(in: 0...(pieces.count - 1)).array(of: 0...6).map { $0.map { pieces[$0] }.joined() }
        await propertyCheck(count: 400, input: cell.array(of: 1...5)) { cells in
            var bytes: [UInt8] = []
            CSVText.appendLine(cells, to: &bytes)
            let read = try readCSV(bytes)
            let expected = cells.map { cell in
                cell.utf8.first.map(CSVText.isFormulaStart) == true ? "'" + cell : cell
            }
            // A line of one empty cell is a blank line, which the reader skips.
            if cells == [""] {
                #expect(read.isEmpty)
            } else {
                #expect(read == [.record(line: 1, fields: expected.map { Array($0.utf8) })], "\(cells)")
            }
        }
    }
}
