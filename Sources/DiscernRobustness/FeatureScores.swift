import Foundation

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

    public var name: String { OODScoreKind.mahalanobis.rawValue }
    public var needsFeatures: Bool { true }

    public static func fit(features: Matrix, labels: [Int], classes: Int, ridge: Double = 1e-6) throws -> MahalanobisScore {
        guard features.rows > 0 else { throw RobustnessError.empty(what: "training features") }
        try features.checkFinite("training features")
        guard ridge >= 0, ridge.isFinite else { throw RobustnessError.invalidArgument("ridge must be ≥ 0, got \(ridge)") }
        let groups = try groupRows(labels: labels, classes: classes, rows: features.rows)
        let means = groups.map { columnMeans(features.selectingRows($0)) }
        var cov = scatter(features, centers: means, group: { labels[$0] })
        let d = features.cols, inv = 1.0 / Double(features.rows)
        for i in cov.values.indices { cov.values[i] *= inv }
        var trace = 0.0
        for i in 0..<d { trace += cov[i, i] }
        let eps = ridge * Swift.max(trace / Double(d), .leastNormalMagnitude)
        for i in 0..<d { cov[i, i] += eps }
        guard let l = choleskyLower(cov) else { throw RobustnessError.singularCovariance(what: "Mahalanobis features (\(features.rows)x\(d))") }
        let m = try Matrix(means)
        return MahalanobisScore(means: m, cholesky: l, whitenedMeans: forwardSubstituteRows(l, m), ridge: ridge)
    }

    enum CodingKeys: String, CodingKey { case means, cholesky, ridge }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let m = try c.decode(Matrix.self, forKey: .means), l = try c.decode(Matrix.self, forKey: .cholesky)
        guard l.rows == l.cols, l.cols == m.cols else { throw RobustnessError.malformedModel("Mahalanobis factor \(l.rows)x\(l.cols) vs means \(m.rows)x\(m.cols)") }
        self.init(means: m, cholesky: l, whitenedMeans: forwardSubstituteRows(l, m), ridge: try c.decode(Double.self, forKey: .ridge))
    }
    init(means: Matrix, cholesky: Matrix, whitenedMeans: Matrix, ridge: Double) {
        self.means = means; self.cholesky = cholesky; self.whitenedMeans = whitenedMeans; self.ridge = ridge
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        let x = try requireFeatures(features, rows: logits.rows, dim: means.cols)
        let z = forwardSubstituteRows(cholesky, x)
        let d = means.cols
        return (0..<z.rows).map { r in
            var best = Double.infinity
            for c in 0..<whitenedMeans.rows {
                var s = 0.0
                for k in 0..<d { let t = z.values[r * d + k] - whitenedMeans.values[c * d + k]; s += t * t }
                best = Swift.min(best, s)
            }
            return -best
        }
    }
}

/// Deep k-nearest-neighbour score (Sun et al. 2022): cosine similarity of the L2-normalised feature
/// to its k-th most similar L2-normalised training feature. Training features are kept in Float
/// (they are the bulk of the model file); similarities are dot products in blocks, parallel over queries.
public struct KNNScore: OODScore, Codable {
    public let k: Int
    public let dimension: Int
    /// Normalised training features, row-major n × dimension.
    public let bank: [Float]

    public var name: String { OODScoreKind.knn.rawValue }
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
        self.k = k; self.dimension = dimension; self.bank = bank
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        let x = try requireFeatures(features, rows: logits.rows, dim: dimension)
        let q = KNNScore.normalisedRows(x), m = x.rows, n = count, d = dimension, k = self.k
        var out = [Double](repeating: 0, count: m)
        let block = 32
        q.withUnsafeBufferPointer { qp in
            bank.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    let Q = qp.baseAddress!, B = bp.baseAddress!, O = op.baseAddress!
                    parallelChunks((m + block - 1) / block, minChunk: 1) { blocks in
                        var sims = [Float](repeating: 0, count: block * n)
                        var top = [Float](repeating: 0, count: k)
                        sims.withUnsafeMutableBufferPointer { sp in
                            for b in blocks {
                                let lo = b * block, rows = Swift.min(block, m - lo)
                                gemmABt(Q + lo * d, lda: d, B, ldb: d, m: rows, n: n, k: d, sp.baseAddress!, ldc: n, parallel: false)
                                for r in 0..<rows {
                                    O[lo + r] = Double(kthLargest(sp.baseAddress! + r * n, n, k, &top))
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
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

/// k-th largest of n values via a sorted (descending) top-k buffer; O(n) for typical inputs.
private func kthLargest(_ v: UnsafePointer<Float>, _ n: Int, _ k: Int, _ top: inout [Float]) -> Float {
    var filled = 0
    for i in 0..<n {
        let x = v[i]
        if filled == k && x <= top[k - 1] { continue }
        var j = filled < k ? filled : k - 1
        if filled < k { filled += 1 }
        while j > 0 && top[j - 1] < x { top[j] = top[j - 1]; j -= 1 }
        top[j] = x
    }
    return top[k - 1]
}
