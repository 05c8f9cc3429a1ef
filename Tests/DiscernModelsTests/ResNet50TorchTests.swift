import DiscernTestSupport
import DiscernEngine
import DiscernModels
import DiscernWeights
import Foundation
import XCTest

/// Full-size ResNet50 against torchvision, generated at test time (100 MB, not committed);
/// fails where /usr/bin/python3 cannot import torch (scripts/setup --dev installs it).
final class ResNet50TorchTests: XCTestCase {
    static let dir = TestEnvironment.referenceFolder("discern-models-resnet50",
                                                     scripts: ["tools/make_model_fixtures.py", "tools/fixture_io.py"])

    static func reference() throws -> URL {
        let ref = dir.appendingPathComponent("resnet50_ref.safetensors")
        if FileManager.default.fileExists(atPath: ref.path) { return ref }
        let py = try TestEnvironment.torchPython()
        let script = Fixtures.repo.appendingPathComponent("tools/make_model_fixtures.py").path
        guard run(py, [script, "--resnet50-reference", dir.path]) == 0 else {
            throw MissingPrerequisite("the ResNet50 reference: \(py) \(script) --resnet50-reference failed",
                                      fix: "run that command to see why")
        }
        return ref
    }

    static func run(_ exe: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testResNet50ZipAndLegacyFilesGivePyTorchLogits() throws {
        let ref = try SafeTensors.read(try Self.reference())
        let x = ref.tensors["input"]!
        var first: Tensor?
        for file in ["resnet50_zip.pth", "resnet50_legacy.pth"] {
            let sd = try PyTorchCheckpoint.load(Self.dir.appendingPathComponent(file))
            let b = try Backbone.build(.resnet50, weights: WeightStore(sd))
            let logits = Fixtures.linear(try InferenceSession(graph: b.graph, batchSize: 2).run(x), b.imagenetHead!)
            Fixtures.assertClose(logits, ref.tensors["logits"]!, rel: 1e-4, "ResNet50 logits from \(file)")
            if let f = first { XCTAssertEqual(f, logits, "zip and legacy files give different weights") }
            first = logits
        }
    }
}
