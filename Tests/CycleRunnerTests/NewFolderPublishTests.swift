// Proves that publishing moves a folder new to the output whole and every other file on its
// own, and that either way the output ends with exactly the staged bytes, the files it held
// before untouched, the report put in place after every other file, and no staging folder.
import Foundation
import Invoicing
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct NewFolderPublishTests {
    static let through = CivilDate(year: 2026, month: 3, day: 31)
    static let report = "closes/2026-03-31/report.html"

    /// Files a close may write, and one it never does (beside the output's own folders), at
    /// depths from one to three folders.
    static let paths = [
        report,
        "closes/2026-03-31/journal.csv",
        "closes/2026-02-28/journal.csv",
        "invoices/INV-1.xml",
        "invoices/INV-2.xml",
        "statements/o1/2026-02-24.json",
        "statements/o1/2026-03-24.json",
        "statements/o2/2026-03-24.json",
        "statements/o2/deep/2026-03-24.html",
        "statements/o3/2026-03-24.html",
        "top.csv",
    ]
    /// Folders the output may hold with nothing of the above in them.
    static let folders = ["closes", "invoices", "statements", "statements/o2", "statements/o3/empty"]

    /// Records, at each rename, whether the new report and every other staged file are in place.
    final class Renames: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var seen: [(reportThere: Bool, othersThere: Bool)] = []
        func add(_ entry: (Bool, Bool)) { lock.withLock { seen.append(entry) } }
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Stages `staged` (the report always among them) into `output` and publishes them,
    /// recording each rename.
    static func stageAndPublish(_ staged: [String], into output: String, between: () throws -> Void = {}) throws
        -> [(reportThere: Bool, othersThere: Bool)]
    {
        let area = try StagingArea(outputFolder: output, through: through, fileCount: staged.count)
        try inParallel(staged.count) { index in try area.write(staged[index], Array("new \(staged[index])".utf8)) }
        let result = area.staged(
            manifest: area.manifest.files,
            totals: CloseTotals(periods: [], documents: [], rejected: [], ledgerFingerprint: "", filesWritten: 0))
        try between()
        let renames = Renames()
        let others = staged.filter { $0 != report }
        try OutputWriter.publish(result) {
            renames.add(
                (
                    read(output + "/" + report) == "new \(report)",
                    others.allSatisfy { read(output + "/" + $0) == "new \($0)" }
                ))
        }
        return renames.seen
    }

    /// Any mix of files already there (old bytes), files staged (new bytes) and empty folders.
    @Test func publishingLeavesExactlyTheStagedAndTheUntouchedFiles() async {
        let layout = Gen.int(in: 0...3).array(of: Self.paths.count...Self.paths.count)
        let emptyFolders = Gen.int(in: 0...1).array(of: Self.folders.count...Self.folders.count)
        await propertyCheck(count: 150, input: layout, emptyFolders) { layout, emptyFolders in
            let output = makeTempFolder()
            // Bit 0: the output has the file before the close; bit 1: the close writes it.
            for (path, code) in zip(Self.paths, layout) where code & 1 == 1 {
                if let slash = path.lastIndex(of: "/") { try! makeFolderInside(output, String(path[..<slash])) }
                try! writeNewFile(output + "/" + path, Array("old \(path)".utf8))
            }
            for (folder, flag) in zip(Self.folders, emptyFolders) where flag == 1 {
                try! makeFolderInside(output, folder)
            }
            let staged = zip(Self.paths, layout).filter { $0.0 == Self.report || $0.1 & 2 == 2 }.map(\.0)
            let renames = try! Self.stageAndPublish(staged, into: output)

            for (path, code) in zip(Self.paths, layout) {
                let expected = staged.contains(path) ? "new \(path)" : code & 1 == 1 ? "old \(path)" : nil
                #expect(Self.read(output + "/" + path) == expected, "\(path) with \(layout), \(emptyFolders)")
            }
            #expect(renames.count <= staged.count)
            #expect(renames.allSatisfy { !$0.reportThere }, "the report is published last")
            #expect(renames.last?.othersThere == true, "every other file is in place before the report")
            #expect(!(folderEntries(output) ?? []).contains { $0.hasPrefix(".staging-") })
            removeTree(output)
        }
    }

    /// A first close into an empty output moves each top folder once, then the report.
    @Test func firstPublishRenamesEachTopFolderOnce() throws {
        let output = makeTempFolder()
        let staged = Self.paths.filter { $0 != "top.csv" }
        let renames = try Self.stageAndPublish(staged, into: output)
        #expect(renames.count == 4, "closes, invoices, statements, then the report")
        for path in staged { #expect(Self.read(output + "/" + path) == "new \(path)") }
        removeTree(output)
    }

    /// A folder or file that appears in the output between staging and publishing is merged
    /// into, or replaced, as a rename would; a folder where a file is staged is refused.
    @Test func entriesThatAppearAfterStagingAreMergedInto() throws {
        let output = makeTempFolder()
        let staged = [Self.report, "statements/o1/2026-03-24.json", "statements/o2/2026-03-24.json"]
        _ = try Self.stageAndPublish(staged, into: output) {
            try makeFolderInside(output, "statements/o1")
            try writeNewFile(output + "/statements/o1/2026-03-24.json", Array("old".utf8))
            try writeNewFile(output + "/statements/o1/2026-02-24.json", Array("old".utf8))
        }
        for path in staged { #expect(Self.read(output + "/" + path) == "new \(path)") }
        #expect(Self.read(output + "/statements/o1/2026-02-24.json") == "old")

        let blocked = makeTempFolder()
        #expect(throws: OutputError.self) {
            _ = try Self.stageAndPublish(staged, into: blocked) {
                try makeFolderInside(blocked, "statements/o1/2026-03-24.json")
            }
        }
        removeTree(output)
        removeTree(blocked)
    }

    /// A folder asked about but given no file (`invoices` for a close without documents) does
    /// not appear in the output.
    @Test func aFolderOnlyLookedAtDoesNotAppear() throws {
        let output = makeTempFolder()
        _ = try Self.stageAndPublish([Self.report], into: output) {}
        let area = try StagingArea(outputFolder: output, through: Self.through, fileCount: 1)
        #expect(try area.isNew("invoices"))
        try area.write(Self.report, Array("again".utf8))
        try OutputWriter.publish(
            area.staged(
                manifest: area.manifest.files,
                totals: CloseTotals(periods: [], documents: [], rejected: [], ledgerFingerprint: "", filesWritten: 0)))
        #expect(folderEntries(output)?.sorted() == ["closes"])
        #expect(Self.read(output + "/" + Self.report) == "again")
        removeTree(output)
    }

    /// Many workers staging files of many folders at once, some new to the output and some
    /// not, end with every file in place.
    @Test func concurrentWritersOfManyFolders() throws {
        let output = makeTempFolder()
        for org in stride(from: 0, to: 100, by: 2) { try makeFolderInside(output, "statements/o\(org)") }
        let paths = (0..<100).flatMap { org in (0..<4).map { "statements/o\(org)/\($0).json" } }
        let area = try StagingArea(outputFolder: output, through: Self.through, fileCount: paths.count + 1)
        let failure = FirstError()
        // Eight writers take every eighth file, so workers meet on the same new folder.
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: paths.count, by: 8) {
                do { try area.write(paths[index], Array("new \(paths[index])".utf8)) } catch { failure.set(error) }
            }
        }
        #expect(!failure.isSet)
        try area.write(Self.report, Array("report".utf8))
        let staged = area.staged(
            manifest: area.manifest.files,
            totals: CloseTotals(periods: [], documents: [], rejected: [], ledgerFingerprint: "", filesWritten: 0))
        #expect(staged.bucketed.count == 201, "the 200 files of folders the output has, and the report")
        try OutputWriter.publish(staged)
        for path in paths { #expect(Self.read(output + "/" + path) == "new \(path)") }
        removeTree(output)
    }

    /// A symlink planted where the output needs a folder after the close looked is refused when
    /// publishing, and nothing is written through it.
    @Test func aSymlinkPlantedBeforePublishingIsRefused() throws {
        let output = makeTempFolder()
        let elsewhere = makeTempFolder()
        #expect(throws: OutputError.self) {
            _ = try Self.stageAndPublish([Self.report, "statements/o1/2026-03-24.json"], into: output) {
                #expect(symlink(elsewhere, output + "/statements") == 0)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        removeTree(output)
        removeTree(elsewhere)
    }

    /// A symlink where the output needs a folder is refused while staging, before anything is
    /// published, and nothing is written through it.
    @Test func aSymlinkInTheOutputIsRefusedWhileStaging() throws {
        let output = makeTempFolder()
        let elsewhere = makeTempFolder()
        try makeFolderInside(output, "statements")
        #expect(symlink(elsewhere, output + "/statements/o1") == 0)
        let area = try StagingArea(outputFolder: output, through: Self.through, fileCount: 1)
        #expect(throws: OutputError.self) { try area.write("statements/o1/2026-03-24.json", Array("x".utf8)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        area.remove()
        removeTree(output)
        removeTree(elsewhere)
    }
}
