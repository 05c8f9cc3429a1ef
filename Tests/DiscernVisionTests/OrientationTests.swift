import DiscernVision
import Foundation
import XCTest

/// Upright decoding vs PIL's `ImageOps.exif_transpose(Image.open(f)).convert('RGB')`
/// (tools/make_orientation_fixtures.py).
final class OrientationTests: XCTestCase {
    func testEveryOrientationMatchesPILExifTranspose() throws {
        let reference = try Fixtures.load("orientation.safetensors")
        let files = reference.tensors.keys.filter { !$0.contains("@") }.sorted()
        XCTAssertEqual(files.count, 18, "8 little-endian, 8 big-endian, a PNG and a cut EXIF block")
        for name in files {
            let want = reference.tensors[name]!
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("orientation/\(name)"))))
            XCTAssertEqual(ExifOrientation.orientation(of: data), Int(reference.metadata[name] ?? ""),
                           "\(name): the orientation PIL reads")
            let image = try ImageCodec.decode(data, name: name)
            XCTAssertEqual([image.height, image.width, 3], want.shape, name)
            guard [image.height, image.width, 3] == want.shape else { continue }
            assertClose(image.pixels.map(Float.init), want.data, "\(name) upright")
        }
    }

    func testScaledDecodingTakesTheUprightSize() throws {
        let want = try Fixtures.load("orientation.safetensors").tensors["large_6.jpg@draft"]!
        // The upright image is 240 wide and 400 high; a quarter of it is what PIL's draft gives.
        let image = try ImageCodec.decodeFile(Fixtures.path("orientation/large_6.jpg"), minSize: (60, 100))
        XCTAssertEqual([image.height, image.width, 3], want.shape)
        assertClose(image.pixels.map(Float.init), want.data, "quarter-turned, DCT-scaled decode vs PIL draft")
    }

    func testFilesWithoutOrientationDecodeAsStored() throws {
        // The shared photos carry no orientation tag; neither do PIL-written synthetic files.
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("synthetic/rgb420_odd.jpg"))))
        XCTAssertEqual(ExifOrientation.orientation(of: data), 1)
        XCTAssertEqual(ExifOrientation.orientation(of: [0xFF, 0xD8, 0xFF, 0xE1, 0x00]), 1, "segment cut short")
        XCTAssertEqual(ExifOrientation.orientation(of: []), 1)
    }
}
