/// An amount of money as an integer count of its currency's minor unit.
public struct Money: Hashable, Sendable, Codable {
    public var amountMinor: Int64
    public let currencyCode: String

    public init(amountMinor: Int64, currency: Currency) {
        self.amountMinor = amountMinor
        self.currencyCode = currency.code
    }

    public var currency: Currency {
        guard let currency = Currency(code: currencyCode) else {
            preconditionFailure("Money holds an unknown currency \(currencyCode)")
        }
        return currency
    }
}

/// A per-unit price that may carry up to `UnitPrice.extraDigits` decimals beyond the
/// currency's minor unit; it is rounded only when multiplied into a line amount.
public struct UnitPrice: Hashable, Sendable, Codable {
    /// How many decimals a unit price may carry beyond the currency's exponent.
    public static let extraDigits = 4
    /// The price in units of 10^-(exponent + extraDigits) of the currency.
    public let scaledAmount: Int64

    public init(scaledAmount: Int64) { self.scaledAmount = scaledAmount }

    /// The line amount for `quantity` units, in minor units, rounded half away from zero.
    public func lineAmountMinor(quantity: Int64) -> Int64 {
        Arithmetic.mulDivRoundedHalfAwayFromZero(
            quantity, scaledAmount, Arithmetic.powerOfTen(UnitPrice.extraDigits))
    }
}

/// Why a decimal money string was refused.
public enum DecimalParseError: Error, Equatable, Sendable {
    case notADecimal
    case tooManyDecimals(allowed: Int)
    case outOfRange
}

public enum DecimalText {
    /// Parses a plain decimal string (`"29.00"`, `"1400"`, `"-3.5"`) into an integer scaled
    /// by 10^scale. More decimals than `scale` is an error rather than a silent rounding.
    public static func parse(_ text: String, scale: Int) -> Result<Int64, DecimalParseError> {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var integerDigits = 0
        var fractionDigits = 0
        var seenPoint = false
        var value: Int64 = 0
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                if seenPoint { return .failure(.notADecimal) }
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .failure(.notADecimal) }
            if seenPoint { fractionDigits += 1 } else { integerDigits += 1 }
            if fractionDigits > scale { return .failure(.tooManyDecimals(allowed: scale)) }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return .failure(.outOfRange) }
            value = next
        }
        if integerDigits == 0 || (seenPoint && fractionDigits == 0) { return .failure(.notADecimal) }
        let (scaled, overflow) = value.multipliedReportingOverflow(
            by: Arithmetic.powerOfTen(scale - fractionDigits))
        if overflow { return .failure(.outOfRange) }
        return .success(negative ? -scaled : scaled)
    }

    /// Formats an integer scaled by 10^scale as a plain decimal string with exactly `scale`
    /// decimals (`2900`, 2 → `"29.00"`).
    public static func format(_ value: Int64, scale: Int) -> String {
        let negative = value < 0
        let magnitude = value.magnitude
        if scale == 0 { return (negative ? "-" : "") + String(magnitude) }
        let divisor = UInt64(Arithmetic.powerOfTen(scale))
        let whole = magnitude / divisor
        let fraction = String(magnitude % divisor)
        let padded = String(repeating: "0", count: scale - fraction.count) + fraction
        return (negative ? "-" : "") + String(whole) + "." + padded
    }

    /// Formats with the fewest decimals that keep the value exact, but at least `minimum`.
    public static func formatTrimmed(_ value: Int64, scale: Int, minimum: Int) -> String {
        var text = format(value, scale: scale)
        guard scale > minimum else { return text }
        var removable = scale - minimum
        while removable > 0, text.hasSuffix("0") {
            text.removeLast()
            removable -= 1
        }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
