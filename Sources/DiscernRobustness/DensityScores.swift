import Foundation

/// The study's score: mean over classes k of KDE_k(logit_k), KDE_k fitted on column k of the training logits.
/// With `seedVariant` it is the study notebook's version, which evaluated the class-0 KDE at every logit.
public struct LogitDensityScore: OODScore, Codable {
    public let kdes: [GaussianKDE]
    public let seedVariant: Bool

    public init(kdes: [GaussianKDE], seedVariant: Bool = false) {
        self.kdes = kdes
        self.seedVariant = seedVariant
    }

    /// One 1-D KDE per logit column of `trainLogits`.
    public static func fitKDEs(trainLogits: Matrix, bandwidth: GaussianKDE.Bandwidth = .scott) throws -> [GaussianKDE] {
        try (0..<trainLogits.cols).map { try GaussianKDE(trainLogits.column($0), bandwidth: bandwidth) }
    }

    public var kind: OODScoreKind { seedVariant ? .densitySeed : .density }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: kdes.count)
        var total = [Double](repeating: 0, count: logits.rows)
        for k in 0..<kdes.count {
            let v = try (seedVariant ? kdes[0] : kdes[k]).evaluate(logits.column(k))
            for i in total.indices { total[i] += v[i] }
        }
        return total.map { $0 / Double(kdes.count) }
    }
}

/// Density of the predicted class's logit under a 1-D KDE fitted on that logit over the training
/// images labelled with that class.
public struct ClassDensityScore: OODScore, Codable {
    public let kdes: [GaussianKDE]
    public init(kdes: [GaussianKDE]) { self.kdes = kdes }
    public var kind: OODScoreKind { .classDensity }

    public static func fit(trainLogits: Matrix, labels: [Int], bandwidth: GaussianKDE.Bandwidth = .scott) throws
        -> ClassDensityScore
    {
        let groups = try groupRows(labels: labels, classes: trainLogits.cols, rows: trainLogits.rows)
        return ClassDensityScore(kdes: try groups.enumerated().map { k, idx in
            try GaussianKDE(idx.map { trainLogits[$0, k] }, bandwidth: bandwidth)
        })
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: kdes.count)
        let pred = argmaxRows(logits)
        var out = [Double](repeating: 0, count: logits.rows)
        for k in 0..<kdes.count {
            let idx = pred.indices.filter { pred[$0] == k }
            if idx.isEmpty { continue }
            let v = try kdes[k].evaluate(idx.map { logits[$0, k] })
            for (j, i) in idx.enumerated() { out[i] = v[j] }
        }
        return out
    }
}

/// Multivariate KDE over the whole logit vector. The value is scipy's density; it is computed through
/// the log-density so that many classes don't overflow the intermediate sums.
public struct JointDensityScore: OODScore, Codable {
    public let kde: GaussianKDE
    public init(kde: GaussianKDE) { self.kde = kde }
    public var kind: OODScoreKind { .jointDensity }
    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: kde.dimension)
        return try kde.logEvaluate(logits).map { exp($0) }
    }
}

/// Row indices per class; throws if a label is out of range or a class has no rows.
func groupRows(labels: [Int], classes: Int, rows: Int) throws -> [[Int]] {
    guard labels.count == rows else {
        throw RobustnessError.shapeMismatch(
            what: "training labels", expected: "\(rows) labels", actual: "\(labels.count)")
    }
    var g = [[Int]](repeating: [], count: classes)
    for (i, l) in labels.enumerated() {
        guard l >= 0 && l < classes else {
            throw RobustnessError.invalidArgument("training label \(l) at row \(i) is outside 0..<\(classes)")
        }
        g[l].append(i)
    }
    if let empty = g.firstIndex(where: { $0.isEmpty }) {
        throw RobustnessError.invalidArgument("class \(empty) has no training samples")
    }
    return g
}
