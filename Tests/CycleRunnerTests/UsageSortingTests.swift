// Proves that sorting usage rows out on every core (pending, duplicate, conflicting, or to
// each org in reading order) gives exactly what one pass over the rows in reading order gives,
// however the rows are cut into parts and into the reader's chunks.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct UsageSortingTests {
    static let horizon = Instant(microseconds: 1_000)

    /// Rows of `orgCount` orgs in chunks of the given sizes; a row's instant, org and file come
    /// from `seeds`, so some rows are pending and some ids were applied earlier.
    static func rows(_ seeds: [Int], chunkSizes: [Int], orgCount: Int) -> UsageRows {
        let records = seeds.enumerated().map { index, seed in
            UsageRecord(
                eventId: "e\(index)", orgIndex: Int32(seed % orgCount), actionIndex: 0, userIndex: 0,
                instant: Instant(microseconds: Int64(seed % 1_200)), credits: Int64(seed % 7),
                origin: RowOrigin(fileIndex: Int32(seed % 3), lineNumber: Int32(index + 2)))
        }
        var rows = UsageRows()
        var start = 0
        for size in chunkSizes where start < records.count {
            rows.append(chunk: Array(records[start..<min(start + size, records.count)]))
            start += size
        }
        if start < records.count { rows.append(chunk: Array(records[start...])) }
        return rows
    }

    /// The rule written out row by row, as the classification first did it.
    static func reference(
        _ usage: UsageRows, orgCount: Int, applied: [UTF8Key: Int64], hash: (Int, UsageRecord) -> Int64
    ) -> (byOrg: [[Int32]], pending: [Int], duplicates: [Int], conflicts: [Int]) {
        var byOrg = [[Int32]](repeating: [], count: orgCount)
        var pending = [0, 0, 0]
        var duplicates = [0, 0, 0]
        var conflicts: [Int] = []
        for (position, record) in usage.enumerated() {
            if record.instant >= horizon {
                pending[Int(record.fileIndex)] += 1
            } else if let stored = applied[UTF8Key(record.eventId)] {
                if stored == hash(position, record) {
                    duplicates[Int(record.fileIndex)] += 1
                } else {
                    conflicts.append(position)
                }
            } else {
                byOrg[Int(record.orgIndex)].append(Int32(position))
            }
        }
        return (byOrg, pending, duplicates, conflicts)
    }

    /// The verdicts `EarlierUsage` gives for `applied` (id → stored hash), row by row; set on
    /// pending rows too, which the sort must still count as pending.
    static func earlier(
        _ usage: UsageRows, applied: [UTF8Key: Int64], hash: (Int, UsageRecord) -> Int64
    ) -> EarlierUsage {
        guard !applied.isEmpty else { return .none }
        return EarlierUsage(
            verdicts: usage.enumerated().map { position, record in
                guard let stored = applied[UTF8Key(record.eventId)] else { return .notApplied }
                return stored == hash(position, record) ? .duplicate : .conflict
            })
    }

    @Test func sortingOnEveryCoreMatchesOnePassInReadingOrder() async {
        let seeds = Gen.int(in: 0...1_000_000).array(of: 0...700)
        await propertyCheck(
            input: seeds, Gen.int(in: 1...300).array(of: 1...6), Gen.int(in: 1...12), Gen.int(in: 1...9)
        ) { seeds, chunkSizes, orgCount, parts in
            let usage = Self.rows(seeds, chunkSizes: chunkSizes, orgCount: orgCount)
            // Every fifth row's id was applied before: with its own hash for some (a
            // duplicate), another for others (a conflict).
            var applied: [UTF8Key: Int64] = [:]
            for (position, seed) in seeds.enumerated() where seed % 5 == 0 {
                applied[UTF8Key("e\(position)")] = seed % 2 == 0 ? Int64(position) : -1
            }
            let hash: @Sendable (Int, UsageRecord) -> Int64 = { position, _ in Int64(position) }
            let sorted = UsageByOrg.sort(
                usage, orgCount: orgCount, fileCount: 3, horizon: Self.horizon,
                earlier: Self.earlier(usage, applied: applied, hash: hash), parts: parts)
            let expected = Self.reference(usage, orgCount: orgCount, applied: applied, hash: hash)
            #expect((0..<orgCount).map { Array(sorted.byOrg[$0]) } == expected.byOrg)
            #expect(sorted.byOrg.orgCount == orgCount)
            #expect(sorted.pendingPerFile == expected.pending)
            #expect(sorted.duplicatesPerFile == expected.duplicates)
            #expect(sorted.conflicts == expected.conflicts)
        }
    }

    /// Parts of any size: parts ending on both sides of a bitset word's end, a last part
    /// shorter than the others, more parts than rows, and no rows at all.
    @Test(arguments: [(0, 1), (0, 4), (63, 2), (64, 2), (65, 2), (129, 3), (200, 16), (1_000, 7)])
    func partsOfAnySizeKeepEveryRowOnce(rowCount: Int, parts: Int) {
        // Instants up to 1,199 µs: a sixth of the rows are at or after the horizon, pending.
        let seeds = (0..<rowCount).map { $0 * 7_919 % 1_200 }
        let usage = Self.rows(seeds, chunkSizes: [50, 100], orgCount: 5)
        let sorted = UsageByOrg.sort(
            usage, orgCount: 5, fileCount: 3, horizon: Self.horizon, earlier: .none, parts: parts)
        let expected = Self.reference(usage, orgCount: 5, applied: [:], hash: { _, _ in 0 })
        #expect((0..<5).map { Array(sorted.byOrg[$0]) } == expected.byOrg)
        #expect(sorted.pendingPerFile == expected.pending)
        #expect(sorted.byOrg.rows.count + sorted.pendingPerFile.reduce(0, +) == rowCount)
    }

    /// Without `parts`, as a close sorts them: enough rows for several parts per core.
    @Test func theClosesOwnPartsMatchOnePassInReadingOrder() {
        let seeds = (0..<100_000).map { $0 * 7_919 % 1_000_003 }
        let usage = Self.rows(seeds, chunkSizes: [30_000, 7, 50_000], orgCount: 97)
        let sorted = UsageByOrg.sort(
            usage, orgCount: 97, fileCount: 3, horizon: Self.horizon, earlier: .none)
        let expected = Self.reference(usage, orgCount: 97, applied: [:], hash: { _, _ in 0 })
        #expect((0..<97).map { Array(sorted.byOrg[$0]) } == expected.byOrg)
        #expect(sorted.pendingPerFile == expected.pending)
        #expect(sorted.pendingPerFile.reduce(0, +) > 0)
    }
}
