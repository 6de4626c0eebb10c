// Proves a rerun's check of the files a close wrote (`OutputWriter.allPresent`) passes exactly
// the files as written: the same bytes pass, and a changed byte, a longer or shorter file, a
// missing file, or a folder or FIFO under a file's name all fail, without the check blocking.
import Foundation
import Testing

@testable import CycleRunnerCore

struct RerunFileCheckTests {
    /// What is done to one of the written files before the check.
    enum Damage: String, CaseIterable, Sendable {
        case none, changedByte, extraByte, missingByte, emptied, removed, folderInstead, fifoInstead
    }

    /// Writes files of several sizes (empty, one byte, odd lengths around the hash's eight-byte
    /// words, larger than a page), lists them as a close does, damages one, and checks.
    @Test(arguments: Damage.allCases)
    func theCheckPassesOnlyUntouchedFiles(_ damage: Damage) throws {
        let folder = TestPaths.temporaryFolder("rerun-check")
        defer { removeTree(folder) }
        try FileManager.default.createDirectory(atPath: folder + "/statements/org1", withIntermediateDirectories: true)
        let sizes = [0, 1, 7, 8, 9, 4_095, 70_001]
        var listed: [RenderedFile] = []
        for (index, size) in sizes.enumerated() {
            let path = "statements/org1/\(index).json"
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + path))
            listed.append(RenderedFile(path: path, size: size, contentHash: OutputWriter.contentHash(bytes)))
        }
        // The check reads files a few hundred at a time per worker: enough copies of the list
        // that the damaged file is not in the first piece.
        let everything = Array(repeating: listed, count: 100).joined().map { $0 }
        let target = folder + "/statements/org1/5.json"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: target)))
        switch damage {
        case .none: break
        case .changedByte: bytes[100] ^= 1
        case .extraByte: bytes.append(0x0A)
        case .missingByte: bytes.removeLast()
        case .emptied: bytes = []
        case .removed, .folderInstead, .fifoInstead: try FileManager.default.removeItem(atPath: target)
        }
        switch damage {
        case .none, .removed: break
        case .changedByte, .extraByte, .missingByte, .emptied: try Data(bytes).write(to: URL(fileURLWithPath: target))
        case .folderInstead: try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        case .fifoInstead: #expect(mkfifo(target, 0o600) == 0)
        }
        #expect(OutputWriter.allPresent(everything, in: folder) == (damage == .none))
    }

    /// A listed size no file of ours reaches (a damaged list) is a mismatch, not a crash.
    @Test(arguments: [-1, Int.max, Int.max - 1, 1 << 32])
    func anImpossibleListedSizeIsAMismatch(_ size: Int) throws {
        let folder = TestPaths.temporaryFolder("rerun-size")
        defer { removeTree(folder) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/a.xml"))
        var buffer: [UInt8] = []
        #expect(OutputWriter.contentHash(ofFile: folder + "/a.xml", expectedSize: size, buffer: &buffer) == nil)
        #expect(!OutputWriter.allPresent([RenderedFile(path: "a.xml", size: size, contentHash: 0)], in: folder))
    }

    /// The hash of a file read into a reused buffer is the hash of its bytes, whatever the
    /// buffer held before (a longer file's bytes must not leak into a shorter one's hash).
    @Test func aReusedBufferHashesEachFileAlone() throws {
        let folder = TestPaths.temporaryFolder("rerun-buffer")
        defer { removeTree(folder) }
        var buffer: [UInt8] = []
        for size in [5_000, 12, 0, 3_000, 9] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ size) }
            let path = folder + "/\(size).html"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(
                OutputWriter.contentHash(ofFile: path, expectedSize: size, buffer: &buffer)
                    == OutputWriter.contentHash(bytes))
            #expect(OutputWriter.contentHash(ofFile: path, expectedSize: size + 1, buffer: &buffer) == nil)
            if size > 0 {
                #expect(OutputWriter.contentHash(ofFile: path, expectedSize: size - 1, buffer: &buffer) == nil)
            }
        }
    }
}
