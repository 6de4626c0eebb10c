// libFuzzer entry for CSVReader: every input is read with several chunk sizes, which must
// all give the same records and problems (inputs stay below the 64 KiB reference chunk) (the reader's refill and resynchronising paths are
// where bugs hide), then once more with a tiny record limit; none may crash, hang or read past
// the input (AddressSanitizer and -Onone bounds checks watch that).
import Glibc

struct Outcome: Equatable {
    var records: [[[UInt8]]] = []
    var strings: [[String?]] = []
    var lines: [Int] = []
    var raw: [String] = []
    var problems: [String] = []
}

let path = "/dev/shm/fuzz-csv-\(getpid()).csv"

func read(chunkBytes: Int, limit: Int) -> Outcome {
    var outcome = Outcome()
    do {
        let reader = try CSVReader(path: path, chunkBytes: chunkBytes, recordLimitBytes: limit)
        try reader.forEachRecord(
            { row in
                outcome.records.append((0..<row.count).map { Array(row.field($0)) })
                outcome.strings.append((0..<row.count).map { row.string($0) })
                outcome.lines.append(row.lineNumber)
                outcome.raw.append(row.rawText)
                precondition(row.field(row.count).isEmpty && row.field(-1).isEmpty)
            },
            onProblem: { line, problem, raw in
                outcome.problems.append("\(line) \(problem.message) \(raw)")
                outcome.lines.append(line)
            })
    } catch {
        outcome.problems.append("error \(error)")
    }
    // Line numbers never go backwards.
    precondition(zip(outcome.lines, outcome.lines.dropFirst()).allSatisfy { $0 <= $1 }, "lines went backwards")
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if size > 0, let data { _ = write(descriptor, data, size) }
    close(descriptor)
    let reference = read(chunkBytes: 1 << 16, limit: Int.max / 2)
    for chunk in [2, 3, 5, 16, 61] {
        let other = read(chunkBytes: chunk, limit: Int.max / 2)
        if other != reference {
            fputs("chunk \(chunk) differs:\n  \(other)\n  vs\n  \(reference)\n", stderr)
            abort()
        }
    }
    _ = read(chunkBytes: 7, limit: 8)
    _ = read(chunkBytes: 1 << 16, limit: 8)
    return 0
}
