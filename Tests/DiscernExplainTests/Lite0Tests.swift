import DiscernTestSupport
import Foundation
import XCTest
import DiscernEngine
import DiscernModels
import DiscernWeights
@testable import DiscernExplain

/// Level (c): EfficientNet-Lite0 with the real ImageNet weights on one real photo, Grad-CAM and
/// Grad-CAM++ at `_conv_head` and guided backprop vs PyTorch. Fails when the weights are absent.
final class Lite0Tests: XCTestCase {
    func testLite0GradCAMAndGuidedBackprop() throws {
        let url = try TestEnvironment.lite0Weights()
        let f = try Fixture("lite0_cat")
        let backbone = try Backbone.build(.efficientnetLite0, weights: WeightStore(try PyTorchCheckpoint.load(url)))
        let head = try XCTUnwrap(backbone.imagenetHead)
        XCTAssertEqual(backbone.defaultCAMLayer, "_conv_head")
        // (x/255 − 127/255) / (128/255), HWC → CHW
        let hwc = try f.t("image_hwc").data
        var x = [Float](repeating: 0, count: 3 * 224 * 224)
        let n = backbone.normalization
        for p in 0..<(224 * 224) {
            for c in 0..<3 { x[c * 224 * 224 + p] = (hwc[3 * p + c] / 255 - n.mean[c]) / n.std[c] }
        }
        let input = Tensor(shape: [1, 3, 224, 224], data: x)

        let cam = try CAMExplainer(backbone: backbone, head: head, method: .gradcam)
        let r = try cam.explain(input)
        XCTAssertEqual(r.classes, try f.ints("predicted"))
        assertClose(r.maps.feature, try f.t("gradcam.feature"), 1e-4, "Lite0 Grad-CAM feature")
        assertClose(r.maps.input, try f.t("gradcam.input"), 1e-4, "Lite0 Grad-CAM input")
        let pp = try CAMExplainer(backbone: backbone, head: head, method: .gradcamPlusPlus).explain(input)
        assertClose(pp.maps.feature, try f.t("gradcam++.feature"), 1e-4, "Lite0 Grad-CAM++ feature")

        let (g, _) = try cam.guidedBackprop(input)
        let scale = g.data.map(abs).max()!
        XCTAssertEqual(scale, try f.t("guided.scale").data[0], accuracy: 1e-4 * scale)
        var crop = [Float]()
        for c in 0..<3 {
            for y in 80..<144 { for xx in 80..<144 { crop.append(g.data[(c * 224 + y) * 224 + xx] / scale) } }
        }
        XCTAssertLessThanOrEqual(maxAbsDiff(crop, try f.t("guided.crop").data), 1e-4)
        let img = Overlay.deprocess(Overlay.hwc(g)).prefix(80 * 224 * 3).map { Int($0) }
        let exp = try f.t("guided.image_top").data.map { Int($0) }
        XCTAssertLessThanOrEqual(zip(img, exp).map { abs($0 - $1) }.max()!, 1)
    }
}
