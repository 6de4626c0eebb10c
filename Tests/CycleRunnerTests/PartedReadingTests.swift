// Proves that reading a file in parts gives what one reading gives: the CSV reader, started at
// a line start and stopped before a given offset, reads the records of one whole reading with
// line numbers shifted, and says where it stopped; usage files cut into many small parts give
// the same records, rejections, duplicates, conflicts and line numbers as files read whole,
// also when a cut falls inside a quoted line break or a broken quote.
import Foundation
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct PartedReadingTests {
    /// Reads `path` cut just after the line feeds at `cuts`, as `UsageReader` stitches parts:
    /// each part is read from where the part before it stopped (a part that started elsewhere,
    /// inside a record, is read again from there), up to the next cut.
    static func readInParts(
        _ path: String, size: Int, cuts: [Int], chunk: Int, limit: Int = CSVReader.defaultRecordLimitBytes,
        bytesPastStop: Int = CSVReader.defaultBytesPastStop
    ) throws -> [ReadItem] {
        var items: [ReadItem] = []
        var start = 0
        var linesBefore = 0
        for stop in cuts.map(Optional.some) + [nil] {
            let reader = try CSVReader(
                path: path, chunkBytes: chunk, recordLimitBytes: limit, startOffset: start, stopOffset: stop,
                bytesPastStop: bytesPastStop)
            try reader.forEachRecord(
                { row in
                    items.append(
                        .record(
                            line: linesBefore + row.lineNumber, fields: (0..<row.count).map { Array(row.field($0)) }))
                },
                onProblem: { line, problem, raw in items.append(.problem(line: linesBefore + line, problem, raw: raw)) }
            )
            #expect(reader.offset >= (stop ?? size), "a part reads up to its stop")
            start = reader.offset
            linesBefore += reader.nextLineNumber - 1
        }
        #expect(start == size, "the last part reads to the end of the file")
        return items
    }

    @Test func aFileReadInPartsGivesTheRecordsOfOneReading() async {
        let byte = Gen.element(of: [UInt8(0x61), 0x62, 0x2C, 0x2C, 0x22, 0x22, 0x0A, 0x0A, 0x0A, 0x0D, 0xEF, 0x00])
            .map { $0! }
        await propertyCheck(
            count: 1000, input: byte.array(of: 0...160), Gen.int(in: 0...6), Gen.int(in: 1...40), Gen.int(in: 0...12)
        ) {
            bytes, cutCount, chunk, bytesPastStop in
            let folder = makeTempFolder()
            defer { removeTree(folder) }
            let path = folder + "/data.csv"
            writeFile(path, bytes)
            let lineStarts = bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.filter { $0 < bytes.count }
            // Evenly spread line starts, as `UsageReader.parts` picks them.
            let cuts =
                lineStarts.isEmpty
                ? [] : Array(Set((0..<cutCount).map { lineStarts[$0 * lineStarts.count / max(cutCount, 1)] })).sorted()
            do {
                // With the default limit, and with one that long rows and broken quotes exceed.
                for limit in [CSVReader.defaultRecordLimitBytes, 12] {
                    let whole = try readCSV(bytes, chunk: chunk, limit: limit)
                    #expect(try readCSV(bytes, limit: limit) == whole, "limit \(limit): the chunk size changes nothing")
                    // Reads that stop short of a part's stop, or just past it, inside the
                    // record that crosses it, and reads that may go on to the file's end.
                    for pastStop in [bytesPastStop, CSVReader.defaultBytesPastStop] {
                        let parted = try Self.readInParts(
                            path, size: bytes.count, cuts: cuts, chunk: chunk, limit: limit, bytesPastStop: pastStop)
                        #expect(
                            parted == whole,
                            """
                            limit \(limit), cuts \(cuts), \(pastStop) bytes past a stop in \
                            \(String(decoding: bytes, as: UTF8.self).debugDescription)
                            """)
                    }
                }
            } catch {
                Issue.record("reading failed: \(error)")
            }
        }
    }

    /// A part reads its file up to its stop and `bytesPastStop` beyond, not a whole buffer (a
    /// usage file's parts each filled 4 MiB, and read 100 MB of a 2.3 M-row close twice). The
    /// record that crosses the stop is read on past that, however long it is.
    @Test(arguments: [0, 1, 100, 20_000])
    func aPartReadsLittlePastItsStop(bytesPastStop: Int) throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        let path = folder + "/data.csv"
        let line = "e0000000001,org000001,2026-02-27T23:57:28Z,u4,video_draft,14\n"
        let lines = String(repeating: line, count: 20_000)
        let long = "\"" + String(repeating: "x", count: 10_000) + "\"\n"
        writeFile(path, lines + long + lines)
        let fileBytes = 2 * lines.utf8.count + long.utf8.count
        let lastShortLine = lines.utf8.count - line.utf8.count
        let longEnd = lines.utf8.count + long.utf8.count

        // A part that ends at a line start reads 64 KiB past it, not the whole file.
        let first = try CSVReader(path: path, stopOffset: lastShortLine)
        try first.forEachRecord({ _ in }, onProblem: { _, _, _ in })
        #expect(first.bytesRead == lastShortLine + CSVReader.defaultBytesPastStop)

        // A part whose stop falls inside the long record: its first read ends `bytesPastStop`
        // past the stop; when the long record is not whole by then, the next read fills the
        // buffer, which holds the rest of the file.
        let stop = lines.utf8.count + 1
        let second = try CSVReader(
            path: path, startOffset: lastShortLine, stopOffset: stop, bytesPastStop: bytesPastStop)
        var records = 0
        try second.forEachRecord({ _ in records += 1 }, onProblem: { _, _, _ in })
        #expect(records == 2, "the last short line and the long record")
        #expect(second.offset == longEnd)
        let expected = stop + bytesPastStop >= longEnd ? stop + bytesPastStop : fileBytes
        #expect(second.bytesRead == expected - lastShortLine)
    }

    /// A stop, or a distance past it, near `Int.max` reads as no limit rather than overflowing
    /// (a review finding: the sum trapped).
    @Test func hugeStopsAndDistancesDoNotOverflow() throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        let path = folder + "/data.csv"
        writeFile(path, "a\nb\nc\n")
        for (stop, pastStop) in [(2, Int.max), (Int.max, CSVReader.defaultBytesPastStop), (Int.max, Int.max)] {
            let reader = try CSVReader(path: path, stopOffset: stop, bytesPastStop: pastStop)
            var fields: [String] = []
            try reader.forEachRecord({ fields.append($0.string(0) ?? "") }, onProblem: { _, _, _ in })
            #expect(fields == (stop == 2 ? ["a"] : ["a", "b", "c"]), "stop \(stop), \(pastStop) past it")
        }
    }

    /// Whether a record is too long depends on the record alone, not on how much of the file
    /// the reader's buffer held when it got there (a review finding: a whole reading, its
    /// buffer grown by an earlier long row, accepted a row that a part's reader rejected).
    @Test func aRecordOverTheLimitIsRejectedWhereverTheReadingStarts() throws {
        let text = "aaaaaaaaaaa\nf\nf\nf\nbbbbbbbbbbbbbb\nc\n"
        let bytes = Array(text.utf8)
        let tooLong = CSVRecordProblem.recordTooLong(limitBytes: 10)
        let whole = try readCSV(bytes, chunk: 4, limit: 10)
        // An overlong record is shown by the file's next 200 bytes from its start.
        #expect(
            whole == [
                .problem(line: 1, tooLong, raw: text + "…"), rec(2, "f"), rec(3, "f"), rec(4, "f"),
                .problem(line: 5, tooLong, raw: "bbbbbbbbbbbbbb\nc\n…"), rec(6, "c"),
            ])
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        writeFile(folder + "/data.csv", bytes)
        let fromSecondRow = try Self.readInParts(
            folder + "/data.csv", size: bytes.count, cuts: [12], chunk: 4, limit: 10)
        #expect(fromSecondRow == whole)
    }

    /// Without line breaks inside fields every line start is a record start, so each part
    /// stops exactly at the next cut, and no record is read twice or by the wrong part.
    @Test func aPartStopsExactlyAtTheNextRecordStart() async {
        let field = Gen<Character?>.element(of: ["a", "b", ",", "\"", "é", " "]).map { $0! }.string(of: 0...5)
        let table = field.array(of: 1...3).array(of: 1...12)
        await propertyCheck(count: 200, input: table, Gen.int(in: 1...24), Gen.int(in: 1...5)) { table, chunk, step in
            let bytes = writeCSV(table, crlf: chunk % 2 == 0, finalLineEnd: true, bom: false, quoteAll: false)
            let folder = makeTempFolder()
            defer { removeTree(folder) }
            let path = folder + "/data.csv"
            writeFile(path, bytes)
            let lineStarts = bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.filter { $0 < bytes.count }
            let cuts = stride(from: 0, to: lineStarts.count, by: step).map { lineStarts[$0] }
            var start = 0
            var records = 0
            do {
                for stop in cuts.map(Optional.some) + [nil] {
                    let reader = try CSVReader(path: path, chunkBytes: chunk, startOffset: start, stopOffset: stop)
                    try reader.forEachRecord({ _ in records += 1 }, onProblem: { _, _, _ in records += 1 })
                    #expect(reader.offset == stop ?? bytes.count)
                    start = reader.offset
                }
            } catch {
                Issue.record("reading failed: \(error)")
            }
            #expect(records == table.count)
        }
    }

    /// Lines of any length, some many parts long: the cuts are where searching from every cut
    /// would put them, though a cut inside a line already searched past is not searched again.
    @Test func cutsInsideALongLineAreWhereSearchingEachWouldPutThem() async {
        let lengths = Gen.int(in: 0...700).array(of: 1...40)
        await propertyCheck(count: 200, input: lengths, Gen.int(in: 16...64)) { lengths, partBytes in
            let header = "event_id,org_id,occurred_at,user_id,action,credits\n"
            let text = header + lengths.map { String(repeating: "x", count: $0) + "\n" }.joined()
            let folder = makeTempFolder()
            defer { removeTree(folder) }
            makeTestFolder(folder + "/usage")
            writeFile(folder + "/usage/u.csv", text)
            let path = folder + "/usage/u.csv"
            let size = text.utf8.count
            var expected = [0]
            if size >= 2 * partBytes {
                let count = size / partBytes
                for part in 1..<count {
                    guard let start = UsageReader.lineStart(path: path, after: part * (size / count)) else { break }
                    if start > max(expected.last!, header.utf8.count), start < size { expected.append(start) }
                }
            }
            let parts = UsageReader.parts(folder: folder, name: "u.csv", file: 0, partBytes: partBytes)
            #expect(parts.map(\.start) == expected)
            #expect(parts.map(\.stop) == Array(expected.dropFirst()) + [nil])
        }
    }

    /// Usage rows with what a cut could spoil: duplicates and conflicts across parts, rows
    /// rejected for their form, quoted line breaks, a quote that never closes, blank lines and
    /// CRLF line ends.
    static func usageFile(seed: Int, rows: Int, crlf: Bool) -> String {
        var generator = SplitMix(seed: UInt64(seed))
        let end = crlf ? "\r\n" : "\n"
        var text = "event_id,org_id,occurred_at,user_id,action,credits" + end
        for row in 0..<rows {
            let roll = generator.next() % 20
            let id = "e\(generator.next() % UInt64(rows))"
            let user = "u\(generator.next() % 5)"
            let credits = generator.next() % 9
            let time = "2026-01-\(10 + row % 15)T10:00:00Z"
            switch roll {
            case 0: text += "\(id),o1,\(time),\"line\nbreak\",script,\(credits)" + end
            case 1: text += "\(id),o1,not-a-time,\(user),script,\(credits)" + end
            case 2: text += end
            case 3: text += "\(id),o1,\(time),\(user),\"tts,\(credits)" + end
            case 4: text += "\(id),o1,\(time),\"quoted \"\"user\"\"\",video_draft,\(credits)" + end
            default: text += "\(id),o1,\(time),\(user),script,\(credits)" + end
            }
        }
        return text
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func usageFilesCutIntoSmallPartsReadAsWholeFiles(seed: Int) throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        makeTestFolder(folder + "/usage")
        writeFile(folder + "/usage/2026-01.csv", Self.usageFile(seed: seed, rows: 300, crlf: seed % 2 == 0))
        writeFile(folder + "/usage/2026-02.csv", Self.usageFile(seed: seed + 100, rows: 200, crlf: false))
        let files = ["2026-01.csv", "2026-02.csv"]
        let orgs = OrgDirectory(profiles: [testProfile(plan: "business", start: "2026-01-01")])
        func read(partBytes: Int?) throws -> InputFolder {
            var input = InputFolder(catalog: testCatalog)
            try UsageReader.read(
                folder: folder, files: files, catalog: testCatalog, orgs: orgs, into: &input, partBytes: partBytes)
            return input
        }
        let whole = try read(partBytes: 1 << 30)
        #expect(whole.rejected.count > 20, "the file has rejections to keep in order")
        for partBytes in [64, 200, 777] {
            let parted = try read(partBytes: partBytes)
            #expect(parted.files == whole.files)
            #expect(parted.counts == whole.counts)
            #expect(parted.rejected == whole.rejected)
            #expect(parted.users == whole.users)
            #expect(parted.usage.count == whole.usage.count)
            let hasher = whole.usageHasher
            for index in whole.usage.indices {
                let (left, right) = (whole.usage[index], parted.usage[index])
                #expect(left.eventId == right.eventId && left.origin == right.origin)
                #expect(hasher.hash(left) == parted.usageHasher.hash(right))
            }
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
