import Foundation
import DiscernEngine

/// Mahalanobis score (Lee et al. 2018): class means μ_c and one shared covariance
/// Σ = (1/N) Σ_c Σ_{i∈c} (x_i − μ_c)(x_i − μ_c)ᵀ, plus a ridge ε·mean(diag Σ)·I so that dead or
/// collinear feature channels don't make Σ singular. Score = −min_c (x − μ_c)ᵀ Σ⁻¹ (x − μ_c).
public struct MahalanobisScore: OODScore, Codable {
    public let means: Matrix            // classes × D
    /// Lower Cholesky factor L of Σ + ridge (D × D).
    public let cholesky: Matrix
    /// L⁻¹ μ_c, so that distance² = ‖L⁻¹x − L⁻¹μ_c‖².
    let whitenedMeans: Matrix
    public let ridge: Double

    public var kind: OODScoreKind { .mahalanobis }
    public var needsFeatures: Bool { true }

    public static func fit(features: Matrix, labels: [Int], classes: Int, ridge: Double = 1e-6) throws
        -> MahalanobisScore
    {
        guard features.rows > 0 else { throw RobustnessError.empty(what: "training features") }
        try features.checkFinite("training features")
        guard ridge >= 0, ridge.isFinite else {
            throw RobustnessError.invalidArgument("ridge must be ≥ 0, got \(ridge)")
        }
        let groups = try groupRows(labels: labels, classes: classes, rows: features.rows)
        let means = groups.map { columnMeans(features.selectingRows($0)) }
        var cov = scatter(features, centers: means, group: { labels[$0] })
        let d = features.cols, inv = 1.0 / Double(features.rows)
        for i in cov.values.indices { cov.values[i] *= inv }
        var trace = 0.0
        for i in 0..<d { trace += cov[i, i] }
        let eps = ridge * Swift.max(trace / Double(d), .leastNormalMagnitude)
        for i in 0..<d { cov[i, i] += eps }
        guard let l = choleskyLower(cov) else {
            throw RobustnessError.singularCovariance(what: "Mahalanobis features (\(features.rows)x\(d))")
        }
        let m = try Matrix(means)
        return MahalanobisScore(means: m, cholesky: l, whitenedMeans: forwardSubstituteRows(l, m), ridge: ridge)
    }

    enum CodingKeys: String, CodingKey { case means, cholesky, ridge }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let m = try c.decode(Matrix.self, forKey: .means), l = try c.decode(Matrix.self, forKey: .cholesky)
        guard l.rows == l.cols, l.cols == m.cols else {
            throw RobustnessError.malformedModel("Mahalanobis factor \(l.rows)x\(l.cols) vs means \(m.rows)x\(m.cols)")
        }
        self.init(
            means: m, cholesky: l, whitenedMeans: forwardSubstituteRows(l, m),
            ridge: try c.decode(Double.self, forKey: .ridge))
    }
    init(means: Matrix, cholesky: Matrix, whitenedMeans: Matrix, ridge: Double) {
        self.means = means
        self.cholesky = cholesky
        self.whitenedMeans = whitenedMeans
        self.ridge = ridge
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        let x = try requireFeatures(features, rows: logits.rows, dim: means.cols)
        let z = forwardSubstituteRows(cholesky, x)
        let d = means.cols
        return (0..<z.rows).map { r in
            var best = Double.infinity
            for c in 0..<whitenedMeans.rows {
                var s = 0.0
                for k in 0..<d {
                    let t = z.values[r * d + k] - whitenedMeans.values[c * d + k]
                    s += t * t
                }
                best = Swift.min(best, s)
            }
            return -best
        }
    }
}

/// Deep k-nearest-neighbour score (Sun et al. 2022): cosine similarity of the L2-normalised feature
/// to its k-th most similar L2-normalised training feature. Training features are kept in Float
/// (they are the bulk of the model file). The similarities of a block of queries to the whole bank are one
/// matrix product (the engine's BLAS); each row's k largest are then kept in a small heap, rows in parallel.
/// BLAS sums a row's products in an order that depends on the other rows of the product (its tile at the edge
/// of the block, its thread split), so the k-th similarity is then recomputed in one fixed order from every
/// candidate BLAS's rounding could have put below it: an image gets the same score whichever batch, shard or
/// machine core count it is scored with.
public struct KNNScore: OODScore, Codable {
    public let k: Int
    public let dimension: Int
    /// Normalised training features, row-major n × dimension.
    public let bank: [Float]

    public var kind: OODScoreKind { .knn }
    public var needsFeatures: Bool { true }
    public var count: Int { bank.count / Swift.max(dimension, 1) }

    public static func fit(features: Matrix, k: Int = 10) throws -> KNNScore {
        guard features.rows > 0, features.cols > 0 else { throw RobustnessError.empty(what: "training features") }
        guard k >= 1 && k <= features.rows else {
            throw RobustnessError.invalidArgument("knn k = \(k) must be in 1...\(features.rows) (training samples)")
        }
        try features.checkFinite("training features")
        return KNNScore(k: k, dimension: features.cols, bank: normalisedRows(features))
    }

