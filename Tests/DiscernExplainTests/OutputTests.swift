import Foundation
import XCTest
import DiscernEngine
@testable import DiscernExplain

/// Overlays against OpenCV + pytorch-grad-cam's show_cam_on_image, .npy bytes against numpy.save,
/// attention areas against hand-countable maps.
final class OutputTests: XCTestCase {
    func fixtureURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/explain/\(name)").standardized
    }

    func testJetMatchesOpenCVWithinOneLevel() throws {
        let lut = try Fixture("cv2_overlay").t("jet").data.map { Int($0) }
        var worst = 0
        for v in 0..<256 {
            let c = Overlay.jet(UInt8(v))
            worst = max(
                worst, abs(Int(c.r) - lut[3 * v]), abs(Int(c.g) - lut[3 * v + 1]), abs(Int(c.b) - lut[3 * v + 2]))
        }
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func testShowCamOnImage() throws {
        let f = try Fixture("cv2_overlay")
        let mask = try f.t("mask"), img = try f.t("image").data.map { UInt8($0) }
        for w: Float in [0.5, 0.3] {
            let expected = try f.t("overlay.\(w == 0.5 ? "0.5" : "0.3")").data.map { Int($0) }
            let got = try Overlay.camOnImage(image: img, mask: mask, imageWeight: w).map { Int($0) }
            XCTAssertEqual(got.count, expected.count)
            // one jet level of difference moves the blend by at most one level, plus truncation
            XCTAssertLessThanOrEqual(zip(got, expected).map { abs($0 - $1) }.max()!, 2, "weight \(w)")
        }
        XCTAssertThrowsError(try Overlay.camOnImage(image: [0, 0, 0], mask: mask))
    }

    func testNPYBytesEqualNumpySave() throws {
        for name in ["numpy_1d", "numpy_2d", "numpy_3d"] {
            let data = try Data(contentsOf: fixtureURL("\(name).npy"))
            let t = try NPY.decode(data, name: name)
            XCTAssertEqual(NPY.encode(t), data, name)
        }
        let m = try Fixture("cv2_overlay").t("mask")
        XCTAssertEqual(try NPY.decode(try Data(contentsOf: fixtureURL("numpy_2d.npy")), name: "2d"), m)
        XCTAssertThrowsError(try NPY.decode(Data([1, 2, 3]), name: "junk"))
    }

    func testAttentionArea() throws {
        let cam = Tensor(shape: [2, 2, 3], data: [0, 0.5, 0.49, 1, 0.2, 0.7,   0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try AttentionArea.fractions(cam), [0.5, 0])
        XCTAssertEqual(try AttentionArea.fractions(cam, threshold: 0.1), [5.0 / 6, 0])
        XCTAssertThrowsError(try AttentionArea.fractions(cam, threshold: .nan))
    }
}
