import Invoicing

/// Small id types, so an org id can never be passed where a plan id is expected once parsed.
/// They are coding keys too: a dictionary keyed by them encodes as a JSON object (with sorted
/// keys), not as an array in the process's random hash order, so stored state is deterministic.
public protocol StringIdentifier: Hashable, Comparable, Codable, Sendable, CustomStringConvertible,
    CodingKeyRepresentable
{
    var rawValue: String { get }
    init(_ rawValue: String)
}

extension StringIdentifier {
    public var description: String { rawValue }

    /// Ids compare as UTF-8 bytes (§6.2), which is also Swift's String order on valid UTF-8
    /// only for ASCII, so the comparison is spelled out.
    public static func < (lhs: Self, rhs: Self) -> Bool { utf8Less(lhs.rawValue, rhs.rawValue) }

    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }

    public var codingKey: CodingKey { IdentifierKey(stringValue: rawValue) }

    public init?<Key: CodingKey>(codingKey: Key) { self.init(codingKey.stringValue) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Byte order of UTF-8, the order the specification uses for ids and paths.
@inline(__always)
public func utf8Less(_ lhs: String, _ rhs: String) -> Bool { compareUTF8(lhs, rhs) < 0 }

/// Whether two texts have the same UTF-8 bytes (Swift's `==` also equates canonically
/// equivalent spellings).
@inline(__always)
public func utf8Equal(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.count == rhs.utf8.count && compareUTF8(lhs, rhs) == 0
}

public struct OrgID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// 1–64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`: org ids name files.
    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        guard (1...64).contains(bytes.count), bytes.first != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

public struct PlanID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

public struct PackID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

public struct ActionID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

public struct PurchaseID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// The coding key of an id in a JSON object.
struct IdentifierKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
