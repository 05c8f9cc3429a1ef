import Foundation

/// Two-sided Mann–Whitney U test as scipy.stats.mannwhitneyu (scipy 1.10): U1 is x's statistic;
/// `.auto` uses the exact distribution when either sample has ≤ 8 values and there are no ties,
/// else the normal approximation with tie and continuity corrections.
public enum MannWhitney {
    public enum Method: String, Codable, Sendable { case auto, asymptotic, exact }

    public struct Result: Codable, Equatable, Sendable {
        public let u1: Double
        public let pValue: Double
        public let method: Method
        public let medianX: Double
        public let medianY: Double
    }

    public static func test(_ x: [Double], _ y: [Double], method: Method = .auto, continuity: Bool = true) throws
        -> Result
    {
        guard !x.isEmpty, !y.isEmpty else { throw RobustnessError.empty(what: "Mann-Whitney sample") }
        guard (x + y).allSatisfy({ $0.isFinite }) else { throw RobustnessError.notFinite(what: "Mann-Whitney sample") }
        let n1 = x.count, n2 = y.count, n = n1 + n2
        let (ranks, tieTerm) = averageRanks(x + y)
        let r1 = ranks[..<n1].reduce(0, +)
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2, u2 = Double(n1 * n2) - u1
        let u = Swift.max(u1, u2)
        var m = method
        if m == .auto { m = (n1 > 8 && n2 > 8) || tieTerm > 0 ? .asymptotic : .exact }
        var p: Double
        if m == .exact {
            p = exactSF(Int(u), n1, n2)          // scipy truncates U to an integer here
        } else {
            let mu = Double(n1 * n2) / 2
            let s = (Double(n1 * n2) / 12 * (Double(n + 1) - tieTerm / Double(n * (n - 1)))).squareRoot()
            let z = (u - mu - (continuity ? 0.5 : 0)) / s
            p = 0.5 * erfc(z / 2.0.squareRoot())       // normal survival function
            if p.isNaN { p = 1 }                        // all values tied: s = 0
        }
        return Result(
            u1: u1, pValue: Swift.min(1, Swift.max(0, 2 * p)), method: m, medianX: median(x), medianY: median(y))
    }

    /// Average ranks (1-based) and Σ (t³ − t) over tie groups.
    static func averageRanks(_ v: [Double]) -> ([Double], Double) {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count), tie = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let r = Double(i + j + 2) / 2
            for t in i...j { ranks[order[t]] = r }
            let t = Double(j - i + 1)
            tie += t * t * t - t
            i = j + 1
        }
        return (ranks, tie)
    }

    /// P(U ≥ u) under H0, from the q-binomial generating function [n1+n2 choose n1]_q built up
    /// factor by factor and renormalised each step so that it stays a probability distribution.
    static func exactSF(_ u: Int, _ n1: Int, _ n2: Int) -> Double {
        let m = Swift.min(n1, n2), n = Swift.max(n1, n2), top = m * n
        var c = [Double](repeating: 0, count: top + 1)
        c[0] = 1
        for i in 1...Swift.max(m, 1) where m > 0 {
            let a = n + i
            for k in stride(from: top, through: a, by: -1) { c[k] -= c[k - a] }     // × (1 − q^(n+i))
            for k in i...top { c[k] += c[k - i] }                                   // ÷ (1 − q^i)
            let scale = Double(i) / Double(n + i)                                   // ÷ C(n+i, i)/C(n+i−1, i−1)
            for k in 0...top { c[k] *= scale }
        }
        // P(U ≥ u) = P(U ≤ mn − u) by symmetry (as scipy computes it).
        let kMax = top - u
        guard kMax >= 0 else { return 0 }
        return c[0...Swift.min(kMax, top)].reduce(0, +)
    }

    /// numpy.median.
    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted(), h = s.count / 2
        return s.count % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2
    }
}
