import DiscernEngine
import DiscernModels
import DiscernTestSupport
import DiscernWeights
import Foundation
import XCTest
@testable import DiscernKit

/// timm's ResNet safetensors (written by timm and safetensors themselves, tools/make_timm_reference.py, at test
/// time: 45-100 MB) and torchvision's .pth of the same weights load through BackboneWeights into the same network.
final class TimmWeightsTests: XCTestCase {
    static let dir = TestEnvironment.referenceFolder("discern-timm-reference",
                                                      scripts: ["tools/make_timm_reference.py", "tools/batchnorm_random.py"])

    static func prepare() throws {
        let marker = dir.appendingPathComponent("resnet50-reference.safetensors")
        if FileManager.default.fileExists(atPath: marker.path) { return }
        let python = try TestEnvironment.torchPython()
        let script = TestEnvironment.repository.appendingPathComponent("tools/make_timm_reference.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, dir.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MissingPrerequisite("the timm reference: \(python) \(script) \(dir.path) failed",
                                      fix: "run that command to see why (scripts/setup --dev installs timm and "
                                          + "safetensors into ~/.cache/discern/python)")
        }
    }

    func check(_ kind: BackboneKind) throws {
        try Self.prepare()
        let hub = Self.dir.appendingPathComponent("hub").path
        let timm = try XCTUnwrap(BackboneWeights.timmFile(kind, hub: hub), "timm's file not found in the hub cache")
        XCTAssertTrue(timm.hasSuffix("models--timm--\(kind.rawValue).a1_in1k/snapshots/0/model.safetensors"))
        let torchvision = Self.dir.appendingPathComponent("\(kind.rawValue)-torchvision.pth").path
        let reference = try SafeTensors.read(Self.dir.appendingPathComponent("\(kind.rawValue)-reference.safetensors"))
        let x = try XCTUnwrap(reference.tensors["input"])
        var features: [Tensor] = []
        for file in [timm, torchvision] {
            let (backbone, kept, used) = try BackboneWeights.load(kind, path: file)
            XCTAssertEqual(used, file)
            XCTAssertNotNil(backbone.imagenetHead, "\(file): fc is the ImageNet head")
            XCTAssertFalse(kept.keys.contains { $0.hasPrefix("fc.") })
            features.append(try InferenceSession(graph: backbone.graph, batchSize: 2).run(x))
        }
        XCTAssertEqual(features[0], features[1], "\(kind.rawValue): timm's safetensors and torchvision's .pth differ")
        let want = try XCTUnwrap(reference.tensors["features"])
        XCTAssertEqual(features[0].shape, want.shape)
        let scale = want.data.map(abs).max() ?? 1
        let worst = zip(features[0].data, want.data).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(kind.rawValue) features vs torchvision: max diff \(worst)")
    }

    func testTimmResNet18SafetensorsEqualsTorchvisionPth() throws { try check(.resnet18) }

    func testTimmResNet50SafetensorsEqualsTorchvisionPth() throws { try check(.resnet50) }

    /// Only a ResNet of the asked depth is taken from the hub cache; EfficientNet-Lite never is.
    func testHubCacheLookupMatchesTheDepth() throws {
        try Self.prepare()
        let hub = Self.dir.appendingPathComponent("hub").path
        XCTAssertNil(BackboneWeights.timmFile(.resnet101, hub: hub))
        XCTAssertNil(BackboneWeights.timmFile(.efficientnetLite0, hub: hub))
        let resnet50 = try XCTUnwrap(BackboneWeights.timmFile(.resnet50, hub: hub))
        XCTAssertThrowsError(try BackboneWeights.load(.resnet18, path: resnet50)) {
            XCTAssertTrue("\($0)".contains("these are not resnet18 weights"), "\($0)")
        }
    }
}
