/// Document numbers: `<prefix><YYYY>-<6-digit sequence>`, one gapless sequence per prefix
/// and year. The sequences themselves live in the ledger; this is the pure part.
public enum DocumentNumber {
    public static func format(prefix: String, year: Int, sequence: Int64) -> String {
        precondition(sequence >= 1, "sequences start at 1")
        let digits = String(sequence)
        let padded = digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
        return prefix + pad(year, 4) + "-" + padded
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

    public static func < (lhs: NumberingKey, rhs: NumberingKey) -> Bool {
        if lhs.issueInstant != rhs.issueInstant { return lhs.issueInstant < rhs.issueInstant }
        let orgOrder = compareUTF8(lhs.orgId, rhs.orgId)
        if orgOrder != 0 { return orgOrder < 0 }
        if lhs.source != rhs.source { return lhs.source < rhs.source }
        return compareUTF8(lhs.sourceId, rhs.sourceId) < 0
    }

    public static func == (lhs: NumberingKey, rhs: NumberingKey) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
}
