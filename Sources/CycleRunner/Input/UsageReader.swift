import Dispatch
import Foundation
import Invoicing

/// Usage rows, one chunk per part of a usage file in reading order, addressed by one index
/// across them. Each part is parsed into its own chunk on its own core and the chunks are kept
/// as they are, so millions of records are never copied into one array (which would hold them
/// twice).
public struct UsageRows: RandomAccessCollection, Sendable {
    private var chunks: [[UsageRecord]] = []
    /// The index of each chunk's first record.
    private var starts: [Int] = []
    /// For each block of `1 << blockShift` positions, the chunk that holds its first position:
    /// a lookup is then a step or two, not a search through dozens of chunks.
    private var chunkAtBlock: [Int32] = []
    private static let blockShift = 12
    public private(set) var endIndex = 0

    public init() {}

    public var startIndex: Int { 0 }

    /// The record at `position`, lent where it is: reading one field (`usage[index].eventId`)
    /// copies that field only, not the record with its event id as a getter did (a copy and a
    /// release per row in the engine's and the ledger's loops over millions of rows).
    public subscript(position: Int) -> UsageRecord {
        _read {
            let chunk = chunk(containing: position)
            yield chunks[chunk][position - starts[chunk]]
        }
    }

    /// The chunk that holds `position`: the one its block starts in, or a later one.
    @inline(__always)
    private func chunk(containing position: Int) -> Int {
        var chunk = Int(chunkAtBlock[position >> UsageRows.blockShift])
        while chunk + 1 < starts.count, starts[chunk + 1] <= position { chunk += 1 }
        return chunk
    }

    /// Calls `body` with the records at `range` in place, a run of one chunk at a time, and the
    /// position of each run's first record: a loop over millions of rows reads their fields
    /// without copying each record (and retaining its event id) through the subscript.
    func forEachRun(in range: Range<Int>, _ body: (UnsafeBufferPointer<UsageRecord>, Int) -> Void) {
        guard !range.isEmpty else { return }
        var chunk = chunk(containing: range.lowerBound)
        var position = range.lowerBound
        while position < range.upperBound {
            let offset = position - starts[chunk]
            let count = Swift.min(chunks[chunk].count - offset, range.upperBound - position)
            chunks[chunk].withUnsafeBufferPointer { records in
                body(UnsafeBufferPointer(rebasing: records[offset..<(offset + count)]), position)
            }
            position += count
            chunk += 1
        }
    }

    /// Calls `body` with the record at `position` where it lies: a loop that reads several
    /// fields of each of millions of records looks the chunk up once per record, and copies
    /// neither the record nor its event id.
    @inline(__always)
    func withRecord<Result>(at position: Int, _ body: (UnsafePointer<UsageRecord>) -> Result) -> Result {
        let chunk = chunk(containing: position)
        // Through the list of chunks' own buffer, so the chunk is lent, not retained and
        // released for each record.
        return chunks.withUnsafeBufferPointer { chunks in
            chunks[chunk].withUnsafeBufferPointer { records in
                body(records.baseAddress! + (position - starts[chunk]))
            }
        }
    }

    mutating func append(chunk: [UsageRecord]) {
        guard !chunk.isEmpty else { return }
        chunks.append(chunk)
        starts.append(endIndex)
        endIndex += chunk.count
        // Blocks not covered before start in the new chunk.
        while chunkAtBlock.count << UsageRows.blockShift < endIndex {
            chunkAtBlock.append(Int32(chunks.count - 1))
        }
    }
}

/// Reads usage/*.csv: each file is cut into parts at line ends, every part is parsed on a core
/// into records and rejections, and the parts are merged in reading order on one, where user
/// ids are interned and duplicates and conflicts are found exactly as a row-by-row reading in
/// that order would find them. A part that turns out to start inside a record (a quoted line
/// break) is read again from where the part before it stopped.
enum UsageReader {
    static let columns = ["event_id", "org_id", "occurred_at", "user_id", "action", "credits"]

    /// Lookups shared by the workers, built once from the orgs and the catalog.
    struct Lookups: Sendable {
        var orgs: OrgDirectory
        var orgTable: ByteTable
        var orgKeys: KeyArena
        var orgStarts: [Instant]
        var actionTable: ByteTable
        var actionKeys: KeyArena
    }

