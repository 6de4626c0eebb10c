// Proves every HTML page a close writes parses as XML and every chart in it is an accessible image.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct HTMLWellFormedTests {
    /// Parses a page with Foundation's XML parser (libxml2 underneath); nil when well-formed.
    static func xmlError(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return "unreadable" }
        let parser = XMLParser(data: data)
        if parser.parse() { return nil }
        return "line \(parser.lineNumber), column \(parser.columnNumber): "
            + (parser.parserError.map { "\($0)" } ?? "unknown error")
    }

    static func checkEveryPage(in output: String) throws -> Int {
        let pages = ReportFixture.files(in: output, endingWith: ".html")
        for page in pages {
            let path = output + "/" + page
            #expect(xmlError(path) == nil, "\(page) is not well-formed XML: \(xmlError(path) ?? "")")
            let text = try ReportFixture.text(path)
            #expect(text.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\""), "\(page)")
            #expect(text.contains("<meta name=\"viewport\""), "\(page) has no viewport for phones")
            #expect(text.contains("@page{size:A4"), "\(page) has no A4 print rules")
            // Self-contained: nothing is loaded from anywhere and nothing runs.
            for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "@import", "url("] {
                #expect(!text.contains(forbidden), "\(page) contains \(forbidden)")
            }
            let charts = text.components(separatedBy: "<svg ").count - 1
            #expect(text.components(separatedBy: "role=\"img\" aria-labelledby=").count - 1 == charts, "\(page)")
            #expect(text.components(separatedBy: "<desc id=").count - 1 == charts, "\(page) has a chart without text")
        }
        return pages.count
    }

    @Test func everyPageOfTheFixtureIsWellFormed() throws {
        let output = try ReportFixture.close()
        // 8 statements and the report.
        #expect(try Self.checkEveryPage(in: output) == 9)
    }

    @Test func everyPageOfTheSamplesIsWellFormed() throws {
        let output = TestPaths.temporaryFolder("samples-html")
        _ = try ClosePipeline.close(
            CloseOptions(
                through: CivilDate.parse("2026-11-30")!, inputFolder: TestPaths.repository.path + "/samples",
                outputFolder: output))
        #expect(try Self.checkEveryPage(in: output) > 40)
    }

    @Test func everyPageOfAGeneratedDirtyInputIsWellFormed() throws {
        let folder = TestPaths.temporaryFolder("generated-html")
        let options = GeneratorOptions(
            orgs: 8, months: 3, eventsPerOrgMonth: 12, seed: 77, firstMonth: CivilDate.parse("2026-01-01")!,
            dirtyPercent: 20)
        try InputGenerator.write(options, to: folder)
        let output = TestPaths.temporaryFolder("generated-html-out")
        _ = try ClosePipeline.close(
            CloseOptions(through: options.lastDay, inputFolder: folder, outputFolder: output))
        #expect(try Self.checkEveryPage(in: output) > 8)
    }
}
