import XCTest
@testable import DiscernRobustness

final class ScoreTests: XCTestCase {
    /// The scores scores.safetensors holds (the newer ones are checked in NewDetectorTests).
    static let nine: [OODScoreKind] = [
        .density, .densitySeed, .classDensity, .jointDensity, .msp, .maxlogit, .energy, .mahalanobis, .knn
    ]
    /// Without the head, every score but the four that re-run it.
    static let headless = OODScoreKind.allCases.filter { ![.vim, .react, .scale, .ash].contains($0) }

    struct Data {
        let trainLogits, trainFeatures, queryLogits, queryFeatures: Matrix
        let labels: [Int]
        let fx: Fixture
    }

    func load() throws -> Data {
        let fx = try Fixture("scores.safetensors")
        let q = fx.get("query_logits").count / 3
        return Data(trainLogits: try Matrix(rows: 300, cols: 3, values: fx.get("train_logits")),
                    trainFeatures: try Matrix(rows: 300, cols: 16, values: fx.get("train_features")),
                    queryLogits: try Matrix(rows: q, cols: 3, values: fx.get("query_logits")),
                    queryFeatures: try Matrix(rows: q, cols: 16, values: fx.get("query_features")),
                    labels: fx.get("train_labels").map { Int($0) }, fx: fx)
    }

    func testEveryScoreMatchesTheNumpyReference() throws {
        let d = try load()
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures)
        XCTAssertEqual(det.available(), ScoreTests.headless)
        let tol: [OODScoreKind: Double] = [.knn: 1e-5, .mahalanobis: 1e-7]    // knn bank is Float
        for kind in ScoreTests.nine {
            let got = try det.scores(kind, logits: d.queryLogits, features: d.queryFeatures)
            assertClose(
                got, d.fx.get("score.\(kind.rawValue)"), rel: tol[kind] ?? 1e-6, abs: kind == .knn ? 1e-6 : 0,
                kind.rawValue)
        }
        let k3 = try KNNScore.fit(features: d.trainFeatures, k: 3)
        assertClose(
            try k3.score(logits: d.queryLogits, features: d.queryFeatures), d.fx.get("score.knn.k3"), rel: 1e-5,
            abs: 1e-6, "knn k=3")
    }

    func testDetectorSurvivesJSONRoundTrip() throws {
        let d = try load()
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures,
                                      configuration: .init(bandwidth: .silverman, knnK: 5))
        let back = try JSONDecoder().decode(OODDetector.self, from: JSONEncoder().encode(det))
        XCTAssertEqual(back.configuration, det.configuration)
        let a = try det.allScores(logits: d.queryLogits, features: d.queryFeatures)
        let b = try back.allScores(logits: d.queryLogits, features: d.queryFeatures)
        XCTAssertEqual(a.keys.map(\.rawValue).sorted(), ScoreTests.headless.map(\.rawValue).sorted())
        for (k, v) in a { assertClose(b[k]!, v, rel: 1e-12, abs: 1e-300, "round trip \(k)") }
    }

    func testInDistributionScoresHigherThanOOD() throws {
        // Sanity on the synthetic data: the feature scores separate the OOD cloud.
        let d = try load()
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures)
        let isIn = d.fx.get("query_is_in").map { $0 == 1 }
        for kind in [OODScoreKind.mahalanobis, .knn] {
            let s = try det.scores(kind, logits: d.queryLogits, features: d.queryFeatures)
            XCTAssertGreaterThan(try OODMetrics.auroc(labels: isIn, scores: s), 0.9, kind.rawValue)
        }
    }

    func testErrorsAreTypedAndReadable() throws {
        let d = try load()
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels)
        XCTAssertThrowsError(try det.scores(.knn, logits: d.queryLogits)) {
            XCTAssertTrue("\($0)".contains("knn"), "\($0)")
        }
        let fitted = try OODDetector.fit(
            trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures)
        XCTAssertThrowsError(try fitted.scores(.mahalanobis, logits: d.queryLogits, features: d.trainFeatures)) {
            XCTAssertEqual(
                $0 as? RobustnessError,
                .shapeMismatch(what: "mahalanobis features", expected: "135x16", actual: "300x16"))
        }
        XCTAssertThrowsError(try OODScoreKind(name: "bogus")) {
            XCTAssertTrue("\($0)".contains("unknown OOD score 'bogus'"))
        }
        XCTAssertThrowsError(try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: Array(d.labels.dropLast())))
        var bad = d.labels
        bad[0] = 7
        XCTAssertThrowsError(try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: bad)) {
            XCTAssertEqual("\($0)", "training label 7 at row 0 is outside 0..<3")
        }
        XCTAssertThrowsError(try KNNScore.fit(features: d.trainFeatures, k: 301))
    }

    /// Collinear logits (a 2-class head often gives l1 ≈ −l0) make the joint KDE singular: it is
    /// reported as unavailable instead of failing the whole fit.
    func testSingularJointDensityIsUnavailableNotFatal() throws {
        let l0: [Double] = (0..<50).map { sin(Double($0)) * 3 }
        let logits = try Matrix(l0.map { [$0, -$0] })
        let labels = l0.map { $0 > 0 ? 0 : 1 }
        let det = try OODDetector.fit(trainLogits: logits, trainLabels: labels)
        XCTAssertNil(det.jointDensity)
        XCTAssertNotNil(det.unavailable[.jointDensity])
        XCTAssertFalse(det.available().contains(.jointDensity))
        XCTAssertThrowsError(try det.scores(.jointDensity, logits: logits))
    }
}

