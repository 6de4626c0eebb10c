// Proves `lineFeedCount`, which sizes the org table before orgs.csv is read, counts every line
// feed of a file: none, one, a last line without one, CRLF endings, and files longer than its
// 64 KiB reading window; a missing file counts 0.
import Foundation
import Testing

@testable import CycleRunnerCore

@Suite struct LineFeedCountTests {
    @Test(arguments: [
        ("", 0), ("\n", 1), ("a,b", 0), ("a,b\n", 1), ("a,b\nc,d", 1), ("a\r\nb\r\n", 2), ("\n\n\n", 3),
        (String(repeating: "x", count: 65_535) + "\n" + String(repeating: "y\n", count: 40_000), 40_001),
    ])
    func countsEveryLineFeed(text: String, expected: Int) throws {
        let folder = makeTempFolder()
        let path = folder + "/file.csv"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        #expect(lineFeedCount(path) == expected)
        #expect(lineFeedCount(path) == text.utf8.filter { $0 == 0x0A }.count)
    }

    @Test func aMissingFileCountsNothing() {
        #expect(lineFeedCount(makeTempFolder() + "/absent.csv") == 0)
    }
}
