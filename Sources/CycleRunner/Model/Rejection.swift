/// A business outcome: a row the run did not apply, with a stable reason code that reports
/// and tests can rely on, and a sentence for people.
public struct Rejection: Error, Sendable, Hashable, Codable {
    public enum Reason: String, Codable, Sendable, CaseIterable {
        case malformedRecord = "malformed_record"
        case invalidText = "invalid_text"
        case missingField = "missing_field"
        case badTimestamp = "bad_timestamp"
        case timestampWithoutOffset = "timestamp_without_offset"
        case badDate = "bad_date"
        case badCredits = "bad_credits"
        case badNumber = "bad_number"
        case badValue = "bad_value"
        case badOrgId = "bad_org_id"
        case unknownOrg = "unknown_org"
        case unknownAction = "unknown_action"
        case unknownPlan = "unknown_plan"
        case unknownPack = "unknown_pack"
        case unknownPurchase = "unknown_purchase"
        case beforeOrgStart = "before_org_start"
        case conflictingDuplicate = "conflicting_duplicate"
        case closedPeriod = "closed_period"
        case topUpsNotAllowed = "topups_not_allowed"
        case packTouched = "pack_touched"
        case alreadyRefunded = "already_refunded"
        case refundBeforePurchase = "refund_before_purchase"
        case customTermsMissing = "custom_terms_missing"
        case currencyNotPriced = "currency_not_priced"
        case orgChanged = "org_changed"
        case orgStartsInClosedPeriod = "org_starts_in_closed_period"
        case rejectedEarlier = "rejected_earlier"
    }

    public var reason: Reason
    public var detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// `reason_code: detail`, the text rejected.csv carries.
    public var text: String { reason.rawValue + ": " + detail }
}
