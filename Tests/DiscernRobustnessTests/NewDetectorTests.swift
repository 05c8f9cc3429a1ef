import XCTest
@testable import DiscernRobustness

/// ViM, ReAct, SCALE, ASH-S and GEN against numpy written from each paper's formula
/// (tools/make_robustness_fixtures.py, detectors.safetensors).
final class NewDetectorTests: XCTestCase {
    struct Data {
        let train, query, queryLogits: Matrix
        let labels: [Int]
        let head: LinearMap
        let fx: Fixture
    }

    func load() throws -> Data {
        let fx = try Fixture("detectors.safetensors")
        let d = 24, c = 3
        let q = fx.get("query_features").count / d
        return Data(
            train: try Matrix(rows: 400, cols: d, values: fx.get("train_features")),
            query: try Matrix(rows: q, cols: d, values: fx.get("query_features")),
            queryLogits: try Matrix(rows: q, cols: c, values: fx.get("query_logits")),
            labels: fx.get("train_labels").map { Int($0) },
            head: try LinearMap(
                weight: try Matrix(rows: c, cols: d, values: fx.get("head_weight")), bias: fx.get("head_bias")),
            fx: fx)
    }

    func testHeadLogitsMatchNumpy() throws {
        let d = try load()
        assertClose(d.head.logits(d.query).values, d.queryLogits.values, rel: 1e-12, abs: 1e-12, "head logits")
    }

    func testViMMatchesThePaper() throws {
        let d = try load()
        let vim = try ViMScore.fit(features: d.train, head: d.head, principal: Int(d.fx.scalar("vim.principal")))
        XCTAssertEqual(vim.alpha, d.fx.scalar("vim.alpha"), accuracy: 1e-9 * d.fx.scalar("vim.alpha"))
        assertClose(
            try vim.score(logits: d.queryLogits, features: d.query), d.fx.get("score.vim"), rel: 1e-8, abs: 1e-8, "vim")
    }

    func testReActMatchesThePaper() throws {
        let d = try load()
        let react = try ReActScore.fit(features: d.train, head: d.head, percentile: 90)
        XCTAssertEqual(react.clip, d.fx.scalar("react.clip"), accuracy: 1e-12)
        assertClose(
            try react.score(logits: d.queryLogits, features: d.query), d.fx.get("score.react"), rel: 1e-10, "react")
    }

    func testActivationShapingMatchesThePapers() throws {
        let d = try load()
        for (method, p, key) in [(ActivationShapingScore.Method.scale, 85.0, "score.scale"), (.ashS, 85, "score.ash-s"),
                                 (.scale, 65, "score.scale.p65")] {
            let s = try ActivationShapingScore(head: d.head, method: method, percentile: p)
            assertClose(try s.score(logits: d.queryLogits, features: d.query), d.fx.get(key), rel: 1e-10, key)
        }
    }

    func testGENMatchesThePaper() throws {
        let d = try load()
        assertClose(
            try GENScore().score(logits: d.queryLogits, features: nil), d.fx.get("score.gen"), rel: 1e-12, "gen")
        let many = try Matrix(rows: 20, cols: 130, values: d.fx.get("gen.many_logits"))
        assertClose(
            try GENScore().score(logits: many, features: nil), d.fx.get("score.gen.many"), rel: 1e-12,
            "gen, top 100 of 130")
    }

    func testDetectorFitsAndStoresTheNewScores() throws {
        let d = try load()
        let logits = d.head.logits(d.train)
        let det = try OODDetector.fit(trainLogits: logits, trainLabels: d.labels, trainFeatures: d.train, head: d.head,
                                      configuration: .init(vimPrincipal: 12))
        XCTAssertEqual(Set(det.available()), Set(OODScoreKind.allCases))
        for kind in [OODScoreKind.vim, .react, .scale, .ash, .gen] {
            assertClose(
                try det.scores(kind, logits: d.queryLogits, features: d.query), d.fx.get("score.\(kind.rawValue)"),
                rel: 1e-8, abs: 1e-8, kind.rawValue)
        }
        let (arrays, meta) = try det.exportArrays()
        let back = try OODDetector(arrays: arrays, metadata: meta)
        XCTAssertEqual(try back.allScores(logits: d.queryLogits, features: d.query),
                       try det.allScores(logits: d.queryLogits, features: d.query))
        let headless = try OODDetector.fit(trainLogits: logits, trainLabels: d.labels, trainFeatures: d.train)
        XCTAssertThrowsError(try headless.scores(.vim, logits: d.queryLogits, features: d.query)) {
            XCTAssertEqual("\($0)", "score 'vim' is not available: no head given")
        }
    }

    func testRiskThresholdMatchesNumpy() throws {
        let d = try load()
        let scores = d.fx.get("risk.scores"), correct = d.fx.get("risk.correct").map { $0 == 1 }
        for r in [0.01, 0.05, 0.1] {
            let t = try Selective.threshold(correct: correct, scores: scores, maxRisk: r)
            XCTAssertEqual(t, d.fx.scalar("risk.threshold.\(r)"), "risk \(r)")
        }
        XCTAssertEqual(try Selective.threshold(correct: [false, true], scores: [2, 1], maxRisk: 0.01), .infinity)
    }
}
