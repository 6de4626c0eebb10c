#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public struct OutputError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Creates a folder and its parents (owner-only by the process umask); true when it exists.
@discardableResult
public func makeFolder(_ path: String) -> Bool {
    var info = stat()
    if stat(path, &info) == 0 { return (info.st_mode & S_IFMT) == S_IFDIR }
    let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    if !parent.isEmpty, parent != path { makeFolder(parent) }
    return mkdir(path, 0o777) == 0 || (stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
}

/// Writes a file under a temporary name and renames it into place, so no half-written file
/// ever stands under its real name, even after a kill.
public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(OutputError) {
    let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    if !folder.isEmpty, !makeFolder(folder) { throw OutputError(path: folder, reason: "cannot create the folder") }
    let temporary = path + ".tmp-\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeBytes { raw in
            write(descriptor, raw.baseAddress! + written, bytes.count - written)
        }
        if result < 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            throw OutputError(path: path, reason: reason)
        }
        written += result
    }
    // No fsync per file: a close writes tens of thousands of files, and one `syncFolder` at the
    // end makes them durable together. A killed process leaves no half-written file under a
    // real name either way, because the rename comes after the last write.
    if close(descriptor) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw OutputError(path: path, reason: reason)
    }
    if rename(temporary, path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw OutputError(path: path, reason: reason)
    }
}

public func writeFileAtomically(_ path: String, _ text: String) throws(OutputError) {
    try writeFileAtomically(path, Array(text.utf8))
}

/// Flushes the file system that holds `path` to disk (syncfs), once per render.
public func syncFolder(_ path: String) {
    let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    #if os(Linux)
        _ = linuxSyncfs(descriptor)
    #else
        _ = fsync(descriptor)
    #endif
    close(descriptor)
}

#if os(Linux)
    // Glibc declares syncfs only under _GNU_SOURCE, which the Swift module does not set.
    @_silgen_name("syncfs")
    func linuxSyncfs(_ descriptor: Int32) -> Int32
#endif
