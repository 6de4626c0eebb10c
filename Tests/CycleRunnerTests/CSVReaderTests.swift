// Proves the RFC 4180 reader of §3: quoting, line ends, BOM, blank lines, problems, line numbers, chunk independence, and the plain-record path against the byte rules.
import PropertyBased
import Testing

@testable import CycleRunnerCore

/// What the reader handed out, copied out of its buffer.
enum ReadItem: Equatable, CustomStringConvertible {
    case record(line: Int, fields: [[UInt8]])
    case problem(line: Int, CSVRecordProblem, raw: String)

    var description: String {
        switch self {
        case .record(let line, let fields):
            "\(line): " + fields.map { "[" + String(decoding: $0, as: UTF8.self).debugDescription + "]" }.joined()
        case .problem(let line, let problem, let raw): "\(line): \(problem) \(raw.debugDescription)"
        }
    }
}

/// Writes `bytes` to a fresh temp file and reads it back with the given chunk size and record limit.
/// With `plain` false, every record is read by the byte rules alone (no `plainRecord` first).
func readCSV(
    _ bytes: [UInt8], chunk: Int = 4 << 20, limit: Int = CSVReader.defaultRecordLimitBytes, plain: Bool = true
) throws -> [ReadItem] {
    let folder = makeTempFolder()
    defer { removeTree(folder) }
    let path = folder + "/data.csv"
    writeFile(path, bytes)
    let reader = try CSVReader(path: path, chunkBytes: chunk, recordLimitBytes: limit, plainRecords: plain)
    var items: [ReadItem] = []
    try reader.forEachRecord(
        { row in items.append(.record(line: row.lineNumber, fields: (0..<row.count).map { Array(row.field($0)) })) },
        onProblem: { line, problem, raw in items.append(.problem(line: line, problem, raw: raw)) })
    return items
}

func readCSV(_ text: String, chunk: Int = 4 << 20) throws -> [ReadItem] { try readCSV(Array(text.utf8), chunk: chunk) }

func rec(_ line: Int, _ fields: String...) -> ReadItem { .record(line: line, fields: fields.map { Array($0.utf8) }) }

let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

@Suite struct CSVRecords {
    @Test func quotesAndDoubledQuoteEscapes() throws {
        #expect(
            try readCSV("a,\"b \"\"q\"\" c\",d\n\"\"\"\",\"\",x\n")
                == [rec(1, "a", "b \"q\" c", "d"), rec(2, "\"", "", "x")])
    }

    @Test func embeddedCommasAndNewlinesMoveTheLineNumbersOfLaterRecords() throws {
        let text = "1,\"x,y\",z\n2,\"one\ntwo\nthree\",w\n3,k,l\n4,\"a\r\nb\",c\r\n5,m,n\n"
        #expect(
            try readCSV(text) == [
                rec(1, "1", "x,y", "z"), rec(2, "2", "one\ntwo\nthree", "w"), rec(5, "3", "k", "l"),
                rec(6, "4", "a\r\nb", "c"), rec(8, "5", "m", "n"),
            ])
    }

    @Test func crlfAndLfLineEnds() throws {
        #expect(try readCSV("a,b\r\nc,d\r\n") == [rec(1, "a", "b"), rec(2, "c", "d")])
        #expect(try readCSV("a,b\nc,d\r\ne,f\n") == [rec(1, "a", "b"), rec(2, "c", "d"), rec(3, "e", "f")])
    }

    @Test func emptyFields() throws {
        #expect(try readCSV(",,\n\"\"\na,\n") == [rec(1, "", "", ""), rec(2, ""), rec(3, "a", "")])
    }

    @Test func aByteOrderMarkAtTheStartIsStripped() throws {
        #expect(try readCSV(bom + Array("a,b\nc,d\n".utf8)) == [rec(1, "a", "b"), rec(2, "c", "d")])
        #expect(try readCSV(bom + Array("\"a\",b\n".utf8)) == [rec(1, "a", "b")])
    }

    @Test func aByteOrderMarkLaterInTheFileIsData() throws {
        let items = try readCSV(Array("a,b\n".utf8) + bom + Array("c,d\n".utf8))
        #expect(items == [rec(1, "a", "b"), .record(line: 2, fields: [bom + Array("c".utf8), Array("d".utf8)])])
        let afterBlank = try readCSV(Array("\n".utf8) + bom + Array("c\n".utf8))
        #expect(afterBlank == [.record(line: 2, fields: [bom + Array("c".utf8)])])
    }

    @Test func aMissingFinalLineEnd() throws {
        #expect(try readCSV("a,b\nc,d") == [rec(1, "a", "b"), rec(2, "c", "d")])
        #expect(try readCSV("a,b\nc,\"d\"") == [rec(1, "a", "b"), rec(2, "c", "d")])
        #expect(try readCSV("a,b\r\nc,d\r") == [rec(1, "a", "b"), rec(2, "c", "d")])
    }

    @Test func blankLinesAreSkipped() throws {
        #expect(try readCSV("a\n\n\r\n\nb\n\n") == [rec(1, "a"), rec(5, "b")])
        #expect(try readCSV("\n\na\n") == [rec(3, "a")])
        #expect(try readCSV("") == [])
        #expect(try readCSV("\n\r\n") == [])
    }
}

