import Invoicing

/// The credits, cap and price an org row gives a custom (enterprise) plan.
public struct CustomTerms: Codable, Sendable, Hashable {
    public var monthlyCredits: Int64
    public var bankCap: Int64
    public var priceMinor: Int64

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case bankCap, monthlyCredits, priceMinor
    }
}

/// One org as orgs.csv (or the ledger, for an org no longer in the file) describes it.
public struct OrgProfile: Codable, Sendable, Hashable {
    public var id: OrgID
    public var name: String
    public var firstPlanId: PlanID
    public var startDate: CivilDate
    public var currencyCode: String
    public var countryCode: String
    public var street: String
    public var city: String
    public var postalCode: String
    public var tax: TaxTreatment
    public var vatId: String?
    public var endpointId: String?
    public var buyerReference: String?
    public var customTerms: CustomTerms?

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case buyerReference, city, countryCode, currencyCode, customTerms, endpointId, firstPlanId, id, name,
            postalCode, startDate, street, tax, vatId
    }

    public var party: Party {
        Party(
            name: name, street: street, city: city, postalCode: postalCode, countryCode: countryCode,
            vatId: vatId, endpointId: endpointId)
    }

    public var startInstant: Instant { Instant(date: startDate) }
}
