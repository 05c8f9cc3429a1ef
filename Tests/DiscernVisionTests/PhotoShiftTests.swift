import DiscernEngine
import DiscernVision
import XCTest

/// PhotoShift's pixel operations against scipy.ndimage / numpy (tools/make_shift_fixtures.py), and its
/// seeded copies: reproducible, the evaluation size, and each kind actually changes the photo.
final class PhotoShiftTests: XCTestCase {
    func image(_ t: [Float], width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: t.map { UInt8($0) })
    }

    func assertNear(_ got: RGBImage, _ want: [Float], _ what: String) {
        XCTAssertEqual(got.pixels.count, want.count, what)
        let diffs = zip(got.pixels, want).map { abs(Float($0) - $1) }
        XCTAssertLessThanOrEqual(diffs.max() ?? 99, 1, "\(what): largest difference")
        // Rounding ties (numpy rounds half to even) may differ by one level; nothing else may.
        XCTAssertLessThanOrEqual(diffs.filter { $0 > 0 }.count, want.count / 100, "\(what): pixels off by one")
    }

    func testBlurAndColourMatchScipyAndNumpy() throws {
        let fx = try Fixtures.load("shift.safetensors")
        let src = fx.tensors["image"]!
        let img = image(src.data, width: src.shape[1], height: src.shape[0])
        for sigma in [0.8, 1.0, 1.7, 2.5] {
            assertNear(PhotoShift.gaussianBlur(img, sigma: sigma), fx.tensors["blur.\(sigma)"]!.data, "blur σ=\(sigma)")
        }
        let p = fx.tensors["colour.params.f64"]!.data.map(Double.init)
        assertNear(PhotoShift.colour(img, gains: Array(p[0..<3]), saturation: p[3], brightness: p[4], contrast: p[5]),
                   fx.tensors["colour"]!.data, "colour")
    }

    func testCopiesAreSeededSizedAndShifted() throws {
        var pixels = [UInt8](repeating: 0, count: 160 * 120 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 37 + (i / 480) * 11) % 256) }
        let photo = RGBImage(width: 160, height: 120, pixels: pixels)
        let plain = Resize(height: 64, width: 64).apply(photo)
        for kind in PhotoShift.Kind.allCases {
            let shift = PhotoShift(size: 64, kinds: [kind])
            var a = SplitMix64(seed: 3, 1, 2), b = SplitMix64(seed: 3, 1, 2)
            let x = shift(photo, rng: &a), y = shift(photo, rng: &b)
            XCTAssertEqual(x, y, "\(kind): same seed, same copy")
            XCTAssertEqual([x.width, x.height], [64, 64], "\(kind)")
            XCTAssertNotEqual(x, plain, "\(kind) must change the photo")
        }
    }

    /// A detail copy is a square close-up of 20–30% of the shorter side, enlarged: on a photo whose red level is
    /// the column and green level twice the row, the copy's levels span one square of that side, wherever it lies.
    func testDetailCopiesAreSquareCloseUps() throws {
        let width = 200, height = 100
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                pixels[(y * width + x) * 3] = UInt8(x)
                pixels[(y * width + x) * 3 + 1] = UInt8(2 * y)
            }
        }
        let photo = RGBImage(width: width, height: height, pixels: pixels)
        var corners = Set<[Int]>()
        for seed in 0..<20 {
            var rng = SplitMix64(seed: UInt64(seed), 5, 6)
            let copy = PhotoShift(size: 64, kinds: [.detail])(photo, rng: &rng)
            XCTAssertEqual([copy.width, copy.height], [64, 64])
            let columns = stride(from: 0, to: copy.pixels.count, by: 3).map { Int(copy.pixels[$0]) }
            let rows = stride(from: 1, to: copy.pixels.count, by: 3).map { Int(copy.pixels[$0]) / 2 }
            let columnSpan = columns.max()! - columns.min()!, rowSpan = rows.max()! - rows.min()!
            // The side is 20 to 30 px of the shorter side's 100; resampling may lose a pixel at each end.
            XCTAssertTrue((17...30).contains(columnSpan), "seed \(seed): columns span \(columnSpan)")
            XCTAssertLessThanOrEqual(abs(columnSpan - rowSpan), 2, "seed \(seed): a square, not \(columnSpan)x\(rowSpan)")
            corners.insert([columns.min()!, rows.min()!])
        }
        XCTAssertGreaterThan(corners.count, 10, "the close-up must move around the photo")
    }
}
