import XCTest
import Foundation
import DiscernEngine
@testable import DiscernWeights

/// Weight files are data, never code: hostile pickles are refused and their commands never run.
final class PickleRefusalTests: XCTestCase {
    func markers() throws -> [String: String] {
        let data = try Data(contentsOf: Fixtures.url("markers.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    func assertRefused(
        _ body: @autoclosure () throws -> Any, containing text: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            guard case .refused = e as? WeightsError else {
                return XCTFail("not a refusal: \(e)", file: file, line: line)
            }
            XCTAssertTrue("\(e)".contains(text), "\(e)", file: file, line: line)
        }
    }

    func testCommandCarryingCheckpointsAreRefusedAndNothingRuns() throws {
        let expect = ["evil_system_zip.pth": "global 'posix.system' is not allowed",
                      "evil_system_legacy.pth": "global 'posix.system' is not allowed",
                      "evil_eval.pkl": "global '__builtin__.eval' is not allowed",
                      "evil_popen.pkl": "global 'subprocess.Popen' is not allowed"]
        let markers = try markers()
        XCTAssertEqual(Set(markers.keys), Set(expect.keys))
        for (name, message) in expect {
            let marker = try XCTUnwrap(markers[name])
            // The fixture really carries that command (so the check below means something).
            XCTAssertNotNil(try Data(contentsOf: Fixtures.url(name)).range(of: Data(marker.utf8)), name)
            try? FileManager.default.removeItem(atPath: marker)
            assertRefused(try WeightFile.load(Fixtures.url(name)), containing: message)
            assertRefused(try PyTorchCheckpoint.load(Fixtures.url(name)), containing: message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(name) ran its command")
        }
    }

    func testStoragesLargerThanTheFileAreRefused() {
        assertRefused(try PyTorchCheckpoint.load(Fixtures.url("huge_storage_legacy.pth")),
                      containing: "storage '0' declares 1099511627776 FloatStorage elements, more than the whole file")
        assertRefused(try PyTorchCheckpoint.load(Fixtures.url("truncated_storage_legacy.pth")),
                      containing: "storage '0' needs 200 bytes, past the end of the file")
        assertRefused(try PyTorchCheckpoint.load(Fixtures.url("huge_storage_zip.pth")),
                      containing: "storage '0' declares 1099511627776 FloatStorage elements, more than the whole file")
        XCTAssertThrowsError(try PyTorchCheckpoint.load(Fixtures.url("short_storage_zip.pth"))) { e in
            XCTAssertTrue("\(e)".contains("tensor 'w' reaches past the bytes of storage '0'"), "\(e)")
        }
    }

    // Hand-written pickles for opcodes torch.save never emits.
    static let proto: [UInt8] = [0x80, 0x02]
    static func global(_ m: String, _ n: String) -> [UInt8] { [0x63] + Array("\(m)\n\(n)\n".utf8) }
    static func str(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
    static let stop: [UInt8] = [0x2E]

    /// Legacy headers (magic number, protocol 1001, sys info) then `body` as the main pickle.
    static let headers: [UInt8] =
        [0x80, 0x02, 0x8A, 0x0A] + [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19] + [
            0x2E, 0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x2E
        ]

    func decode(_ body: [UInt8]) throws -> [String: Tensor] {
        try PyTorchCheckpoint.decode(Data(Self.headers + Self.proto + body + Self.stop), name: "t.pth")
    }

    func testReduceOnlyOnAllowedConstructors() {
        // Calling a storage class (allowed as a persistent-id argument only).
        assertRefused(try decode(Self.global("torch", "FloatStorage") + [0x29, 0x52]),
                      containing: "calling 'torch.FloatStorage' is not allowed")
        // REDUCE on a string (a smuggled callable) or a dict.
        assertRefused(try decode(Self.str("os.system") + [0x29, 0x52]), containing: "REDUCE on a str")
        assertRefused(try decode([0x7D, 0x29, 0x52]), containing: "REDUCE on a dict")
    }

    func testBuildOnlyOnOrderedDict() throws {
        // OrderedDict() then BUILD with a dict state (what state_dict's _metadata looks like) is accepted...
        XCTAssertThrowsError(try decode(Self.global("collections", "OrderedDict") + [0x29, 0x52, 0x7D, 0x62])) { e in
            XCTAssertTrue("\(e)".contains("no tensors found"), "\(e)")
        }
        // ...BUILD on a list or a string is not.
        assertRefused(try decode([0x5D, 0x7D, 0x62]), containing: "BUILD on a list is not allowed")
        assertRefused(try decode(Self.str("x") + [0x7D, 0x62]), containing: "BUILD on a str is not allowed")
    }

    func testObjectCreatingOpcodesAreRefused() {
        assertRefused(try decode(Self.global("collections", "OrderedDict") + [0x29, 0x81]), containing: "opcode NEWOBJ")
        assertRefused(try decode([0x28, 0x69] + Array("os\nsystem\n".utf8)), containing: "opcode INST")
        assertRefused(try decode([0x28, 0x6F]), containing: "opcode OBJ")
        assertRefused(try decode([0x82, 0x01]), containing: "opcode EXT")
        assertRefused(try decode([0x50] + Array("0\n".utf8)), containing: "opcode PERSID")
        // Names from the file cannot inject terminal escapes or new lines into the message.
        XCTAssertThrowsError(try decode(Self.str("os\u{1B}[31m") + Self.str("sys\ntem") + [0x93])) { e in
            XCTAssertTrue(
                "\(e)".hasSuffix(
                    "refused: global 'os?[31m.sys?tem' is not allowed (weight files may hold only tensors: save a"
                        + " state_dict)"
                ), "\(e)")
        }
        // STACK_GLOBAL (protocol 4) is checked like GLOBAL.
        assertRefused(
            try decode(Self.str("os") + Self.str("system") + [0x93]), containing: "global 'os.system' is not allowed")
        // A persistent id that is not a storage (legacy 'module' source records).
        assertRefused(
            try decode(Self.str("module") + [0x85, 0x51]), containing: "persistent id 'module' is not allowed")
    }

    func testResourceBombsAreBounded() {
        // Tuples nested a million deep: refused before the nesting could overflow the call stack.
        assertRefused(
            try decode([0x29] + [UInt8](repeating: 0x85, count: 1_000_000)), containing: "nests tuples deeper")
        // Two million MARKs: the stack limit.
        assertRefused(try decode([UInt8](repeating: 0x28, count: 2_000_000)), containing: "pickle stack exceeds")
        // A self-containing list (a cycle) is released without leaking or looping.
        XCTAssertThrowsError(try decode([0x5D, 0x71, 0x00, 0x68, 0x00, 0x61]))
        // Lengths past the end of the data.
        XCTAssertThrowsError(try decode([0x58, 0xFF, 0xFF, 0xFF, 0x7F])) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try decode([0x8B, 0xFF, 0xFF, 0xFF, 0x7F])) { e in
            XCTAssertTrue("\(e)".contains("too long"), "\(e)")
        }
        XCTAssertThrowsError(try decode([0x68, 0x05])) { e in XCTAssertTrue("\(e)".contains("never written"), "\(e)") }
    }

    func testTensorViewsOutsideTheirStorageAreRejected() {
        // ('storage', FloatStorage, '0', 'cpu', 4) then _rebuild_tensor_v2(storage, 2, (3,), (1,), False,
        // OrderedDict())
        let pid =
            [0x28] + Self.str("storage") + Self.global("torch", "FloatStorage") + Self.str("0") + Self.str("cpu") + [
                0x4B, 4, 0x74, 0x51
            ]
        func tensor(offset: UInt8, size: UInt8, stride: UInt8) -> [UInt8] {
            [0x7D] + Self.str("w") + Self.global("torch._utils", "_rebuild_tensor_v2") + [0x28] + pid
                + [0x4B, offset, 0x4B, size, 0x85, 0x4B, stride, 0x85, 0x89] + Self.global("collections", "OrderedDict")
                + [0x29, 0x52]
                + [0x74, 0x52, 0x73]
        }
        XCTAssertThrowsError(try decode(tensor(offset: 2, size: 3, stride: 1))) { e in
            XCTAssertTrue("\(e)".contains("reaches past storage '0' of 4 elements"), "\(e)")
        }
        XCTAssertThrowsError(try decode(tensor(offset: 0, size: 3, stride: 2))) { e in
            XCTAssertTrue("\(e)".contains("reaches past storage"), "\(e)")
        }
        // In bounds, the pickle is fine but the zip-less raw pickle has no storage bytes: a clear error.
        XCTAssertThrowsError(try decode(tensor(offset: 1, size: 3, stride: 1))) { e in
            XCTAssertTrue("\(e)".contains("t.pth: not a valid weight file"), "\(e)")
        }
    }
}
