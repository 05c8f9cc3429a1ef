import DiscernEngine

/// EigenCAM (Muhammad & Yeasin): the activations, as a (positions × channels) matrix centred per
/// channel, projected on their first principal direction — pytorch-grad-cam's get_2d_projection.
///
/// The SVD's sign is arbitrary (pytorch-grad-cam keeps whatever LAPACK returns); Discern fixes it
/// so the projection correlates positively with the channel-summed activation map (Σ_c v_c ≥ 0),
/// i.e. "hot" means "more active". Gradients are not used.
public struct EigenCAM: CAMFormula {
    public init() {}

    public func rawCAM(activations a: Tensor, gradients: Tensor?) throws -> Tensor {
        guard a.rank == 4 else { throw ExplainError.badShape("activations", a.shape) }
        let (n, c, hw) = CAMMath.dims(a)
        var out = [Float](repeating: 0, count: n * hw)
        for i in 0..<n {
            // X[p][ch], centred per channel, in Double.
            var x = [Double](repeating: 0, count: hw * c)
            for ch in 0..<c {
                let base = (i * c + ch) * hw
                var m = 0.0
                for p in 0..<hw { m += Double(a.data[base + p]) }
                m /= Double(max(hw, 1))
                for p in 0..<hw { x[p * c + ch] = Double(a.data[base + p]) - m }
            }
            let proj = Self.firstComponentProjection(x, rows: hw, cols: c)
            for p in 0..<hw { out[i * hw + p] = Float(proj[p]) }
        }
        return Tensor(shape: [n, a.shape[2], a.shape[3]], data: out)
    }

    /// X·v₁ for the top right-singular vector v₁ of X (rows × cols), sign-fixed by Σ v₁ ≥ 0.
    /// Works on the smaller Gram matrix: XXᵀ (then X·v₁ = σ₁u₁) or XᵀX.
    static func firstComponentProjection(_ x: [Double], rows: Int, cols: Int) -> [Double] {
        var proj = [Double](repeating: 0, count: rows)
        if rows <= cols {
            var g = [Double](repeating: 0, count: rows * rows)
            for r in 0..<rows {
                for s in r..<rows {
                    var d = 0.0
                    for k in 0..<cols { d += x[r * cols + k] * x[s * cols + k] }
                    g[r * rows + s] = d
                    g[s * rows + r] = d
                }
            }
            let (lambda, u) = SymmetricEigen.top(g, n: rows)
            let sigma = max(lambda, 0).squareRoot()
            for r in 0..<rows { proj[r] = sigma * u[r] }
        } else {
            var g = [Double](repeating: 0, count: cols * cols)
            for r in 0..<rows {
                let row = r * cols
                for k in 0..<cols {
                    let xk = x[row + k]
                    if xk == 0 { continue }
                    for l in k..<cols { g[k * cols + l] += xk * x[row + l] }
                }
            }
            for k in 0..<cols { for l in 0..<k { g[k * cols + l] = g[l * cols + k] } }
            let (_, v) = SymmetricEigen.top(g, n: cols)
            for r in 0..<rows {
                var d = 0.0
                for k in 0..<cols { d += x[r * cols + k] * v[k] }
                proj[r] = d
            }
        }
        // Σ_c v_c ∝ Σ_p proj_p · Σ_c X[p,c]: flip so the map correlates with total activation.
        var corr = 0.0
        for r in 0..<rows {
            var s = 0.0
            for k in 0..<cols { s += x[r * cols + k] }
            corr += proj[r] * s
        }
        if corr < 0 { for r in 0..<rows { proj[r] = -proj[r] } }
        return proj
    }
}

/// Cyclic Jacobi eigen-solver for small symmetric matrices (n ≤ a few hundred).
enum SymmetricEigen {
    /// Largest eigenvalue and its unit eigenvector.
    static func top(_ m: [Double], n: Int) -> (Double, [Double]) {
        if n == 0 { return (0, []) }
        var a = m
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(a.reduce(0) { $0 + $1 * $1 }, 1e-300)
        for _ in 0..<60 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n where q < n { off += a[p * n + q] * a[p * n + q] } }
            if off <= scale * 1e-26 { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {   // A ← A·J (columns p, q)
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {   // A ← Jᵀ·A (rows p, q)
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        var best = 0
        for i in 1..<n where a[i * n + i] > a[best * n + best] { best = i }
        return (a[best * n + best], (0..<n).map { v[$0 * n + best] })
    }
}
