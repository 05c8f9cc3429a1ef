import Foundation

/// Maps a data interval linearly onto a pixel interval (the pixel interval may be reversed).
public struct LinearScale: Sendable {
    public let domain: ClosedRange<Double>
    public let range: (Double, Double)
    public init(domain: ClosedRange<Double>, range: (Double, Double)) {
        self.domain = domain
        self.range = range
    }

    public func callAsFunction(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        let fraction = span == 0 ? 0.5 : (value - domain.lowerBound) / span
        return range.0 + fraction * (range.1 - range.0)
    }
}

public enum Ticks {
    /// A 1-2-5 step that gives about `count` intervals over `lo...hi`.
    public static func step(_ lo: Double, _ hi: Double, count: Int = 5) -> Double {
        let raw = max(hi - lo, 1e-12) / Double(max(count, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let mantissa = raw / magnitude
        return (mantissa < 1.5 ? 1 : mantissa < 3 ? 2 : mantissa < 7 ? 5 : 10) * magnitude
    }

    /// Multiples of the nice step inside the domain.
    public static func values(_ domain: ClosedRange<Double>, count: Int = 5) -> (values: [Double], step: Double) {
        let stepSize = step(domain.lowerBound, domain.upperBound, count: count)
        var value = (domain.lowerBound / stepSize).rounded(.up) * stepSize
        var out: [Double] = []
        while value <= domain.upperBound + stepSize * 1e-9 && out.count < 100 {
            out.append(value)
            value += stepSize
        }
        return (out, stepSize)
    }

    /// The data extent widened to whole tick steps (a degenerate extent gets ±1 or ±10%).
    public static func niceDomain(_ values: [Double], includeZero: Bool = false, count: Int = 5) -> ClosedRange<Double>
    {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0
        var hi = finite.max() ?? 1
        if includeZero {
            lo = min(lo, 0)
            hi = max(hi, 0)
        }
        if lo == hi {
            let widening = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= widening
            hi += widening
        }
        let stepSize = step(lo, hi, count: count)
        return (lo / stepSize).rounded(.down) * stepSize ... (hi / stepSize).rounded(.up) * stepSize
    }
}
