// Proves a run's list of written files (`RenderedManifest`) comes back as packed, awkward paths
// and extreme sizes and hashes included, that a damaged list reads as no list (the files are
// rendered again), and that runs listed row by row by earlier versions are still read.
import Foundation
import GRDB
import Testing

@testable import CycleRunnerCore

struct RenderedManifestTests {
    @Test func aListComesBackAsPacked() {
        let files = [
            RenderedFile(path: "", size: 0, contentHash: 0),
            RenderedFile(path: "closes/2026-03-31/report.html", size: Int.max, contentHash: Int64.min),
            RenderedFile(path: "statements/é 日本/🎉.json", size: 1, contentHash: -1),
            RenderedFile(path: String(repeating: "long/", count: 20_000), size: 7, contentHash: Int64.max),
        ]
        #expect(RenderedManifest.unpack(RenderedManifest.pack(files)) == files)
        #expect(RenderedManifest.unpack(RenderedManifest.pack([])) == [])
    }

    @Test func aDamagedListReadsAsNoList() {
        let packed = RenderedManifest.pack([
            RenderedFile(path: "invoices/INV-2026-000001.xml", size: 9, contentHash: 3)
        ])
        for cut in 1..<packed.count {
            #expect(RenderedManifest.unpack(packed.prefix(cut)) == nil, "cut at \(cut)")
        }
    }

    @Test func aRunListedRowByRowIsStillRead() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 31, orgs: 3, months: 2, events: 5)
        let output = TestPaths.temporaryFolder("manifest-rows")
        _ = try Fixtures.close(input, output, through: last)
        let ledger = try Ledger(path: output + "/ledger.sqlite")
        let run = try #require(ledger.allRunIds().last)
        let listed = try ledger.renderedFiles(run: run)
        #expect(listed.count > 10)
        // The run as an earlier version left it: a row per file, no packed list.
        try ledger.pool.write { db in
            try db.execute(sql: "DELETE FROM rendered_manifests WHERE run_id = ?", arguments: [run])
            for file in listed.reversed() {
                try db.execute(
                    sql: "INSERT INTO rendered_files (run_id, path, size, content_hash) VALUES (?, ?, ?, ?)",
                    arguments: [run, file.path, file.size, file.contentHash])
            }
        }
        #expect(try ledger.renderedFiles(run: run) == listed)
        // Recording the run again moves it to the packed list.
        try ledger.recordRendered(run: run, files: listed)
        #expect(try ledger.renderedFiles(run: run) == listed)
        let rows = try ledger.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rendered_files WHERE run_id = ?", arguments: [run])
        }
        #expect(rows == 0)
    }
}
