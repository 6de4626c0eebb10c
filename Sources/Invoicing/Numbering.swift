/// Document numbers: `<prefix><YYYY>-<6-digit sequence>`, one gapless sequence per prefix
/// and year. The sequences themselves live in the ledger; this is the pure part.
public enum DocumentNumber {
    /// Written digit by digit after the prefix: a close numbers tens of thousands of documents
    /// on one thread, and padding and joining five strings each was most of the numbering.
    public static func format(prefix: String, year: Int, sequence: Int64) -> String {
        precondition(sequence >= 1, "sequences start at 1")
        guard (0...9999).contains(year) else {
            let digits = String(sequence)
            let padded = digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
            return prefix + pad(year, 4) + "-" + padded
        }
        var sequenceDigits = 1
        var scale: Int64 = 10
        while sequenceDigits < 19, sequence >= scale {
            sequenceDigits += 1
            scale &*= 10
        }
        let width = max(sequenceDigits, 6)
        let tail = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 5 + 19) { bytes in
            writeDigits(Int64(year), width: 4, into: bytes, at: 0)
            bytes[4] = 0x2D
            writeDigits(sequence, width: width, into: bytes, at: 5)
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<(5 + width)]), as: UTF8.self)
        }
        return prefix + tail
    }
}

/// The order documents are numbered in within one close (§6.8): issue instant, org, kind of
/// cause (renewal, top-up, refund), id. Only the fields that decide it are kept, apart from
/// the rest of the document: a sort that compared whole documents copied two per comparison.
public struct NumberingKey: Comparable, Sendable {
    public var issueInstant: Instant
    public var orgId: String
    public var source: DocumentSource
    public var sourceId: String

    public init(_ document: Document) {
        issueInstant = document.issueInstant
        orgId = document.orgId
        source = document.source
        sourceId = document.sourceId
    }

    /// Inlinable, so a sort of keys in place compares them there rather than copying both
    /// keys (and retaining their texts) for each comparison.
    @inlinable
    public static func < (lhs: NumberingKey, rhs: NumberingKey) -> Bool {
        if lhs.issueInstant != rhs.issueInstant { return lhs.issueInstant < rhs.issueInstant }
        let orgOrder = compareUTF8(lhs.orgId, rhs.orgId)
        if orgOrder != 0 { return orgOrder < 0 }
        if lhs.source != rhs.source { return lhs.source < rhs.source }
        return compareUTF8(lhs.sourceId, rhs.sourceId) < 0
    }

    public static func == (lhs: NumberingKey, rhs: NumberingKey) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
}
