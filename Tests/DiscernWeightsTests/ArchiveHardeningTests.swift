import XCTest
import Foundation
import DiscernEngine
@testable import DiscernWeights

/// Hostile containers: zip archives (fixtures from tools/make_weights_fixtures.py) and safetensors headers.
final class ArchiveHardeningTests: XCTestCase {
    func assertRefused(_ name: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PyTorchCheckpoint.load(Fixtures.url(name)), file: file, line: line) { e in
            guard case .refused = e as? WeightsError else {
                return XCTFail("not a refusal: \(e)", file: file, line: line)
            }
            XCTAssertTrue("\(e)".contains(text), "\(e)", file: file, line: line)
        }
    }

    func testHostileZipArchivesAreRefused() {
        assertRefused("zip_traversal.pth", containing: "zip entry name '../../etc/evil' escapes the archive")
        assertRefused("zip_absolute.pth", containing: "zip entry name '/etc/evil' escapes the archive")
        assertRefused("zip_nested.pth", containing: "zip entry 'small_zip/inner.zip' is a nested archive")
        assertRefused("zip_bomb.pth", containing: "zip entry 'small_zip/data/pad' claims 4194304 bytes from")
        assertRefused("zip_symlink.pth", containing: "zip entry 'small_zip/data/link' is a link")
        assertRefused("zip_duplicate.pth", containing: "zip entry 'small_zip/data.pkl' appears twice")
        assertRefused(
            "zip_absurd_size.pth",
            containing: "zip entry 'small_zip/data.pkl' claims 2147483647 bytes, more than the file")
    }

    func testForgedZip64FieldsAreRefusedNotTrapped() throws {
        // ZIPFoundation converts these offsets with trapping arithmetic; the precheck must stop them first.
        let good = [UInt8](try Data(contentsOf: Fixtures.url("small_zip.pth")))
        let sig: [UInt8] = [0x50, 0x4B, 0x06, 0x06]
        let rec = try XCTUnwrap((0...(good.count - 4)).last { Array(good[$0 ..< $0 + 4]) == sig })
        for field in [24, 32, 40, 48] {   // entries on disk, total entries, directory size, directory offset
            var b = good
            for k in 0..<8 { b[rec + field + k] = 0xFF }   // 2^64-1 traps in off_t(_:)
            XCTAssertThrowsError(try PyTorchCheckpoint.decode(Data(b), name: "z.pth")) { e in
                XCTAssertTrue("\(e)".contains("beyond any real archive"), "\(e)")
            }
        }
        // No end record at all.
        XCTAssertThrowsError(try PyTorchCheckpoint.decode(Data(good.prefix(good.count - 22)), name: "z.pth")) { e in
            XCTAssertTrue("\(e)".contains("without an end record"), "\(e)")
        }
    }

    // MARK: safetensors

    func file(_ header: String, body: Int) -> Data {
        var h = Data(header.utf8)
        var d = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(h)
        h = Data(count: body)
        d.append(h)
        return d
    }

    func assertBad(_ header: String, body: Int, _ text: String, file f: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(
            try SafeTensors.decode(file(header, body: body), name: "s.safetensors"), file: f, line: line
        ) { e in
            XCTAssertTrue("\(e)".hasPrefix("s.safetensors: "), "\(e)", file: f, line: line)
            XCTAssertTrue("\(e)".contains(text), "\(e)", file: f, line: line)
        }
    }

    func testSafeTensorsAcceptsAWellFormedFile() throws {
        let d = file(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}"#,
            body: 9)
        let t = try SafeTensors.decode(d, name: "s.safetensors").tensors
        XCTAssertEqual(t["a"], Tensor(shape: [2], data: [0, 0]))
        XCTAssertEqual(t["b"]?.shape, [1])
    }

    func testSafeTensorsHostileHeadersAreRefused() {
        // Shape whose element count overflows Int.
        assertBad(
            #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#, body: 16, "bad dimension")
        assertBad(
            #"{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,16]}}"#, body: 16,
            "larger than the file")
        // Huge claimed shape within Int.
        assertBad(
            #"{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,16]}}"#, body: 16, "larger than the file")
        // Offsets past the end of the file, and offsets beyond 2^64.
        assertBad(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, body: 8, "past the end of the file")
        assertBad(
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}"#, body: 8,
            "past the end of the file")
        // Overlapping tensors.
        assertBad(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            body: 12, "overlap")
        // Reversed offsets, size mismatch, negative dimension, unknown dtype.
        assertBad(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, body: 8, "reversed")
        assertBad(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, body: 8, "8 bytes for shape [3]")
        assertBad(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, body: 8, "bad dimension")
        assertBad(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, body: 8, "unsupported dtype C64")
        // Header length beyond the file, or absurdly large.
        var d = Data()
        withUnsafeBytes(of: UInt64(1 << 62).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: [0x7B, 0x7D])
        XCTAssertThrowsError(try SafeTensors.decode(d, name: "s.safetensors")) {
            XCTAssertTrue("\($0)".contains("exceeds the file"), "\($0)")
        }
        assertBad("[1,2]", body: 0, "not a JSON object")
        XCTAssertThrowsError(try SafeTensors.decode(Data([1, 2, 3]), name: "s.safetensors"))
    }
}