    public init(k: Int, dimension: Int, bank: [Float]) {
        self.k = k
        self.dimension = dimension
        self.bank = bank
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        let x = try requireFeatures(features, rows: logits.rows, dim: dimension)
        let q = KNNScore.normalisedRows(x), m = x.rows, n = count, d = dimension, k = self.k
        var out = [Double](repeating: 0, count: m)
        // Queries per product: large enough for BLAS to run at full speed, small enough that the
        // similarity block (block × n Floats) stays a few tens of MB.
        let block = Swift.max(1, Swift.min(m, (1 << 22) / Swift.max(n, 1)))
        // Every product overwrites the rows it uses, so the block starts uninitialised.
        var sims = [Float](unsafeUninitializedCapacity: block * n) { _, count in count = block * n }
        let window = KNNScore.roundingWindow(dimension: d)
        q.withUnsafeBufferPointer { qp in
            bank.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    sims.withUnsafeMutableBufferPointer { sp in
                        let S = sp.baseAddress!, O = op.baseAddress!
                        var lo = 0
                        while lo < m {
                            let rows = Swift.min(block, m - lo), first = lo
                            gemm(transB: true, m: rows, n: n, k: d, a: qp.baseAddress! + first * d, lda: d,
                                 b: bp.baseAddress!, ldb: d, c: S, ldc: n)
                            parallelChunks(rows, grain: 8) { r in
                                var heap = TopK(k)
                                for i in r {
                                    let query = qp.baseAddress! + (first + i) * d, similarities = S + i * n
                                    let roughKth = heap.kthLargest(similarities, n)
                                    O[first + i] = KNNScore.kthLargestInFixedOrder(
                                        query, bank: bp.baseAddress!, dimension: d, similarities: similarities,
                                        count: n, k: k, above: roughKth - window)
                                }
                            }
                            lo += rows
                        }
                    }
                }
            }
        }
        return out
    }

    /// Twice the largest rounding error of a Float dot product of two unit vectors of `dimension` values, in
    /// any summation order (γ_d = d·u/(1 − d·u), with slack for the vectors' own rounding): every training row
    /// whose exact similarity is among the k largest has a BLAS similarity within this of the BLAS k-th largest.
    static func roundingWindow(dimension: Int) -> Float {
        let unitRoundoff = 0x1p-24, d = Double(dimension + 2)
        return Float(2.2 * d * unitRoundoff / (1 - d * unitRoundoff))
    }

    /// The k-th largest similarity among the training rows whose BLAS similarity is at least `above`, each
    /// recomputed as a Double sum of the Float products in index order.
    static func kthLargestInFixedOrder(_ query: UnsafePointer<Float>, bank: UnsafePointer<Float>, dimension d: Int,
                                       similarities: UnsafePointer<Float>, count n: Int, k: Int, above: Float)
        -> Double
    {
        var candidates: [Double] = []
        for j in 0..<n where similarities[j] >= above {
            let row = bank + j * d
            var sum = 0.0
            for c in 0..<d { sum += Double(query[c]) * Double(row[c]) }
            candidates.append(sum)
        }
        candidates.sort(by: >)
        return candidates[k - 1]
    }

    /// Rows scaled to unit L2 norm (zero rows stay zero), as Float.
    static func normalisedRows(_ x: Matrix) -> [Float] {
        var out = [Float](repeating: 0, count: x.values.count)
        for r in 0..<x.rows {
            var s = 0.0
            for c in 0..<x.cols { s += x[r, c] * x[r, c] }
            let inv = s > 0 ? 1.0 / s.squareRoot() : 0
            for c in 0..<x.cols { out[r * x.cols + c] = Float(x[r, c] * inv) }
        }
        return out
    }
}

/// The k largest of a row in a min-heap of size k: its root is the k-th largest so far, and a value
/// only enters (replacing the root) when it beats it, so most values cost one comparison.
struct TopK {
    private var heap: [Float]
    init(_ k: Int) { heap = [Float](repeating: 0, count: k) }

    mutating func kthLargest(_ v: UnsafePointer<Float>, _ n: Int) -> Float {
        let k = heap.count
        precondition(n >= k && k >= 1, "top-\(k) of \(n) values")
        return heap.withUnsafeMutableBufferPointer { h in
            for i in 0..<k {
                h[i] = v[i]
                TopK.siftUp(h, i)
            }
            for i in k..<n where v[i] > h[0] {
                h[0] = v[i]
                TopK.siftDown(h, 0)
            }
            return h[0]
        }
    }

    private static func siftUp(_ h: UnsafeMutableBufferPointer<Float>, _ start: Int) {
        var c = start
        while c > 0 {
            let p = (c - 1) / 2
            if h[p] <= h[c] { return }
            h.swapAt(p, c)
            c = p
        }
    }

    private static func siftDown(_ h: UnsafeMutableBufferPointer<Float>, _ start: Int) {
        var p = start
        while true {
            let l = 2 * p + 1, r = l + 1
            var smallest = p
            if l < h.count && h[l] < h[smallest] { smallest = l }
            if r < h.count && h[r] < h[smallest] { smallest = r }
            if smallest == p { return }
            h.swapAt(p, smallest)
            p = smallest
        }
    }
}
