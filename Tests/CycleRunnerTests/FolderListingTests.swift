// Proves a folder listing returns every name exactly once, whatever its length (1 to 255 bytes),
// over folders large enough to fill the C library's entry buffer many times. Run under
// AddressSanitizer (as `.ci/run` does), it also proves no entry is read past its own end.
import Testing

@testable import CycleRunnerCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct FolderListingTests {
    /// Names of every length a file system allows, mixed so that entries of all sizes end up
    /// last in a buffer: the last entry is where reading past an entry runs off the buffer.
    static func names(count: Int) -> [String] {
        (0..<count).map { index in
            let stem = "\(index)"
            let length = max(stem.count, 1 + (index * 37) % 255)
            return stem + String(repeating: "x", count: length - stem.count)
        }
    }

    @Test(arguments: [0, 1, 300, 3_000])
    func everyNameComesBackOnce(count: Int) {
        let folder = makeTempFolder()
        let expected = Self.names(count: count)
        for name in expected {
            let descriptor = open(folder + "/" + name, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            #expect(descriptor >= 0, "cannot make \(name)")
            close(descriptor)
        }
        #expect(folderEntries(folder)?.sorted() == expected.sorted())
    }

    @Test func aMissingFolderHasNoListing() {
        #expect(folderEntries(makeTempFolder() + "/absent") == nil)
    }
}
