import Foundation

/// A binary-friendly form of `OODDetector` for the model file: the large statistics as named Double
/// matrices (store them as tensors, ideally F64) and the small rest as a JSON string (metadata).
/// JSON Codable also works but writes the kNN bank and the Mahalanobis factor as text.
extension OODDetector {
    struct Meta: Codable {
        var configuration: Configuration
        var classCount: Int
        var featureCount: Int?
        var unavailable: [String: String]
        var kdeBandwidths: [String: GaussianKDE.Bandwidth]
        var mahalanobisRidge: Double?
        var knnK: Int?
        var vimAlpha: Double?
        var reactClip: Double?
        var reactPercentile: Double?
        var referenceCount: Int?
    }

    /// Arrays the model file may keep in single precision (the kNN bank is most of the file).
    public static let singlePrecisionArrays: Set<String> = ["knn.bank"]

    public func exportArrays() throws -> (arrays: [String: Matrix], metadata: String) {
        var a: [String: Matrix] = [:], bw: [String: GaussianKDE.Bandwidth] = [:]
        func put(_ key: String, _ kde: GaussianKDE) { a[key] = kde.dataset; bw[key] = kde.bandwidth }
        for (k, kde) in density.kdes.enumerated() { put("density.\(k)", kde) }
        for (k, kde) in (classDensity?.kdes ?? []).enumerated() { put("class-density.\(k)", kde) }
        if let j = jointDensity { put("joint-density", j.kde) }
        if let m = mahalanobis { a["mahalanobis.means"] = m.means; a["mahalanobis.cholesky"] = m.cholesky }
        if let k = knn { a["knn.bank"] = Matrix(uncheckedRows: k.count, cols: k.dimension, values: k.bank.map(Double.init)) }
        if let h = head { a["head.weight"] = h.weight; a["head.bias"] = Matrix(uncheckedRows: 1, cols: h.classes, values: h.bias) }
        if let v = vim { a["vim.origin"] = Matrix(uncheckedRows: 1, cols: v.dimension, values: v.origin); a["vim.basis"] = v.basis }
        let meta = Meta(configuration: configuration, classCount: classCount, featureCount: featureCount, unavailable: unavailable,
                        kdeBandwidths: bw, mahalanobisRidge: mahalanobis?.ridge, knnK: knn?.k, vimAlpha: vim?.alpha,
                        reactClip: react?.clip, reactPercentile: react?.percentileUsed, referenceCount: referenceCount)
        return (a, String(decoding: try JSONEncoder().encode(meta), as: UTF8.self))
    }

    public init(arrays: [String: Matrix], metadata: String) throws {
        let meta: Meta
        do { meta = try JSONDecoder().decode(Meta.self, from: Data(metadata.utf8)) } catch {
            throw RobustnessError.malformedModel("OOD metadata is not valid JSON (\(error))")
        }
        func need(_ key: String) throws -> Matrix {
            guard let m = arrays[key] else { throw RobustnessError.malformedModel("missing array '\(key)'") }
            return m
        }
        func kde(_ key: String) throws -> GaussianKDE? {
            guard let bw = meta.kdeBandwidths[key] else { return nil }
            return try GaussianKDE(dataset: need(key), bandwidth: bw)
        }
        let dens = try (0..<meta.classCount).map { k -> GaussianKDE in
            guard let d = try kde("density.\(k)") else { throw RobustnessError.malformedModel("missing density KDE \(k)") }
            return d
        }
        let cd = try (0..<meta.classCount).compactMap { try kde("class-density.\($0)") }
        var maha: MahalanobisScore?, knn: KNNScore?
        if let ridge = meta.mahalanobisRidge {
            let m = try need("mahalanobis.means"), l = try need("mahalanobis.cholesky")
            guard l.rows == l.cols, l.cols == m.cols, m.rows == meta.classCount else {
                throw RobustnessError.malformedModel("Mahalanobis factor \(l.rows)x\(l.cols) vs means \(m.rows)x\(m.cols)")
            }
            maha = MahalanobisScore(means: m, cholesky: l, whitenedMeans: forwardSubstituteRows(l, m), ridge: ridge)
        }
        if let k = meta.knnK {
            let b = try need("knn.bank")
            guard k >= 1, k <= b.rows else { throw RobustnessError.malformedModel("knn k = \(k) with \(b.rows) training features") }
            knn = KNNScore(k: k, dimension: b.cols, bank: b.values.map(Float.init))
        }
        var head: LinearMap?, vim: ViMScore?, react: ReActScore?
        if let w = arrays["head.weight"] {
            let b = try need("head.bias")
            guard b.rows == 1, b.cols == w.rows, w.rows == meta.classCount else {
                throw RobustnessError.malformedModel("head \(w.rows)x\(w.cols) with \(b.cols) biases for \(meta.classCount) classes")
            }
            head = try LinearMap(weight: w, bias: b.values)
        }
        if let alpha = meta.vimAlpha {
            let u = try need("vim.origin"), p = try need("vim.basis")
            guard u.rows == 1, p.rows == u.cols, p.cols < p.rows else {
                throw RobustnessError.malformedModel("ViM origin \(u.rows)x\(u.cols) vs basis \(p.rows)x\(p.cols)")
            }
            vim = ViMScore(origin: u.values, basis: p, alpha: alpha)
        }
        if let clip = meta.reactClip, let h = head { react = ReActScore(head: h, clip: clip, percentileUsed: meta.reactPercentile ?? 90) }
        self.init(configuration: meta.configuration, classCount: meta.classCount, featureCount: meta.featureCount,
                  density: LogitDensityScore(kdes: dens), classDensity: cd.count == meta.classCount ? ClassDensityScore(kdes: cd) : nil,
                  jointDensity: try kde("joint-density").map(JointDensityScore.init), mahalanobis: maha, knn: knn,
                  head: head, vim: vim, react: react, referenceCount: meta.referenceCount, unavailable: meta.unavailable)
    }
}