    /// One part of a file as its worker leaves it: records in line order (user indices local
    /// to the part), the rows rejected for their form, also in line order, and the users it
    /// met. Line numbers count from 1 at the part's start; `linesRead` is how many lines it
    /// spans and `endOffset` where it stopped, the start of the part that follows.
    struct ParsedFile: Sendable {
        var records: [UsageRecord] = []
        var rejections: [(line: Int, rejection: Rejection, raw: String)] = []
        var users: [String] = []
        var rowsRead = 0
        var endOffset = 0
        var linesRead = 0
    }

    /// A part of a usage file: the records that start in [start, stop), the header's columns
    /// for a part after the first, and the number of the file in reading order.
    struct Part: Sendable {
        var file: Int
        var start: Int
        var stop: Int?
        var header: CSVHeader?
    }

    /// Parts of about `partBytes`, cut just after a line end; a part that starts inside a
    /// quoted line break is found and read again while merging. A file whose header cannot be
    /// read is one part, whose parse reports the problem.
    static func parts(folder: String, name: String, file: Int, partBytes: Int) -> [Part] {
        let path = folder + "/usage/" + name
        let size = fileSize(path)
        let whole = [Part(file: file, start: 0, stop: nil, header: nil)]
        // Only the header is read here, through a small buffer: a chunk-sized one read 4 MiB
        // of each file, on one core, before any part could start.
        guard size >= 2 * partBytes,
            let table = try? CSVTable(
                path: path, displayName: "usage/" + name, required: UsageReader.columns, optional: [],
                chunkBytes: 64 << 10)
        else { return whole }
        let headerEnd = table.reader.offset
        let count = size / partBytes
        var starts: [Int] = [0]
        // A cut that falls before the line start found for the one before it is skipped, not
        // searched from: inside a very long line, each cut would scan on to that line's end.
        var searchedTo = 0
        for part in 1..<count {
            let offset = part * (size / count)
            if offset < searchedTo { continue }
            guard let start = lineStart(path: path, after: offset) else { break }
            searchedTo = start
            if start > max(starts.last!, headerEnd), start < size { starts.append(start) }
        }
        return starts.indices.map { index in
            Part(
                file: file, start: starts[index], stop: index + 1 < starts.count ? starts[index + 1] : nil,
                header: index == 0 ? nil : table.header)
        }
    }

