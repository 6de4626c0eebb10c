/// Document numbers: `<prefix><YYYY>-<6-digit sequence>`, one gapless sequence per prefix
/// and year. The sequences themselves live in the ledger; this is the pure part.
public enum DocumentNumber {
    public static func format(prefix: String, year: Int, sequence: Int64) -> String {
        precondition(sequence >= 1, "sequences start at 1")
        let digits = String(sequence)
        let padded = digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
        return prefix + pad(year, 4) + "-" + padded
    }

    /// Orders documents for numbering within one close (§6.8): issue instant, org, kind of
    /// cause (renewal, top-up, refund), id.
    public static func numberingOrder(_ lhs: Document, _ rhs: Document) -> Bool {
        if lhs.issueInstant != rhs.issueInstant { return lhs.issueInstant < rhs.issueInstant }
        let orgOrder = compareUTF8(lhs.orgId, rhs.orgId)
        if orgOrder != 0 { return orgOrder < 0 }
        if lhs.source != rhs.source { return lhs.source < rhs.source }
        return compareUTF8(lhs.sourceId, rhs.sourceId) < 0
    }
}
