import XCTest
import DiscernEngine
@testable import DiscernExplain

/// Level (b): the whole base (AutogradExecutor forward/backward, head, method, resize, normalise) on the
/// fixture's TinyResNet against PyTorch autograd hooks + pytorch-grad-cam's formulas.
final class EndToEndTests: XCTestCase {
    func setup() throws -> (Fixture, Graph, LinearParams, Tensor) {
        let f = try Fixture("tiny_resnet")
        let (g, head) = try TinyResNet.build(f)
        return (f, g, head, try f.t("x"))
    }

    func testGradientMethodsPredictedClass() throws {
        let (f, g, head, x) = try setup()
        for m in [CAMMethod.gradcam, .gradcamPlusPlus, .hirescam, .xgradcam, .layercam, .eigencam] {
            let r = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: m).explain(x)
            XCTAssertEqual(r.classes, try f.ints("predicted"), m.rawValue)
            assertClose(r.logits, try f.t("logits"), 1e-4, "logits")
            assertClose(r.maps.feature, try f.t("pred.\(m.rawValue).feature"), 1e-4, "\(m.rawValue) feature")
            assertClose(r.maps.input, try f.t("pred.\(m.rawValue).input"), 1e-4, "\(m.rawValue) input")
        }
    }

    func testGivenClass() throws {
        let (f, g, head, x) = try setup()
        let given = try f.ints("given")
        for m in [CAMMethod.gradcam, .gradcamPlusPlus] {
            let r = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: m).explain(
                x, target: .indices(given))
            XCTAssertEqual(r.classes, given)
            assertClose(r.maps.input, try f.t("given.\(m.rawValue).input"), 1e-4, "given \(m.rawValue)")
        }
        XCTAssertThrowsError(try CAMExplainer(graph: g, head: head, layer: "layer2.1").explain(x, target: .index(3)))
        XCTAssertThrowsError(try CAMExplainer(graph: g, head: head, layer: "layer9.9"))
    }

    func testScoreCAM() throws {
        let (f, g, head, x) = try setup()
        // By default the masked inputs run on a fused session; the reference path runs them on the AutogradExecutor.
        let fused = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: .scorecam)
        assertClose(try fused.explain(x).maps.input, try f.t("pred.scorecam.input"), 1e-4, "scorecam")
        XCTAssertNotNil(fused.scoringSession, "Score-CAM's masked forwards ran on the fused session")
        let reference = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: .scorecam)
        reference.useFastPath = false
        assertClose(try reference.explain(x).maps.input, try f.t("pred.scorecam.input"), 1e-4, "scorecam, executor")
        XCTAssertNil(reference.scoringSession)
        // An injected scoring forward is used for the masked inputs (32 channels → 2 batches of 16 per image).
        let other = AutogradExecutor(graph: g)
        var calls = 0
        let ex = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: .scorecam)
        ex.scoringForward = {
            calls += 1
            return try other.forward($0).output
        }
        ex.scoreCAMBatchSize = 16
        assertClose(try ex.explain(x).maps.input, try f.t("pred.scorecam.input"), 1e-4, "scorecam, injected forward")
        XCTAssertEqual(calls, 4)
    }

    func testGuidedBackpropAndGuidedGradCAM() throws {
        let (f, g, head, x) = try setup()
        let ex = try CAMExplainer(graph: g, head: head, layer: "layer2.1")
        let (grad, classes) = try ex.guidedBackprop(x)
        XCTAssertEqual(classes, try f.ints("predicted"))
        let expected = try f.t("guided.input_grad")
        // Normalised by the reference's largest magnitude per image, as the maps are compared.
        let per = expected.count / 2
        for i in 0..<2 {
            let e = Array(expected.data[i * per ..< (i + 1) * per]), got = Array(grad.data[i * per ..< (i + 1) * per])
            let scale = e.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            XCTAssertLessThanOrEqual(maxAbsDiff(got.map { $0 / scale }, e.map { $0 / scale }), 1e-4, "guided \(i)")
            let hwc = Overlay.hwc(grad.item(i))
            let img = Overlay.deprocess(hwc).map { Int($0) }
            let expImg = try f.t("guided.\(i).image").data.map { Int($0) }
            XCTAssertLessThanOrEqual(zip(img, expImg).map { abs($0 - $1) }.max()!, 1, "guided image \(i)")
            let cam = try ex.explain(x).maps.input.item(i)
            let gc = Overlay.deprocess(Overlay.guidedCAM(guidedHWC: hwc, cam: cam)).map { Int($0) }
            let expGC = try f.t("guided.\(i).gradcam").data.map { Int($0) }
            XCTAssertLessThanOrEqual(zip(gc, expGC).map { abs($0 - $1) }.max()!, 1, "guided Grad-CAM \(i)")
        }
    }

    func testOneForwardForCAMAndGuided() throws {
        let (f, g, head, x) = try setup()
        for m in [CAMMethod.gradcam, .scorecam, .eigencam] {
            let (r, guided) = try CAMExplainer(graph: g, head: head, layer: "layer2.1", method: m).explainWithGuided(x)
            assertClose(r.maps.input, try f.t("pred.\(m.rawValue).input"), 1e-4, "combined \(m.rawValue)")
            let e = try f.t("guided.input_grad")
            let scale = e.data.map(abs).max()!
            XCTAssertLessThanOrEqual(maxAbsDiff(guided.data.map { $0 / scale }, e.data.map { $0 / scale }), 1e-4)
        }
    }
}