@Suite struct CSVProblems {
    @Test func anUnterminatedQuoteIsReportedAndTheNextLinesAreRead() throws {
        let items = try readCSV("a,b\nc,\"d\ne,f\n")
        #expect(
            items == [
                rec(1, "a", "b"), .problem(line: 2, .unterminatedQuote(column: 2), raw: "c,\"d"), rec(3, "e", "f"),
            ])
        let atEnd = try readCSV("a,b\nc,\"d")
        #expect(atEnd == [rec(1, "a", "b"), .problem(line: 2, .unterminatedQuote(column: 2), raw: "c,\"d")])
    }

    @Test func aQuoteInsideAnUnquotedFieldIsReportedAndReadingGoesOn() throws {
        let items = try readCSV("a,b\"c,d\ne,f\n")
        #expect(items == [.problem(line: 1, .quoteInUnquotedField(column: 2), raw: "a,b\"c,d"), rec(2, "e", "f")])
    }

    @Test func textAfterAClosingQuoteIsReportedAndReadingGoesOn() throws {
        let items = try readCSV("x\n\"a\nb\"junk,c\nd\n")
        #expect(
            items == [
                rec(1, "x"), .problem(line: 2, .textAfterClosingQuote(column: 1), raw: "\"a\nb\"junk,c"), rec(4, "d"),
            ])
    }

    @Test func anOverlongRecordIsReportedOnceAndReadingGoesOn() throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        let long = String(repeating: "x", count: 300)
        writeFile(folder + "/data.csv", "a\n\(long),\"\(long)\n\(long)\"\nb\n")
        let reader = try CSVReader(path: folder + "/data.csv", chunkBytes: 64, recordLimitBytes: 256)
        var lines: [Int] = []
        var problems: [CSVRecordProblem] = []
        try reader.forEachRecord(
            { row in lines.append(row.lineNumber) }, onProblem: { line, problem, _ in problems.append(problem) })
        #expect(lines == [1, 4])
        #expect(problems == [.recordTooLong(limitBytes: 256)])
    }

    @Test func invalidUTF8AndNULFieldsAreNotText() throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        writeFile(folder + "/data.csv", Array("a,".utf8) + [0xFF, 0xFE] + Array(",c\u{E9},d".utf8) + [0] + [0x0A])
        let reader = try CSVReader(path: folder + "/data.csv")
        var seen = 0
        try reader.forEachRecord(
            { row in
                seen += 1
                #expect(row.count == 4)
                #expect(row.string(0) == "a")
                #expect(row.string(1) == nil)
                #expect(Array(row.field(1)) == [0xFF, 0xFE])
                #expect(row.string(2) == "c\u{E9}")
                #expect(row.string(3) == nil)
                #expect(Array(row.field(3)) == [0x64, 0])
                #expect(row.string(9) == "")
            }, onProblem: { _, problem, _ in Issue.record("unexpected \(problem)") })
        #expect(seen == 1)
    }

    /// Fields long enough to be checked eight bytes at a time, with a NUL byte, or a character
    /// outside ASCII, at every position: a NUL makes any field not text, and the other is text.
    @Test(arguments: [1, 7, 8, 9, 15, 16, 17, 24])
    func aNULOrAByteOutsideASCIIIsFoundAnywhereInAField(_ length: Int) throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        var rows: [UInt8] = []
        for position in 0..<length {
            var nul = Array(repeating: UInt8(ascii: "x"), count: length)
            nul[position] = 0
            var accented = Array(repeating: UInt8(ascii: "x"), count: length)
            accented.replaceSubrange(position..<(position + 1), with: Array("\u{E9}".utf8))
            rows += nul + [0x2C] + accented + [0x0A]
        }
        writeFile(folder + "/data.csv", rows)
        let reader = try CSVReader(path: folder + "/data.csv")
        var seen = 0
        try reader.forEachRecord(
            { row in
                let position = seen
                seen += 1
                #expect(row.string(0) == nil, "NUL at \(position)")
                let expected =
                    String(repeating: "x", count: position) + "\u{E9}"
                    + String(repeating: "x", count: length - position - 1)
                #expect(row.string(1) == expected, "\u{E9} at \(position)")
            }, onProblem: { _, problem, _ in Issue.record("unexpected \(problem)") })
        #expect(seen == length)
    }
}

