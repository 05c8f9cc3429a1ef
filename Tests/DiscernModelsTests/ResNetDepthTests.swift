import DiscernEngine
@testable import DiscernModels
import DiscernWeights
import Foundation
import XCTest

/// Every ResNet depth Discern offers, built and run on both paths (autograd AutogradExecutor, fused
/// InferenceSession) against torchvision's logits: full-size random weights generated at test time by
/// tools/make_resnet_depth_fixtures.py (torch.save files through PyTorchCheckpoint), and the committed
/// narrow fixture with each depth's block type and counts. A machine without torch fails the first test.
final class ResNetDepthTests: XCTestCase {
    /// torchvision's facts per depth: block type, feature count, last block of layer4 (the CAM layer).
    static let depths: [(BackboneKind, bottleneck: Bool, features: Int, camLayer: String)] = [
        (.resnet18, false, 512, "layer4.1"), (.resnet34, false, 512, "layer4.2"), (.resnet50, true, 2048, "layer4.2"),
        (.resnet101, true, 2048, "layer4.2"), (.resnet152, true, 2048, "layer4.2"),
    ]

    /// Five .pth files (650 MB in all) and their logits, in a fresh temporary folder.
    static func makeReference() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("discern-resnet-depths-\(UUID().uuidString.prefix(8))")
        let python = "/usr/bin/python3"
        let script = Fixtures.repo.appendingPathComponent("tools/make_resnet_depth_fixtures.py").path
        let (status, err) = run(python, [script, "--reference", dir.path])
        guard status == 0 else {
            throw EngineError.invalid("\(python) \(script) failed (exit \(status)); "
                                      + "torch and torchvision are needed (scripts/setup --dev): \(err)")
        }
        return dir
    }

    static func run(_ exe: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let errors = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errors
        do { try p.run() } catch { return (-1, "\(error)") }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, String(text.suffix(2000)))
    }

    /// The head applied to both paths' features equals the reference logits.
    func assertBothPaths(_ b: Backbone, input x: Tensor, logits expected: Tensor, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        guard let head = b.imagenetHead else { return XCTFail("\(what): no fc head", file: file, line: line) }
        let fused = Fixtures.linear(try InferenceSession(graph: b.graph, batchSize: x.shape[0]).run(x), head)
        Fixtures.assertClose(fused, expected, rel: 1e-4, "\(what), InferenceSession", file: file, line: line)
        let executor = Fixtures.linear(try AutogradExecutor(graph: b.graph).forward(x).output, head)
        Fixtures.assertClose(executor, expected, rel: 1e-4, "\(what), AutogradExecutor", file: file, line: line)
    }

    func testEveryDepthMatchesTorchvisionAtTestTime() throws {
        let dir = try Self.makeReference()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (kind, _, features, camLayer) in Self.depths {
            let name = kind.rawValue
            let ref = try SafeTensors.read(dir.appendingPathComponent("\(name)_ref.safetensors"))
            let weights = try PyTorchCheckpoint.load(dir.appendingPathComponent("\(name).pth"))
            // Every torchvision key is taken with its shape and none is left over (WeightStore.finish).
            let b = try Backbone.build(kind, weights: WeightStore(weights), inputSize: 64)
            XCTAssertEqual(b.featureCount, features, name)
            XCTAssertEqual(b.defaultCAMLayer, camLayer, name)
            try assertBothPaths(b, input: ref.tensors["input"]!, logits: ref.tensors["logits"]!, name)
        }
    }

    /// Without torch: torchvision's block classes at each depth's block counts, narrow widths, committed.
    func testEveryDepthMatchesCommittedNarrowFixture() throws {
        let f = try Fixtures.load("resnet_depths_narrow.safetensors")
        let x = try XCTUnwrap(f.tensors["input"])
        for (kind, bottleneck, _, _) in Self.depths {
            let name = kind.rawValue
            let spec = ResNet.spec(kind)
            let block = bottleneck ? "Bottleneck" : "BasicBlock"
            XCTAssertEqual(f.metadata[name], "\(block) \(spec.layers.map(String.init).joined(separator: ","))",
                           "\(name): the fixture's block type and counts are the builder's")
            XCTAssertEqual(spec.bottleneck, bottleneck, name)
            let store = WeightStore(Fixtures.strip(f.tensors, "\(name).weights."))
            let b = try Backbone.resnet(bottleneck: bottleneck, layers: spec.layers, widths: [4, 8, 8, 8],
                                        weights: store)
            try assertBothPaths(b, input: x, logits: try XCTUnwrap(f.tensors["\(name).logits"]), name)
        }
    }
}
