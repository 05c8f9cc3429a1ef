import DiscernVision
import XCTest

/// PIL's rotate/affine special paths (transposes, wrapped angles, pure scaling) against PIL's output.
final class GeometryTests: XCTestCase {
    func testRotateAndScaleEdgePathsMatchPIL() throws {
        let ref = try Fixtures.load("geometry.safetensors").tensors
        let img = try ImageCodec.decodeFile(Fixtures.path("synthetic/interlaced.png"))   // same pixels as the script's
        let square = Geometry.crop(img, left: 0, top: 0, width: 37, height: 37)
        var checked = 0
        for (name, src) in [("rect", img), ("square", square)] {
            for ang in [0.0, 90.0, 180.0, 270.0, -33.3, 401.5] {
                let out = Geometry.rotate(src, degrees: ang)
                let want = ref["rotate_\(name)_\(ang)"]!
                XCTAssertEqual([out.height, out.width, 3], want.shape)
                XCTAssertEqual(diff(out.pixels.map(Float.init), want.data).maxAbs, 0, "rotate \(name) \(ang)")
                checked += 1
            }
            for (key, scale) in [("affine_scale", 1.37), ("affine_shrink", 0.61)] {
                let out = RandomAffine().apply(src, .init(angle: 0, scale: scale))
                XCTAssertEqual(
                    diff(out.pixels.map(Float.init), ref["\(key)_\(name)"]!.data).maxAbs, 0, "\(key) \(name)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 16)
    }
}
