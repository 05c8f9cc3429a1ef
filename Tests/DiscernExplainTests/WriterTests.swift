import Foundation
import XCTest
import DiscernEngine
import DiscernVision
@testable import DiscernExplain

/// The files `discern explain` writes: names, .npy contents at the photo's size (vs cv2.resize),
/// PNGs that decode to the right sizes and carry the cv2-checked overlay.
final class WriterTests: XCTestCase {
    func testWritesAllFilesWithCv2ResizedMap() throws {
        let f = try Fixture("cv2_overlay")
        let mask = try f.t("mask")   // stands in for a CAM at the network's input size (23×31)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        for (h, w) in [(47, 61), (11, 13)] {
            let original = RGBImage(
                width: w, height: h, pixels: (0..<(h * w * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let guided = Tensor(shape: [1, 3, 23, 31], data: (0..<(3 * 23 * 31)).map { Float($0 % 17) - 8 })
            let out = try ExplanationWriter.write(
                name: "img\(h)", to: dir, original: original, camInput: mask,
                camFeature: Tensor(shape: [1, 2, 3], data: [0, 0.5, 1, 0.2, 0.3, 0.4]), guided: guided)
            XCTAssertEqual(
                out.files.map(\.lastPathComponent),
                [
                    "img\(h).cam.npy", "img\(h).cam-feature.npy", "img\(h).cam.png", "img\(h).guided.png",
                    "img\(h).guided-cam.png"
                ])
            let npy = try NPY.decode(
                try Data(contentsOf: dir.appendingPathComponent("img\(h).cam.npy")), name: "cam.npy")
            assertClose(npy, try f.t("resized.\(h)x\(w)"), 1e-5, "map at \(h)×\(w)")
            let png = try ImageCodec.decode(
                [UInt8](try Data(contentsOf: dir.appendingPathComponent("img\(h).cam.png"))), name: "cam.png")
            XCTAssertEqual([png.width, png.height], [w, h])
            XCTAssertEqual(png.pixels, try Overlay.camOnImage(image: original.pixels, mask: npy))
            let g = try ImageCodec.decode(
                [UInt8](try Data(contentsOf: dir.appendingPathComponent("img\(h).guided.png"))), name: "guided.png")
            XCTAssertEqual([g.width, g.height], [31, 23])
            let feat = try NPY.decode(
                try Data(contentsOf: dir.appendingPathComponent("img\(h).cam-feature.npy")), name: "f")
            XCTAssertEqual(feat.shape, [2, 3])
        }
        XCTAssertThrowsError(
            try ExplanationWriter.write(
                name: "x", to: dir, original: RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12)),
                camInput: mask, camFeature: mask, guided: Tensor(zeros: [3, 2, 2])))
    }
}
