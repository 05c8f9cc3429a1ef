import Foundation
import DiscernEngine

/// ViM, virtual-logit matching (Wang et al. 2022). Features are taken relative to the origin u = −pinv(W)·b of
/// the head (where every logit is zero); the principal subspace of the training features around u is spanned by
/// the eigenvectors of their (uncentred) covariance with the `principal` largest eigenvalues. The residual — the
/// part of a feature outside that subspace — is what the head cannot see; unknown images have more of it.
/// Score = logsumexp(logits) − α·‖residual‖, α = mean max-logit / mean residual norm over the training features.
public struct ViMScore: OODScore, Codable {
    public let origin: [Double]
    /// D × principal, orthonormal columns: the principal subspace.
    public let basis: Matrix
    public let alpha: Double
    /// Pᵀ, one principal direction per row: the layout the projection's dot-product kernel reads.
    private let directions: [Double]

    private enum CodingKeys: String, CodingKey { case origin, basis, alpha }

    public var kind: OODScoreKind { .vim }
    public var needsFeatures: Bool { true }
    public var dimension: Int { origin.count }

    /// The paper's principal dimension: 1000 for ≥ 1500 features, 512 for ≥ 768, else half.
    public static func defaultPrincipal(features d: Int) -> Int {
        d >= 1500 ? 1000 : (d >= 768 ? 512 : Swift.max(1, d / 2))
    }

    public static func fit(features: Matrix, head: LinearMap, principal: Int? = nil) throws -> ViMScore {
        let d = features.cols
        guard features.rows > 1, d == head.features else {
            throw RobustnessError.shapeMismatch(
                what: "ViM features", expected: "n x \(head.features)", actual: "\(features.rows)x\(d)")
        }
        let k = principal ?? defaultPrincipal(features: d)
        guard k >= 1 && k < d else {
            throw RobustnessError.invalidArgument("ViM principal dimension \(k) must be in 1..<\(d)")
        }
        try features.checkFinite("ViM training features")
        let u = try originOfHead(head)
        let centred = shifted(features, by: u)
        var cov = scatter(centred, centers: [[Double](repeating: 0, count: d)], group: { _ in 0 })
        let inv = 1.0 / Double(features.rows)
        for i in cov.values.indices { cov.values[i] *= inv }
        let eig: (values: [Double], vectors: [Double])
        do { eig = try SymmetricEigen.decompose(cov.values, n: d) } catch {
            throw RobustnessError.invalidArgument("ViM: \(error)")
        }
        // Ascending eigenvalues: the last k columns span the principal subspace.
        var basis = Matrix(zeros: d, k)
        for i in 0..<d { for j in 0..<k { basis[i, j] = eig.vectors[i * d + (d - k + j)] } }
        let partial = ViMScore(origin: u, basis: basis, alpha: 1)
        let residual = partial.residualNorms(features)
        let maxLogit = head.logits(features)
        let meanMax = (0..<maxLogit.rows).reduce(0.0) { $0 + (maxLogit.row($1).max() ?? 0) } / Double(features.rows)
        let meanResidual = residual.reduce(0, +) / Double(residual.count)
        guard meanResidual > 0 else { throw RobustnessError.invalidArgument("ViM: training features have no residual") }
        return ViMScore(origin: u, basis: basis, alpha: meanMax / meanResidual)
    }

    public init(origin: [Double], basis: Matrix, alpha: Double) {
        self.origin = origin
        self.basis = basis
        self.alpha = alpha
        let d = origin.count, k = basis.cols
        var directions = [Double](repeating: 0, count: k * d)
        for i in 0..<d { for j in 0..<k { directions[j * d + i] = basis.values[i * k + j] } }
        self.directions = directions
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(origin: try values.decode([Double].self, forKey: .origin),
                  basis: try values.decode(Matrix.self, forKey: .basis),
                  alpha: try values.decode(Double.self, forKey: .alpha))
    }

    /// u = −pinv(W)·b; W (C × D, C ≤ D) has full row rank, so pinv(W) = Wᵀ(WWᵀ)⁻¹.
    static func originOfHead(_ head: LinearMap) throws -> [Double] {
        let w = head.weight, c = w.rows, d = w.cols
        var gram = Matrix(zeros: c, c)
        for i in 0..<c {
            for j in 0..<c {
                var s = 0.0
                for k in 0..<d { s += w[i, k] * w[j, k] }
                gram[i, j] = s
            }
        }
        guard let l = choleskyLower(gram) else {
            throw RobustnessError.singularCovariance(what: "ViM head rows (W·Wᵀ)")
        }
        // Solve (WWᵀ) y = b via L Lᵀ y = b, then u = −Wᵀ y.
        var y = head.bias
        for i in 0..<c {
            var s = y[i]
            for k in 0..<i { s -= l[i, k] * y[k] }
            y[i] = s / l[i, i]
        }
        for i in stride(from: c - 1, through: 0, by: -1) {
            var s = y[i]
            for k in (i + 1)..<c { s -= l[k, i] * y[k] }
            y[i] = s / l[i, i]
        }
        return (0..<d).map { k in -(0..<c).reduce(0.0) { $0 + w[$1, k] * y[$1] } }
    }

    static func shifted(_ x: Matrix, by u: [Double]) -> Matrix {
        var out = x
        for r in 0..<x.rows { for c in 0..<x.cols { out.values[r * x.cols + c] -= u[c] } }
        return out
    }

    /// ‖(x − u) − P Pᵀ(x − u)‖ per row = sqrt(‖x − u‖² − ‖Pᵀ(x − u)‖²).
    func residualNorms(_ x: Matrix) -> [Double] {
        let z = ViMScore.shifted(x, by: origin), d = dimension, k = basis.cols
        var proj = [Double](repeating: 0, count: z.rows * k)
        z.values.withUnsafeBufferPointer { zp in
            directions.withUnsafeBufferPointer { pp in
                proj.withUnsafeMutableBufferPointer { op in
                    gemmABt(
                        zp.baseAddress!, lda: d, pp.baseAddress!, ldb: d, m: z.rows, n: k, k: d, op.baseAddress!, ldc: k
                    )
                }
            }
        }
        return (0..<z.rows).map { r in
            var all = 0.0, inside = 0.0
            for c in 0..<d { all += z.values[r * d + c] * z.values[r * d + c] }
            for j in 0..<k { inside += proj[r * k + j] * proj[r * k + j] }
            return Swift.max(all - inside, 0).squareRoot()
        }
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: nil)
        let x = try requireFeatures(features, rows: logits.rows, dim: dimension)
        let r = residualNorms(x)
        return (0..<logits.rows).map { logSumExp(logits.row($0)) - alpha * r[$0] }
    }
}
