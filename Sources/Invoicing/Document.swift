/// The documents the close issues: the data model that the ledger stores and every
/// renderer (UBL XML, CSV exports, journal, statements) reads. Everything a rendering needs
/// is inside the document, the seller and buyer as they stood at issue, so a rerun renders
/// the same bytes even after plans.yaml or orgs.csv changed.

public enum DocumentKind: String, Codable, Sendable, Comparable {
    case invoice
    case creditNote = "credit_note"

    public static func < (lhs: DocumentKind, rhs: DocumentKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What caused a document; also the order of documents issued at one instant for one org.
public enum DocumentSource: String, Codable, Sendable, Comparable {
    case renewal
    case topUp = "top_up"
    case refund

    @usableFromInline
    var rank: Int {
        switch self {
        case .renewal: 0
        case .topUp: 1
        case .refund: 2
        }
    }

    @inlinable
    public static func < (lhs: DocumentSource, rhs: DocumentSource) -> Bool { lhs.rank < rhs.rank }
}

/// The revenue kind of a line: it decides the journal account.
public enum LineKind: String, Codable, Sendable, CaseIterable {
    case subscription
    case proration
    case overage
    case pack
}

/// A postal and electronic identity of the seller or the buyer.
public struct Party: Codable, Sendable, Hashable {
    public var name: String
    public var street: String
    public var city: String
    public var postalCode: String
    /// ISO 3166-1 alpha-2.
    public var countryCode: String
    public var vatId: String?
    /// `scheme:id`, for example `0088:5060000000009` (BT-34 / BT-49).
    public var endpointId: String?

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case city, countryCode, endpointId, name, postalCode, street, vatId
    }

    public init(
        name: String, street: String, city: String, postalCode: String, countryCode: String,
        vatId: String? = nil, endpointId: String? = nil
    ) {
        self.name = name
        self.street = street
        self.city = city
        self.postalCode = postalCode
        self.countryCode = countryCode
        self.vatId = vatId
        self.endpointId = endpointId
    }
}

/// A UNCL5305 VAT category with its rate in hundredths of a percent (20 % → 2000).
public struct TaxTreatment: Codable, Sendable, Hashable {
    public var categoryCode: String
    public var rateHundredths: Int64

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case categoryCode, rateHundredths
    }

    public init(categoryCode: String, rateHundredths: Int64) {
        self.categoryCode = categoryCode
        self.rateHundredths = rateHundredths
    }

    /// The categories of UNCL5305 that the product supports.
    public static let knownCategories: Set<String> = ["S", "Z", "E", "AE", "K", "G", "O"]

    /// The rate as a decimal string (`20.00`, `7.50`).
    public var rateText: String { DecimalText.format(rateHundredths, scale: 2) }
}

public struct DocumentLine: Codable, Sendable, Hashable {
    public var kind: LineKind
    /// Item name (BT-153).
    public var itemName: String
    /// Line note, for example the period or the plans of a proration.
    public var note: String?
    public var quantity: Int64
    /// Net price per unit, scaled by 10^(exponent + UnitPrice.extraDigits).
    public var unitPrice: UnitPrice
    /// Net line amount in minor units: round(quantity × unit price).
    public var amountMinor: Int64
    public var periodStart: CivilDate?
    public var periodEnd: CivilDate?

    // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
    enum CodingKeys: String, CodingKey {
        case amountMinor, itemName, kind, note, periodEnd, periodStart, quantity, unitPrice
    }

    public init(
        kind: LineKind, itemName: String, note: String? = nil, quantity: Int64, unitPrice: UnitPrice,
        amountMinor: Int64, periodStart: CivilDate? = nil, periodEnd: CivilDate? = nil
    ) {
        self.kind = kind
        self.itemName = itemName
        self.note = note
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.amountMinor = amountMinor
        self.periodStart = periodStart
        self.periodEnd = periodEnd
    }

    /// The sum of the lines' amounts, read in place: reducing over the lines copied each,
    /// retaining and releasing its texts only to read one number.
    @inlinable public static func sum(of lines: [DocumentLine]) -> Int64 {
        lines.withUnsafeBufferPointer { lines in
            var total: Int64 = 0
            for index in lines.indices { total += lines[index].amountMinor }
            return total
        }
    }

