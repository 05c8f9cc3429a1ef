import DiscernVision
import Foundation
import XCTest

/// Images in formats Discern does not decode are refused with their format's name: files PIL saved as WebP,
/// GIF, BMP and TIFF (tools/make_other_format_fixtures.py), and signatures written here from the HEIF/AVIF
/// (ISO/IEC 14496-12 `ftyp` box) and JPEG XL (ISO/IEC 18181-2) specifications; folder scans report them as skipped.
final class OtherImageFormatTests: XCTestCase {
    let pilFiles = ["picture.webp": "WebP", "picture.gif": "GIF", "picture.bmp": "BMP",
                    "picture-little-endian.tiff": "TIFF", "picture-big-endian.tif": "TIFF"]

    func testFilesPILWroteAreNamedByDecoderAndHeaderCheck() throws {
        for (name, format) in pilFiles.sorted(by: { $0.key < $1.key }) {
            let path = Fixtures.path("other/\(name)")
            let attempts: [(String, () throws -> Void)] = [
                ("decode", { _ = try ImageCodec.decodeFile(path) }), ("probe", { _ = try ImageCodec.probeFile(path) }),
            ]
            for (what, attempt) in attempts {
                XCTAssertThrowsError(try attempt(), "\(what) \(name)") { error in
                    XCTAssertEqual(error as? VisionError, .unsupportedFormat(path, format: format), "\(what) \(name)")
                    XCTAssertTrue("\(error)".hasPrefix("\(path): a \(format) image; Discern reads JPEG and PNG only"),
                                  "\(error)")
                }
            }
        }
    }

    func testSignaturesFromTheSpecifications() {
        // An ftyp box of 20 bytes: size, "ftyp", major brand, minor version, one compatible brand.
        func isoMedia(_ brand: String) -> [UInt8] {
            [0, 0, 0, 20] + Array("ftyp\(brand)".utf8) + [0, 0, 0, 0] + Array("mif1".utf8) + [UInt8](repeating: 7, count: 16)
        }
        let cases: [([UInt8], String?)] = [
            (isoMedia("heic"), "HEIC"), (isoMedia("avif"), "AVIF"), (isoMedia("mif1"), "HEIF"),
            (isoMedia("isom"), nil),                                   // an MP4 video is not a picture format
            ([0xFF, 0x0A, 0xFA, 0x7F] + [UInt8](repeating: 0, count: 12), "JPEG XL"),
            ([0, 0, 0, 0x0C] + Array("JXL ".utf8) + [0x0D, 0x0A, 0x87, 0x0A, 0, 0, 0, 0x14], "JPEG XL"),
            (Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8), nil),      // RIFF, but audio
            (Array("this is a text file\n".utf8), nil),
        ]
        for (bytes, format) in cases {
            XCTAssertEqual(OtherImageFormats.name(of: bytes), format, "\(bytes.prefix(12))")
            XCTAssertThrowsError(try ImageCodec.decode(bytes, name: "x")) { error in
                let expected: VisionError = format.map { .unsupportedFormat("x", format: $0) } ?? .notAnImage("x")
                XCTAssertEqual(error as? VisionError, expected)
            }
        }
    }

    func testFolderScanReportsThemInsteadOfLeavingThemOut() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("discern-other-formats-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: root) }
        for folder in ["cats", "dogs"] {
            try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let copies = [("synthetic/gray.jpg", "cats/gray.jpg"), ("other/picture.webp", "cats/picture.webp"),
                      ("synthetic/la.png", "dogs/la.png"), ("other/picture.gif", "dogs/picture.GIF")]
        for (source, target) in copies {
            try fm.copyItem(atPath: Fixtures.path(source), toPath: root.appendingPathComponent(target).path)
        }
        try Data("notes".utf8).write(to: root.appendingPathComponent("dogs/notes.txt"))

        let folder = try ImageFolder(root: root.path)
        XCTAssertEqual(folder.samples.map { ($0.path as NSString).lastPathComponent }, ["gray.jpg", "la.png"])
        XCTAssertEqual(folder.skipped.map { ($0.path as NSString).lastPathComponent }.sorted(),
                       ["picture.GIF", "picture.webp"])
        for skipped in folder.skipped {
            let format = skipped.path.hasSuffix(".GIF") ? "GIF" : "WebP"
            XCTAssertTrue(skipped.reason.contains("a \(format) image"), skipped.description)
        }
    }
}
