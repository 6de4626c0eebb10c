// Proves each entry of the hostile input catalogue gets a clear error or is handled, nothing
// escapes the output folder or reaches a spreadsheet, HTML or XML as live code, and every
// row is still accounted for.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct HostileInputTests {
    static let usageHeader = "event_id,org_id,occurred_at,user_id,action,credits\n"
    static let orgsHeader =
        "org_id,name,plan_id,start_date,currency,country,street,city,postal_code,vat_category,vat_rate,vat_id\n"
    static let through = CivilDate(year: 2026, month: 1, day: 31)

    /// A one-org input folder with the given usage rows (bytes, so they may be anything).
    static func folder(
        usage: [UInt8], orgs: String = "acme,Acme Ltd,standard,2026-01-01,EUR,DE,Street 1,Berlin,10115,S,19,\n",
        plans: (String) -> String = { $0 }
    ) throws -> String {
        let folder = TestPaths.temporaryFolder("hostile")
        let samplePlans = try String(
            contentsOfFile: TestPaths.repository.path + "/samples/plans.yaml", encoding: .utf8)
        try plans(samplePlans).write(toFile: folder + "/plans.yaml", atomically: true, encoding: .utf8)
        try (orgsHeader + orgs).write(toFile: folder + "/orgs.csv", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: folder + "/usage", withIntermediateDirectories: true)
        try Data(Array(usageHeader.utf8) + usage).write(to: URL(fileURLWithPath: folder + "/usage/2026-01.csv"))
        return folder
    }

    static func row(_ id: String, credits: String = "5", at time: String = "2026-01-10T10:00:00Z", org: String = "acme")
        -> String
    {
        "\(id),\(org),\(time),u1,script,\(credits)\n"
    }

    /// Closes and checks that every file's rows add up.
    static func close(_ input: String) throws -> (summary: CloseSummary, output: String) {
        let output = TestPaths.temporaryFolder("hostile-out")
        let summary = try Fixtures.close(input, output, through: through)
        let report = try #require(summary.report)
        for (file, counts) in zip(report.files, report.counts) {
            #expect(counts.balances, "\(file): \(counts)")
        }
        #expect(Soundness.ledgerProblems(output) == [])
        return (summary, output)
    }

    static func rejected(_ output: String) -> String {
        (try? String(contentsOfFile: output + "/closes/\(through)/rejected.csv", encoding: .utf8)) ?? ""
    }

    static func usageCounts(_ summary: CloseSummary) -> RowCounts? {
        guard let report = summary.report, let index = report.files.firstIndex(of: "usage/2026-01.csv") else {
            return nil
        }
        return report.counts[index]
    }

    @Test func aHundredMegabyteLineIsRejectedAndReadingGoesOn() throws {
        var usage = Array(Self.row("before").utf8)
        usage += Array("huge,acme,2026-01-10T10:00:00Z,u1,script,".utf8)
        usage += [UInt8](repeating: UInt8(ascii: "9"), count: 100 << 20)
        usage += Array("\n".utf8) + Array(Self.row("after").utf8)
        let (summary, output) = try Self.close(try Self.folder(usage: usage))
        let counts = try #require(Self.usageCounts(summary))
        #expect(counts.read == 3 && counts.applied == 2 && counts.rejected == 1)
        #expect(Self.rejected(output).contains("malformed_record: a record longer than 16777216 bytes"))
    }

    @Test func aMillionColumnsAreReadAndTheExtraOnesIgnored() throws {
        let wide = "wide,acme,2026-01-10T10:00:00Z,u1,script,7" + String(repeating: ",x", count: 1_000_000) + "\n"
        let (summary, _) = try Self.close(try Self.folder(usage: Array(wide.utf8)))
        #expect(Self.usageCounts(summary)?.applied == 1)
    }

    @Test func nulBytesInvalidUTF8AndAStrayByteOrderMarkAreRejected() throws {
        var usage = Array(Self.row("ok").utf8)
        usage += Array("nul\u{0},acme,2026-01-10T10:00:00Z,u1,script,5\n".utf8)
        usage += Array("bad".utf8) + [0xC3, 0x28] + Array(",acme,2026-01-10T10:00:00Z,u1,script,5\n".utf8)
        // A byte-order mark is only skipped at the very start of a file; in the middle it is data.
        usage += Array("bom,".utf8) + [0xEF, 0xBB, 0xBF] + Array("acme,2026-01-10T10:00:00Z,u1,script,5\n".utf8)
        // A conflicting duplicate keeps its raw line, read again at the end, with a NUL in a
        // column no rule reads.
        usage += Array((Self.row("dup") + "dup,acme,2026-01-10T10:00:00Z,u1,script,6,a\u{0}b\n").utf8)
        let input = try Self.folder(usage: [0xEF, 0xBB, 0xBF] + usage)
        let (summary, output) = try Self.close(input)
        let counts = try #require(Self.usageCounts(summary))
        #expect(counts.read == 6 && counts.applied == 2 && counts.rejected == 4)
        let rejected = Self.rejected(output)
        #expect(rejected.components(separatedBy: "invalid_text").count == 3)
        #expect(rejected.contains("unknown_org"))
        // The NUL is kept as U+FFFD, and the ledger holds the same text: rendered again from
        // the ledger, the file is the same (SQLite's text binding used to end it at the NUL).
        #expect(!rejected.utf8.contains(0) && rejected.contains("nul\u{FFFD}") && rejected.contains("a\u{FFFD}b"))
        try FileManager.default.removeItem(atPath: output + "/closes")
        _ = try Fixtures.close(input, output, through: Self.through)
        #expect(Self.rejected(output) == rejected)
    }

    @Test func creditsPastInt64OrTheRowLimitAreRejected() throws {
        var usage = Self.row("too-big", credits: "9223372036854775808")
        usage += Self.row("max", credits: "9223372036854775807")
        usage += Self.row("max-again", credits: "9223372036854775807")
        usage += Self.row("limit", credits: "1000000000000")
        let (summary, output) = try Self.close(try Self.folder(usage: Array(usage.utf8)))
        let counts = try #require(Self.usageCounts(summary))
        #expect(counts.applied == 1 && counts.rejected == 3)
        #expect(Self.rejected(output).contains("is too large"))
        #expect(Self.rejected(output).contains("above the limit of 1000000000000"))
    }

    @Test func timestampsInYearsOneAndNineThousandNineHundredNinetyNine() throws {
        var usage = Self.row("ancient", at: "0001-01-01T00:00:00Z")
        usage += Self.row("far", at: "9999-12-31T23:59:59Z")
        usage += Self.row("odd", at: "0000-01-01T00:00:00Z")
        let (summary, output) = try Self.close(try Self.folder(usage: Array(usage.utf8)))
        let counts = try #require(Self.usageCounts(summary))
        #expect(counts.pending == 1, "the year 9999 row waits for a later close")
        #expect(counts.rejected == 2)
        #expect(Self.rejected(output).contains("before_org_start"))
    }

    @Test func pathTraversalInAnOrgIdIsRejected() throws {
        let orgs =
            "acme,Acme Ltd,standard,2026-01-01,EUR,DE,Street 1,Berlin,10115,S,19,\n"
            + "../../etc,Evil,standard,2026-01-01,EUR,DE,Street 1,Berlin,10115,S,19,\n"
        let usage = Self.row("e1") + Self.row("e2", org: "../../etc")
        let input = try Self.folder(usage: Array(usage.utf8), orgs: orgs)
        let (_, output) = try Self.close(input)
        #expect(Self.rejected(output).contains("bad_org_id"))
        #expect(Self.rejected(output).contains("unknown_org"))
        let everything = FileManager.default.enumerator(atPath: output)?.allObjects as? [String] ?? []
        #expect(!everything.contains { $0.contains("..") || $0.contains("etc") })
    }

    @Test func shellAndSQLMetacharactersAreJustData() throws {
        let ids = ["x'; DROP TABLE runs; --", "$(touch /tmp/pwned)", "`id`", "a\"b", "semi;colon|pipe&amp"]
        let usage: String = ids.map { id in
            let quoted = "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            return "\(quoted),acme,2026-01-10T10:00:00Z,\(quoted),script,3\n"
        }.joined()
        let (summary, output) = try Self.close(try Self.folder(usage: Array(usage.utf8)))
        #expect(Self.usageCounts(summary)?.applied == ids.count)
        #expect(Soundness.tableCounts(output).first == 1, "the runs table is intact")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
        // The rerun knows them all as applied: the ids went through the ledger unchanged.
        let again = try Fixtures.close(try Self.folder(usage: Array(usage.utf8)), output, through: Self.through)
        #expect(again.appliedNothing)
    }

    @Test func formulaCellsAreNeutralisedInEveryCSVWeWrite() throws {
        let usage =
            "=HYPERLINK(\"http://evil\"),acme,2026-01-10T10:00:00Z,u1,script,-1\n"
            + "+cmd,acme,bad-time,u1,script,1\n-2+3,acme,2026-01-10T10:00:00Z,u1,nope,1\n@SUM(A1),nobody,x,u1,script,1\n"
            + Self.row("fine")
        let input = try Self.folder(usage: Array(usage.utf8)) { plans in
            plans.replacingOccurrences(
                of: "  payment_terms_days: 14\n",
                with: "  payment_terms_days: 14\n  accounts: { receivable: \"=1+1\", vat: \"@A1\", packs: \"+1\" }\n")
        }
        let (_, output) = try Self.close(input)
        let csvFiles = (FileManager.default.enumerator(atPath: output)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".csv") }
        #expect(csvFiles.count == 4)
        var cells = 0
        for file in csvFiles {
            let text = try String(contentsOfFile: output + "/" + file, encoding: .utf8)
            for cell in Self.cells(text) {
                cells += 1
                if let first = cell.utf8.first {
                    #expect(![0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first), "\(file): live formula \(cell)")
                }
            }
        }
        #expect(cells > 50)
        #expect(Self.rejected(output).contains("'=HYPERLINK"))
        let journal = try String(contentsOfFile: output + "/closes/\(Self.through)/journal.csv", encoding: .utf8)
        #expect(journal.contains(",'=1+1,"))
    }

    /// The cells of an RFC 4180 text, unquoted.
    static func cells(_ text: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        cell.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," || character == "\n" {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
        }
        return cells
    }

    @Test func scriptInNamesIsEscapedInHTMLAndXML() throws {
        let orgs = "acme,<script>alert(1)</script> & Co,standard,2026-01-01,EUR,DE,<b>St</b>,Berlin,10115,S,19,\n"
        let input = try Self.folder(usage: Array(Self.row("e1").utf8), orgs: orgs)
        let output = TestPaths.temporaryFolder("hostile-out")
        // Through February so the January period closes and its statement and invoice exist.
        _ = try Fixtures.close(input, output, through: CivilDate(year: 2026, month: 2, day: 28))
        let files = (FileManager.default.enumerator(atPath: output)?.allObjects as? [String] ?? [])
        let pages = files.filter { $0.hasSuffix(".html") || $0.hasSuffix(".xml") }
        #expect(pages.contains { $0.hasSuffix(".xml") } && pages.contains { $0.hasPrefix("statements/") })
        for page in pages {
            let text = try String(contentsOfFile: output + "/" + page, encoding: .utf8)
            #expect(!text.contains("<script>"), "\(page) carries a live script tag")
            #expect(!text.contains("<b>St"), "\(page) carries live markup")
        }
        let xml = try #require(pages.first { $0.hasSuffix(".xml") })
        let document = try String(contentsOfFile: output + "/" + xml, encoding: .utf8)
        #expect(document.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"))
    }

    @Test func yamlAliasBombsAndDeepNestingStopWithAClearError() throws {
        var bomb = "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
        for (name, previous) in zip(
            ["b", "c", "d", "e", "f", "g", "h", "i"], ["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        bomb += "issuer: *i\nplans: *i\nactions: *i\n"
        #expect(throws: InputError.self) { try CatalogReader.parse(bomb, file: "plans.yaml") }
        do {
            _ = try CatalogReader.parse(bomb, file: "plans.yaml")
        } catch {
            #expect(error.description.contains("alias bomb") || error.description.contains("expected"))
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: InputError.self) { try CatalogReader.parse("issuer: " + deep, file: "plans.yaml") }
        let prefix = "  invoice_prefix: \"INV-\"\n"
        let traversal = try String(contentsOfFile: TestPaths.repository.path + "/samples/plans.yaml", encoding: .utf8)
            .replacingOccurrences(of: prefix, with: "  invoice_prefix: \"../../x\"\n")
        #expect(throws: InputError.self) { try CatalogReader.parse(traversal, file: "plans.yaml") }
    }

    @Test func aSymlinkedOutputFolderIsFollowedButLinksInsideAreRefused() throws {
        let input = try Self.folder(usage: Array(Self.row("e1").utf8))
        let real = TestPaths.temporaryFolder("real-books")
        let link = TestPaths.temporaryFolder("link-parent") + "/books"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        _ = try Fixtures.close(input, link, through: Self.through)
        #expect(FileManager.default.fileExists(atPath: real + "/closes/\(Self.through)/report.html"))

        // A link planted inside the books is never followed, and the close commits nothing.
        let output = TestPaths.temporaryFolder("planted")
        let elsewhere = TestPaths.temporaryFolder("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: output + "/invoices", withDestinationPath: elsewhere)
        do {
            _ = try ClosePipeline.close(
                CloseOptions(
                    through: CivilDate(year: 2026, month: 2, day: 28), inputFolder: input, outputFolder: output))
            Issue.record("the close followed a symlink inside the output folder")
        } catch {
            #expect(error.exitCode == 5)
            #expect(error.description.contains("is a symlink"), "\(error.description)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        #expect(Soundness.horizon(output) == nil, "nothing was committed")
    }
}