    /// A line of quantity one whose unit price is the amount itself.
    public static func single(
        kind: LineKind, itemName: String, note: String? = nil, amountMinor: Int64,
        periodStart: CivilDate? = nil, periodEnd: CivilDate? = nil
    ) -> DocumentLine {
        DocumentLine(
            kind: kind, itemName: itemName, note: note, quantity: 1,
            unitPrice: UnitPrice(
                scaledAmount: amountMinor * Arithmetic.powerOfTen(UnitPrice.extraDigits)),
            amountMinor: amountMinor, periodStart: periodStart, periodEnd: periodEnd)
    }
}

/// Payment details of the seller, copied from plans.yaml's issuer at issue.
public struct PaymentDetails: Codable, Sendable, Hashable {
    public var iban: String?
    public var paymentTermsDays: Int

    public init(iban: String?, paymentTermsDays: Int) {
        self.iban = iban
        self.paymentTermsDays = paymentTermsDays
    }
}

/// An invoice or credit note, numbered or (in what-if replays) a draft.
///
/// Its fields live in one shared, copy-on-write box: a document is copied wherever it is read
/// from an array or handed on (the ledger's rows, the rule checks, the close's tables and
/// report), and copying twenty fields, two parties and the lines retained and released dozens
/// of references each time, a few percent of a close. A copy is now one reference; a change to
/// a copy that shares its box copies the fields first, so documents behave as values still.
@dynamicMemberLookup
public struct Document: Codable, Sendable, Hashable {
    /// A document's fields, as stored and encoded.
    public struct Fields: Codable, Sendable, Hashable {
        /// `INV-2026-000001`; empty until the close numbers it.
        public var number: String
        public var kind: DocumentKind
        public var source: DocumentSource
        /// The id of what caused it: `renewal:<period start>`, a purchase id, a refund id.
        public var sourceId: String
        public var orgId: String
        /// The instant that orders documents for numbering (§6.8).
        public var issueInstant: Instant
        public var issueDate: CivilDate
        public var dueDate: CivilDate
        public var currencyCode: String
        public var seller: Party
        public var buyer: Party
        public var buyerReference: String?
        public var payment: PaymentDetails
        public var tax: TaxTreatment
        public var lines: [DocumentLine]
        /// The billing period of a renewal invoice (BG-14).
        public var periodStart: CivilDate?
        public var periodEnd: CivilDate?
        /// The number of the invoice a credit note corrects (BT-25).
        public var referencedNumber: String?
        /// What a credit note corrects before numbers exist: the purchase id of the refunded pack.
        public var referencedSourceId: String?
        /// Marks a what-if document that must never be taken for a real one.
        public var isDraft: Bool

        // Declared in key order, the order the JSON writer puts them in, so it writes them in place.
        enum CodingKeys: String, CodingKey {
            case buyer, buyerReference, currencyCode, dueDate, isDraft, issueDate, issueInstant, kind, lines, number,
                orgId, payment, periodEnd, periodStart, referencedNumber, referencedSourceId, seller, source, sourceId,
                tax
        }
    }

    /// The box. Its field is changed only through a document that holds the box alone
    /// (`isKnownUniquelyReferenced`), so no two threads ever see it change; reads skip Swift's
    /// run-time exclusivity check, which a class's stored property otherwise costs on every read.
    @usableFromInline final class Storage: @unchecked Sendable {
        @usableFromInline @exclusivity(unchecked) var fields: Fields

        init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var storage: Storage

    /// Changes the fields in place when no other document shares them, else in a copy.
    private mutating func modify(_ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        change(&storage.fields)
    }

    /// Every field, read and changed by name (`document.number`) as if it were the document's
    /// own: a read goes straight to the box (inlinable, so other modules read a field as they
    /// read stored properties, not through a call), a change through `modify`.
    public subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
        @inlinable get { storage.fields[keyPath: field] }
        set { modify { $0[keyPath: field] = newValue } }
    }

    /// Calls `body` with the fields where they are. Each `document.field` read copies the field,
    /// retaining every reference in it (a party's texts, the lines array), so code that reads
    /// many fields of thousands of documents reads them here: the ledger's encoding of 30,000
    /// documents spent a third of its time retaining and releasing what it only read.
    @inlinable public func withFields<Result>(_ body: (UnsafePointer<Fields>) throws -> Result) rethrows -> Result {
        try withUnsafeMutablePointer(to: &storage.fields) { fields in try body(fields) }
    }

