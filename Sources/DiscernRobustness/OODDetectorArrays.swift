import Foundation

/// A binary-friendly form of `OODDetector` for the model file: the large statistics as named Double
/// matrices (store them as tensors, ideally F64) and the small rest as a JSON string (metadata).
/// JSON Codable also works but writes the kNN bank and the Mahalanobis factor as text.
extension OODDetector {
    struct Meta: Codable {
        var configuration: Configuration
        var classCount: Int
        var featureCount: Int?
        /// By score name; a name this version does not know is dropped on reading.
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
        var arrays: [String: Matrix] = [:]
        var bandwidths: [String: GaussianKDE.Bandwidth] = [:]
        func put(_ key: String, _ kde: GaussianKDE) {
            arrays[key] = kde.dataset
            bandwidths[key] = kde.bandwidth
        }
        for (index, kde) in density.kdes.enumerated() { put("density.\(index)", kde) }
        for (index, kde) in (classDensity?.kdes ?? []).enumerated() { put("class-density.\(index)", kde) }
        if let jointDensity { put("joint-density", jointDensity.kde) }
        if let mahalanobis {
            arrays["mahalanobis.means"] = mahalanobis.means
            arrays["mahalanobis.cholesky"] = mahalanobis.cholesky
        }
        if let knn {
            arrays["knn.bank"] = Matrix(
                uncheckedRows: knn.count, cols: knn.dimension, values: knn.bank.map(Double.init))
        }
        if let head {
            arrays["head.weight"] = head.weight
            arrays["head.bias"] = Matrix(uncheckedRows: 1, cols: head.classes, values: head.bias)
        }
        if let vim {
            arrays["vim.origin"] = Matrix(uncheckedRows: 1, cols: vim.dimension, values: vim.origin)
            arrays["vim.basis"] = vim.basis
        }
        let meta = Meta(configuration: configuration, classCount: classCount, featureCount: featureCount,
                        unavailable: Dictionary(uniqueKeysWithValues: unavailable.map { ($0.key.rawValue, $0.value) }),
                        kdeBandwidths: bandwidths, mahalanobisRidge: mahalanobis?.ridge,
                        knnK: knn?.k, vimAlpha: vim?.alpha, reactClip: react?.clip,
                        reactPercentile: react?.percentileUsed, referenceCount: referenceCount)
        return (arrays, String(decoding: try JSONEncoder().encode(meta), as: UTF8.self))
    }

    public init(arrays: [String: Matrix], metadata: String) throws {
        let meta: Meta
        do {
            meta = try JSONDecoder().decode(Meta.self, from: Data(metadata.utf8))
        } catch {
            throw RobustnessError.malformedModel("OOD metadata is not valid JSON (\(error))")
        }
        func need(_ key: String) throws -> Matrix {
            guard let array = arrays[key] else { throw RobustnessError.malformedModel("missing array '\(key)'") }
            return array
        }
        func kde(_ key: String) throws -> GaussianKDE? {
            guard let bandwidth = meta.kdeBandwidths[key] else { return nil }
            return try GaussianKDE(dataset: need(key), bandwidth: bandwidth)
        }
        let densities = try (0..<meta.classCount).map { index -> GaussianKDE in
            guard let density = try kde("density.\(index)") else {
                throw RobustnessError.malformedModel("missing density KDE \(index)")
            }
            return density
        }
        let classDensities = try (0..<meta.classCount).compactMap { try kde("class-density.\($0)") }
        var mahalanobis: MahalanobisScore?
        var knn: KNNScore?
        if let ridge = meta.mahalanobisRidge {
            let means = try need("mahalanobis.means")
            let factor = try need("mahalanobis.cholesky")
            guard factor.rows == factor.cols, factor.cols == means.cols, means.rows == meta.classCount else {
                throw RobustnessError.malformedModel("Mahalanobis factor \(factor.rows)x\(factor.cols) vs means "
                                                     + "\(means.rows)x\(means.cols)")
            }
            mahalanobis = MahalanobisScore(means: means, cholesky: factor,
                                           whitenedMeans: forwardSubstituteRows(factor, means), ridge: ridge)
        }
        if let neighbours = meta.knnK {
            let bank = try need("knn.bank")
            guard neighbours >= 1, neighbours <= bank.rows else {
                throw RobustnessError.malformedModel("knn k = \(neighbours) with \(bank.rows) training features")
            }
            knn = KNNScore(k: neighbours, dimension: bank.cols, bank: bank.values.map(Float.init))
        }
        var head: LinearMap?
        var vim: ViMScore?
        var react: ReActScore?
        if let weight = arrays["head.weight"] {
            let bias = try need("head.bias")
            guard bias.rows == 1, bias.cols == weight.rows, weight.rows == meta.classCount else {
                throw RobustnessError.malformedModel("head \(weight.rows)x\(weight.cols) with \(bias.cols) biases for "
                                                     + "\(meta.classCount) classes")
            }
            head = try LinearMap(weight: weight, bias: bias.values)
        }
        if let alpha = meta.vimAlpha {
            let origin = try need("vim.origin")
            let basis = try need("vim.basis")
            guard origin.rows == 1, basis.rows == origin.cols, basis.cols < basis.rows else {
                throw RobustnessError.malformedModel("ViM origin \(origin.rows)x\(origin.cols) vs basis "
                                                     + "\(basis.rows)x\(basis.cols)")
            }
            vim = ViMScore(origin: origin.values, basis: basis, alpha: alpha)
        }
        if let clip = meta.reactClip, let head {
            react = ReActScore(head: head, clip: clip, percentileUsed: meta.reactPercentile ?? 90)
        }
        let classDensity = classDensities.count == meta.classCount ? ClassDensityScore(kdes: classDensities) : nil
        self.init(
            configuration: meta.configuration, classCount: meta.classCount, featureCount: meta.featureCount,
            density: LogitDensityScore(kdes: densities), classDensity: classDensity,
            jointDensity: try kde("joint-density").map(JointDensityScore.init), mahalanobis: mahalanobis, knn: knn,
            head: head, vim: vim, react: react, referenceCount: meta.referenceCount,
            unavailable: Dictionary(uniqueKeysWithValues: meta.unavailable.compactMap { name, why in
                OODScoreKind(rawValue: name).map { ($0, why) }
            }))
    }
}
