// Proves the bad-input rules of §4 through InputReader: row rejections with reason codes, duplicates, file errors.
import Invoicing
import Testing

@testable import CycleRunnerCore

let orgsHeader =
    "org_id,name,plan_id,start_date,currency,country,street,city,postal_code,vat_category,vat_rate,vat_id,"
    + "monthly_credits,bank_cap,price\n"
let orgX1 = "x1,Org x1,standard,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,\n"
let usageHeader = "event_id,org_id,occurred_at,user_id,action,credits\n"

/// An input folder on disk, removed when the test is done with it.
struct InputFixture {
    let folder: String

    init(orgs: String = orgsHeader + orgX1, usage: [String: [UInt8]] = [:], files: [String: String] = [:]) {
        folder = makeTempFolder()
        writeFile(folder + "/orgs.csv", orgs)
        makeTestFolder(folder + "/usage")
        for (name, bytes) in usage { writeFile(folder + "/usage/" + name, bytes) }
        for (name, text) in files { writeFile(folder + "/" + name, text) }
    }

    func remove() { removeTree(folder) }

    func read() throws(InputError) -> InputFolder {
        let (profiles, rejected, counts) = try InputReader.readOrgs(folder: folder, catalog: testCatalog)
        #expect(rejected.isEmpty)
        #expect(counts.read == profiles.count)
        var input = InputFolder(catalog: testCatalog)
        try InputReader.readEvents(
            folder: folder, catalog: testCatalog, orgs: OrgDirectory(profiles: profiles), into: &input)
        return input
    }
}

extension InputFolder {
    func counts(of file: String) -> RowCounts? { files.firstIndex(of: file).map { counts[$0] } }

    /// Rows kept for the close from one file.
    func kept(from file: String) -> Int {
        guard let index = files.firstIndex(of: file) else { return 0 }
        return usage.filter { $0.origin.fileIndex == Int32(index) }.count
            + planChanges.filter { $0.origin.fileIndex == Int32(index) }.count
            + topUps.filter { $0.origin.fileIndex == Int32(index) }.count
            + refunds.filter { $0.origin.fileIndex == Int32(index) }.count
    }

    /// read = kept + duplicates + rejected (+ applied, for members and queue).
    func accounts(for file: String) -> Bool {
        guard let counts = counts(of: file) else { return false }
        return counts.read == kept(from: file) + counts.duplicates + counts.rejected + counts.applied
    }
}

struct RowCase: Sendable, CustomTestStringConvertible {
    let name: String
    let row: [UInt8]
    /// The reason code rejected.csv carries (`Rejection.Reason` raw value).
    let reason: String
    init(_ name: String, _ row: String, _ reason: String) {
        self.name = name
        self.row = Array(row.utf8)
        self.reason = reason
    }
    init(_ name: String, bytes: [UInt8], _ reason: String) {
        self.name = name
        self.row = bytes
        self.reason = reason
    }
    var testDescription: String { name }
}

