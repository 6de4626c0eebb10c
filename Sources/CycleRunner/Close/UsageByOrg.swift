import Dispatch
import Foundation
import Invoicing

/// The usage rows a close applies, grouped by org: the indices into `InputFolder.usage` of
/// every org's rows, org after org, each org's in reading order. One array with each org's
/// start, not an array per org: the rows are sorted out on every core in two passes over
/// them, and ten thousand arrays grown row by row were the classification's cost on one core.
struct UsageByOrg: Sendable {
    /// Row indices, org after org.
    private(set) var rows: [Int32] = []
    /// Org `i`'s rows are `rows[starts[i]..<starts[i + 1]]`.
    private(set) var starts: [Int] = [0]

    init() {}

    init(rows: [Int32], starts: [Int]) {
        precondition(starts.first == 0 && starts.last == rows.count, "the starts bound every row once")
        self.rows = rows
        self.starts = starts
    }

    var orgCount: Int { starts.count - 1 }

    /// Org `org`'s rows, in reading order.
    subscript(org: Int) -> ArraySlice<Int32> { rows[starts[org]..<starts[org + 1]] }

    /// What sorting the usage rows found besides the rows to apply.
    struct Sorted: Sendable {
        var byOrg: UsageByOrg
        var pendingPerFile: [Int]
        var duplicatesPerFile: [Int]
        /// Rows whose event id the ledger applied earlier with other content, in reading order.
        var conflicts: [Int]
    }

    /// Sorts the usage rows out, as one pass in reading order would: a row at or after
    /// `horizon` is pending; a row an earlier close applied is a duplicate or a conflict, as
    /// `earlier` says; every other row goes to its org. The rows are
    /// cut into parts: each part is read on a core once to count its rows per org (and mark
    /// them in a bitset of its own), then again to put them in their places, which the counts
    /// of the parts before it give. A part's rows of one org land after the earlier parts'
    /// rows of that org, so each org's rows stay in reading order.
    static func sort(
        _ usage: UsageRows, orgCount: Int, fileCount: Int, horizon: Instant, earlier: EarlierUsage,
        parts wanted: Int? = nil
    ) -> Sorted {
        let rowCount = usage.count
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // A few parts per core, so a core that got less of its share holds up the others
        // little; each part's counts per org are an array as long as the orgs. (Tests ask for
        // more parts than a small input would get.)
        let partCount = max(1, wanted ?? min(4 * cores, rowCount / 16_384))
        let partRows = (rowCount + partCount - 1) / partCount
        let parts = (0..<partCount).map { part in
            min(part * partRows, rowCount)..<min((part + 1) * partRows, rowCount)
        }

        struct Counted: Sendable {
            var perOrg: [Int32]
            /// Bit `i % 64` of word `i / 64` is set when the part's row `i` goes to its org.
            var kept: [UInt64]
            var pending: [Int]
            var duplicates: [Int]
            var conflicts: [Int] = []
        }
        let counted = ResultSlots<Counted>(count: partCount)
        DispatchQueue.concurrentPerform(iterations: partCount) { part in
            let range = parts[part]
            var result = Counted(
                perOrg: [Int32](repeating: 0, count: orgCount),
                kept: [UInt64](repeating: 0, count: (range.count + 63) / 64),
                pending: [Int](repeating: 0, count: fileCount), duplicates: [Int](repeating: 0, count: fileCount))
            usage.forEachRun(in: range) { records, first in
                for offset in records.indices {
                    let position = first + offset
                    if records[offset].instant >= horizon {
                        result.pending[Int(records[offset].fileIndex)] += 1
                        continue
                    }
                    switch earlier[position] {
                    case .duplicate:
                        result.duplicates[Int(records[offset].fileIndex)] += 1
                        continue
                    case .conflict:
                        result.conflicts.append(position)
                        continue
                    case .notApplied:
                        break
                    }
                    let bit = position - range.lowerBound
                    result.kept[bit >> 6] |= 1 << UInt64(bit & 63)
                    result.perOrg[Int(records[offset].orgIndex)] += 1
                }
            }
            counted.set(part, result)
        }
        let partResults = counted.takeValues()

        // Where each org starts, and where each part's rows of each org go.
        var starts = [Int](repeating: 0, count: orgCount + 1)
        var cursors = [[Int]](repeating: [Int](repeating: 0, count: orgCount), count: partCount)
        var total = 0
        for org in 0..<orgCount {
            starts[org] = total
            for part in 0..<partCount {
                cursors[part][org] = total
                total += Int(partResults[part].perOrg[org])
            }
        }
        starts[orgCount] = total

        let rows = [Int32](unsafeUninitializedCapacity: total) { buffer, initializedCount in
            let target = SharedBuffer(buffer: buffer)
            let kept = partResults.map(\.kept)
            let cursorsByPart = cursors
            DispatchQueue.concurrentPerform(iterations: partCount) { part in
                let range = parts[part]
                var cursor = cursorsByPart[part]
                let words = kept[part]
                usage.forEachRun(in: range) { records, first in
                    for offset in records.indices {
                        let bit = first + offset - range.lowerBound
                        guard words[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { continue }
                        let org = Int(records[offset].orgIndex)
                        (target.buffer.baseAddress! + cursor[org]).initialize(to: Int32(first + offset))
                        cursor[org] += 1
                    }
                }
            }
            initializedCount = total
        }
        return Sorted(
            byOrg: UsageByOrg(rows: rows, starts: starts),
            pendingPerFile: (0..<fileCount).map { file in partResults.reduce(0) { $0 + $1.pending[file] } },
            duplicatesPerFile: (0..<fileCount).map { file in partResults.reduce(0) { $0 + $1.duplicates[file] } },
            conflicts: partResults.flatMap(\.conflicts))
    }
}