    public init(
        number: String = "", kind: DocumentKind, source: DocumentSource, sourceId: String, orgId: String,
        issueInstant: Instant, issueDate: CivilDate, dueDate: CivilDate, currencyCode: String,
        seller: Party, buyer: Party, buyerReference: String?, payment: PaymentDetails,
        tax: TaxTreatment, lines: [DocumentLine], periodStart: CivilDate? = nil,
        periodEnd: CivilDate? = nil, referencedNumber: String? = nil, referencedSourceId: String? = nil,
        isDraft: Bool = false
    ) {
        storage = Storage(
            Fields(
                number: number, kind: kind, source: source, sourceId: sourceId, orgId: orgId,
                issueInstant: issueInstant, issueDate: issueDate, dueDate: dueDate, currencyCode: currencyCode,
                seller: seller, buyer: buyer, buyerReference: buyerReference, payment: payment, tax: tax,
                lines: lines, periodStart: periodStart, periodEnd: periodEnd, referencedNumber: referencedNumber,
                referencedSourceId: referencedSourceId, isDraft: isDraft))
    }

    /// Encoded and decoded as its fields: the same JSON as when they were its own properties.
    public init(from decoder: any Decoder) throws { storage = Storage(try Fields(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try storage.fields.encode(to: encoder) }

    public static func == (lhs: Document, rhs: Document) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) { storage.fields.hash(into: &hasher) }

    public var currency: Currency {
        guard let currency = Currency(code: self.currencyCode) else {
            preconditionFailure("document in unknown currency \(self.currencyCode)")
        }
        return currency
    }

    /// Whether the document claims Peppol BIS Billing 3.0: only when the buyer has an
    /// electronic address to receive it.
    public var isPeppol: Bool { self.buyer.endpointId != nil && self.seller.endpointId != nil }

    /// Sum of line amounts (BT-106).
    public var netMinor: Int64 { withFields { fields in DocumentLine.sum(of: fields.pointee.lines) } }

    /// VAT per category, rounded once per category (§6.8).
    public var taxSubtotals: [TaxSubtotal] { TaxSubtotal.compute(lines: self.lines, treatment: self.tax) }

    public var taxMinor: Int64 { taxSubtotals.reduce(0) { $0 + $1.taxMinor } }

    public var totalMinor: Int64 { netMinor + taxMinor }
}

/// The VAT breakdown of one category (BG-23).
public struct TaxSubtotal: Sendable, Hashable {
    public var treatment: TaxTreatment
    public var taxableMinor: Int64
    public var taxMinor: Int64

    /// Every line of a document carries the org's one category and rate, so there is one
    /// subtotal; the tax is rounded on the category's sum, never per line.
    public static func compute(lines: [DocumentLine], treatment: TaxTreatment) -> [TaxSubtotal] {
        guard !lines.isEmpty else { return [] }
        let taxable = DocumentLine.sum(of: lines)
        let tax = Arithmetic.mulDivRoundedHalfAwayFromZero(taxable, treatment.rateHundredths, 10_000)
        return [TaxSubtotal(treatment: treatment, taxableMinor: taxable, taxMinor: tax)]
    }
}

/// Checks of electronic addresses that the Peppol rules apply to known schemes.
public enum EndpointCheck {
    /// GS1 check digit of a GLN (scheme 0088): weights 3 and 1 from the right of the body.
    public static func isValidGLN(_ digits: String) -> Bool {
        let values = digits.utf8.map { Int($0) - 48 }
        guard values.count >= 2, values.allSatisfy({ (0...9).contains($0) }) else { return false }
        var sum = 0
        for (position, digit) in values.dropLast().reversed().enumerated() {
            sum += digit * (position % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10 == values.last!
    }

    /// A GLN with its check digit appended to `body`.
    public static func gln(body: String) -> String {
        let values = body.utf8.map { Int($0) - 48 }
        var sum = 0
        for (position, digit) in values.reversed().enumerated() { sum += digit * (position % 2 == 0 ? 3 : 1) }
        return body + String((10 - sum % 10) % 10)
    }

    /// A sentence naming what is wrong with `endpointId`, or nil when nothing is known wrong.
    public static func problem(_ endpointId: String) -> String? {
        let parts = endpointId.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return "\(endpointId) is not scheme:id" }
        if parts[0] == "0088", !isValidGLN(parts[1]) {
            return "PEPPOL-COMMON-R040: \(parts[1]) is not a valid GLN (GS1 check digit)"
        }
        return nil
    }
}