@Test(arguments: [
    RowCase("unknown org", "g2,nobody,2026-01-02T00:00:00Z,u1,script,10", "unknown_org"),
    RowCase("impossible date", "g3,x1,2026-02-30T00:00:00Z,u1,script,10", "bad_timestamp"),
    RowCase("not a timestamp", "g3,x1,yesterday,u1,script,10", "bad_timestamp"),
    RowCase("no offset", "g4,x1,2026-01-02T00:00:00,u1,script,10", "timestamp_without_offset"),
    RowCase("negative credits", "g5,x1,2026-01-02T00:00:00Z,u1,script,-5", "bad_credits"),
    RowCase("fractional credits", "g6,x1,2026-01-02T00:00:00Z,u1,script,2.5", "bad_credits"),
    RowCase("signed credits", "g6,x1,2026-01-02T00:00:00Z,u1,script,+5", "bad_credits"),
    RowCase("credits past Int64", "g6,x1,2026-01-02T00:00:00Z,u1,script,9223372036854775808", "bad_credits"),
    RowCase("unknown action", "g7,x1,2026-01-02T00:00:00Z,u1,teleport,10", "unknown_action"),
    RowCase("before the org's start", "g8,x1,2025-12-31T23:59:59Z,u1,script,10", "before_org_start"),
    RowCase("before the start through its offset", "g8,x1,2026-01-01T00:30:00+01:00,u1,script,10", "before_org_start"),
    RowCase("empty event id", ",x1,2026-01-02T00:00:00Z,u1,script,10", "missing_field"),
    RowCase("missing credits", "g9,x1,2026-01-02T00:00:00Z,u1,script", "missing_field"),
    RowCase("a stray quote", "g9,x1,2026-01-02T00:00:00Z,u\"1,script,10", "malformed_record"),
    RowCase(
        "invalid UTF-8",
        bytes: Array("g9,x1,2026-01-02T00:00:00Z,u".utf8) + [0xC3, 0x28] + Array(",script,10".utf8), "invalid_text"),
])
func aBadUsageRowIsRejectedWithItsReason(_ sample: RowCase) throws {
    let fixture = InputFixture(usage: ["u.csv": Array(usageHeader.utf8) + sample.row + [0x0A]])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.usage.isEmpty)
    #expect(input.rejected.count == 1)
    let rejected = try #require(input.rejected.first)
    #expect(rejected.rejection.reason.rawValue == sample.reason)
    #expect(rejected.rejection.text.hasPrefix(sample.reason + ": "))
    #expect(rejected.sourceFile == "usage/u.csv")
    #expect(rejected.lineNumber == 2)
    #expect(rejected.raw == String(decoding: sample.row, as: UTF8.self))
    #expect(input.counts(of: "usage/u.csv") == counts(read: 1, rejected: 1))
}

func counts(read: Int, duplicates: Int = 0, rejected: Int = 0, applied: Int = 0) -> RowCounts {
    var counts = RowCounts()
    counts.read = read
    counts.duplicates = duplicates
    counts.rejected = rejected
    counts.applied = applied
    return counts
}

@Test func aGoodRowIsKeptWithItsValues() throws {
    let fixture = InputFixture(usage: [
        "u.csv": Array((usageHeader + "\"g9\",x1,\"2026-01-03T01:00:00+01:00\",\"u1, the first\",script,\"20\"\n").utf8)
    ])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.rejected.isEmpty)
    let record = try #require(input.usage.first)
    #expect(record.eventId == "g9")
    #expect(record.instant == at("2026-01-03T00:00:00Z"))
    #expect(record.credits == 20)
    #expect(input.users[Int(record.userIndex)] == "u1, the first")
    #expect(testCatalog.actions[Int(record.actionIndex)].id == ActionID("script"))
    #expect(record.origin.lineNumber == 2)
    #expect(input.counts(of: "usage/u.csv") == counts(read: 1))
}

@Test func duplicatesAndConflictsAreCountedApart() throws {
    let rows = [
        "g1,x1,2026-01-02T00:00:00Z,u1,script,10",
        "g1,x1,2026-01-02T00:00:00Z,u1,script,10",  // identical: a duplicate
        "g1,x1,2026-01-02T00:00:00Z,u1,script,11",  // same id, other content: a conflict
        "g1,x1,2026-01-02T01:00:00+01:00,u1,script,10",  // the same instant written otherwise: a duplicate
    ]
    let fixture = InputFixture(usage: ["u.csv": Array((usageHeader + rows.joined(separator: "\n") + "\n").utf8)])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.usage.map(\.credits) == [10])
    #expect(input.rejected.map(\.rejection.reason.rawValue) == ["conflicting_duplicate"])
    #expect(input.rejected.map(\.lineNumber) == [4])
    #expect(input.counts(of: "usage/u.csv") == counts(read: 4, duplicates: 2, rejected: 1))
    #expect(input.accounts(for: "usage/u.csv"))
}

