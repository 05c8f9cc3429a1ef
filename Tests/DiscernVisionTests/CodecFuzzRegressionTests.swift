import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// Inputs found by fuzzing (fuzz/, scripts/fuzz) and decoder edge cases that the other
/// codec tests leave out, checked against PIL's verdict (tools/make_fuzz_fixtures.py): what PIL decodes
/// must decode to PIL's pixels, what PIL refuses must be refused with one line naming the file.
final class CodecFuzzRegressionTests: XCTestCase {
    static let dir = Fixtures.repo.appendingPathComponent("Tests/Fixtures/fuzz")

    /// A 114-byte PNG whose iTXt chunk declares 1.87 GB: libpng allocated the declared length before
    /// reading it (its size limit is only a benign error), found by the image fuzzer as an out-of-memory.
    /// Ancillary chunks are skipped unparsed; the file must be refused as truncated, quickly.
    /// (The allocation itself is checked by replaying the file under the fuzzer's malloc limit: scripts/fuzz.)
    func testHugeTextChunkIsRefusedAsTruncated() throws {
        let path = Self.dir.appendingPathComponent("crashes/image/itxt_claims_1_8gb.png").path
        XCTAssertThrowsError(try ImageCodec.decodeFile(path)) { e in
            guard case .truncated? = e as? VisionError else { return XCTFail("expected a truncation error, got \(e)") }
            assertOneLine(e, names: path)
        }
    }

    /// Text chunks, even complete ones, do not change the pixels (PIL ignores them as well).
    func testAncillaryChunksAreSkippedWithoutChangingPixels() throws {
        let src = try ImageCodec.decodeFile(Fixtures.path("synthetic/rgba.png"))
        var png = try ImageCodec.encodePNG(src)
        let text = Self.chunk("tEXt", Array("Comment\u{0}made by a test".utf8))
        let zbomb = Self.chunk(
            // broken deflate
            "zTXt", Array("Bomb\u{0}\u{0}".utf8) + [0x78, 0x9C] + [UInt8](repeating: 0xFF, count: 40))
        png.insert(contentsOf: text + zbomb, at: 33)  // right after IHDR
        XCTAssertEqual(try ImageCodec.decode(png, name: "with-text.png"), src)
    }

    /// Repeated progressive scans cost a full pass each (libjpeg only warns about them): a 125 KB file
    /// of a 4000x4000 image with 2000 scans took 100 s to decode. More than 500 scans are refused
    /// (libjpeg-turbo's TJFLAG_LIMITSCANS); a file under the limit still decodes.
    func testProgressiveJPEGWithThousandsOfScansIsRefused() throws {
        let src = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("synthetic/rgb444_progressive.jpg"))))
        let sos = (0 ..< src.count - 1).filter { src[$0] == 0xFF && src[$0 + 1] == 0xDA }
        let eoi = try XCTUnwrap((0 ..< src.count - 1).last { src[$0] == 0xFF && src[$0 + 1] == 0xD9 })
        XCTAssertGreaterThan(sos.count, 2, "fixture is progressive")
        func repeatingLastScan(_ n: Int) -> [UInt8] {
            let scan = src[sos.last!..<eoi]
            return Array(src[..<eoi]) + Array([ArraySlice<UInt8>](repeating: scan, count: n).joined())
                + Array(src[eoi...])
        }
        let ok = try ImageCodec.decode(repeatingLastScan(100), name: "scans-110.jpg")
        XCTAssertEqual([ok.width, ok.height], [53, 37])
        XCTAssertThrowsError(try ImageCodec.decode(repeatingLastScan(600), name: "scans-610.jpg")) { e in
            XCTAssertTrue("\(e)".contains("500 scans"), "\(e)")
            self.assertOneLine(e, names: "scans-610.jpg")
        }
    }

    func testEdgeCasesMatchPILVerdicts() throws {
        let ref = try SafeTensors.read(Self.dir.appendingPathComponent("image/image_verdicts.safetensors"))
        XCTAssertEqual(ref.metadata.count, 16)
        for (name, verdict) in ref.metadata.sorted(by: { $0.key < $1.key }) {
            let path = Self.dir.appendingPathComponent("image/\(name)").path
            if verdict == "decoded" {
                let want = try XCTUnwrap(ref.tensors[name], name)
                let img = try ImageCodec.decodeFile(path)
                XCTAssertEqual([img.height, img.width, 3], want.shape, name)
                let maxDiff = zip(img.pixels, want.data).map { abs(Float($0) - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(maxDiff, name.contains("jpeg") ? 1 : 0, "\(name): max diff from PIL")
            } else {
                XCTAssertThrowsError(try ImageCodec.decodeFile(path), "\(name): PIL \(verdict)") { e in
                    XCTAssertTrue(e is VisionError, "\(name): untyped error \(e)")
                    self.assertOneLine(e, names: path)
                }
            }
        }
    }

    func testProbeAgreesWithDecodeOnHeaders() throws {
        for name in ["png_signature_only.png", "png_cut_in_ihdr.png", "png_zero_width.png", "jpeg_soi_only.jpg",
                     "jpeg_cut_before_scan.jpg", "jpeg_zero_height.jpg", "text_named.png"] {
            let path = Self.dir.appendingPathComponent("image/\(name)").path
            XCTAssertThrowsError(try ImageCodec.probeFile(path), name) { e in self.assertOneLine(e, names: path) }
        }
    }

    private func assertOneLine(_ e: Error, names path: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = "\(e)"
        XCTAssertTrue(text.hasPrefix(path), "message does not start with the file: \(text)", file: file, line: line)
        XCTAssertFalse(
            text.contains("\n") || text.contains("\r"), "message spans lines: \(text)", file: file, line: line)
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for b in body {
            crc ^= UInt32(b)
            for _ in 0 ..< 8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        crc ^= 0xFFFF_FFFF
        func be(_ v: UInt32) -> [UInt8] {
            [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        return be(UInt32(data.count)) + body + be(crc)
    }
}
