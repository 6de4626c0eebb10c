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
        let orgOrder = compareBytes(lhs.orgId, rhs.orgId)
        if orgOrder != 0 { return orgOrder < 0 }
        if lhs.source != rhs.source { return lhs.source < rhs.source }
        return compareBytes(lhs.sourceId, rhs.sourceId) < 0
    }

    /// The order of two texts by their UTF-8 bytes (negative, zero or positive), without
    /// copying them: numbering sorts tens of thousands of documents, most of them tied on the
    /// instant of a renewal.
    static func compareBytes(_ lhs: String, _ rhs: String) -> Int {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                for index in 0..<min(left.count, right.count) where left[index] != right[index] {
                    return Int(left[index]) - Int(right[index])
                }
                return left.count - right.count
            }
        }
    }
}