@Suite struct CSVChunking {
    static let samples: [[UInt8]] = [
        bom + Array("id,\"note, with comma\",x\r\n1,\"multi\nline\r\n\"\"quoted\"\"\",3\r\n\r\n2,,\n".utf8),
        Array("a,b\n".utf8) + bom + Array("c,d\n\n\ne,\"f\ng\"\nh,i\"j\nk,\"l\"m\nn,o".utf8),
        Array("\n".utf8) + bom + Array("x,y\n".utf8),
        Array("a\n".utf8) + bom + Array("b\n".utf8),
        bom,
        bom + Array("\n\"".utf8),
        Array("\r\n\r\n\"\"\r\n\"\r\"\r\n".utf8),
        Array("\u{1F600},\u{E9}\u{301},\u{20AC}\n\"\u{1F600}\n\",z".utf8),
        Array("a,\"unterminated\nb,c\n".utf8),
    ]

    @Test(arguments: 0..<samples.count)
    func tinyChunksReadTheSameRecordsAsOneLargeChunk(_ index: Int) throws {
        let sample = CSVChunking.samples[index]
        let expected = try readCSV(sample)
        for chunk in 1...24 {
            let items = try readCSV(sample, chunk: chunk)
            #expect(items == expected, "chunk size \(chunk)")
        }
    }

    @Test func theSmallestChunkStillReadsEveryRecord() throws {
        #expect(try readCSV("ab,cd\nef\n", chunk: 1) == [rec(1, "ab", "cd"), rec(2, "ef")])
        #expect(try readCSV(bom + Array("ab\n".utf8), chunk: 1) == [rec(1, "ab")])
        #expect(
            try readCSV(Array("\n".utf8) + bom + Array("c\n".utf8), chunk: 2) == [
                .record(line: 2, fields: [bom + [0x63]])
            ])
    }
}

/// A correct RFC 4180 writer: quotes a field when it must (separator, quote, line break, a leading
/// BOM that would otherwise be taken for the file's, or the only field of a record being empty).
func writeCSV(_ table: [[String]], crlf: Bool, finalLineEnd: Bool, bom withBOM: Bool, quoteAll: Bool) -> [UInt8] {
    var out: [UInt8] = withBOM ? bom : []
    for (index, row) in table.enumerated() {
        let fields = row.map { field -> String in
            let must =
                field.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
                || field.unicodeScalars.first == "\u{FEFF}" || (row.count == 1 && field.isEmpty)
            guard must || quoteAll else { return field }
            return "\"" + field.doublingQuotes() + "\""
        }
        out += Array(fields.joined(separator: ",").utf8)
        if index < table.count - 1 || finalLineEnd { out += crlf ? [0x0D, 0x0A] : [0x0A] }
    }
    return out
}

