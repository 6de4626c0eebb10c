// Proves the compact structures behind reading millions of rows keep their promises: the byte
// table finds every key it holds across growth and colliding hashes, a copy of it is a value,
// its hash spreads similar ids and reads a key's last bytes as a byte loop would, a text's (and
// an arena key's) bytes compare equal to exactly the same bytes whatever their length, usage
// rows kept in many chunks of any size are found by their index and read in place by range,
// hashing them on every core (four rows at a time) gives each row its own hash in order, a usage
// record stays 48 bytes, the content hash computed from a record equals the one taken from the
// CSV bytes, the hashes the classification keeps for the ledger (or hashes a window at a time)
// are those, and a new ledger file uses 16 KB pages while an older 4 KB-page file keeps working
// with the same chain.
import Foundation
import GRDB
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct CompactStorageTests {
    @Test func byteTableFindsEveryKeyItHolds() async {
        await propertyCheck(input: Gen.int(in: 1...2000), Gen.int(in: 0...3)) { count, hashBits in
            var table = ByteTable(capacity: 4)
            let keys = (0..<count).map { "key-\($0)" }
            // Few distinct hashes force long probe runs and matches by tag that are not the key.
            func hash(_ key: String) -> UInt64 {
                var key = key
                let full = key.withUTF8 { ByteTable.hash($0) }
                return hashBits == 0 ? full : full & UInt64((1 << (hashBits * 4)) - 1)
            }
            for (index, key) in keys.enumerated() {
                table.insert(hash: hash(key), index: Int32(index))
            }
            #expect(table.count == count)
            for (index, key) in keys.enumerated() {
                var bytes = key
                let found = bytes.withUTF8 { utf8 in
                    table.find(hash: hash(key), matches: { keys[Int($0)].utf8Equals(utf8) })
                }
                #expect(found == Int32(index))
            }
            var absent = "absent"
            let missing = absent.withUTF8 { utf8 in
                table.find(hash: hash("absent"), matches: { keys[Int($0)].utf8Equals(utf8) })
            }
            #expect(missing == nil)
        }
    }

    /// A table is a value: its slots are shared by a copy only until one of them inserts, at
    /// any fill (a copy that grows and one that does not).
    @Test(arguments: [0, 1, 23, 24, 40])
    func aCopyOfAByteTableIsIndependent(keysBeforeCopy: Int) {
        let keys = (0..<60).map { "id-\($0)" }
        func hash(_ key: String) -> UInt64 {
            var key = key
            return key.withUTF8 { ByteTable.hash($0) }
        }
        func find(_ table: ByteTable, _ key: String) -> Int32? {
            var bytes = key
            return bytes.withUTF8 { utf8 in table.find(hash: hash(key), matches: { keys[Int($0)].utf8Equals(utf8) }) }
        }
        var original = ByteTable(capacity: 16)
        for index in 0..<keysBeforeCopy { original.insert(hash: hash(keys[index]), index: Int32(index)) }
        var copy = original
        copy.insert(hash: hash(keys[50]), index: 50)
        original.insert(hash: hash(keys[51]), index: 51)
        #expect(find(copy, keys[50]) == 50)
        #expect(find(copy, keys[51]) == nil)
        #expect(find(original, keys[51]) == 51)
        #expect(find(original, keys[50]) == nil)
        for index in 0..<keysBeforeCopy {
            #expect(find(copy, keys[index]) == Int32(index))
            #expect(find(original, keys[index]) == Int32(index))
        }
        #expect(copy.count == keysBeforeCopy + 1 && original.count == keysBeforeCopy + 1)
    }

    /// The table picks a slot with a hash's low bits and keeps its low half as a tag, so ids that
    /// differ little (sequential event ids, a trailing NUL, one length to the next) must spread
    /// there as random values would: 65,536 keys into 65,536 slots fill about 63 % of them.
    @Test(arguments: ["e%011d", "org%06d", "%d", "u%d-\u{e9}"])
    func theByteHashSpreadsSimilarKeys(_ pattern: String) {
        var lowBits = Set<UInt64>()
        var tags = Set<UInt64>()
        for number in 0..<65_536 {
            let key = pattern.replacingOccurrences(of: "%011d", with: String(format: "%011d", number))
                .replacingOccurrences(of: "%06d", with: String(format: "%06d", number))
                .replacingOccurrences(of: "%d", with: String(number))
            var bytes = Array(key.utf8)
            let hash = bytes.withUnsafeMutableBufferPointer { ByteTable.hash(UnsafeBufferPointer($0)) }
            lowBits.insert(hash & 0xFFFF)
            tags.insert(hash & 0xFFFF_FFFF)
        }
        #expect(lowBits.count > 40_000, "\(lowBits.count) of 65,536 slots")
        #expect(tags.count > 65_000, "\(tags.count) distinct tags of 65,536 keys")
        let edges: [[UInt8]] = [
            [], [0], [0, 0], [0x61], [0x61, 0], Array(repeating: 0, count: 8), Array(repeating: 0, count: 9),
            Array(repeating: 0, count: 16), Array(repeating: 0, count: 17),
        ]
        let hashes = Set(edges.map { edge in edge.withUnsafeBufferPointer { ByteTable.hash($0) } })
        #expect(hashes.count == edges.count)
        // A key read where it lies in a row (at any alignment, between other bytes) hashes as the
        // same bytes on their own.
        let row = Array("x,e00000012345,org000001,u7,2026-02-01T00:00:00Z".utf8)
        for start in 0..<20 {
            for length in 0...(row.count - start) {
                let alone = Array(row[start..<(start + length)])
                let inPlace = row.withUnsafeBufferPointer {
                    ByteTable.hash(UnsafeBufferPointer(rebasing: $0[start..<(start + length)]))
                }
                #expect(inPlace == alone.withUnsafeBufferPointer { ByteTable.hash($0) }, "\(start) +\(length)")
            }
        }
    }

    /// A key's last bytes read by whole loads are the same word as read a byte at a time, for
    /// every length around the loads' sizes and every count of bytes before them.
    @Test func theTailOfAKeyIsItsLastBytes() {
        var random = SplitMix(seed: 7)
        for count in 1...24 {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let left = count % 8 == 0 ? 8 : count % 8
            guard left < 8 else { continue }
            var expected: UInt64 = 0
            for (shift, byte) in bytes[(count - left)...].enumerated() { expected |= UInt64(byte) << (8 * shift) }
            let tail = bytes.withUnsafeBytes { ByteTable.tail($0.baseAddress!, count: count, left: left) }
            #expect(tail == expected, "\(count) bytes")
        }
    }

    /// Keys of every length from empty up, more keys and bytes than the arena starts with, each
    /// equal to its own bytes and to no other key's.
    @Test func anArenaKeyEqualsExactlyItsOwnBytes() {
        let keys = (0..<300).map { number in String(repeating: "k", count: number % 41) + "\(number)" } + [""]
        let arena = KeyArena(keys)
        #expect(arena.count == keys.count)
        for (index, key) in keys.enumerated() {
            var key = key
            key.withUTF8 { bytes in
                #expect(arena.equals(Int32(index), bytes), "key \(index)")
                #expect(!arena.equals(Int32((index + 1) % keys.count), bytes), "key \(index) against the next")
                if bytes.count > 0 {
                    #expect(!arena.equals(Int32(index), UnsafeBufferPointer(rebasing: bytes.dropLast())))
                }
            }
        }
    }

    /// Texts of every length around the eight-byte steps of the comparison, against copies with
    /// one byte changed at every position, one byte longer and one byte shorter.
    @Test func aTextEqualsExactlyItsOwnBytes() {
        for length in 0...40 {
            let text = String((0..<length).map { Character(UnicodeScalar(UInt8(0x61 + $0 % 26))) })
            var bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { #expect(text.utf8Equals($0)) }
            for position in bytes.indices {
                bytes[position] ^= 0x20
                bytes.withUnsafeBufferPointer { #expect(!text.utf8Equals($0), "\(length) at \(position)") }
                bytes[position] ^= 0x20
            }
            (bytes + [0x61]).withUnsafeBufferPointer { #expect(!text.utf8Equals($0)) }
            Array(bytes.dropLast()).withUnsafeBufferPointer { #expect(!text.utf8Equals($0) || length == 0) }
        }
        // Canonically equivalent spellings are different bytes.
        Array("e\u{301}".utf8).withUnsafeBufferPointer { #expect(!"é".utf8Equals($0)) }
    }

    @Test func usageRowsFindEveryRowAcrossChunksOfAnySize() async {
        // Sizes around the lookup's 4,096-row blocks, tiny chunks, and many chunks in one block.
        let size = Gen.element(of: [1, 2, 7, 100, 4_095, 4_096, 4_097, 9_000]).map { $0! }
        await propertyCheck(count: 40, input: size.array(of: 0...12)) { sizes in
            var rows = UsageRows()
            var next = 0
            for count in sizes {
                rows.append(
                    chunk: (next..<(next + count)).map { index in
                        UsageRecord(
                            eventId: "e\(index)", orgIndex: 0, actionIndex: 0, userIndex: 0,
                            instant: Instant(microseconds: Int64(index)), credits: 0,
                            origin: RowOrigin(fileIndex: 0, lineNumber: 0))
                    })
                next += count
            }
            #expect(rows.count == next)
            for index in 0..<next where rows[index].instant.microseconds != Int64(index) {
                Issue.record("row \(index) of chunks \(sizes) is \(rows[index].eventId)")
                return
            }
            // Runs in place cover any range exactly once, in order, whichever chunks it spans.
            for range in [0..<next, (next / 3)..<(next - next / 4), (next / 2)..<(next / 2)] {
                var seen: [Int64] = []
                rows.forEachRun(in: range) { records, first in
                    #expect(first == range.lowerBound + seen.count)
                    seen.append(contentsOf: records.map(\.instant.microseconds))
                }
                #expect(seen == range.map(Int64.init), "runs of \(range) in chunks \(sizes)")
            }
        }
    }

    @Test func hashingEveryRowOnEveryCoreGivesEachRowItsOwnHashInOrder() {
        // Past several of the 16,384-row pieces the cores take, ending inside one, with rows that
        // differ in every field the hash covers, in runs whose lengths are not multiples of the
        // four rows hashed together; ids of one byte, of many, and not ASCII.
        let orgIds = ["org-a", "org-b", "org-c"]
        let hasher = UsageHasher(
            orgPrefixes: orgIds.map { id in
                var prefix = StableHasher()
                prefix.add(id)
                return prefix
            },
            users: ["u1", "ü2", "u", "a user id well over sixteen bytes long", "u5"],
            actions: ["script", "t", "vidéo_final_4k_with_a_long_name"])
        var rows = UsageRows()
        var next = 0
        for count in [1, 20_000, 16_384, 7, 30_000] {
            rows.append(chunk: (next..<(next + count)).map(Self.variedRecord))
            next += count
        }
        let hashes = hasher.hashes(of: rows)
        let expected = rows.map { hasher.hash($0) }
        #expect(hashes.count == next)
        #expect(hashes.indices.first { hashes[$0] != expected[$0] } == nil)
        #expect(Set(hashes).count > next / 2)
    }

    @Test func hashingAnyRangeOfRowsGivesEachRowItsOwnHash() async {
        // Ids empty, of one byte, long, with a NUL and not ASCII; instants and credits anywhere in
        // Int64; chunks from one row to more than a hashing piece.
        let hasher = UsageHasher(
            orgPrefixes: ["", "org-a", "an org id well over sixteen bytes"].map { id in
                var prefix = StableHasher()
                prefix.add(id)
                return prefix
            },
            users: ["", "u", "ü\u{0}2", String(repeating: "long-user-", count: 30)],
            actions: ["t", "", "vidéo_final_4k_with_a_long_name"])
        let record = zip(
            Gen.int(in: 0...2), Gen.int(in: 0...3), Gen.int(in: 0...2), Gen.int(in: Int.min...Int.max),
            Gen.int(in: Int.min...Int.max)
        ).map { org, user, action, instant, credits in
            UsageRecord(
                eventId: "e", orgIndex: Int32(org), actionIndex: Int16(action), userIndex: Int32(user),
                instant: Instant(microseconds: Int64(instant)), credits: Int64(credits),
                origin: RowOrigin(fileIndex: 0, lineNumber: 0))
        }
        let chunks = record.array(of: 1...2_500).array(of: 1...4)
        await propertyCheck(count: 40, input: zip(chunks, Gen.int(in: 0...1_000), Gen.int(in: 0...1_000))) {
            chunks, cut, length in
            var rows = UsageRows()
            for chunk in chunks { rows.append(chunk: chunk) }
            let start = cut % rows.count
            let range = start..<min(rows.count, start + length)
            let hashes = hasher.hashes(of: rows, in: range)
            #expect(hashes == range.map { hasher.hash(rows[$0]) }, "rows \(range) of chunks \(chunks.map(\.count))")
        }
    }

    /// A record whose org, action, user, instant and credits all vary with its index.
    static func variedRecord(_ index: Int) -> UsageRecord {
        let org = Int32(index % 3)
        let action = Int16(index % 7 % 3)
        let user = Int32(index % 5)
        let instant = Instant(microseconds: Int64(index / 2))
        let credits = Int64(index % 11)
        return UsageRecord(
            eventId: "e\(index)", orgIndex: org, actionIndex: action, userIndex: user, instant: instant,
            credits: credits, origin: RowOrigin(fileIndex: 0, lineNumber: 0))
    }

    @Test func aUsageRecordIs48Bytes() {
        #expect(MemoryLayout<UsageRecord>.stride == 48)
    }

    /// Rows repeated with the same content count as duplicates and rows repeated with other
    /// content are conflicts, which holds only if both hashes are the same function.
    @Test func recordHashesEqualTheReadersHashes() throws {
        let (folder, _) = try Fixtures.generatedInput(seed: 5, orgs: 3, months: 1, events: 6)
        let path =
            folder + "/usage/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/usage")).sorted()[0]
        let lines = Fixtures.lines(path)
        let first = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var changed = first
        changed[5] = String((Int64(first[5]) ?? 0) + 1)
        writeFile(path, (lines + [lines[1], changed.joined(separator: ",")]).joined(separator: "\n") + "\n")
        let catalog = try CatalogReader.read(path: folder + "/plans.yaml")
        let (orgs, _, _) = try InputReader.readOrgs(folder: folder, catalog: catalog)
        var input = InputFolder(catalog: catalog)
        try InputReader.readEvents(
            folder: folder, catalog: catalog, orgs: OrgDirectory(profiles: orgs.sorted { $0.id < $1.id }),
            into: &input)
        let file = input.files.firstIndex { $0.hasPrefix("usage/") }!
        #expect(input.counts[file].duplicates == 1)
        #expect(input.rejected.map(\.rejection.reason) == [.conflictingDuplicate])
        // The definition stored in the ledger: StableHasher over the ids as text and the numbers.
        let hasher = input.usageHasher
        let directory = OrgDirectory(profiles: orgs.sorted { $0.id < $1.id })
        for record in input.usage {
            var expected = StableHasher()
            expected.add(directory.profiles[Int(record.orgIndex)].id.rawValue)
            expected.add(record.instant.microseconds)
            expected.add(input.users[Int(record.userIndex)])
            expected.add(catalog.actions[Int(record.actionIndex)].id.rawValue)
            expected.add(record.credits)
            #expect(hasher.hash(record) == expected.value)
        }
    }

    @Test(arguments: [CloseWork.keptHashesLimit, 0])
    func theClassificationKeepsTheHashesTheLedgerStores(limit: Int) throws {
        let (folder, _) = try Fixtures.generatedInput(seed: 9, orgs: 4, months: 2, events: 12)
        let catalog = try CatalogReader.read(path: folder + "/plans.yaml")
        let (orgs, _, _) = try InputReader.readOrgs(folder: folder, catalog: catalog)
        let directory = OrgDirectory(profiles: orgs.sorted { $0.id < $1.id })
        var input = InputFolder(catalog: catalog)
        try InputReader.readEvents(folder: folder, catalog: catalog, orgs: directory, into: &input)
        let work = try CloseWork.classify(
            input: input, directory: directory, ledger: EmptyLedgerLookup(), previousHorizon: nil,
            horizon: Instant(date: CivilDate(year: 2027, month: 1, day: 1)), keepingHashesUpTo: limit)
        let computed = input.usage.map { input.usageHasher.hash($0) }
        #expect(!computed.isEmpty)
        // Kept below the limit, one per row in row order; none above it.
        #expect(work.usageHashes == (limit == 0 ? [] : computed))
        let applied = AppliedUsage(
            records: input.usage, indices: [], hasher: input.usageHasher, hashes: work.usageHashes)
        #expect(input.usage.indices.map { applied.hash(ofRecord: $0) } == computed)
        // Hashes computed a window of rows at a time, windows of any size, make the same
        // fingerprint as hashes kept (windows are used only beyond the limit).
        for windowSize in [1, 7, 64, 1 << 18] where limit == 0 {
            let windowed = try CloseWork.classify(
                input: input, directory: directory, ledger: EmptyLedgerLookup(), previousHorizon: nil,
                horizon: Instant(date: CivilDate(year: 2027, month: 1, day: 1)), keepingHashesUpTo: limit,
                hashingWindowsOf: windowSize)
            #expect(windowed.fingerprint == work.fingerprint, "windows of \(windowSize)")
        }
        let kept = try CloseWork.classify(
            input: input, directory: directory, ledger: EmptyLedgerLookup(), previousHorizon: nil,
            horizon: Instant(date: CivilDate(year: 2027, month: 1, day: 1)))
        #expect(kept.fingerprint == work.fingerprint)

        // The ledger's id blocks are the same bytes whether the hashes were kept or computed again.
        let indices = input.usage.indices.reversed().map { Int32($0) }
        func blocks(_ hashes: [Int64]) throws -> [GRDB.Row] {
            let queue = try DatabaseQueue()
            return try queue.write { db in
                try db.execute(
                    sql: "CREATE TABLE applied_usage_blocks (run_id INTEGER, block INTEGER, entries INTEGER, ids BLOB)")
                let usage = AppliedUsage(
                    records: input.usage, indices: indices, hasher: input.usageHasher, hashes: hashes)
                let blocks = Ledger.packedUsageBlocks(usage, ranges: Pending.running { Ledger.blockRanges(usage) })
                    .start()
                defer { blocks.cancel() }
                try Ledger.insertUsageBlocks(blocks, runId: 1, db: db, hashingInto: RowHasher(BackgroundSHA256()))
                return try GRDB.Row.fetchAll(db, sql: "SELECT * FROM applied_usage_blocks ORDER BY block")
            }
        }
        let stored = try blocks(work.usageHashes)
        #expect(!stored.isEmpty)
        #expect(stored == (try blocks([])))
    }

    @Test func aNewLedgerTakesLargePagesAndAnOlderFileKeepsItsOwnWithTheSameChain() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 47)
        let fresh = TestPaths.temporaryFolder("pages-new")
        let older = TestPaths.temporaryFolder("pages-old")
        // A ledger file made with SQLite's default page size, as every ledger was before.
        try FileManager.default.createDirectory(atPath: older, withIntermediateDirectories: true)
        try DatabaseQueue(path: older + "/ledger.sqlite").write { db in
            try db.execute(sql: "PRAGMA page_size = 4096; CREATE TABLE scratch (x); DROP TABLE scratch")
        }
        var heads: [String?] = []
        for (output, pageSize) in [(fresh, Ledger.pageSizeBytes), (older, 4096)] {
            _ = try ClosePipeline.close(CloseOptions(through: last, inputFolder: input, outputFolder: output))
            let path = output + "/ledger.sqlite"
            #expect(try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == pageSize)
            let verification = try Ledger(path: path, readOnly: true).verify()
            #expect(verification.problems == [])
            heads.append(verification.head)
        }
        #expect(heads[0] != nil && heads[0] == heads[1])
        #expect(Fixtures.snapshot(fresh) == Fixtures.snapshot(older))
    }
}
