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
public func compareUTF8(_ lhs: String, _ rhs: String) -> Int {
    var lhs = lhs
    var rhs = rhs
    return lhs.withUTF8 { left in
        rhs.withUTF8 { right in
            let shared = min(left.count, right.count)
            let order = shared == 0 ? 0 : Int(memcmp(left.baseAddress!, right.baseAddress!, shared))
            return order != 0 ? order : left.count - right.count
        }
    }
}
