#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public struct FileReadError: Error, Sendable {
    public var message: String
}

/// Reads a whole (small) text file; configuration files only, never usage data.
public func readTextFile(_ path: String, limitBytes: Int = 64 << 20) throws(FileReadError) -> String {
    guard let handle = fopen(path, "rb") else {
        throw FileReadError(message: String(cString: strerror(errno)))
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, handle) }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
        if bytes.count > limitBytes { throw FileReadError(message: "larger than \(limitBytes) bytes") }
    }
    if ferror(handle) != 0 { throw FileReadError(message: "read error") }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw FileReadError(message: "not valid UTF-8")
    }
    return text
}

public func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
}

/// A file's size in bytes, or 0 when it cannot be read.
public func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

/// How many line feeds a file holds (0 when it cannot be read): an upper bound on its records
/// plus one, for arrays that would otherwise grow by copying themselves into fresh memory.
func lineFeedCount(_ path: String) -> Int {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return 0 }
    defer { close(descriptor) }
    var window = [UInt8](repeating: 0, count: 64 << 10)
    var count = 0
    while true {
        let bytesRead = window.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        guard bytesRead > 0 else { return count }
        for byte in window[0..<bytesRead] where byte == 0x0A { count += 1 }
    }
}
