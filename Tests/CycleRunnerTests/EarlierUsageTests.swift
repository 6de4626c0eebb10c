// Proves that a close finds the usage rows earlier closes applied as the rule says, row by
// row: a row before the ledger's horizon whose event id (compared as bytes) the ledger holds is
// a duplicate when its content hash is the stored one and a conflict otherwise; any other row
// is not applied. It holds with the reader's table of ids and with one made for the purpose,
// over any cut of the ledger's blocks into batches, and gives what the lookup through a
// dictionary of earlier versions gave; and an id too long for the ledger to store whole is
// rejected, not applied again by every later close.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct EarlierUsageTests {
    /// A ledger that holds only applied usage ids, packed into blocks of the given sizes.
    struct BlocksOnly: LedgerLookup {
        var blocks: [Data]

        init(_ entries: [(id: String, hash: Int64)], blockSizes: [Int]) {
            blocks = []
            var start = 0
            var sizes = blockSizes.isEmpty ? [max(entries.count, 1)] : blockSizes
            while start < entries.count {
                let size = max(1, sizes.removeFirst())
                sizes.append(size)
                let count = min(size, entries.count - start)
                let builder = UsageBlock.Builder(count: count) { entries[start + $0] }
                blocks.append(Data(builder.bytes))
                start += count
            }
        }

        func appliedHashes(kind: String, ids: [String]) -> [UTF8Key: Int64] { [:] }
        func engineRejections(kind: String, ids: [String]) -> [UTF8Key: (hash: Int64, reason: String)] { [:] }
        func purchases() -> [String: (orgId: String, invoiceNumber: String?)] { [:] }
        func forEachAppliedUsageBatch(_ body: ([Data]) throws -> Void) throws {
            for start in stride(from: 0, to: blocks.count, by: Ledger.usageBlocksPerBatch) {
                try body(Array(blocks[start..<min(start + Ledger.usageBlocksPerBatch, blocks.count)]))
            }
        }
    }

    static let hasher = UsageHasher(orgPrefixes: [StableHasher(), StableHasher()], users: ["u"], actions: ["a"])
    static let previousHorizon = Instant(microseconds: 500)

    /// The rule, row by row, with the stored hashes in a dictionary keyed by the ids' bytes.
    static func expected(_ usage: UsageRows, applied: [(id: String, hash: Int64)]) -> [EarlierUsage.Verdict] {
        var stored: [UTF8Key: Int64] = [:]
        for entry in applied { stored[UTF8Key(entry.id)] = entry.hash }
        return usage.map { record in
            guard record.instant < previousHorizon, let hash = stored[UTF8Key(record.eventId)] else {
                return .notApplied
            }
            return hash == hasher.hash(record) ? .duplicate : .conflict
        }
    }

    // Ids that differ only in bytes a String comparison would ignore: "é" precomposed and as
    // "e" with a combining accent are two ids.
    static let idPool = ["e1", "e2", "caf\u{E9}", "cafe\u{301}", "an-id-longer-than-sixteen-bytes", "", "e10", "e01"]

    @Test func verdictsFollowTheRuleRowByRow() async {
        // A row's id, instant and credits, and an applied entry's id and kind, come from one
        // number each.
        let seeds = Gen.int(in: 0...Int(Int32.max))
        await propertyCheck(
            count: 300, input: seeds.array(of: 0...120), seeds.array(of: 0...80), Gen.int(in: 1...7).array(of: 0...4)
        ) { rowSeeds, entrySeeds, blockSizes in
            func id(_ pick: Int) -> String { pick < Self.idPool.count ? Self.idPool[pick] : "id\(pick)" }
            let rows = rowSeeds.map { ($0 % (Self.idPool.count + 40), $0 / 64 % 1_001, $0 / 65_536 % 4) }
            let entries = entrySeeds.map { ($0 % (Self.idPool.count + 60), $0 / 128 % 3) }
            // Each id once among the rows, as the reader leaves them.
            var seen: Set<UTF8Key> = []
            var records: [UsageRecord] = []
            for (pick, instant, credits) in rows where seen.insert(UTF8Key(id(pick))).inserted {
                records.append(
                    UsageRecord(
                        eventId: id(pick), orgIndex: Int32(credits % 2), actionIndex: 0, userIndex: 0,
                        instant: Instant(microseconds: Int64(instant)), credits: Int64(credits),
                        origin: RowOrigin(fileIndex: 0, lineNumber: Int32(records.count + 2))))
            }
            var usage = UsageRows()
            usage.append(chunk: records)
            // Stored hashes: the row's own (a duplicate), another (a conflict), or for an id no
            // row has.
            let applied = entries.map { pick, kind -> (id: String, hash: Int64) in
                let id = id(pick)
                let row = records.first { UTF8Key($0.eventId) == UTF8Key(id) }
                return (id, kind == 0 ? row.map(Self.hasher.hash) ?? 7 : Int64(kind) * 1_000_003)
            }
            let ledger = BlocksOnly(applied, blockSizes: blockSizes)
            let expected = Self.expected(usage, applied: applied)
            var everyRow = ByteTable(capacity: records.count)
            for (position, record) in records.enumerated() {
                var id = record.eventId
                everyRow.insert(hash: id.withUTF8 { ByteTable.hash($0) }, index: Int32(position))
            }
            for table in [nil, everyRow] {
                let found = try? EarlierUsage.find(
                    in: ledger, usage: usage, ids: table, before: Self.previousHorizon,
                    hash: { [usage] in Self.hasher.hash(usage[$0]) })
                #expect(found.map { found in usage.indices.map { found[$0] } } == expected)
            }
        }
    }

    @Test func aFirstCloseFindsNothing() throws {
        var usage = UsageRows()
        usage.append(chunk: [
            UsageRecord(
                eventId: "e1", orgIndex: 0, actionIndex: 0, userIndex: 0, instant: Instant(microseconds: 1),
                credits: 1, origin: RowOrigin(fileIndex: 0, lineNumber: 2))
        ])
        let ledger = BlocksOnly([("e1", Self.hasher.hash(usage[0]))], blockSizes: [])
        let hash: @Sendable (Int) -> Int64 = { [usage] in Self.hasher.hash(usage[$0]) }
        let found = try EarlierUsage.find(in: ledger, usage: usage, ids: nil, before: nil, hash: hash)
        #expect(found.isEmpty && found[0] == .notApplied)
        let later = try EarlierUsage.find(
            in: ledger, usage: usage, ids: nil, before: Self.previousHorizon, hash: hash)
        #expect(later[0] == .duplicate)
    }

    /// The reader's table, made while files cut into small parts are merged (duplicates within
    /// the files dropped, rows rejected), holds each kept row at its position.
    @Test(arguments: [1, 2, 3])
    func theReadersTableFindsWhatAFreshTableFinds(seed: Int) throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        makeTestFolder(folder + "/usage")
        writeFile(folder + "/usage/2026-01.csv", PartedReadingTests.usageFile(seed: seed, rows: 300, crlf: false))
        writeFile(folder + "/usage/2026-02.csv", PartedReadingTests.usageFile(seed: seed + 7, rows: 200, crlf: true))
        let orgs = OrgDirectory(profiles: [testProfile(plan: "business", start: "2026-01-01")])
        var input = InputFolder(catalog: testCatalog)
        let kept = try UsageReader.read(
            folder: folder, files: ["2026-01.csv", "2026-02.csv"], catalog: testCatalog, orgs: orgs, into: &input,
            partBytes: 300, keepingIds: true)
        let table = try #require(kept)
        // Every other kept row applied, a third of those with other content, and ids of rows
        // the files do not hold.
        var applied: [(id: String, hash: Int64)] = [("absent-1", 1), ("absent-2", 2)]
        for (position, record) in input.usage.enumerated() where position % 2 == 0 {
            let hash = input.usageHasher.hash(record)
            applied.append((record.eventId, position % 3 == 0 ? hash &+ 1 : hash))
        }
        let ledger = BlocksOnly(applied, blockSizes: [5, 40, 1])
        // The files' rows are dated 2026-01-10 to 2026-01-24; the horizon falls among them.
        let horizon = Instant(microseconds: 1_768_820_400_000_000)
        let (usage, hasher) = (input.usage, input.usageHasher)
        // The hashes as the close keeps them, computed four rows at a time.
        let hashes = hasher.hashes(of: usage)
        let fromReader = try EarlierUsage.find(
            in: ledger, usage: usage, ids: table, before: horizon, hash: { hashes[$0] })
        let fresh = try EarlierUsage.find(
            in: ledger, usage: usage, ids: nil, before: horizon, hash: { hasher.hash(usage[$0]) })
        let verdicts = input.usage.indices.map { fromReader[$0] }
        #expect(verdicts == input.usage.indices.map { fresh[$0] })
        #expect(Set(verdicts) == [.notApplied, .duplicate, .conflict])
        #expect(input.usage.count > 100)
    }

    /// The lookup of earlier versions: the ids of rows before the previous horizon in a `Set`,
    /// the ledger's blocks scanned into a dictionary keyed by the ids' bytes.
    static func dictionaryVerdicts(
        _ usage: UsageRows, blocks: [Data], before previousHorizon: Instant, hash: (Int) -> Int64
    ) -> [EarlierUsage.Verdict] {
        let wanted = Set(usage.filter { $0.instant < previousHorizon }.map { UTF8Key($0.eventId) })
        var applied: [UTF8Key: Int64] = [:]
        for block in blocks {
            block.withUnsafeBytes { raw in
                UsageBlock.forEachEntry(raw) { id, hash in
                    let key = UTF8Key(String(decoding: id, as: UTF8.self))
                    if wanted.contains(key) { applied[key] = hash }
                }
            }
        }
        return usage.indices.map { position in
            guard let stored = applied[UTF8Key(usage[position].eventId)] else { return .notApplied }
            return stored == hash(position) ? .duplicate : .conflict
        }
    }

    /// Files cut into parts of several sizes (parts read again after a quoted line break, rows
    /// rejected, duplicates within the files dropped) against a ledger holding every id the
    /// files can hold, half with another hash: the reader's table gives the dictionary's verdicts.
    @Test(arguments: [1, 2, 3, 4])
    func theReadersTableGivesTheDictionarysVerdicts(seed: Int) throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        makeTestFolder(folder + "/usage")
        writeFile(folder + "/usage/a.csv", PartedReadingTests.usageFile(seed: seed, rows: 400, crlf: seed % 2 == 0))
        writeFile(folder + "/usage/b.csv", PartedReadingTests.usageFile(seed: seed + 50, rows: 300, crlf: false))
        let orgs = OrgDirectory(profiles: [testProfile(plan: "business", start: "2026-01-01")])
        for partBytes in [64, 200, 1 << 30] {
            var input = InputFolder(catalog: testCatalog)
            let kept = try UsageReader.read(
                folder: folder, files: ["a.csv", "b.csv"], catalog: testCatalog, orgs: orgs, into: &input,
                partBytes: partBytes, keepingIds: true)
            let table = try #require(kept)
            #expect(table.count == input.usage.count, "each kept row once, and nothing else")
            let (usage, hasher) = (input.usage, input.usageHasher)
            let byId = Dictionary(uniqueKeysWithValues: usage.indices.map { (usage[$0].eventId, $0) })
            let entries = (0..<400).map { number -> (id: String, hash: Int64) in
                let own = byId["e\(number)"].map { hasher.hash(usage[$0]) } ?? 42
                return ("e\(number)", number % 2 == 0 ? own : own &+ 1)
            }
            let ledger = BlocksOnly(entries, blockSizes: [3, 17, 1, 60])
            let horizon = Instant(microseconds: 1_768_820_400_000_000)
            let found = try EarlierUsage.find(
                in: ledger, usage: usage, ids: table, before: horizon, hash: { hasher.hash(usage[$0]) })
            let expected = Self.dictionaryVerdicts(usage, blocks: ledger.blocks, before: horizon) {
                hasher.hash(usage[$0])
            }
            #expect(usage.indices.map { found[$0] } == expected, "parts of \(partBytes) bytes")
            #expect(usage.contains { $0.instant >= horizon }, "some rows the ledger holds are after the horizon")
        }
    }

    /// A reading that is not the first into a folder keeps no table: it would hold only its
    /// own rows.
    @Test func aSecondReadingKeepsNoTable() throws {
        let folder = makeTempFolder()
        defer { removeTree(folder) }
        makeTestFolder(folder + "/usage")
        writeFile(folder + "/usage/a.csv", PartedReadingTests.usageFile(seed: 3, rows: 100, crlf: false))
        let orgs = OrgDirectory(profiles: [testProfile(plan: "business", start: "2026-01-01")])
        var input = InputFolder(catalog: testCatalog)
        let first = try UsageReader.read(
            folder: folder, files: ["a.csv"], catalog: testCatalog, orgs: orgs, into: &input, keepingIds: true)
        #expect(first != nil)
        let second = try UsageReader.read(
            folder: folder, files: ["a.csv"], catalog: testCatalog, orgs: orgs, into: &input, keepingIds: true)
        #expect(second == nil)
    }

    /// Classification with the content hashes kept and not, with the reader's table and
    /// without, finds the dictionary's duplicates and conflicts.
    @Test func classificationFindsTheSameRowsEveryWay() throws {
        let (folder, _) = try Fixtures.generatedInput(seed: 9, orgs: 4, months: 3, events: 12)
        let catalog = try CatalogReader.read(path: folder + "/plans.yaml")
        let (orgs, _, _) = try InputReader.readOrgs(folder: folder, catalog: catalog)
        let directory = OrgDirectory(profiles: orgs.sorted { $0.id < $1.id })
        var input = InputFolder(catalog: catalog)
        let table = try InputReader.readEvents(
            folder: folder, catalog: catalog, orgs: directory, into: &input, keepingUsageIds: true)
        #expect(table != nil)
        let (usage, hasher) = (input.usage, input.usageHasher)
        var entries: [(id: String, hash: Int64)] = []
        for position in usage.indices where position % 2 == 0 {
            let hash = hasher.hash(usage[position])
            entries.append((usage[position].eventId, position % 3 == 0 ? hash &+ 1 : hash))
        }
        let ledger = BlocksOnly(entries, blockSizes: [7, 30])
        let previous = Instant(date: CivilDate(year: 2026, month: 2, day: 15))
        let expected = Self.dictionaryVerdicts(usage, blocks: ledger.blocks, before: previous) {
            hasher.hash(usage[$0])
        }
        let wanted = [expected.filter { $0 == .duplicate }.count, expected.filter { $0 == .conflict }.count]
        #expect(wanted[0] > 0 && wanted[1] > 0)
        for limit in [0, CloseWork.keptHashesLimit] {
            for ids in [table, nil] {
                let work = try CloseWork.classify(
                    input: input, directory: directory, ledger: ledger, previousHorizon: previous,
                    horizon: Instant(date: CivilDate(year: 2026, month: 3, day: 15)), usageIds: ids,
                    keepingHashesUpTo: limit)
                let duplicates = zip(work.input.counts, input.counts).reduce(0) { total, pair in
                    total + pair.0.duplicates - pair.1.duplicates
                }
                let conflicts = work.input.rejected.count - input.rejected.count
                #expect([duplicates, conflicts] == wanted, "hashes kept up to \(limit), table \(ids != nil)")
            }
        }
    }

    /// An event id longer than the ledger stores whole is rejected by every close. Stored cut,
    /// it was never found again, and each later close applied its row once more.
    @Test func anIdTooLongToStoreIsRejected() throws {
        let (folder, last) = try Fixtures.generatedInput(seed: 21, orgs: 2, months: 2, events: 4)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/usage").sorted()
        let path = folder + "/usage/" + files[0]
        let lines = Fixtures.lines(path)
        var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[0] = String(repeating: "L", count: 65_536)
        writeFile(path, (lines + [fields.joined(separator: ",")]).joined(separator: "\n") + "\n")
        let output = TestPaths.temporaryFolder("long-id")
        let first = try Fixtures.close(folder, output, through: CivilDate(year: 2026, month: 1, day: 31))
        let second = try Fixtures.close(folder, output, through: last)
        for summary in [first, second] {
            let report = try #require(summary.report)
            let file = try #require(report.files.firstIndex(of: "usage/" + files[0]))
            #expect(report.counts[file].rejected == 1)
            #expect(report.counts[file].balances)
        }
        let secondCounts = try #require(second.report.map { $0.counts[$0.files.firstIndex(of: "usage/" + files[0])!] })
        #expect(secondCounts.applied == 0, "every row of the file was applied or rejected by the first close")
        let rejected = try String(contentsOfFile: output + "/closes/2026-01-31/rejected.csv", encoding: .utf8)
        #expect(rejected.contains("bad_value: event_id is 65536 bytes long"))
    }
}