@Test func theFirstOccurrenceWinsAcrossFilesInByteOrder() throws {
    let fixture = InputFixture(usage: [
        "b.csv": Array((usageHeader + "g1,x1,2026-01-02T00:00:00Z,u1,script,10\n").utf8),
        "a.csv": Array((usageHeader + "g1,x1,2026-01-02T00:00:00Z,u1,script,99\n").utf8),
    ])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.files == ["usage/a.csv", "usage/b.csv"])
    #expect(input.usage.map(\.credits) == [99])
    #expect(input.rejected.map(\.sourceFile) == ["usage/b.csv"])
    #expect(input.rejected.map(\.rejection.reason) == [.conflictingDuplicate])
}

/// Files are parsed apart and merged in reading order: the result must be what reading the rows
/// one by one in that order gives, rejections in file and line order with their raw text.
@Test func filesReadApartMergeAsOneReadingInOrder() throws {
    let first = [
        "g1,x1,2026-01-02T00:00:00Z,u1,script,10",
        "bad,x1,not-a-time,u1,script,1",
        "g2,x1,2026-01-03T00:00:00Z,u2,script,20",
        "g2,x1,2026-01-03T00:00:00Z,u2,script,21",
    ]
    let second = [
        "g2,x1,2026-01-03T00:00:00Z,u2,script,20",
        "g1,x1,2026-01-02T00:00:00Z,u3,script,10",
        "\"unterminated,x1",
    ]
    let fixture = InputFixture(usage: [
        "a.csv": Array((usageHeader + first.joined(separator: "\n") + "\n").utf8),
        "b.csv": Array((usageHeader + second.joined(separator: "\n") + "\n").utf8),
    ])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.usage.map(\.eventId) == ["g1", "g2"])
    #expect(input.users == ["u1", "u2", "u3"])
    #expect(input.rejected.map(\.sourceFile) == ["usage/a.csv", "usage/a.csv", "usage/b.csv", "usage/b.csv"])
    #expect(input.rejected.map(\.lineNumber) == [3, 5, 3, 4])
    #expect(
        input.rejected.map(\.rejection.reason) == [
            .badTimestamp, .conflictingDuplicate, .conflictingDuplicate, .malformedRecord,
        ])
    #expect(input.rejected[1].raw == first[3])
    #expect(input.rejected[2].raw == second[1])
    #expect(input.rejected[2].rejection.text.hasSuffix("at usage/a.csv:2"))
    #expect(input.counts(of: "usage/a.csv") == counts(read: 4, rejected: 2))
    #expect(input.counts(of: "usage/b.csv") == counts(read: 3, duplicates: 1, rejected: 2))
}

@Test func conformanceCase10CountsEveryRow() throws {
    // 10-bad-rows/input/usage/usage.csv: 11 rows, 2 kept, 1 duplicate, 8 rejected.
    let text = """
        event_id,org_id,occurred_at,user_id,action,credits
        g1,x1,2026-01-02T00:00:00Z,u1,script,10
        g2,nobody,2026-01-02T00:00:00Z,u1,script,10
        g3,x1,2026-02-30T00:00:00Z,u1,script,10
        g4,x1,2026-01-02T00:00:00,u1,script,10
        g5,x1,2026-01-02T00:00:00Z,u1,script,-5
        g6,x1,2026-01-02T00:00:00Z,u1,script,2.5
        g7,x1,2026-01-02T00:00:00Z,u1,teleport,10
        g8,x1,2025-12-31T23:59:59Z,u1,script,10
        g1,x1,2026-01-02T00:00:00Z,u1,script,10
        g1,x1,2026-01-02T00:00:00Z,u1,script,11
        "g9",x1,"2026-01-03T01:00:00+01:00","u1, the first",script,"20"

        """
    let fixture = InputFixture(
        usage: ["usage.csv": Array(text.utf8)], files: ["plan_changes.csv": "org_id,effective_at,plan_id\n"])
    defer { fixture.remove() }
    let input = try fixture.read()
    #expect(input.usage.map(\.eventId) == ["g1", "g9"])
    #expect(
        input.rejected.map(\.rejection.reason) == [
            .unknownOrg, .badTimestamp, .timestampWithoutOffset, .badCredits, .badCredits, .unknownAction,
            .beforeOrgStart, .conflictingDuplicate,
        ])
    #expect(input.rejected.map(\.lineNumber) == [3, 4, 5, 6, 7, 8, 9, 11])
    #expect(input.counts(of: "usage/usage.csv") == counts(read: 11, duplicates: 1, rejected: 8))
    #expect(input.counts(of: "plan_changes.csv") == counts(read: 0))
    #expect(input.accounts(for: "usage/usage.csv"))
}

