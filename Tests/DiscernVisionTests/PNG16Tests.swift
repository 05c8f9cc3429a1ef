import DiscernTestSupport
import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// 16-bit PNGs decode to the 8-bit image a viewer shows: the high byte of each sample (libpng's
/// png_set_strip_16), checked against numpy's `>> 8` (tools/make_png16_fixtures.py). A decoder keeping the low
/// byte turned a 16-bit photo of a cat almost black; PIL clips 16-bit gray to white instead.
final class PNG16Tests: XCTestCase {
    func testSixteenBitPNGsDecodeToTheHighByte() throws {
        let expected = try Fixtures.load("png16.safetensors").tensors
        let required = ["gray16.png", "gray_alpha16.png", "rgb16.png", "rgba16.png", "rgb16_interlaced.png",
                        "gray16_interlaced.png", "gray8.png", "rgb8.png", "rgba8.png", "palette8.png"]
        XCTAssertEqual(Set(expected.keys), Set(required))
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let image = try ImageCodec.decodeFile(Fixtures.path("png16/\(name)"))
            XCTAssertEqual([image.height, image.width, 3], want.shape, name)
            XCTAssertEqual(image.pixels.map(Float.init), want.data, "\(name): not numpy's >> 8 of the samples")
        }
    }

    /// A real cat photo widened to 16 bits decodes to exactly PIL's 8-bit decode of the JPEG (which Discern's JPEG
    /// decode equals), in gray, gray+alpha, RGB and RGBA: as v · 257 (v in both bytes), and as v · 256 plus a
    /// random low byte, which only a decoder keeping the high byte gets right.
    func testSixteenBitCatPhotoDecodesToThe8BitOriginal() throws {
        let cats = try TestEnvironment.datasets().appendingPathComponent("cats-and-dogs/test_set/cats")
        let first = try FileManager.default.contentsOfDirectory(atPath: cats.path)
            .filter { $0.hasSuffix(".jpg") }.sorted()
        let jpeg = cats.appendingPathComponent(try XCTUnwrap(first.first, "no cat photo in \(cats.path)")).path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("discern-png16-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = TestEnvironment.repository.appendingPathComponent("tools/make_png16_fixtures.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.python(importing: "numpy, PIL"))
        process.arguments = [script, "--photo", jpeg, out.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(script) --photo \(jpeg) failed")

        let reference = try SafeTensors.read(out.appendingPathComponent("photo.safetensors")).tensors
        let rgb = try XCTUnwrap(reference["rgb"]), gray = try XCTUnwrap(reference["gray"])
        XCTAssertEqual(try ImageCodec.decodeFile(jpeg).pixels.map(Float.init), rgb.data, "JPEG decode vs PIL")
        for suffix in ["", "_low_noise"] {
            for (kind, want) in [("rgb16", rgb), ("rgba16", rgb), ("gray16", gray), ("gray_alpha16", gray)] {
                let name = "photo_\(kind)\(suffix).png"
                let image = try ImageCodec.decodeFile(out.appendingPathComponent(name).path)
                XCTAssertEqual([image.height, image.width, 3], want.shape, name)
                XCTAssertEqual(image.pixels.map(Float.init), want.data, "\(name) is not the 8-bit photo")
            }
        }
    }
}
