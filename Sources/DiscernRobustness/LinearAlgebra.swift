import DiscernEngine
import Foundation

/// Column means of `x` (n × d).
func columnMeans(_ x: Matrix) -> [Double] {
    var m = [Double](repeating: 0, count: x.cols)
    x.values.withUnsafeBufferPointer { v in
        for r in 0..<x.rows { for c in 0..<x.cols { m[c] += v[r * x.cols + c] } }
    }
    let inv = 1.0 / Double(Swift.max(x.rows, 1))
    return m.map { $0 * inv }
}

/// Scatter matrix Σᵢ (xᵢ − μ_{g(i)})(xᵢ − μ_{g(i)})ᵀ, where `centers[g]` is subtracted from rows of group g
/// (one group = plain covariance numerator). Computed as (Xcᵀ)(Xcᵀ)ᵀ with the blocked dot kernel.
func scatter(_ x: Matrix, centers: [[Double]], group: (Int) -> Int) -> Matrix {
    let n = x.rows, d = x.cols
    var xt = [Double](repeating: 0, count: d * n)       // centred, transposed: one row per feature
    x.values.withUnsafeBufferPointer { v in
        for r in 0..<n {
            let mu = centers[group(r)]
            for c in 0..<d { xt[c * n + r] = v[r * d + c] - mu[c] }
        }
    }
    var s = [Double](repeating: 0, count: d * d)
    xt.withUnsafeBufferPointer { p in
        s.withUnsafeMutableBufferPointer { o in
            gemmABt(
                p.baseAddress!, lda: n, p.baseAddress!, ldb: n, m: d, n: d, k: n, o.baseAddress!, ldc: d,
                upperOnly: true)
        }
    }
    for i in 0..<d { for j in 0..<i { s[i * d + j] = s[j * d + i] } }
    return Matrix(uncheckedRows: d, cols: d, values: s)
}

/// Sample covariance with `ddof` (numpy.cov(rowvar=False) for ddof 1).
func sampleCovariance(_ x: Matrix, ddof: Int = 1) -> Matrix {
    let mu = columnMeans(x)
    var s = scatter(x, centers: [mu], group: { _ in 0 })
    let f = 1.0 / Double(x.rows - ddof)
    for i in s.values.indices { s.values[i] *= f }
    return s
}

/// Lower Cholesky factor L (A = L·Lᵀ), left-looking by columns so each column's updates run in parallel.
/// Returns nil if A is not (numerically) positive definite.
func choleskyLower(_ a: Matrix, parallelMinWork: Int = 200_000) -> Matrix? {
    let n = a.rows
    var l = [Double](repeating: 0, count: n * n)
    let ok: Bool = a.values.withUnsafeBufferPointer { av in
        l.withUnsafeMutableBufferPointer { lp in
            let L = lp.baseAddress!
            for j in 0..<n {
                let diag = av[j * n + j] - dot(L + j * n, L + j * n, j)
                guard diag > 0, diag.isFinite else { return false }
                let ljj = diag.squareRoot()
                L[j * n + j] = ljj
                let rest = n - j - 1
                let body = { (r: Range<Int>) in
                    for i in r { let row = j + 1 + i
                        L[row * n + j] = (av[row * n + j] - dot(L + row * n, L + j * n, j)) / ljj }
                }
                if rest * j > parallelMinWork { parallelChunks(rest, grain: 32, body) } else { body(0..<rest) }
            }
            return true
        }
    }
    return ok ? Matrix(uncheckedRows: n, cols: n, values: l) : nil
}

/// Solves L·Z = Xᵀ for a block of right-hand sides given as rows of `x` (each row one vector);
/// returns Z row-wise. Rows are solved in blocks so each row of L is read once per block.
func forwardSubstituteRows(_ l: Matrix, _ x: Matrix) -> Matrix {
    let d = l.rows, m = x.rows
    var z = x.values
    l.values.withUnsafeBufferPointer { lv in
        z.withUnsafeMutableBufferPointer { zp in
            let L = lv.baseAddress!, Z = zp.baseAddress!
            parallelChunks((m + 15) / 16, grain: 1) { blocks in
                for blk in blocks {
                    let lo = blk * 16, hi = Swift.min(m, lo + 16)
                    for i in 0..<d {
                        let li = L + i * d, inv = 1.0 / li[i]
                        for r in lo..<hi {
                            let zr = Z + r * d
                            zr[i] = (zr[i] - dot(li, zr, i)) * inv
                        }
                    }
                }
            }
        }
    }
    return Matrix(uncheckedRows: m, cols: d, values: z)
}
