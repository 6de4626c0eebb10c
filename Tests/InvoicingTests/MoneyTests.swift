// Proves the money arithmetic: half-away-from-zero rounding, decimal text, overage line amounts and tax per category.
import Invoicing
import Testing

@Suite struct MoneyTests {
    @Test(arguments: [
        // (value, numerator, denominator, expected)
        (Int64(5), Int64(1), Int64(2), Int64(3)),  // 2.5 → 3
        (-5, 1, 2, -3),  // -2.5 → -3
        (15, 1, 10, 2),  // 1.5 → 2
        (-15, 1, 10, -2),
        (25, 1, 10, 3),  // 2.5 → 3, not banker's 2
        (14, 1, 10, 1),  // 1.4 → 1
        (-14, 1, 10, -1),
        (16, 1, 10, 2),
        (-16, 1, 10, -2),
        (1, 2, 3, 1),  // 0.667 → 1
        (-1, 2, 3, -1),
        (0, 7, 3, 0),
        (30, 1, 10, 3),  // exact
        (Int64.max, 1, 1, Int64.max),
    ])
    func roundsHalfAwayFromZero(value: Int64, numerator: Int64, denominator: Int64, expected: Int64) {
        #expect(Arithmetic.mulDivRoundedHalfAwayFromZero(value, numerator, denominator) == expected)
    }

    @Test(arguments: [
        ("29.00", 2, Result<Int64, DecimalParseError>.success(2900)),
        ("1400", 2, .success(140_000)),
        ("-3.5", 2, .success(-350)),
        ("+0.01", 2, .success(1)),
        ("29.001", 2, .failure(.tooManyDecimals(allowed: 2))),
        ("1748", 0, .success(1748)),
        ("1748.5", 0, .failure(.tooManyDecimals(allowed: 0))),
        ("12.345", 3, .success(12345)),
        ("12.3456", 3, .failure(.tooManyDecimals(allowed: 3))),
        ("0.0150", 6, .success(15000)),
        ("abc", 2, .failure(.notADecimal)),
        (".5", 2, .failure(.notADecimal)),
        ("5.", 2, .failure(.notADecimal)),
        ("1.2.3", 2, .failure(.notADecimal)),
        ("", 2, .failure(.notADecimal)),
        ("99999999999999999999", 0, .failure(.outOfRange)),
    ])
    func parsesDecimalText(text: String, scale: Int, expected: Result<Int64, DecimalParseError>) {
        #expect(DecimalText.parse(text, scale: scale) == expected)
    }

    @Test(arguments: [
        (Int64(2900), 2, "29.00"),
        (3480, 2, "34.80"),
        (-5, 2, "-0.05"),
        (0, 2, "0.00"),
        (1748, 0, "1748"),
        (12345, 3, "12.345"),
        (5, 3, "0.005"),
    ])
    func formatsWithExactlyTheScale(value: Int64, scale: Int, expected: String) {
        #expect(DecimalText.format(value, scale: scale) == expected)
    }

    @Test(arguments: [
        (Int64(15000), 6, 2, "0.015"),  // 0.0150 USD per credit
        (22500, 4, 0, "2.25"),  // 2.25 JPY per credit
        (29_000_000, 6, 2, "29.00"),
        (12340, 3, 2, "12.34"),  // BHD written with two decimals when exact
        (12345, 3, 2, "12.345"),
        (2000, 2, 0, "20"),  // a VAT rate
        (750, 2, 0, "7.5"),
    ])
    func formatsTrimmedToTheMinimum(value: Int64, scale: Int, minimum: Int, expected: String) {
        #expect(DecimalText.formatTrimmed(value, scale: scale, minimum: minimum) == expected)
    }

    @Test(arguments: [
        // (credits, unit price, currency, line amount in minor units)
        (Int64(333), "0.0150", "USD", Int64(500)),  // 4.995 → 5.00
        (777, "2.25", "JPY", 1748),  // 1748.25 → 1748
        (778, "2.25", "JPY", 1751),  // 1750.50 → 1751
        (1201, "0.0150", "USD", 1802),  // 18.015 → 18.02
        (1, "0.0049", "USD", 0),
        (3, "0.005", "USD", 2),  // 1.5 cents → 2
        (1000, "0.0095", "EUR", 950),
        (7, "1.2345", "BHD", 8642),  // 8.6415 → 8.642
    ])
    func overageLineAmountsRoundOnceOnTheLine(credits: Int64, unitPrice: String, currency: String, expected: Int64)
        throws
    {
        let exponent = try #require(Currency(code: currency)).exponent
        let scaled = try DecimalText.parse(unitPrice, scale: exponent + UnitPrice.extraDigits).get()
        #expect(UnitPrice(scaledAmount: scaled).lineAmountMinor(quantity: credits) == expected)
    }

    @Test(arguments: [
        // (line amounts, category, rate in hundredths of a percent, tax)
        ([Int64(13007), 1748], "S", Int64(2000), Int64(2951)),  // 14755 at 20 %
        ([4900, 1234, 500], "S", 2000, 1327),  // 1326.8 → 1327
        ([25], "S", 750, 2),  // 1.875 → 2
        ([1, 1, 1], "S", 2000, 1),  // rounded on the sum (0.6 → 1), not per line (0 + 0 + 0)
        ([2700], "AE", 0, 0),
        ([4200], "Z", 0, 0),
    ])
    func taxIsRoundedOncePerCategory(amounts: [Int64], category: String, rate: Int64, expected: Int64) {
        let lines = amounts.map { DocumentLine.single(kind: .subscription, itemName: "x", amountMinor: $0) }
        let subtotals = TaxSubtotal.compute(
            lines: lines, treatment: TaxTreatment(categoryCode: category, rateHundredths: rate))
        #expect(subtotals.count == 1)
        #expect(subtotals.first?.taxableMinor == amounts.reduce(0, +))
        #expect(subtotals.first?.taxMinor == expected)
    }

    @Test func unknownCurrenciesAreRefused() {
        #expect(Currency(code: "XYZ") == nil)
        #expect(Currency(code: "JPY")?.exponent == 0)
        #expect(Currency(code: "BHD")?.exponent == 3)
    }
}
