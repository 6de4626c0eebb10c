// Proves the close counts each usage file's applied rows as the engine decided them: a row the
// engine rejects (here one before the org's start, which the readers normally catch first) is
// counted as rejected and not as applied, and the others are counted in their own files.
import Invoicing
import Testing

@testable import CycleRunnerCore

struct AppliedCountsTests {
    @Test func rowsTheEngineRejectsAreNotCountedAsApplied() throws {
        let profile = testProfile(plan: "standard", start: "2026-01-01")
        var input = InputFolder(catalog: testCatalog)
        let january = input.addFile("usage/2026-01.csv")
        let february = input.addFile("usage/2026-02.csv")
        input.users = ["u1"]
        input.actionIds = testCatalog.actions.map(\.id.rawValue)
        var prefix = StableHasher()
        prefix.add(profile.id.rawValue)
        input.usageOrgPrefixes = [prefix]
        func row(_ id: String, _ instant: String, file: Int32, line: Int32) -> UsageRecord {
            UsageRecord(
                eventId: id, orgIndex: 0, actionIndex: 0, userIndex: 0, instant: at(instant), credits: 5,
                origin: RowOrigin(fileIndex: file, lineNumber: line))
        }
        input.usage.append(chunk: [
            row("early", "2025-12-31T23:00:00Z", file: january, line: 2),
            row("e1", "2026-01-10T00:00:00Z", file: january, line: 3),
            row("e2", "2026-02-10T00:00:00Z", file: february, line: 2),
            row("e3", "2026-02-11T00:00:00Z", file: february, line: 3),
        ])

        let result = try CloseWork.runOrg(
            0, profile: profile, state: nil, usage: [0, 1, 2, 3], others: [], otherSources: [],
            previousHorizon: nil, catalog: testCatalog, input: input, horizon: at("2026-03-01T00:00:00Z"))

        #expect(result.appliedUsage.sorted() == [1, 2, 3])
        #expect(result.rejected.map(\.rejection.reason) == [.beforeOrgStart])
        #expect(result.rejected.map(\.origin) == [RowOrigin(fileIndex: january, lineNumber: 2)])
        #expect(result.appliedPerFile.map(\.file) == [january, february])
        #expect(result.appliedPerFile.map(\.count) == [1, 2])
    }
}
