// Proves that the ledger's usage id blocks are exactly what packing the applied rows one after
// another gives: a block ends with the row that brings it to the target size, whatever the
// lengths of the ids, the target and the windows summed on every core, and each block holds
// its rows' hashes, id lengths and ids in the applied order; and that a close lists its
// applied rows in reading order, each once.
import Foundation
import GRDB
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct UsageBlockTests {
    /// Applied rows whose ids are mostly short, with a run of long ones in the middle, so block
    /// ends fall at different offsets inside the summing windows.
    static func appliedUsage(rows: Int) -> AppliedUsage {
        var records = UsageRows()
        records.append(
            chunk: (0..<rows).map { index in
                let long = (rows / 3..<rows / 3 + 3_000).contains(index)
                // Short ids of every length from 2 to 20 bytes (the packing copies ids of 8 to 16
                // bytes as two words) and a run of long ones.
                let id =
                    long
                    ? "e\(index)-" + String(repeating: "x", count: 1_000 + index % 977)
                    : "e\(index)" + String(repeating: "y", count: index % 14)
                return UsageRecord(
                    eventId: id, orgIndex: 0, actionIndex: 0, userIndex: 0,
                    instant: Instant(microseconds: Int64(index)), credits: Int64(index % 13),
                    origin: RowOrigin(fileIndex: 0, lineNumber: Int32(index)))
            })
        let hashes = (0..<rows).map { Int64($0) &* 0x1E37_79B9_7F4A_7C15 }
        // Applied in an order unlike the rows': the engine lists them in reading order, but
        // packing must not depend on that.
        let indices = (0..<rows).map { Int32(($0 * 7_919) % rows) }
        return AppliedUsage(
            records: records, indices: indices, hasher: UsageHasher(orgPrefixes: [], users: [], actions: []),
            hashes: hashes)
    }

    /// The rule written out row by row, as the ledger first packed its blocks.
    static func referenceBlocks(_ usage: AppliedUsage) -> [(entries: Int, bytes: [UInt8])] {
        var blocks: [(entries: Int, bytes: [UInt8])] = []
        var current: [UInt8] = []
        var entries = 0
        var size = 0
        for index in usage.indices.map(Int.init) {
            let id = Array(usage.records[index].eventId.utf8)
            withUnsafeBytes(of: UInt64(bitPattern: usage.hashes[index]).littleEndian) { current.append(contentsOf: $0) }
            current.append(UInt8(id.count & 0xFF))
            current.append(UInt8(id.count >> 8))
            current.append(contentsOf: id)
            entries += 1
            size += 10 + id.count
            if size >= UsageBlock.targetBytes {
                blocks.append((entries, current))
                current = []
                entries = 0
                size = 0
            }
        }
        if entries > 0 { blocks.append((entries, current)) }
        return blocks
    }

    @Test func blockEndsAreWhereTheRowByRowRuleEndsThem() async {
        // Small targets and windows put many block ends in every position of a window.
        let lengths = Gen.int(in: 0...40).array(of: 0...400)
        await propertyCheck(input: lengths, Gen.int(in: 1...300), Gen.int(in: 1...20)) { lengths, target, window in
            var records = UsageRows()
            records.append(
                chunk: lengths.enumerated().map { index, length in
                    UsageRecord(
                        eventId: String(repeating: "e", count: length), orgIndex: 0, actionIndex: 0, userIndex: 0,
                        instant: Instant(microseconds: Int64(index)), credits: 0,
                        origin: RowOrigin(fileIndex: 0, lineNumber: 0))
                })
            let usage = AppliedUsage(
                records: records, indices: lengths.indices.reversed().map { Int32($0) },
                hasher: UsageHasher(orgPrefixes: [], users: [], actions: []), hashes: lengths.map { _ in 0 })
            var expected: [Range<Int>] = []
            var start = 0
            var size = 0
            for position in usage.indices.indices {
                size += 10 + lengths[Int(usage.indices[position])]
                if size >= target {
                    expected.append(start..<(position + 1))
                    start = position + 1
                    size = 0
                }
            }
            if start < lengths.count { expected.append(start..<lengths.count) }
            #expect(Ledger.blockRanges(usage, targetBytes: target, windowSize: window) == expected)
        }
    }

    @Test(arguments: [1, 4_096, 150_001, 400_000])
    func blocksAreWhatPackingRowByRowGives(rows: Int) throws {
        let usage = Self.appliedUsage(rows: rows)
        let expected = Self.referenceBlocks(usage)
        let queue = try DatabaseQueue()
        let (stored, hashedAsInserted, hashedAsRead) = try queue.write { db in
            try db.execute(
                sql: "CREATE TABLE applied_usage_blocks (run_id INTEGER, block INTEGER, entries INTEGER, ids BLOB)")
            let blocks = Ledger.packedUsageBlocks(usage, ranges: Pending.running { Ledger.blockRanges(usage) }).start()
            defer { blocks.cancel() }
            let inserted = BackgroundSHA256()
            let hasher = RowHasher(inserted)
            try Ledger.insertUsageBlocks(blocks, runId: 1, db: db, hashingInto: hasher)
            hasher.flush()
            let sql = "SELECT block, entries, ids FROM applied_usage_blocks ORDER BY block"
            let read = BackgroundSHA256()
            try Ledger.hashRows(db, into: read, sql)
            return (try Row.fetchAll(db, sql: sql), inserted.hexDigest(), read.hexDigest())
        }
        // The chain hashes the blocks as they are inserted; reading them back must agree.
        #expect(hashedAsInserted == hashedAsRead)
        #expect(stored.count == expected.count)
        if rows >= 400_000 { #expect(expected.count > 2) }
        for (position, row) in stored.enumerated() where position < expected.count {
            #expect(row["block"] == position)
            #expect(row["entries"] == expected[position].entries)
            let bytes: Data = row["ids"]
            #expect(Array(bytes) == expected[position].bytes, "block \(position)")
        }
    }

    /// Marks at the ends of pieces, in the last partial piece, none at all, every row, and row
    /// counts that are not a whole number of pieces; pieces of 1, 7, 64 and the default size.
    @Test(
        arguments: [
            [Int32](), [0], [63], [64], [0, 1, 2, 63, 64, 65, 127, 128], [5, 700, 701, 1_023, 4_094], Array(0..<300),
            Array(0..<4_095),
        ], [1, 7, 64, 1 << 12, 1 << 16])
    func markedPositionsListsTheMarkedRowsInOrder(_ rows: [Int32], pieceSize: Int) {
        let rowCount = 4_095
        var flags = [UInt8](repeating: 0, count: rowCount)
        // Marked in an order unlike the rows', as the engine's orgs finish.
        for row in rows.reversed() { flags[Int(row)] = 1 }
        #expect(CloseWork.markedPositions(flags, expectedCount: rows.count, pieceSize: pieceSize) == rows)
    }

    /// A close's usage id blocks hold each applied row once, in the order the rows were read
    /// (the generator numbers event ids in that order), whichever org each belongs to.
    @Test func aCloseStoresAppliedIdsInReadingOrder() throws {
        let folder = TestPaths.temporaryFolder("usage-block-order-input")
        let options = GeneratorOptions(orgs: 30, months: 2, eventsPerOrgMonth: 25, seed: 17, dirtyPercent: 0)
        try InputGenerator.write(options, to: folder)
        let output = TestPaths.temporaryFolder("usage-block-order")
        _ = try Fixtures.close(folder, output, through: options.lastDay)
        let blobs = try DatabaseQueue(path: output + "/ledger.sqlite").read { db in
            try Data.fetchAll(db, sql: "SELECT ids FROM applied_usage_blocks ORDER BY run_id, block")
        }
        var ids: [String] = []
        for blob in blobs {
            let bytes = [UInt8](blob)
            var offset = 0
            while offset < bytes.count {
                let length = Int(bytes[offset + 8]) | Int(bytes[offset + 9]) << 8
                ids.append(String(decoding: bytes[(offset + 10)..<(offset + 10 + length)], as: UTF8.self))
                offset += 10 + length
            }
        }
        let usageRows =
            try String(contentsOfFile: folder + "/usage/2026-01.csv", encoding: .utf8)
            .split(separator: "\n").count - 1
        #expect(ids.count > usageRows)
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
    }
}
