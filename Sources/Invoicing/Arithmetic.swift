/// Exact integer arithmetic shared by money and credits. Every product that could pass
/// Int64 (credits or prices times microseconds) goes through 128-bit intermediates here,
/// so no caller ever needs floating point.
public enum Arithmetic {
    /// The one rounding rule of the product: `value × numerator / denominator`, rounded half
    /// away from zero, computed without overflow in 128 bits.
    /// - Precondition: `denominator > 0` and the result fits in Int64.
    public static func mulDivRoundedHalfAwayFromZero(
        _ value: Int64, _ numerator: Int64, _ denominator: Int64
    ) -> Int64 {
        precondition(denominator > 0, "denominator must be positive")
        let negative = (value < 0) != (numerator < 0)
        let (quotient, remainder) = unsignedMulDiv(value.magnitude, numerator.magnitude, UInt64(denominator))
        // Half away from zero: round the magnitude up when the remainder is at least half.
        let roundUp = remainder >= UInt64(denominator) - remainder
        let magnitude = quotient + (roundUp ? 1 : 0)
        precondition(magnitude <= UInt64(Int64.max), "rounded result does not fit in Int64")
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// `value × numerator / denominator` rounded toward negative infinity (floor); the
    /// proration of credits uses this.
    public static func mulDivFloor(_ value: Int64, _ numerator: Int64, _ denominator: Int64) -> Int64 {
        precondition(denominator > 0, "denominator must be positive")
        let negative = (value < 0) != (numerator < 0)
        let (quotient, remainder) = unsignedMulDiv(value.magnitude, numerator.magnitude, UInt64(denominator))
        precondition(quotient <= UInt64(Int64.max), "result does not fit in Int64")
        if negative {
            return -Int64(quotient) - (remainder > 0 ? 1 : 0)
        }
        return Int64(quotient)
    }

    private static func unsignedMulDiv(_ a: UInt64, _ b: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
        let product = a.multipliedFullWidth(by: b)
        precondition(product.high < d, "quotient does not fit in 64 bits")
        return d.dividingFullWidth((high: product.high, low: product.low))
    }

    /// 10 to the power `exponent`, for the small exponents money uses (0...18).
    public static func powerOfTen(_ exponent: Int) -> Int64 {
        precondition(exponent >= 0 && exponent <= 18, "power of ten out of range")
        var result: Int64 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
