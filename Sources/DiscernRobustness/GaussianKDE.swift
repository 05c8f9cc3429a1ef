import DiscernEngine
import Foundation

/// Gaussian kernel density estimate with scipy.stats.gaussian_kde semantics (unweighted):
/// kernel covariance = sample covariance (ddof 1) × factor², factor by Scott (n^(-1/(d+4))),
/// Silverman ((n(d+2)/4)^(-1/(d+4))) or a given scalar; density = mean of the kernels, each
/// normalised by sqrt(det(2πΣ)). Only the dataset and the bandwidth rule are stored; the rest is derived.
public struct GaussianKDE: Codable, Sendable {
    public enum Bandwidth: Codable, Equatable, Sendable {
        case scott, silverman, scalar(Double)
    }

    /// Training points, n × d (rows = samples).
    public let dataset: Matrix
    public let bandwidth: Bandwidth
    /// Bandwidth factor actually used.
    public let factor: Double
    /// Kernel covariance (data covariance × factor²), d × d.
    public let covariance: Matrix
    /// Lower Cholesky factor of `covariance`.
    let choCov: Matrix
    /// Dataset rows whitened by choCov (L⁻¹ xᵢ).
    let whitened: Matrix
    /// log of 1/(n · sqrt(det(2πΣ))) — the per-kernel weight in front of exp(−r²/2).
    let logNorm: Double

    public var dimension: Int { dataset.cols }
    public var count: Int { dataset.rows }

    public init(dataset: Matrix, bandwidth: Bandwidth = .scott) throws {
        let n = dataset.rows, d = dataset.cols
        guard n > 0, d > 0 else { throw RobustnessError.empty(what: "KDE dataset") }
        guard n > d else {
            throw RobustnessError.invalidArgument("KDE needs more points (\(n)) than dimensions (\(d))")
        }
        try dataset.checkFinite("KDE dataset")
        let f: Double
        switch bandwidth {
        case .scott: f = pow(Double(n), -1.0 / Double(d + 4))
        case .silverman: f = pow(Double(n) * Double(d + 2) / 4.0, -1.0 / Double(d + 4))
        case .scalar(let s):
            guard s > 0, s.isFinite else {
                throw RobustnessError.invalidArgument("KDE bandwidth factor must be positive, got \(s)")
            }
            f = s
        }
        var cov = sampleCovariance(dataset, ddof: 1)
        for i in cov.values.indices { cov.values[i] *= f * f }
        guard let l = choleskyLower(cov) else {
            throw RobustnessError.singularCovariance(what: "KDE dataset (\(n)x\(d))")
        }
        self.dataset = dataset
        self.bandwidth = bandwidth
        self.factor = f
        self.covariance = cov
        self.choCov = l
        self.whitened = forwardSubstituteRows(l, dataset)
        var logDetL = 0.0
        for i in 0..<d { logDetL += log(l[i, i]) }
        self.logNorm = -0.5 * Double(d) * log(2 * Double.pi) - logDetL - log(Double(n))
    }

    /// 1-D convenience: a KDE of a sample of scalars.
    public init(_ sample: [Double], bandwidth: Bandwidth = .scott) throws {
        try self.init(dataset: Matrix(column: sample), bandwidth: bandwidth)
    }

    enum CodingKeys: String, CodingKey { case dataset, bandwidth }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            dataset: c.decode(Matrix.self, forKey: .dataset), bandwidth: c.decode(Bandwidth.self, forKey: .bandwidth))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(bandwidth, forKey: .bandwidth)
    }

    /// Density at each row of `points` (m × d), as scipy's `evaluate`.
    public func evaluate(_ points: Matrix) throws -> [Double] {
        try kernelSums(points, log: false)
    }

    /// Natural log of the density; finite far in the tails where `evaluate` underflows to 0.
    public func logEvaluate(_ points: Matrix) throws -> [Double] {
        try kernelSums(points, log: true)
    }

    /// 1-D convenience.
    public func evaluate(_ points: [Double]) throws -> [Double] {
        try evaluate(Matrix(column: points))
    }

    private func kernelSums(_ points: Matrix, log wantLog: Bool) throws -> [Double] {
        guard points.cols == dimension else {
            throw RobustnessError.shapeMismatch(
                what: "KDE points", expected: "\(dimension) columns", actual: "\(points.cols)")
        }
        let q = forwardSubstituteRows(choCov, points)
        let n = count, d = dimension, m = points.rows, logNorm = self.logNorm
        let norm = exp(logNorm)
        var out = [Double](repeating: 0, count: m)
        whitened.values.withUnsafeBufferPointer { wp in
            q.values.withUnsafeBufferPointer { qp in
                out.withUnsafeMutableBufferPointer { op in
                    let W = wp.baseAddress!, Q = qp.baseAddress!, O = op.baseAddress!
                    parallelChunks(m, grain: Swift.max(1, 200_000 / Swift.max(n * d, 1))) { range in
                        var r2 = [Double](repeating: 0, count: n)
                        for j in range {
                            if d == 1 && !wantLog {                 // the per-class logit KDEs: plain scalar loop
                                let x = Q[j]
                                var acc = 0.0
                                for i in 0..<n {
                                    let t = W[i] - x
                                    acc += exp(-0.5 * t * t)
                                }
                                O[j] = acc * norm
                                continue
                            }
                            let qj = Q + j * d
                            var minR2 = Double.infinity
                            for i in 0..<n {
                                let wi = W + i * d
                                var s = 0.0
                                for k in 0..<d {
                                    let t = wi[k] - qj[k]
                                    s += t * t
                                }
                                r2[i] = s
                                if s < minR2 { minR2 = s }
                            }
                            if !wantLog {
                                var acc = 0.0
                                for i in 0..<n { acc += exp(-0.5 * r2[i]) }
                                O[j] = acc * norm
                            } else {
                                // log-sum-exp around the nearest kernel keeps the sum in range.
                                var acc = 0.0
                                for i in 0..<n { acc += exp(-0.5 * (r2[i] - minR2)) }
                                O[j] = logNorm - 0.5 * minR2 + Foundation.log(acc)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
