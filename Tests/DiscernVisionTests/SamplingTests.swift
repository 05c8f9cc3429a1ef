import DiscernEngine
import DiscernVision
import Foundation
import XCTest

/// Parameter sampling: ranges as torchvision documents them and determinism from the seed.
final class SamplingTests: XCTestCase {
    func testParametersStayInRangeAndAreSeeded() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        let rrc = RandomResizedCrop(224, scale: (0.8, 1.0))
        var flips = 0
        for _ in 0 ..< 500 {
            let r = RandomRotation(degrees: 20).sample(rng: &a)
            XCTAssertTrue((-20 ... 20).contains(r.angle))
            XCTAssertEqual(r, RandomRotation(degrees: 20).sample(rng: &b))
            let p = rrc.sample(width: 500, height: 375, rng: &a)
            _ = rrc.sample(width: 500, height: 375, rng: &b)
            let area = Double(p.width * p.height) / (500 * 375)
            XCTAssertTrue(area > 0.79 && area < 1.01, "area fraction \(area)")
            XCTAssertTrue(p.top >= 0 && p.left >= 0 && p.top + p.height <= 375 && p.left + p.width <= 500)
            let ratio = Double(p.width) / Double(p.height)
            XCTAssertTrue(ratio > 0.74 && ratio < 1.35, "ratio \(ratio)")
            let af = RandomAffine(degrees: 0, scale: (0.8, 1.2), shear: 10).sample(rng: &a)
            _ = RandomAffine(degrees: 0, scale: (0.8, 1.2), shear: 10).sample(rng: &b)
            XCTAssertEqual(af.angle, 0)
            XCTAssertTrue((0.8 ... 1.2).contains(af.scale) && (-10 ... 10).contains(af.shearX) && af.shearY == 0)
            if RandomHorizontalFlip().sample(rng: &a).flip { flips += 1 }
            _ = RandomHorizontalFlip().sample(rng: &b)
        }
        XCTAssertTrue(flips > 200 && flips < 300, "flip rate \(flips)/500")
    }

    func testComposeIsDeterministicFromSeed() throws {
        let img = try ImageCodec.decodeFile(Fixtures.path("synthetic/rgb420_odd.jpg"))
        let t = Compose.training(size: 32)
        var r1 = SplitMix64(seed: 7, 1, 2), r2 = SplitMix64(seed: 7, 1, 2), r3 = SplitMix64(seed: 7, 1, 3)
        let a = t(img, rng: &r1), b = t(img, rng: &r2), c = t(img, rng: &r3)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual([a.width, a.height], [32, 32])
    }
}