@Test func otherEventFilesRejectTheirBadRows() throws {
    let fixture = InputFixture(files: [
        "orgs.csv": orgsHeader + orgX1 + "b1,Org b1,business,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,\n",
        "plan_changes.csv": """
        org_id,effective_at,plan_id
        x1,2026-01-10T00:00:00Z,platinum
        x1,2026-01-10T00:00:00Z,business
        x1,2026-01-10T00:00:00Z,business
        x1,2025-12-10T00:00:00Z,business

        """,
        "topups.csv": """
        purchase_id,org_id,purchased_at,pack_id
        q1,b1,2026-01-02T00:00:00Z,pack-1k
        q1,b1,2026-01-02T00:00:00Z,pack-1k
        q1,b1,2026-01-02T00:00:00Z,pack-5k
        q2,b1,2026-01-02T00:00:00Z,pack-2k

        """,
        "refunds.csv": """
        refund_id,purchase_id,refunded_at
        r1,q1,2026-01-05T00:00:00Z
        r1,q1,2026-01-06T00:00:00Z
        r2,q1,2026-01-06

        """,
    ])
    defer { fixture.remove() }
    let input = try fixture.read()
    func reasons(_ file: String) -> [Rejection.Reason] {
        input.rejected.filter { $0.sourceFile == file }.map(\.rejection.reason)
    }
    #expect(reasons("plan_changes.csv") == [.unknownPlan, .beforeOrgStart])
    #expect(input.counts(of: "plan_changes.csv") == counts(read: 4, duplicates: 1, rejected: 2))
    #expect(reasons("topups.csv") == [.conflictingDuplicate, .unknownPack])
    #expect(input.counts(of: "topups.csv") == counts(read: 4, duplicates: 1, rejected: 2))
    #expect(reasons("refunds.csv") == [.conflictingDuplicate, .badTimestamp])
    #expect(input.counts(of: "refunds.csv") == counts(read: 3, rejected: 2))
    for file in ["plan_changes.csv", "topups.csv", "refunds.csv"] {
        #expect(input.accounts(for: file), "\(file)")
    }
}

// MARK: Whole-file errors

func inputError(_ body: () throws(InputError) -> Void) -> InputError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

func readOrgsError(_ orgs: String) -> InputError? {
    let fixture = InputFixture(orgs: orgs)
    defer { fixture.remove() }
    return inputError { () throws(InputError) in
        _ = try InputReader.readOrgs(folder: fixture.folder, catalog: testCatalog)
    }
}

@Test func aMissingRequiredColumnNamesFileLineAndColumn() throws {
    let header = "org_id,name,plan_id,start_date,currency,country,street,city,postal_code,vat_category,vat_id\n"
    let error = try #require(
        readOrgsError(header + "x1,Org x1,standard,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,\n"))
    #expect(error.file == "orgs.csv")
    #expect(error.line == 1)
    #expect(error.column == "vat_rate")
}

@Test func aMissingUsageColumnIsAFileError() throws {
    let fixture = InputFixture(usage: ["u.csv": Array("event_id,org_id,occurred_at,user_id,action\n".utf8)])
    defer { fixture.remove() }
    let error = try #require(inputError { () throws(InputError) in _ = try fixture.read() })
    #expect(error.file == "usage/u.csv")
    #expect(error.line == 1)
    #expect(error.column == "credits")
}

