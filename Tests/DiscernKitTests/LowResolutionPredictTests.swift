import Foundation
import XCTest
import DiscernTestSupport

/// The unsure threshold of low-resolution photos through `discern predict --json`: one test photo made into a
/// 30×30 thumbnail and a 300-px copy by PIL (which also reports their sizes) meets the model's low-resolution and
/// full-size thresholds respectively; a model file written before that threshold existed still loads and holds
/// every size to the one threshold.
final class LowResolutionPredictTests: XCTestCase {
    struct Copy {
        let path: String
        let width: Int, height: Int
    }

    /// PIL's thumbnail and enlarged copies of `photo`, with the sizes PIL gives them.
    func copies(of photo: String) throws -> [Copy] {
        let python = try TestEnvironment.python(importing: "PIL")
        let dir = try TestPaths.temporaryDirectory("low-resolution")
        let script = """
            import json, sys
            from PIL import Image
            photo, out = sys.argv[1], sys.argv[2]
            image = Image.open(photo).convert("RGB")
            scale = 300 / min(image.size)
            sizes = {"small.jpg": (30, 30), "large.jpg": (round(image.width * scale), round(image.height * scale))}
            result = []
            for name, size in sizes.items():
                image.resize(size, Image.BICUBIC).save(f"{out}/{name}", quality=90)
                result.append([f"{out}/{name}", *Image.open(f"{out}/{name}").size])
            print(json.dumps(result))
            """
        let run = try TestPaths.execute(URL(fileURLWithPath: python), ["-c", script, photo, dir.path])
        guard run.status == 0 else { throw CommandFailure("PIL copies failed: \(run.err.suffix(1000))") }
        let rows: [[Any]] = try JSONFile.parse(run.out)
        return try rows.map { row in
            guard let path = row[0] as? String, let width = row[1] as? Int, let height = row[2] as? Int else {
                throw CommandFailure("PIL printed \(run.out)")
            }
            return Copy(path: path, width: width, height: height)
        }
    }

    func testSmallPhotosMeetTheLowResolutionThreshold() throws {
        let model = try TrainedModel.shared()
        let unsure = try value(model.metrics, "verdict", "rule", "twoQuestions", "unsure", as: [String: Any].self)
        let normal = try value(unsure, "value", as: Double.self)
        let low = try value(unsure, "lowResolutionValue", as: Double.self)
        XCTAssertEqual(try value(unsure, "lowResolutionBelow", as: Int.self), 112, "half of Lite0's 224-px input")
        XCTAssertGreaterThanOrEqual(low, normal)
        let copies = try copies(of: try XCTUnwrap(model.testImages().first).path)
        let answers = try predictJSON(model.modelPath, copies.map(\.path))
        XCTAssertEqual(answers.count, 2)
        for (answer, copy) in zip(answers, copies) {
            let small = min(copy.width, copy.height) < 112
            XCTAssertEqual(try value(answer, "sourceSize", "width", as: Int.self), copy.width, copy.path)
            XCTAssertEqual(try value(answer, "sourceSize", "height", as: Int.self), copy.height, copy.path)
            let evidence = try value(answer, "unsure", as: [String: Any].self)
            XCTAssertEqual(try value(evidence, "threshold", as: Double.self), small ? low : normal, copy.path)
            XCTAssertEqual(try value(evidence, "lowResolution", as: Bool.self), small, copy.path)
            let unknownPasses = try value(answer, "unknown", "value", as: Double.self)
                >= (try value(answer, "unknown", "threshold", as: Double.self))
            let unsurePasses = try value(evidence, "value", as: Double.self) >= (small ? low : normal)
            let verdict = try value(answer, "verdict", as: String.self)
            XCTAssertEqual(verdict, !unknownPasses ? "unknown" : !unsurePasses ? "unsure" : "accept", copy.path)
            if verdict == "unsure" {
                XCTAssertEqual(try value(answer, "reason", as: String.self).contains("low-resolution"), small)
            }
        }
        XCTAssertEqual(copies.map { min($0.width, $0.height) < 112 }, [true, false], "one copy on each side")
    }

    /// The shared model with the low-resolution fields taken out of its metadata, as older versions wrote it.
    func testOlderModelFileHoldsEverySizeToOneThreshold() throws {
        let model = try TrainedModel.shared()
        let python = try TestEnvironment.python(importing: "json")
        let older = try TestPaths.temporaryDirectory("older-model").appendingPathComponent("model.safetensors")
        let script = """
            import json, struct, sys
            data = open(sys.argv[1], "rb").read()
            size = struct.unpack("<Q", data[:8])[0]
            header = json.loads(data[8:8 + size])
            meta = json.loads(header["__metadata__"]["discern"])
            unsure = meta["rule"]["twoQuestions"]["unsure"]
            assert "lowResolutionValue" in unsure, unsure
            for key in ("lowResolutionBelow", "lowResolutionValue"):
                del unsure[key]
            header["__metadata__"]["discern"] = json.dumps(meta)
            text = json.dumps(header).encode()
            text += b" " * (-len(text) % 8)
            open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + data[8 + size:])
            """
        let run = try TestPaths.execute(URL(fileURLWithPath: python), ["-c", script, model.modelPath, older.path])
        guard run.status == 0 else { throw CommandFailure("rewriting the model failed: \(run.err.suffix(1000))") }
        let unsure = try value(model.metrics, "verdict", "rule", "twoQuestions", "unsure", as: [String: Any].self)
        let normal = try value(unsure, "value", as: Double.self)
        let copies = try copies(of: try XCTUnwrap(model.testImages().first).path)
        for answer in try predictJSON(older.path, copies.map(\.path)) {
            XCTAssertEqual(try value(answer, "unsure", "threshold", as: Double.self), normal)
            XCTAssertEqual(try value(answer, "unsure", "lowResolution", as: Bool.self), false)
        }
    }
}
