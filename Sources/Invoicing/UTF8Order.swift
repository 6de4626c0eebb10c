#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The order of two texts by their UTF-8 bytes, the order the specification uses for ids and
/// paths: negative, zero or positive. Swift's own `<` and `==` go by Unicode canonical
/// equivalence instead, which would merge different ids. One memcmp over the contiguous bytes:
/// the generic `lexicographicallyPrecedes` on `UTF8View` was a visible cost of sorting tens of
/// thousands of keys, paths and document numbers.
///
/// The bytes are read in place (`withContiguousStorageIfAvailable` needs no copy of either
/// string, where `withUTF8` on a copy retained and released both for every comparison); a
/// string without contiguous UTF-8, such as one bridged from Objective-C, is copied first.
public func compareUTF8(_ lhs: String, _ rhs: String) -> Int {
    let inPlace = lhs.utf8.withContiguousStorageIfAvailable { left in
        rhs.utf8.withContiguousStorageIfAvailable { right in compareBytes(left, right) }
    }
    if let order = inPlace ?? nil { return order }
    var lhs = lhs
    var rhs = rhs
    return lhs.withUTF8 { left in rhs.withUTF8 { right in compareBytes(left, right) } }
}

@inline(__always)
private func compareBytes(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Int {
    let shared = min(left.count, right.count)
    let order = shared == 0 ? 0 : Int(memcmp(left.baseAddress!, right.baseAddress!, shared))
    return order != 0 ? order : left.count - right.count
}