    /// The offset just after the first line feed at or after `offset`, or nil at the end of the file.
    static func lineStart(path: String, after offset: Int) -> Int? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var window = [UInt8](repeating: 0, count: 1 << 16)
        var position = offset
        while true {
            let count = window.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, off_t(position)) }
            guard count > 0 else { return nil }
            if let found = window[0..<count].firstIndex(of: 0x0A) { return position + found + 1 }
            position += count
        }
    }

    /// `partBytes` is the size files are cut at (tests cut small files into many parts).
    /// With `keepingIds`, returns the table of event ids (id bytes → position in `input.usage`)
    /// when it holds every usage row, that is when this reading was the first into `input`.
    @discardableResult
    static func read(
        folder: String, files: [String], catalog: Catalog, orgs: OrgDirectory, into input: inout InputFolder,
        partBytes: Int? = nil, keepingIds: Bool = false
    ) throws(InputError) -> ByteTable? {
        let readBefore = input.usage.count
        let lookups = try makeLookups(files: files, catalog: catalog, orgs: orgs, input: &input)
        let firstIndex = input.files.count
        var usageBytes = 0
        for name in files { usageBytes += fileSize(folder + "/usage/" + name) }
        // Parts small enough that the last few leave little for one core to do alone (three
        // monthly files on two cores left one idle for a third of the reading; with 16 parts
        // at 2.3 M rows the last part's parse and then its merge still ran alone, 50 ms), large
        // enough that each is worth a worker's start.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let partBytes = partBytes ?? min(max(usageBytes / (32 * max(cores, 1)), 2 << 20), 32 << 20)
        let parts = files.indices.flatMap {
            UsageReader.parts(folder: folder, name: files[$0], file: $0, partBytes: partBytes)
        }
        // Parts are parsed on every core in reading order, and each is merged as soon as it and
        // every part before it are parsed, while the later parts are still being parsed.
        let pending = parts.indices.map { _ in Pending<Result<ParsedFile, InputError>>() }
        // Workers take the next unparsed part, in order, one per core. The merging thread
        // takes a part itself when no worker has started it yet, so the reading never waits
        // for a worker thread that has not started: it only ever waits for a parse that is
        // running. The workers are `Feeders` (threads of their own at nice 5): the merge, on
        // the close's thread, is the one the reading waits for at its end, and at equal
        // priority three threads shared two cores, so it fell behind the parsing and was left
        // with parts to merge alone.
        @Sendable func parsePart(_ part: Part) -> Result<ParsedFile, InputError> {
            Result { () throws(InputError) in
                try parse(
                    folder: folder, name: files[part.file], fileIndex: Int32(firstIndex + part.file), part: part,
                    lookups: lookups)
            }
        }
        let claims = FileClaims()
        Feeders.run([
            {
                while let index = claims.next(below: parts.count) {
                    pending[index].fulfil(parsePart(parts[index]))
                }
            }
        ])
        var userTable = ByteTable()
        // Room for a row per 64 bytes of input (the generated rows average 68), so the table
        // rarely grows while it is large.
        var eventTable = ByteTable(capacity: usageBytes / 64)
        var missingRaw: [Int: [(line: Int, rejected: Int)]] = [:]
        var failure: InputError?
        var fileIndex: Int32 = 0
        // Where the part before stopped, and how many lines of its file came before it.
        var expectedStart = 0
        var linesBefore = 0
        for (index, part) in parts.enumerated() {
            if claims.claim(index) { pending[index].fulfil(parsePart(part)) }
            // Every part's parse is waited for, even after a failure, so none outlives this call.
            guard failure == nil else {
                _ = pending[index].wait()
                continue
            }
            if part.start == 0 {
                fileIndex = input.addFile("usage/" + files[part.file])
                linesBefore = 0
            }
            // When the part before read on past this part's start, this part began inside a
            // record: it is read again from where that part stopped.
            let rereadFrom = part.start != 0 && part.start != expectedStart ? expectedStart : nil
            if rereadFrom != nil { _ = pending[index].wait() }
            // Taken straight into `parsed`: a second binding of the result would make the merge
            // copy the part's records on its first write.
            var parsed: ParsedFile
            switch rereadFrom.map({ parsePart(Part(file: part.file, start: $0, stop: part.stop, header: part.header)) })
                ?? pending[index].wait()
            {
            case .success(let file): parsed = file
            case .failure(let error):
                failure = error
                continue
            }
            merge(
                &parsed, fileIndex: fileIndex, linesBefore: linesBefore, userTable: &userTable,
                eventTable: &eventTable, missingRaw: &missingRaw[part.file, default: []], input: &input)
            expectedStart = parsed.endOffset
            linesBefore += parsed.linesRead
        }
        if let failure { throw failure }
        // Conflicts are found after the files are read: their raw text is read again, from the
        // few files that have any.
        for (index, wanted) in missingRaw where !wanted.isEmpty {
            let display = "usage/" + files[index]
            let table = try CSVTable(
                path: folder + "/" + display, displayName: display, required: columns, optional: [])
            var byLine: [Int: Int] = [:]
            for entry in wanted { byLine[entry.line] = entry.rejected }
            do {
                try table.forEachRow(
                    { row in
                        guard let position = byLine[row.lineNumber] else { return }
                        let rejected = input.rejected[position]
                        input.rejected[position] = RejectedRow(
                            sourceFile: rejected.sourceFile, lineNumber: rejected.lineNumber,
                            rejection: rejected.rejection, raw: row.rawText)
                    }, onProblem: { _, _, _ in })
            } catch {
                throw InputError(file: display, "cannot be read: \(error)")
            }
        }
        return keepingIds && readBefore == 0 ? eventTable : nil
    }

    static func makeLookups(files: [String], catalog: Catalog, orgs: OrgDirectory, input: inout InputFolder)
        throws(InputError) -> Lookups
    {
        // Orgs, actions, users and event ids are looked up by their bytes in the CSV buffer, and
        // the content hash is taken from those bytes too: per row, the only String made is the
        // event id the record keeps.
        var orgTable = ByteTable(capacity: orgs.profiles.count)
        var orgStarts: [Instant] = []
        var orgHashers: [StableHasher] = []
        for (index, profile) in orgs.profiles.enumerated() {
            var id = profile.id.rawValue
            let hash = id.withUTF8 { ByteTable.hash($0) }
            orgTable.insert(hash: hash, index: Int32(index))
            orgStarts.append(profile.startInstant)
            var hasher = StableHasher()
            hasher.add(profile.id.rawValue)
            orgHashers.append(hasher)
        }
        // Actions are matched by their bytes, as ids are everywhere else; the position in
        // `catalog.actions` is the action index.
        let actionNames = catalog.actions.map(\.id.rawValue)
        // Usage records keep file and action indices in 16 bits.
        if actionNames.count > Int(Int16.max) {
            throw InputError(file: "plans.yaml", "more than \(Int16.max) actions")
        }
        if input.files.count + files.count > Int(Int16.max) {
            throw InputError(file: "usage/", "more than \(Int(Int16.max) - input.files.count) usage files")
        }
        input.usageOrgPrefixes = orgHashers
        input.actionIds = actionNames
        var actionTable = ByteTable(capacity: actionNames.count)
        for (index, name) in actionNames.enumerated() {
            var name = name
            actionTable.insert(hash: name.withUTF8 { ByteTable.hash($0) }, index: Int32(index))
        }
        return Lookups(
            orgs: orgs, orgTable: orgTable, orgKeys: KeyArena(orgs.profiles.map(\.id.rawValue)),
            orgStarts: orgStarts, actionTable: actionTable, actionKeys: KeyArena(actionNames))
    }

    /// Parses one file: every check of a usage row that needs no other file.
    static func parse(folder: String, name: String, fileIndex: Int32, part: Part, lookups: Lookups)
        throws(InputError) -> ParsedFile
    {
        let display = "usage/" + name
        let path = folder + "/" + display
        let table =
            if let header = part.header {
                try CSVTable(continuing: header, path: path, startOffset: part.start, stopOffset: part.stop)
            } else {
                try CSVTable(path: path, displayName: display, required: columns, optional: [], stopOffset: part.stop)
            }
        let columns = Columns(
            event: table.index("event_id")!, org: table.index("org_id")!, time: table.index("occurred_at")!,
            user: table.index("user_id")!, action: table.index("action")!, credits: table.index("credits")!)
        var file = ParsedFile()
        // Room for every row up front (a valid usage row is at least 31 bytes): growing an array
        // of millions of records by doubling copies it again and again and, for a moment, holds
        // two. Capacity that is never written costs address space, not memory.
        let partBytes = (part.stop ?? fileSize(path)) - part.start
        file.records.reserveCapacity(max(partBytes, 0) / 31 + 1)
        var userTable = ByteTable()
        let userKeys = KeyArena()
        do {
            try table.forEachRow(
                { csvRow in
                    file.rowsRead += 1
                    do throws(Rejection) {
                        file.records.append(
                            try record(
                                RowFields(row: csvRow, table: table), columns: columns, lookups: lookups,
                                fileIndex: fileIndex, users: &file.users, userTable: &userTable, userKeys: userKeys))
                    } catch {
                        file.rejections.append((csvRow.lineNumber, error, csvRow.rawText))
                    }
                },
                onProblem: { line, rejection, raw in
                    file.rowsRead += 1
                    file.rejections.append((line, rejection, raw))
                })
        } catch {
            throw InputError(file: display, "cannot be read: \(error)")
        }
        file.endOffset = table.reader.offset
        file.linesRead = table.reader.nextLineNumber - 1
        return file
    }

    /// Where the usage columns are in a file's header.
    struct Columns {
        var event: Int
        var org: Int
        var time: Int
        var user: Int
        var action: Int
        var credits: Int
    }

    /// One usage row's record, or why it is rejected. A function of its own, given what it
    /// changes: as a local function capturing the part's state, every row paid for Swift's
    /// run-time exclusivity checks of those captured variables (a twentieth of the parsing).
    static func record(
        _ fields: RowFields, columns: Columns, lookups: Lookups, fileIndex: Int32, users: inout [String],
        userTable: inout ByteTable, userKeys: KeyArena
    ) throws(Rejection) -> UsageRecord {
        let row = fields.row
        let eventBytes = row.field(columns.event)
        guard !eventBytes.isEmpty else { throw Rejection(.missingField, "event_id is missing") }
        // The ledger's id blocks hold an id's length in 16 bits; a longer id would be stored
        // cut, and every later close would miss it and apply its row again.
        guard eventBytes.count <= UsageBlock.longestIdBytes else {
            throw Rejection(
                .badValue, "event_id is \(eventBytes.count) bytes long; the longest the ledger stores is 65,535")
        }
        let orgBytes = row.field(columns.org)
        guard
            let orgIndex = lookups.orgTable.find(
                hash: ByteTable.hash(orgBytes),
                matches: { lookups.orgKeys.equals($0, orgBytes) })
        else {
            _ = try fields.text(at: columns.org, "org_id")
            throw Rejection(.unknownOrg, "org \(String(decoding: orgBytes, as: UTF8.self)) is not in orgs.csv")
        }
        let instant = try fields.instant(at: columns.time, "occurred_at")
        let userBytes = row.field(columns.user)
        if userBytes.isEmpty { throw Rejection(.missingField, "user_id is missing") }
        let actionBytes = row.field(columns.action)
        guard
            let action = lookups.actionTable.find(
                hash: ByteTable.hash(actionBytes),
                matches: { lookups.actionKeys.equals($0, actionBytes) })
        else {
            let actionText = try fields.text(at: columns.action, "action")
            throw Rejection(.unknownAction, "action \(actionText) is not in plans.yaml")
        }
        let credits = try fields.credits(at: columns.credits, "credits")
        if instant < lookups.orgStarts[Int(orgIndex)] {
            let profile = lookups.orgs.profiles[Int(orgIndex)]
            throw Rejection(
                .beforeOrgStart, "\(instant) is before org \(profile.id) starts on \(profile.startDate)")
        }
        let userHash = ByteTable.hash(userBytes)
        var userNumber = userTable.find(hash: userHash, matches: { userKeys.equals($0, userBytes) })
        if userNumber == nil {
            let user = try fields.text(at: columns.user, "user_id")
            userNumber = Int32(users.count)
            userTable.insert(hash: userHash, index: userNumber!)
            users.append(user)
            userKeys.append(userBytes)
        }
        let eventId = try fields.text(at: columns.event, "event_id")
        return UsageRecord(
            eventId: eventId, orgIndex: orgIndex, actionIndex: Int16(action), userIndex: userNumber!,
            instant: instant, credits: credits,
            origin: RowOrigin(fileIndex: fileIndex, lineNumber: Int32(clamping: row.lineNumber)))
    }

    /// Adds one parsed file to the input: its users are interned, its rows' event ids checked
    /// against every row kept before them, and its rejections recorded in line order. The
    /// records kept are swapped to the front of the file's own array, in order, which becomes
    /// its chunk.
    static func merge(
        _ parsed: inout ParsedFile, fileIndex: Int32, linesBefore: Int, userTable: inout ByteTable,
        eventTable: inout ByteTable, missingRaw: inout [(line: Int, rejected: Int)], input: inout InputFolder
    ) {
        // The records are taken, not copied: a second reference to them would make the first
        // write below copy the whole file's records.
        var chunk: [UsageRecord] = []
        swap(&chunk, &parsed.records)
        input.counts[Int(fileIndex)].read += parsed.rowsRead
        var userNumbers: [Int32] = []
        userNumbers.reserveCapacity(parsed.users.count)
        for user in parsed.users {
            var bytes = user
            let hash = bytes.withUTF8 { ByteTable.hash($0) }
            let known = bytes.withUTF8 { utf8 in
                userTable.find(hash: hash, matches: { input.users[Int($0)].utf8Equals(utf8) })
            }
            if let known {
                userNumbers.append(known)
            } else {
                let number = Int32(input.users.count)
                userTable.insert(hash: hash, index: number)
                input.users.append(user)
                userNumbers.append(number)
            }
        }
        let hasher = input.usageHasher
        let base = input.usage.count
        var kept = 0
        var nextRejection = 0
        func rejectUpTo(_ line: Int) {
            while nextRejection < parsed.rejections.count, parsed.rejections[nextRejection].line < line {
                let entry = parsed.rejections[nextRejection]
                input.reject(fileIndex, linesBefore + entry.line, entry.rejection, entry.raw)
                nextRejection += 1
            }
        }
        // The event ids are hashed a block of rows at a time, and the table slots they probe
        // are read together before the block is looked up (see `ByteTable.touch`).
        let blockSize = 32
        var blockHashes = [UInt64](repeating: 0, count: blockSize)
        var touched: UInt64 = 0
        for position in chunk.indices {
            let offset = position % blockSize
            if offset == 0 {
                let rows = min(blockSize, chunk.count - position)
                // Read through the buffer's pointer: through the array, each read of a
                // record's id copied the whole record.
                chunk.withUnsafeBufferPointer { records in
                    for ahead in 0..<rows {
                        var eventId = (records.baseAddress! + position + ahead).pointee.eventId
                        blockHashes[ahead] = eventId.withUTF8 { ByteTable.hash($0) }
                    }
                }
                for ahead in 0..<rows { touched &+= eventTable.touch(hash: blockHashes[ahead]) }
            }
            // The record is changed where it is and swapped into the kept ones: copying it out
            // and back retained and released its event id for each of millions of rows.
            rejectUpTo(Int(chunk[position].lineNumber))
            // The part's line numbers become the file's, and its user numbers the input's, in
            // one access to the record (each through the array checked the array for sharing).
            var eventId = chunk.withUnsafeMutableBufferPointer { records in
                let record = records.baseAddress! + position
                record.pointee.lineNumber = Int32(clamping: Int(record.pointee.lineNumber) + linesBefore)
                record.pointee.userIndex = userNumbers[Int(record.pointee.userIndex)]
                return record.pointee.eventId
            }
            let eventHash = blockHashes[offset]
            let earlierIndex = eventId.withUTF8 { utf8 -> Int32? in
                eventTable.find(
                    hash: eventHash,
                    matches: { index in
                        let index = Int(index)
                        let earlier = index < base ? input.usage[index].eventId : chunk[index - base].eventId
                        return earlier.utf8Equals(utf8)
                    })
            }
            if let earlierIndex {
                let index = Int(earlierIndex)
                let earlier = index < base ? input.usage[index] : chunk[index - base]
                let record = chunk[position]
                if hasher.hash(earlier) == hasher.hash(record) {
                    input.counts[Int(fileIndex)].duplicates += 1
                } else {
                    missingRaw.append((Int(record.lineNumber), input.rejected.count))
                    input.reject(
                        fileIndex, Int(record.lineNumber),
                        Rejection(
                            .conflictingDuplicate,
                            "event_id \(record.eventId) was already read with other content at "
                                + "\(input.files[Int(earlier.fileIndex)]):\(earlier.lineNumber)"),
                        "")
                }
                continue
            }
            eventTable.insert(hash: eventHash, index: Int32(base + kept))
            if kept != position { chunk.swapAt(kept, position) }
            kept += 1
        }
        rejectUpTo(Int.max)
        keepAlive(touched)
        chunk.removeLast(chunk.count - kept)
        input.usage.append(chunk: chunk)
    }
}

/// Which parts of the usage files have been taken for parsing: in order, by workers or by the
/// merge.
final class FileClaims: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = 0

    /// The next file nobody has taken, now taken by the caller.
    func next(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }

    /// Takes file `index` if it is the next one nobody has taken (files are taken in order, so
    /// an earlier one is always taken already).
    func claim(_ index: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard taken == index else { return false }
        taken += 1
        return true
    }
}

/// Written by `keepAlive` only for one value in 2^64, so never in practice, and read by no one.
nonisolated(unsafe) private var keptAlive: UInt64 = 0

/// Keeps a value the optimizer would otherwise drop, together with the loads that made it: the
/// value decides whether memory is written, so it must be computed. (A function that ignores
/// its argument is not enough: the optimizer drops the argument, and the loads with it.)
/// Callable from any thread.
@inline(never)
func keepAlive(_ value: UInt64) {
    if value == 0x5EED_0F_5EED_0F_5E { keptAlive = value }
}