/// Files are parsed several at a time: with more files than cores, the first bad file in
/// reading order is the one reported, whichever worker met it, and the reading ends cleanly.
@Test func theFirstBadFileInReadingOrderIsReportedAmongMany() throws {
    var usage: [String: [UInt8]] = [:]
    for month in 1...9 {
        let rows = (1...50).map { "m\(month)-\($0),x1,2026-01-0\(month)T00:00:00Z,u\($0 % 3),script,1\n" }
        usage[String(format: "2026-%02d.csv", month)] = Array((usageHeader + rows.joined()).utf8)
    }
    usage["2026-04.csv"] = Array("event_id,org_id,occurred_at,user_id,action\n".utf8)
    usage["2026-07.csv"] = Array("event_id,org_id\n".utf8)
    let fixture = InputFixture(usage: usage)
    defer { fixture.remove() }
    let error = try #require(inputError { () throws(InputError) in _ = try fixture.read() })
    #expect(error.file == "usage/2026-04.csv")
    #expect(error.column == "credits")
    usage["2026-04.csv"] = nil
    usage["2026-07.csv"] = nil
    let good = InputFixture(usage: usage)
    defer { good.remove() }
    let input = try good.read()
    #expect(input.usage.count == 7 * 50)
    #expect(input.usage.map(\.eventId).prefix(2) == ["m1-1", "m1-2"])
    #expect(input.users == ["u1", "u2", "u0"])
}

@Test func aDuplicateOrgIdNamesTheSecondLine() throws {
    let error = try #require(readOrgsError(orgsHeader + orgX1 + orgX1))
    #expect(error.file == "orgs.csv")
    #expect(error.line == 3)
    #expect(error.column == "org_id")
}

@Test func anUnknownPlanInOrgsIsAFileError() throws {
    let error = try #require(
        readOrgsError(orgsHeader + orgX1 + "x2,Org x2,platinum,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,\n"))
    #expect(error.file == "orgs.csv")
    #expect(error.line == 3)
    #expect(error.column == "plan_id")
}

@Test func aCustomPlanWithoutItsTermsIsAFileError() throws {
    let error = try #require(
        readOrgsError(orgsHeader + "e1,Org e1,enterprise,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,\n"))
    #expect(error.file == "orgs.csv")
    #expect(error.line == 2)
}

@Test func aMissingUsageFolderIsAFileError() throws {
    let folder = makeTempFolder()
    defer { removeTree(folder) }
    writeFile(folder + "/orgs.csv", orgsHeader + orgX1)
    var input = InputFolder(catalog: testCatalog)
    let error = try #require(
        inputError { () throws(InputError) in
            try InputReader.readEvents(
                folder: folder, catalog: testCatalog, orgs: OrgDirectory(profiles: []), into: &input)
        })
    #expect(error.file == "usage/")
}

@Test func orgsReadsEveryRowAfterTheHeader() throws {
    let fixture = InputFixture(
        orgs: orgsHeader + orgX1 + "bad/id,Org,standard,2026-01-01,USD,GB,1 Main St,London,EC1A 1AA,S,20,,,,\n")
    defer { fixture.remove() }
    let (profiles, rejected, readCounts) = try InputReader.readOrgs(folder: fixture.folder, catalog: testCatalog)
    #expect(profiles.map(\.id) == [OrgID("x1")])
    #expect(profiles.first?.startDate == day("2026-01-01"))
    #expect(rejected.map(\.rejection.reason) == [.badOrgId])
    #expect(rejected.map(\.lineNumber) == [3])
    #expect(readCounts == counts(read: 2, rejected: 1))
}

/// Ids that Swift calls equal but whose bytes differ are different ids (§6.2 compares bytes).
@Suite struct CanonicallyEquivalentIds {
    @Test func composedAndDecomposedIdsAreTwoEvents() throws {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // Swift's String equality says they are one.
        let folder = InputFixture(
            usage: [
                "u.csv": Array(
                    (usageHeader + "\(composed),x1,2026-01-02T00:00:00Z,u1,script,10\n"
                        + "\(decomposed),x1,2026-01-02T00:00:00Z,u1,script,11\n").utf8)
            ])
        defer { folder.remove() }
        let input = try folder.read()
        #expect(input.usage.count == 2)
        #expect(input.rejected.isEmpty)
    }
}