extension String {
    /// Every `"` written twice, as RFC 4180 escapes it inside a quoted field.
    func doublingQuotes() -> String {
        String(String.UnicodeScalarView(unicodeScalars.flatMap { $0 == "\"" ? [$0, $0] : [$0] }))
    }
}

@Suite struct CSVRoundTrip {
    static let pool: [Character] = [
        "a", "b", "Z", "0", " ", "\t", ",", ",", "\"", "\"", "\r", "\n", "\r\n", "\u{E9}", "e\u{301}", "\u{20AC}",
        "\u{1F600}", "\u{FEFF}", "\u{4E2D}", ";", "'",
    ]

    @Test func writtenTablesReadBackExactlyForAnyChunkSize() async {
        let field = Gen<Character?>.element(of: CSVRoundTrip.pool).map { $0! }.string(of: 0...6)
        let table = field.array(of: 1...4).array(of: 1...6)
        let options = Gen<UInt8>.value(in: 0...15)  // crlf, final line end, BOM, quote all
        await propertyCheck(count: 300, input: table, options, Gen.int(in: 1...48)) { table, options, chunk in
            let bytes = writeCSV(
                table, crlf: options & 1 != 0, finalLineEnd: options & 2 != 0, bom: options & 4 != 0,
                quoteAll: options & 8 != 0)
            // The line of each record: one plus the line feeds written before it.
            var expected: [ReadItem] = []
            var written: [UInt8] = options & 4 != 0 ? bom : []
            for (index, row) in table.enumerated() {
                let line = 1 + written.filter { $0 == 0x0A }.count
                expected.append(.record(line: line, fields: row.map { Array($0.utf8) }))
                written = Array(
                    writeCSV(
                        Array(table[...index]), crlf: options & 1 != 0, finalLineEnd: true, bom: options & 4 != 0,
                        quoteAll: options & 8 != 0))
            }
            let items = try readCSV(bytes, chunk: chunk)
            #expect(items == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
    }
}

/// The word-at-a-time search for separators finds the first one exactly, wherever it sits and
/// whatever bytes precede or follow it (bytes just below a match are what a borrow would spoil).
@Suite struct CSVWordSearch {
    static func firstSpecial(_ bytes: [UInt8]) -> Int? {
        bytes.firstIndex { $0 == 0x2C || $0 == 0x0A || $0 == 0x0D || $0 == 0x22 }
    }

    static func wordFirstSpecial(_ bytes: [UInt8]) -> Int? {
        var word: UInt64 = 0
        for (index, byte) in bytes.enumerated() { word |= UInt64(byte) << (8 * UInt64(index)) }
        let found = CSVReader.specialBytes(in: word)
        return found == 0 ? nil : found.trailingZeroBitCount >> 3
    }

    @Test(arguments: [UInt8(0x2C), 0x0A, 0x0D, 0x22])
    func everyPositionOfEverySeparator(special: UInt8) {
        for position in 0..<8 {
            for filler: UInt8 in [0x00, 0x01, 0x2B, 0x2D, 0x0B, 0x21, 0x23, 0x7F, 0x80, 0xFF] {
                var bytes = [UInt8](repeating: filler, count: 8)
                bytes[position] = special
                #expect(Self.wordFirstSpecial(bytes) == Self.firstSpecial(bytes))
            }
        }
    }

    @Test func anyWord() async {
        let byte = Gen.element(of: [UInt8(0x2C), 0x0A, 0x0D, 0x22, 0x00, 0x01, 0x2B, 0x2D, 0x61, 0x80, 0xFF])
        await propertyCheck(input: byte.array(of: 8)) { bytes in
            let bytes = bytes.compactMap { $0 }
            #expect(Self.wordFirstSpecial(bytes) == Self.firstSpecial(bytes))
        }
    }
}

/// Records of plain fields are read eight bytes at a time with every comma and line end of a
/// word taken from one mask (`CSVReader.plainRecord`); any other record by the byte rules. Both
/// must read every file the same: the same records, fields, lines and problems.
@Suite struct CSVPlainRecords {
    /// Marks the commas, line feeds and carriage returns of `bytes` (eight of them) as
    /// `separatorBytes` should.
    static func separators(_ bytes: [UInt8]) -> UInt64 {
        var marks: UInt64 = 0
        for (index, byte) in bytes.enumerated() where byte == 0x2C || byte == 0x0A || byte == 0x0D {
            marks |= 0x80 << (8 * UInt64(index))
        }
        return marks
    }

