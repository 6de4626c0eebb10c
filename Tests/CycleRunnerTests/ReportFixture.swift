// Shared helper for the report tests: closes the fixed input in Fixtures/reports and reads back what was written.
import Foundation
import Invoicing

@testable import CycleRunnerCore

enum ReportFixture {
    /// A small fixed input: three orgs on three plans and currencies, hostile names, an
    /// overdraft, cap expiry, a pack, a member without the Use Credits permission, rejected
    /// rows and a queue that the balance does not cover.
    static let input = TestPaths.repository.appendingPathComponent("Tests/CycleRunnerTests/Fixtures/reports").path
    static let through = CivilDate.parse("2026-04-30")!
    static let goldens = TestPaths.repository.appendingPathComponent("Tests/CycleRunnerTests/Golden")
    /// The statement the golden test pins: the hostile org's latest, with the queue on it.
    static let goldenStatement = "statements/script-kiddies/2026-04-05.html"
    static let goldenReport = "closes/2026-04-30/report.html"

    /// Closes the fixture into a fresh folder and returns it.
    static func close(input: String = input, through: CivilDate = through) throws -> String {
        let output = TestPaths.temporaryFolder("reports")
        _ = try ClosePipeline.close(CloseOptions(through: through, inputFolder: input, outputFolder: output))
        return output
    }

    /// A copy of the fixture input that a test may change.
    static func copyOfInput() throws -> String {
        let folder = TestPaths.temporaryFolder("reports-input")
        try FileManager.default.removeItem(atPath: folder)
        try FileManager.default.copyItem(atPath: input, toPath: folder)
        return folder
    }

    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Every file under `folder` whose name ends with `suffix`, as paths relative to it.
    static func files(in folder: String, endingWith suffix: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: folder)
        var found: [String] = []
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(suffix) { found.append(relative) }
        }
        return found.sorted()
    }
}
