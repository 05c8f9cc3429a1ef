import Foundation

/// Two-sided Mann–Whitney U test with scipy.stats.mannwhitneyu's defaults (scipy ≥ 1.7):
/// the exact null distribution when either sample has ≤ 8 values and there are no ties,
/// otherwise the normal approximation with tie correction and continuity correction.
public struct MannWhitneyU: Sendable, Equatable {
    /// U of the first sample (scipy's `statistic`).
    public let u: Double
    public let p: Double
    public let exact: Bool

    /// nil when either sample is empty (no test possible).
    public static func test(_ x: [Double], _ y: [Double]) -> MannWhitneyU? {
        let n1 = x.count, n2 = y.count
        guard n1 > 0, n2 > 0, (x + y).allSatisfy(\.isFinite) else { return nil }
        // Mid-ranks of the pooled sample.
        let all = (x.map { ($0, 0) } + y.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: all.count)
        var tieTerm = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let r = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = r }
            let t = Double(j - i + 1); tieTerm += t * t * t - t
            i = j + 1
        }
        var r1 = 0.0
        for (k, e) in all.enumerated() where e.1 == 0 { r1 += ranks[k] }
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let u = max(u1, Double(n1 * n2) - u1)
        let exact = (n1 <= 8 || n2 <= 8) && tieTerm == 0
        var p: Double
        if exact {
            p = exactSF(Int(u.rounded()), n1, n2)
        } else {
            let n = Double(n1 + n2)
            let s = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
            let z = (u - Double(n1 * n2) / 2 - 0.5) / s
            p = s > 0 ? 0.5 * erfc(z / 2.0.squareRoot()) : 1
        }
        p = min(max(2 * p, 0), 1)
        return MannWhitneyU(u: u1, p: p, exact: exact)
    }

    /// P(U ≥ u) under H0, counting arrangements: c(m, n, u) = c(m−1, n, u−n) + c(m, n−1, u).
    static func exactSF(_ u: Int, _ n1: Int, _ n2: Int) -> Double {
        let maxU = n1 * n2
        // counts[n][v] for the current m, built up from m = 0.
        var prev = [[Double]](repeating: [1], count: n2 + 1)   // m = 0: one arrangement, U = 0
        for m in 1...n1 {
            var cur = [[Double]](repeating: [1], count: n2 + 1) // n = 0: U = 0 only
            for n in 1...max(n2, 1) where n <= n2 {
                var row = [Double](repeating: 0, count: m * n + 1)
                for v in 0...(m * n) {
                    var c = 0.0
                    if v - n >= 0 && v - n < prev[n].count { c += prev[n][v - n] }
                    if v < cur[n - 1].count { c += cur[n - 1][v] }
                    row[v] = c
                }
                cur[n] = row
            }
            prev = cur
        }
        let dist = prev[n2]
        let total = dist.reduce(0, +)
        var tail = 0.0
        if u <= maxU { for v in max(u, 0)...maxU { tail += dist[v] } }
        return tail / total
    }
}

/// Small summaries used by the attention-area analysis.
public enum Stats {
    /// numpy.median: the mean of the middle two for even counts; nil when empty.
    public static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted(), m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}
