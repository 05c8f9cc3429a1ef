import DiscernEngine
import DiscernVision
import XCTest

/// `RandomPhotoDegradation`, the training-time degradations: how often each kind is drawn, that a drawn kind
/// changes the photo and keeps the size, and that nothing changes when none is drawn. The pixel operations it
/// reuses are checked against scipy and PIL in `PhotoShiftTests`.
final class PhotoDegradationTests: XCTestCase {
    let photo: RGBImage = {
        var pixels = [UInt8](repeating: 0, count: 96 * 96 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 37 + (i / 288) * 11) % 256) }
        return RGBImage(width: 96, height: 96, pixels: pixels)
    }()

    func testNoDegradationDrawnLeavesThePhotoAsItIs() {
        let degrade = RandomPhotoDegradation(size: 96, probability: 0)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<20 { XCTAssertEqual(degrade(photo, rng: &rng).pixels, photo.pixels) }
    }

    func testKindsAreDrawnAtTheirRates() {
        let degrade = RandomPhotoDegradation(size: 96, probability: 0.5, secondProbability: 0.3)
        var rng = SplitMix64(seed: 7)
        let draws = 4000
        var degraded = 0, doubled = 0
        var perKind: [RandomPhotoDegradation.Kind: Int] = [:]
        for _ in 0..<draws {
            let params = degrade.sample(rng: &rng)
            XCTAssertLessThanOrEqual(params.kinds.count, 2)
            XCTAssertEqual(Set(params.kinds).count, params.kinds.count, "a kind is never applied twice")
            if params.kinds.count == 2 { XCTAssertNotEqual(params.kinds[0], .jpeg, "JPEG comes last") }
            if !params.kinds.isEmpty { degraded += 1 }
            if params.kinds.count == 2 { doubled += 1 }
            for kind in params.kinds { perKind[kind, default: 0] += 1 }
            XCTAssertTrue((16...128).contains(params.longerSide) && (10...70).contains(params.jpegQuality))
            XCTAssertTrue(params.blurSigma >= 0.5 && params.blurSigma < 2)
        }
        // Binomial bounds at about 5 standard deviations.
        XCTAssertEqual(Double(degraded), 2000, accuracy: 160, "half the images are degraded")
        XCTAssertEqual(Double(doubled) / Double(degraded), 0.3, accuracy: 0.05, "30% of those twice")
        let expected = Double(degraded) * 1.3 / 4
        for kind in RandomPhotoDegradation.Kind.allCases {
            XCTAssertEqual(Double(perKind[kind] ?? 0), expected, accuracy: 5 * expected.squareRoot(), "\(kind)")
        }
    }

    func testEachKindChangesThePhotoAndKeepsItsSize() {
        let degrade = RandomPhotoDegradation(size: 64, probability: 1)
        var rng = SplitMix64(seed: 3)
        let plain = Resize(height: 64, width: 64).apply(photo)
        for kind in RandomPhotoDegradation.Kind.allCases {
            var params = degrade.sample(rng: &rng)
            params.kinds = [kind]
            params.longerSide = 20; params.jpegQuality = 10; params.blurSigma = 1.5
            params.brightness = 1.2; params.contrast = 0.8; params.saturation = 0.7
            let out = degrade.apply(plain, params)
            XCTAssertEqual([out.width, out.height], [64, 64], "\(kind)")
            let changed = zip(out.pixels, plain.pixels).filter { $0 != $1 }.count
            XCTAssertGreaterThan(changed, plain.pixels.count / 4, "\(kind) changes the photo")
        }
    }

    func testTheSameSeedGivesTheSameDegradation() {
        let augment = Compose.training(size: 64, degradation: 1)
        var a = SplitMix64(seed: 5, 2, 9), b = SplitMix64(seed: 5, 2, 9)
        XCTAssertEqual(augment(photo, rng: &a).pixels, augment(photo, rng: &b).pixels)
        XCTAssertEqual(Compose.training(size: 64, degradation: 0).steps.count, Compose.training(size: 64).steps.count)
    }
}
