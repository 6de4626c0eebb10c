import Dispatch
import Foundation
import Invoicing

/// What the ledger says of each usage row a close reads: applied by an earlier close with the
/// same content (a duplicate), applied with other content (a conflict), or neither. Only rows
/// before the ledger's horizon can have been applied; later rows are new by definition.
///
/// The ledger's packed blocks of applied ids are read a batch at a time, each batch on every
/// core, and each id is looked up in a table of the close's own ids: the reader's
/// (`InputReader.readEvents(keepingUsageIds:)`) when the close kept it. Before, the close's early ids were
/// listed as strings, put in a `Set`, and the ids found kept in a `Dictionary`: in the twelfth
/// of twelve monthly closes of 3,000 orgs, reading 2.9 M rows of earlier months again, that
/// took 3.4 s on one core, most of the close (`bench/monthly.py`).
struct EarlierUsage: Sendable {
    enum Verdict: UInt8, Sendable {
        case notApplied
        case duplicate
        case conflict
    }

    /// A verdict per usage row, by position; empty when no row was applied before.
    private let verdicts: [Verdict]

    init(verdicts: [Verdict]) { self.verdicts = verdicts }

    static let none = EarlierUsage(verdicts: [])

    var isEmpty: Bool { verdicts.isEmpty }

    subscript(position: Int) -> Verdict { verdicts.isEmpty ? .notApplied : verdicts[position] }

    /// The verdicts on `usage`, read before `previousHorizon` (nil for a first close, which
    /// finds nothing). `ids` is the table of the rows' event ids by position, or nil to make
    /// one here; `hash` gives the content hash of the row at a position (`UsageHasher`),
    /// compared with the stored one.
    static func find(
        in ledger: some LedgerLookup, usage: UsageRows, ids: ByteTable?, before previousHorizon: Instant?,
        hash: @Sendable (Int) -> Int64
    ) throws -> EarlierUsage {
        guard let previousHorizon, usage.count > 0 else { return .none }
        let table = ids ?? idTable(of: usage, before: previousHorizon)
        var verdicts: [Verdict] = []
        try ledger.forEachAppliedUsageBatch { blocks in
            let found = ResultSlots<[(position: Int32, verdict: Verdict)]>(count: blocks.count)
            DispatchQueue.concurrentPerform(iterations: blocks.count) { index in
                var matches: [(position: Int32, verdict: Verdict)] = []
                let group = UnsafeMutableBufferPointer<Entry>.allocate(capacity: EarlierUsage.groupSize)
                let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: EarlierUsage.groupSize)
                defer {
                    group.deallocate()
                    slots.deallocate()
                }
                var count = 0
                blocks[index].withUnsafeBytes { raw in
                    UsageBlock.forEachEntry(raw) { id, storedHash in
                        group[count] = Entry(id: id, stored: storedHash, hash: ByteTable.hash(id))
                        count += 1
                        guard count == EarlierUsage.groupSize else { return }
                        lookUp(
                            UnsafeMutableBufferPointer(rebasing: group[0..<count]), slots: slots, table: table,
                            usage: usage, before: previousHorizon, hash: hash, into: &matches)
                        count = 0
                    }
                    lookUp(
                        UnsafeMutableBufferPointer(rebasing: group[0..<count]), slots: slots, table: table,
                        usage: usage, before: previousHorizon, hash: hash, into: &matches)
                }
                found.set(index, matches)
            }
            // Written here, in the blocks' order: an id stored twice keeps its last hash, as
            // the dictionary of earlier versions did.
            if verdicts.isEmpty { verdicts = [Verdict](repeating: .notApplied, count: usage.count) }
            for matches in found.takeValues() {
                for match in matches { verdicts[Int(match.position)] = match.verdict }
            }
        }
        return EarlierUsage(verdicts: verdicts)
    }

    static let groupSize = 32

    /// An applied id from a block, with its stored content hash and its hash in the table.
    struct Entry {
        var id: UnsafeBufferPointer<UInt8>
        var stored: Int64
        var hash: UInt64
    }

    /// Looks a group of entries up and adds the rows found to `matches`. The group's table
    /// slots are read first, then the rows they point to, and only then is each entry looked up
    /// (as in the reader's merge): at millions of rows both are far larger than the caches, and
    /// loads that do not depend on each other wait for memory together. One entry at a time,
    /// each waited for two misses in turn.
    static func lookUp(
        _ group: UnsafeMutableBufferPointer<Entry>, slots: UnsafeMutableBufferPointer<UInt64>, table: ByteTable,
        usage: UsageRows, before previousHorizon: Instant, hash: (Int) -> Int64,
        into matches: inout [(position: Int32, verdict: Verdict)]
    ) {
        for member in group.indices { slots[member] = table.touch(hash: group[member].hash) }
        var warmed: UInt64 = 0
        for member in group.indices {
            if let candidate = ByteTable.candidate(in: slots[member], for: group[member].hash), candidate < usage.count
            {
                warmed &+= UInt64(bitPattern: usage[Int(candidate)].instant.microseconds)
            }
        }
        keepAlive(warmed)
        for member in group.indices {
            let id = group[member].id
            let position = table.find(hash: group[member].hash) { position in
                usage[Int(position)].eventId.utf8Equals(id)
            }
            guard let position, usage[Int(position)].instant < previousHorizon else { continue }
            matches.append((position, hash(Int(position)) == group[member].stored ? .duplicate : .conflict))
        }
    }

    /// A table of the event ids of the rows before `instant`, by position, for a close that did
    /// not keep the reader's.
    static func idTable(of usage: UsageRows, before instant: Instant) -> ByteTable {
        var table = ByteTable(capacity: usage.count)
        usage.forEachRun(in: 0..<usage.count) { records, first in
            for offset in records.indices where records[offset].instant < instant {
                var id = records[offset].eventId
                table.insert(hash: id.withUTF8 { ByteTable.hash($0) }, index: Int32(first + offset))
            }
        }
        return table
    }
}
