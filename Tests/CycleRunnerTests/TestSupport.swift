// Shared helpers for the close tests: temporary folders, generated inputs and file snapshots.
import Foundation
import Invoicing

@testable import CycleRunnerCore

enum Fixtures {
    /// A generated input folder, small enough for property tests.
    static func generatedInput(
        seed: UInt64, orgs: Int = 6, months: Int = 4, events: Int = 8, start: String = "2026-01-01"
    )
        throws -> (folder: String, last: CivilDate)
    {
        let folder = TestPaths.temporaryFolder("input-\(seed)")
        let options = GeneratorOptions(
            orgs: orgs, months: months, eventsPerOrgMonth: events, seed: seed, firstMonth: CivilDate.parse(start)!)
        try InputGenerator.write(options, to: folder)
        return (folder, options.lastDay)
    }

    /// Every file under `folder` (relative path → bytes), except the ledger and its side files.
    static func snapshot(_ folder: String) -> [String: Data] {
        var result: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return result }
        while let relative = walker.nextObject() as? String {
            if relative.hasPrefix("ledger.sqlite") { continue }
            var isDirectory: ObjCBool = false
            let path = folder + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return result
    }

    static func close(
        _ input: String, _ output: String, through: CivilDate, onPhase: (@Sendable (String) throws -> Void)? = nil
    )
        throws -> CloseSummary
    {
        var options = CloseOptions(through: through, inputFolder: input, outputFolder: output)
        options.onPhase = onPhase
        return try ClosePipeline.close(options)
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Foundation's encoder with sorted keys: the bytes our JSON writers must match.
    static func foundationEncoder(pretty: Bool, escapesSlashes: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        var formatting: JSONEncoder.OutputFormatting = [.sortedKeys]
        if pretty { formatting.insert(.prettyPrinted) }
        if !escapesSlashes { formatting.insert(.withoutEscapingSlashes) }
        encoder.outputFormatting = formatting
        return encoder
    }

    /// Every period record and document of every run, then every org's profile and state.
    static func ledgerValues(_ ledger: Ledger) throws -> [any Encodable] {
        var values: [any Encodable] = []
        for run in try ledger.allRunIds() {
            values += try ledger.periods(run: run) as [any Encodable]
            values += try ledger.documents(run: run) as [any Encodable]
        }
        for org in try ledger.orgs() {
            values.append(org.profile)
            if let state = org.state { values.append(state) }
        }
        return values
    }
}

/// Counts calls and throws at the n-th, to stop a close at a chosen point.
final class Interrupter: @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let stopAt: Int

    init(stopAt: Int) { self.stopAt = stopAt }

    struct Stop: Error {}

    func tick(_ phase: String) throws {
        lock.lock()
        calls += 1
        let now = calls
        lock.unlock()
        if now == stopAt { throw Stop() }
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return calls
    }
}

extension Lookahead {
    /// Produces the values on `threads` threads of Dispatch's (the close uses `Feeders`).
    @discardableResult
    func start(threads: Int = 1) -> Lookahead {
        for _ in 0..<threads { DispatchQueue.global().async { self.produce() } }
        return self
    }
}
