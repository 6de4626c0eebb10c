#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names of the entries of a folder ending in `suffix`, in byte order; nil when the folder
/// does not exist or cannot be read.
func listFolder(_ path: String, suffix: String) -> [String]? {
    guard let entries = folderEntries(path) else { return nil }
    let names = entries.filter { name in
        if name.hasPrefix(".") || !name.hasSuffix(suffix) { return false }
        var info = stat()
        return stat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
    return names.sorted(by: utf8Less)
}

/// The names in a folder, without "." and "..", in the order the file system gives them; nil
/// when the path is not a folder or cannot be read.
func folderEntries(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        // The name is read where it lies. `entry.pointee` would copy a whole `dirent`, 280 bytes,
        // but the C library packs entries by their real length into its buffer, so the last
        // entry of a buffer can end well before that: the copy read past the buffer, and a
        // test process crashed on a temporary folder with many entries.
        let name = String(
            cString: UnsafeRawPointer(entry).advanced(by: direntNameOffset).assumingMemoryBound(to: CChar.self))
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Where `d_name` starts in a `dirent`.
private let direntNameOffset: Int = {
    guard let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else {
        preconditionFailure("dirent.d_name is not a stored field")
    }
    return offset
}()
