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
/// ever stands under its real name, even after a kill. The temporary file is created with
/// O_EXCL and O_NOFOLLOW after any stale one is removed, so a symlink planted under the
/// temporary name cannot redirect the write to another file.
public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(OutputError) {
    let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    if !folder.isEmpty, !makeFolder(folder) { throw OutputError(path: folder, reason: "cannot create the folder") }
    let temporary = path + ".tmp-\(getpid())"
    unlink(temporary)
    try writeNewFile(temporary, bytes)
    if rename(temporary, path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw OutputError(path: path, reason: reason)
    }
}

/// Creates `path` (which must not exist yet, and is never followed if it is a symlink),
/// writes `bytes` and flushes them to the disk before closing; on any failure the partial
/// file is removed and the error names the path and the system's reason (for example "No
/// space left on device").
public func writeNewFile(_ path: String, _ bytes: [UInt8]) throws(OutputError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeBytes { raw in
            write(descriptor, raw.baseAddress! + written, bytes.count - written)
        }
        if result < 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(path)
            throw OutputError(path: path, reason: reason)
        }
        written += result
    }
    // No fsync per file: a close writes tens of thousands of files, and one `syncFolder` before
    // the commit makes them durable together. A killed process leaves no half-written file
    // under a real name either way, because files reach their names only by rename.
    if close(descriptor) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(path)
        throw OutputError(path: path, reason: reason)
    }
}

/// What `lstat` says a path is.
enum PathKind {
    case missing, folder, symlink, other
}

func pathKind(_ path: String) -> PathKind {
    var info = stat()
    guard lstat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .folder
    case S_IFLNK: return .symlink
    default: return .other
    }
}

/// Creates `relative` folder by folder under `root`, refusing any component that is a
/// symlink or a file: the output folder itself may be a symlink (the operator chose it), but
/// nothing inside it is followed, so a link planted in the books cannot send a statement or an
/// invoice somewhere else.
public func makeFolderInside(_ root: String, _ relative: String) throws(OutputError) {
    var path = root
    for component in relative.split(separator: "/") {
        path += "/" + component
        switch pathKind(path) {
        case .folder: continue
        case .symlink: throw OutputError(path: path, reason: "is a symlink; refusing to follow it inside the output")
        case .other: throw OutputError(path: path, reason: "is a file where a folder is needed")
        case .missing:
            if mkdir(path, 0o777) != 0, pathKind(path) != .folder {
                throw OutputError(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}

/// Checks that no existing component of `relative` under `root` is a symlink or a file; the
/// missing ones will be created as folders. True when every component is there.
@discardableResult
public func checkFolderInside(_ root: String, _ relative: String) throws(OutputError) -> Bool {
    var path = root
    for component in relative.split(separator: "/") {
        path += "/" + component
        switch pathKind(path) {
        case .folder: continue
        case .missing: return false
        case .symlink: throw OutputError(path: path, reason: "is a symlink; refusing to follow it inside the output")
        case .other: throw OutputError(path: path, reason: "is a file where a folder is needed")
        }
    }
    return true
}

/// True when `pid` names a running process other than this one: its temporary files and
/// staging folder are still in use and must not be removed.
func processIsAlive(_ pid: Int32) -> Bool {
    pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)
}

/// The process id at the end of a name like `x.tmp-1234` or `.staging-1234`, if any.
func ownerPid(_ name: String, marker: String) -> Int32? {
    guard let range = name.range(of: marker, options: .backwards) else { return nil }
    let digits = name[range.upperBound...]
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int32(digits)
}

/// Removes a file, a symlink (never its target) or a whole folder tree.
func removeTree(_ path: String) {
    if pathKind(path) != .folder {
        unlink(path)
        return
    }
    for name in folderEntries(path) ?? [] { removeTree(path + "/" + name) }
    rmdir(path)
}

/// Removes what killed runs left in an output folder: staging folders and `*.tmp-<pid>` files
/// whose process is gone. Only the folders where a close makes such files are searched: the
/// output folder (staging folders) and the close folders (`rejected.csv` is written through a
/// temporary file). Statements and invoices only ever arrive by renames out of the staging
/// folder, and listing ten thousand org folders was a tenth of a rerun. Nothing is followed
/// through a symlink.
public func removeLeftovers(outputFolder: String) {
    for name in folderEntries(outputFolder) ?? [] {
        if let pid = ownerPid(name, marker: ".staging-"), name.hasPrefix(".staging-"), !processIsAlive(pid) {
            removeTree(outputFolder + "/" + name)
        }
    }
    var folders: [String] = []
    if pathKind(outputFolder + "/closes") == .folder {
        for name in folderEntries(outputFolder + "/closes") ?? [] {
            folders.append(outputFolder + "/closes/" + name)
        }
    }
    for folder in folders where pathKind(folder) == .folder {
        for name in folderEntries(folder) ?? [] {
            if let pid = ownerPid(name, marker: ".tmp-"), !processIsAlive(pid) { unlink(folder + "/" + name) }
        }
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
