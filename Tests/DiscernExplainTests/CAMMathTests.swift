import XCTest
import DiscernEngine
@testable import DiscernExplain

/// Level (a): each method's formula on random activations/gradients vs the numpy re-implementation
/// of pytorch-grad-cam, including ReLU, min-max, cv2-style resize and the second min-max.
final class CAMMathTests: XCTestCase {
    let formulaMethods: [CAMMethod] = [.gradcam, .gradcamPlusPlus, .hirescam, .xgradcam, .layercam, .eigencam]

    func checkFormulas(_ name: String) throws {
        let f = try Fixture(name)
        let a = try f.t("activations"), g = try f.t("gradients")
        let H = f.meta("H"), W = f.meta("W")
        for m in formulaMethods {
            let raw = try m.formula!.rawCAM(activations: a, gradients: g)
            let expRaw = try f.t("\(m.rawValue).raw")
            // Raw maps are sums of many products; compare relative to their scale.
            let scale = max(expRaw.data.map(abs).max() ?? 1, 1e-6)
            assertClose(raw, expRaw, 2e-5 * scale, "\(name) \(m.rawValue) raw")
            let maps = CAMImage.postprocess(raw: raw, height: H, width: W)
            assertClose(maps.feature, try f.t("\(m.rawValue).feature"), 1e-4, "\(name) \(m.rawValue) feature")
            assertClose(maps.input, try f.t("\(m.rawValue).input"), 1e-4, "\(name) \(m.rawValue) input")
        }
    }

    func testFormulasFewChannels() throws { try checkFormulas("math_small_c") }
    func testFormulasManyChannels() throws { try checkFormulas("math_large_c") }

    func testScoreCAMWithLinearModel() throws {
        for name in ["math_small_c", "math_large_c"] {
            let f = try Fixture(name)
            let a = try f.t("activations"), x = try f.t("scorecam.x"), lin = try f.t("scorecam.linear")
            let targets = try f.ints("scorecam.targets")
            var calls = 0
            let raw = try ScoreCAM(batchSize: 16).rawCAM(input: x, activations: a, targets: targets) { b in
                calls += 1
                let n = b.shape[0], k = lin.shape[1], classes = lin.shape[0]
                var out = [Float](repeating: 0, count: n * classes)
                for i in 0..<n { for c in 0..<classes {
                    var s: Float = 0
                    for j in 0..<k { s += b.data[i * k + j] * lin.data[c * k + j] }
                    out[i * classes + c] = s
                } }
                return Tensor(shape: [n, classes], data: out)
            }
            let c = a.shape[1]
            XCTAssertEqual(calls, a.shape[0] * ((c + 15) / 16), "masked inputs go in batches of 16")
            let expRaw = try f.t("scorecam.raw")
            assertClose(raw, expRaw, 2e-5 * max(expRaw.data.map(abs).max() ?? 1, 1e-6), "\(name) scorecam raw")
            let maps = CAMImage.postprocess(raw: raw, height: f.meta("H"), width: f.meta("W"))
            assertClose(maps.input, try f.t("scorecam.input"), 1e-4, "\(name) scorecam input")
        }
    }

    func testDeprocessAndGuidedCAMImages() throws {
        let f = try Fixture("math_small_c")
        let gb = try f.t("image.guided_raw"), mask = try f.t("image.mask")
        let expected = try f.t("image.deprocessed").data.map { Int($0) }
        let got = Overlay.deprocess(gb.data).map { Int($0) }
        // uint8 truncation can flip a value sitting on an integer boundary by one level.
        XCTAssertLessThanOrEqual(zip(got, expected).map { abs($0 - $1) }.max()!, 1)
        XCTAssertGreaterThan(zip(got, expected).filter { $0 == $1 }.count, expected.count * 99 / 100)
        let guided = Overlay.deprocess(Overlay.guidedCAM(guidedHWC: gb.data, cam: mask)).map { Int($0) }
        let expG = try f.t("image.guided_cam").data.map { Int($0) }
        XCTAssertLessThanOrEqual(zip(guided, expG).map { abs($0 - $1) }.max()!, 1)
    }

    func testMethodNamesAndErrors() throws {
        XCTAssertEqual(CAMMethod(name: "Grad-CAM++"), .gradcamPlusPlus)
        XCTAssertEqual(CAMMethod(name: "gradcampp"), .gradcamPlusPlus)
        XCTAssertEqual(CAMMethod(name: "EigenCAM"), .eigencam)
        XCTAssertNil(CAMMethod(name: "nonsense"))
        XCTAssertEqual(try CAMTarget.named("Dogs", classes: ["cats", "dogs"]), .index(1))
        XCTAssertEqual(try CAMTarget.named("0", classes: ["cats", "dogs"]), .index(0))
        XCTAssertThrowsError(try CAMTarget.named("birds", classes: ["cats", "dogs"])) { e in
            XCTAssertEqual("\(e)", "unknown class 'birds' (classes: cats, dogs)")
        }
        XCTAssertThrowsError(try CAMTarget.named("7", classes: ["cats", "dogs"]))
        let a = Tensor(zeros: [1, 2, 3, 3])
        XCTAssertThrowsError(try GradCAM().rawCAM(activations: a, gradients: nil))
        XCTAssertThrowsError(try GradCAM().rawCAM(activations: a, gradients: Tensor(zeros: [1, 2, 3, 4])))
        XCTAssertThrowsError(try GradCAM().rawCAM(activations: Tensor(zeros: [2, 3]), gradients: nil))
        // An all-zero map normalises to zeros, not NaN (scale_cam_image's 1e-7).
        let maps = CAMImage.postprocess(raw: Tensor(zeros: [1, 3, 3]), height: 6, width: 6)
        XCTAssertEqual(maps.input.data, [Float](repeating: 0, count: 36))
    }
}