extension ScoreTests {
    func testArrayExportRoundTrip() throws {
        let d = try load()
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures)
        let (arrays, meta) = try det.exportArrays()
        XCTAssertEqual(arrays["mahalanobis.cholesky"]?.rows, 16)
        XCTAssertEqual(arrays["knn.bank"]?.rows, 300)
        let back = try OODDetector(arrays: arrays, metadata: meta)
        let a = try det.allScores(logits: d.queryLogits, features: d.queryFeatures)
        let b = try back.allScores(logits: d.queryLogits, features: d.queryFeatures)
        XCTAssertEqual(a, b)
        var missing = arrays
        missing["knn.bank"] = nil
        XCTAssertThrowsError(try OODDetector(arrays: missing, metadata: meta)) {
            XCTAssertEqual("\($0)", "malformed OOD model: missing array 'knn.bank'")
        }
        XCTAssertThrowsError(try OODDetector(arrays: arrays, metadata: "{"))
    }
}

extension ScoreTests {
    /// The calibration step picks the score whose (numpy reference) values let the fewest proxy rows through the
    /// threshold accepting 95% of the validation set (ties: the higher AUROC, then the earlier score), and that
    /// threshold is its own.
    func testCalibrateDefaultPicksFewestPassingProxies() throws {
        let d = try load()
        let isIn = d.fx.get("query_is_in").map { $0 == 1 }
        let inRows = isIn.indices.filter { isIn[$0] }, outRows = isIn.indices.filter { !isIn[$0] }
        let det = try OODDetector.fit(trainLogits: d.trainLogits, trainLabels: d.labels, trainFeatures: d.trainFeatures)
        let (choice, thr) = try det.calibrateDefault(
            validationLogits: d.queryLogits.selectingRows(inRows),
            validationFeatures: d.queryFeatures.selectingRows(inRows),
            proxyLogits: d.queryLogits.selectingRows(outRows), proxyFeatures: d.queryFeatures.selectingRows(outRows),
            candidates: ScoreTests.nine)
        var best = (kind: OODScoreKind.density, passing: 2.0, auroc: -1.0)
        for k in OODScoreKind.allCases where ScoreTests.nine.contains(k) {
            let ref = d.fx.get("score.\(k.rawValue)")
            let a = try OODMetrics.auroc(labels: isIn, scores: ref)
            let inRef = inRows.map { ref[$0] }.sorted(by: >)
            let threshold = inRef[Int((0.95 * Double(inRows.count)).rounded(.up)) - 1]        // 86th of 90
            let passing = Double(outRows.filter { ref[$0] >= threshold }.count) / Double(outRows.count)
            XCTAssertEqual(choice.table[k]!.auroc, a, accuracy: 1e-9, k.rawValue)
            XCTAssertEqual(choice.table[k]!.passing, passing, accuracy: 1e-9, k.rawValue)
            if passing < best.passing - 1e-12 || (abs(passing - best.passing) < 1e-12 && a > best.auroc + 1e-12) {
                best = (k, passing, a)
            }
        }
        XCTAssertEqual(choice.score, best.kind)
        XCTAssertEqual(thr.score, best.kind)
        let ref = inRows.map { d.fx.get("score.\(best.kind.rawValue)")[$0] }
        let kth = ref.sorted(by: >)[Int((0.95 * Double(inRows.count)).rounded(.up)) - 1]     // 86th of 90
        XCTAssertEqual(thr.value, kth, accuracy: 1e-5 * abs(kth))
    }
}
