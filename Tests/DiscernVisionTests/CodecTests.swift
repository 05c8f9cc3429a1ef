import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// Decoding vs PIL's `Image.open(f).convert('RGB')` on synthetic odd formats, bad files, and encoders.
final class CodecTests: XCTestCase {
    func testSyntheticFormatsMatchPILExactly() throws {
        let ref = try Fixtures.load("synthetic.safetensors")
        XCTAssertGreaterThanOrEqual(ref.tensors.count, 16)
        // PIL reads 16-bit gray as mode "I" and clips it to white; Discern keeps the high byte as a viewer does
        // (PNG16Tests checks that against numpy). Every other file is decoded as PIL does.
        for (name, want) in ref.tensors.sorted(by: { $0.key < $1.key }) where name != "gray16.png" {
            let img = try ImageCodec.decodeFile(Fixtures.path("synthetic/\(name)"))
            XCTAssertEqual([img.height, img.width, 3], want.shape, name)
            guard [img.height, img.width, 3] == want.shape else { continue }
            // PIL and Discern decode JPEGs with the same libjpeg-turbo and flags, PNGs with libpng: bit-exact.
            assertClose(img.pixels.map(Float.init), want.data, "\(name) (PIL mode \(ref.metadata[name] ?? "?"))")
        }
    }

    func testBadFilesGiveOneClearLine() throws {
        let pil = try Fixtures.load("bad_reasons.safetensors").metadata
        let expect: [String: (VisionError) -> Bool] = [
            "empty.jpg": {
                if case .emptyFile = $0 { return true }
                return false
            },
            "truncated.jpg": {
                if case .truncated = $0 { return true }
                return false
            },
            "truncated_scan.jpg": {
                if case .truncated = $0 { return true }
                return false
            },
            "text.jpg": {
                if case .notAnImage = $0 { return true }
                return false
            },
            "bad_crc.png": {
                if case let .corrupt(_, d) = $0 { return d.contains("CRC") }
                return false
            },
            "huge.png": {
                if case let .tooManyPixels(_, w, h, _) = $0 { return w == 100_000 && h == 100_000 }
                return false
            },
            "huge.jpg": {
                if case let .tooManyPixels(_, w, h, _) = $0 { return w == 60000 && h == 60000 }
                return false
            }
        ]
        XCTAssertEqual(Set(pil.keys), Set(expect.keys), "PIL refused exactly these files")
        for (name, check) in expect {
            let path = Fixtures.path("bad/\(name)")
            do {
                _ = try ImageCodec.decodeFile(path)
                XCTFail("\(name) decoded (PIL: \(pil[name] ?? ""))")
            } catch let e as VisionError {
                XCTAssertTrue(check(e), "\(name): unexpected \(e)")
                XCTAssertTrue(e.description.hasPrefix(path), e.description)
                XCTAssertFalse(e.description.contains("\n"), e.description)
                print(e.description)
            }
        }
        XCTAssertThrowsError(try ImageCodec.decodeFile("/nonexistent/x.jpg")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/x.jpg"), "\(e)")
        }
    }

    /// Format comes from the content, not the name (PIL does the same): a PNG called .jpg decodes.
    func testWrongExtensionDecodesByContent() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("discern-\(UUID().uuidString).jpg")
        try FileManager.default.copyItem(atPath: Fixtures.path("synthetic/rgba.png"), toPath: tmp.path)
        defer { try? FileManager.default.removeItem(at: tmp) }
        XCTAssertEqual(
            try ImageCodec.decodeFile(tmp.path), try ImageCodec.decodeFile(Fixtures.path("synthetic/rgba.png")))
    }

    func testPixelLimitIsCheckedBeforeDecoding() throws {
        let img = try ImageCodec.decodeFile(Fixtures.path("synthetic/rgb420_odd.jpg"))
        XCTAssertThrowsError(
            try ImageCodec.decodeFile(Fixtures.path("synthetic/rgb420_odd.jpg"), maxPixels: img.width * img.height - 1))
        XCTAssertNoThrow(
            try ImageCodec.decodeFile(Fixtures.path("synthetic/rgb420_odd.jpg"), maxPixels: img.width * img.height))
    }

    func testPNGRoundTripIsLossless() throws {
        let src = try ImageCodec.decodeFile(Fixtures.path("synthetic/rgba.png"))
        let back = try ImageCodec.decode(ImageCodec.encodePNG(src), name: "roundtrip.png")
        XCTAssertEqual(back, src)
        let one = RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        XCTAssertEqual(try ImageCodec.decode(ImageCodec.encodePNG(one), name: "one.png"), one)
    }

    func testJPEGEncodeIsCloseToSource() throws {
        let want = try Fixtures.load("synthetic.safetensors").tensors["interlaced.png"]!   // PIL's pixels
        let src = try ImageCodec.decodeFile(Fixtures.path("synthetic/interlaced.png"))
        let back = try ImageCodec.decode(ImageCodec.encodeJPEG(src, quality: 95), name: "q95.jpg")
        XCTAssertEqual([back.height, back.width], [src.height, src.width])
        let d = zip(back.pixels, want.data).map { abs(Float($0) - $1) }
        // Lossy by design: q95 quantisation of this synthetic image measured mean 0.74, max 5 grey levels.
        XCTAssertLessThan(d.reduce(0, +) / Float(d.count), 1.5, "mean abs error after JPEG q95")
        XCTAssertLessThanOrEqual(d.max() ?? 0, 8, "max abs error after JPEG q95")
        XCTAssertThrowsError(try ImageCodec.encodeJPEG(src, quality: 0))
    }

    func testScaledDecodeOnlyWhenTwiceTheTarget() throws {
        let ref = try Fixtures.load("photo_0.safetensors")
        let path = try Fixtures.photo(ref)
        let full = try ImageCodec.decodeFile(path)
        let small = try ImageCodec.decodeFile(path, minSize: (full.width / 4, full.height / 4))
        XCTAssertGreaterThanOrEqual(small.width, full.width / 4)
        XCTAssertGreaterThanOrEqual(small.height, full.height / 4)
        XCTAssertLessThan(small.width, full.width / 2 + 1)
        // Same DCT scaling as PIL's draft() for a quarter-size request.
        let req = ref.metadata["draft_request"]!.split(separator: ",").map { Int($0)! }
        let quarter = try ImageCodec.decodeFile(path, minSize: (req[0], req[1]))
        let want = ref.tensors["draft_quarter"]!
        XCTAssertEqual([quarter.height, quarter.width, 3], want.shape)
        assertClose(quarter.pixels.map(Float.init), want.data, "scaled decode vs PIL draft")
        let same = try ImageCodec.decodeFile(path, minSize: (full.width * 2 / 3, full.height * 2 / 3))
        XCTAssertEqual(same, full, "under 2× the target: exact full decode")
    }
}
