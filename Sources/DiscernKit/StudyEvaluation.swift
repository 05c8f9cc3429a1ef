import Foundation
import DiscernEngine
import DiscernVision

/// The trained model on every image set of a run, and the seeded copies of the held-out images that the
/// calibration sees besides the images themselves.
struct StudyEvaluation {
    let train: LabelledSet
    /// Nil when no images were held out (`validationFraction` 0).
    let validation: LabelledSet?
    let test: LabelledSet
    let unknown: [EvaluatedSet]
    let shifted: [LabelledSet]
    let copies: CalibrationCopies
    let seconds: Double

    /// Images that could not be decoded, in every set.
    var skipped: [SkippedImage] {
        let labelled = [train, test] + shifted + (validation.map { [$0] } ?? [])
        return (labelled.map(\.images) + unknown).flatMap(\.features.skipped)
    }

    /// Evaluation time per test, validation and unknown image: the cost of one forward, for the explanations' cost.
    var secondsPerImage: Double {
        let images = test.features.count + (validation?.features.count ?? 0)
            + unknown.reduce(0) { $0 + $1.features.count }
        return seconds / Double(max(1, images))
    }
}

/// Seeded copies of the held-out images that the calibration sees besides the images themselves.
struct CalibrationCopies {
    /// `PhotoShift.Kind.everyday` copies: photos of the trained classes as they arrive from elsewhere (both questions).
    let shifted: EvaluatedSet?
    /// Thumbnail copies: hard low-resolution cases (the unsure question only).
    let thumbnails: EvaluatedSet?
    /// Detail copies: enlarged close-ups that show no whole object, proxy unknowns for choosing the unknown score.
    let details: EvaluatedSet?
}

extension Study {
    /// Every set of the run through the trained network, in the order the cache names them.
    func evaluate(_ data: StudyData, trained: TrainedHead) throws -> StudyEvaluation {
        let start = Date()
        func labelled(_ name: String, _ samples: [ImageFolder.Sample]) throws -> LabelledSet {
            try LabelledSet(try trained.evaluate(samples, name: name), classes: data.classes)
        }
        let train = try LabelledSet(try trained.evaluate(trained.trainFeatures, name: "train"), classes: data.classes)
        let validation = data.validation.isEmpty ? nil : try labelled("validation", data.validation)
        let test = try labelled("test", data.test)
        let unknown = try data.unknown.map { try trained.evaluate($0.samples, name: $0.name) }
        let shifted = try data.shifted.map { try labelled("shifted-" + $0.name, $0.samples) }
        let copies = try calibrationCopies(data, trained: trained)
        return StudyEvaluation(train: train, validation: validation, test: test, unknown: unknown, shifted: shifted,
                               copies: copies, seconds: Date().timeIntervalSince(start))
    }

    /// `shiftCopies` everyday-shift copies, `thumbnailCopies` thumbnail copies and `detailCopies` detail copies of
    /// every held-out image, labelled.
    /// Nil sets without a validation split or with 0 copies.
    func calibrationCopies(_ data: StudyData, trained: TrainedHead) throws -> CalibrationCopies {
        func copies(_ view: FeatureView, _ count: Int, _ what: String, _ name: String) throws -> EvaluatedSet? {
            guard !data.validation.isEmpty, count > 0 else { return nil }
            let seed = options.seed ^ Study.shiftSeed
            let sets = try (0..<count).map { copy in
                try trained.network.extractor.extract(data.validation, transform: view, view: copy, seed: seed,
                                                      title: "\(what) held-out copies \(copy + 1)/\(count)",
                                                      cache: trained.network.cache, name: "\(name)\(copy)",
                                                      weights: trained.cacheIdentity)
            }
            let features = FeatureSet(features: Tensor.concatBatch(sets.map(\.features)),
                                      labels: sets.flatMap(\.labels), paths: sets.flatMap(\.paths), skipped: [],
                                      sourceSizes: sets.flatMap(\.sourceSizes))
            return try trained.evaluate(features, name: "\(what) validation")
        }
        return CalibrationCopies(
            shifted: try copies(.shifted, options.shiftCopies, "shifted", "shifted-validation"),
            thumbnails: try copies(.thumbnail, options.thumbnailCopies, "thumbnail", "thumbnail-validation"),
            details: try copies(.detail, options.detailCopies, "detail", "detail-validation"))
    }
}