    static func word(_ bytes: [UInt8]) -> UInt64 {
        var word: UInt64 = 0
        for (index, byte) in bytes.enumerated() { word |= UInt64(byte) << (8 * UInt64(index)) }
        return word
    }

    /// Every byte value at every position, between fillers that are and are not separators,
    /// and just above and below them (where a borrow or a carry would spoil a mark).
    @Test(arguments: [UInt8(0x00), 0x01, 0x2B, 0x2C, 0x2D, 0x0A, 0x0B, 0x09, 0x7F, 0x80, 0xAC, 0xFF])
    func everyByteAtEveryPositionIsMarkedExactly(filler: UInt8) {
        for position in 0..<8 {
            for value in 0...255 {
                var bytes = [UInt8](repeating: filler, count: 8)
                bytes[position] = UInt8(value)
                #expect(CSVReader.separatorBytes(in: Self.word(bytes)) == Self.separators(bytes), "\(bytes)")
                #expect(CSVReader.hasQuote(Self.word(bytes)) == bytes.contains(0x22), "\(bytes)")
            }
        }
    }

    @Test func anyWordIsMarkedExactly() async {
        let byte = Gen.element(of: [UInt8(0x2C), 0x0A, 0x0D, 0x22, 0x00, 0x01, 0x2B, 0x2D, 0x61, 0x80, 0xAC, 0xFF])
        await propertyCheck(count: 500, input: byte.array(of: 8)) { bytes in
            let bytes = bytes.compactMap { $0 }
            #expect(CSVReader.separatorBytes(in: Self.word(bytes)) == Self.separators(bytes))
        }
    }

    /// Files of short plain records with quotes, carriage returns, blank lines, NUL and
    /// multi-byte characters mixed in at any place, read with and without the plain path, in
    /// chunks of any size (a record then often ends within eight bytes of the buffer's end).
    @Test func theByteRulesAndThePlainPathReadEveryFileTheSame() async {
        let piece = Gen.element(of: [
            "a", "bc", "defghij", "0123456789", ",", ",", ",", "\n", "\n", "\r\n", "\r", "\"", "\"\"", "\u{E9}", "\0",
            "\n\n",
        ]).map { $0! }
        let text = piece.array(of: 0...40).map { $0.joined() }
        await propertyCheck(count: 400, input: text, Gen.int(in: 1...40)) { text, chunk in
            let bytes = Array(text.utf8)
            let plain = try readCSV(bytes, chunk: chunk, plain: true)
            let rules = try readCSV(bytes, chunk: chunk, plain: false)
            #expect(plain == rules, "\(text.debugDescription) in chunks of \(chunk)")
            #expect(plain == (try readCSV(bytes, plain: false)), "\(text.debugDescription)")
        }
    }

    /// Usage rows as the generator writes them, one of them broken in turn at every byte by a
    /// quote, a carriage return or a line feed: the rows around it must read the same both ways.
    @Test(arguments: [UInt8(0x22), 0x0D, 0x0A, 0x2C])
    func aSpecialByteAtEveryPlaceOfARow(special: UInt8) throws {
        for lineEnd in ["\n", "\r\n", "\r"] {
            let header = "event_id,org_id,occurred_at,user_id,action,credits,job_id,quality" + lineEnd
            let row = "e0000486589,org000001,2026-02-27T23:57:28Z,u4,video_draft,14,j486589,2" + lineEnd
            for position in 0..<row.utf8.count {
                var broken = Array(row.utf8)
                broken[position] = special
                let bytes = Array(header.utf8) + Array(row.utf8) + broken + Array(row.utf8)
                for chunk in [4 << 20, 7, 70] {
                    let plain = try readCSV(bytes, chunk: chunk, plain: true)
                    let rules = try readCSV(bytes, chunk: chunk, plain: false)
                    let place = "byte \(position), line end \(lineEnd.debugDescription), chunks of \(chunk)"
                    #expect(plain == rules, "\(place)")
                }
            }
        }
    }
}
