import XCTest
import Foundation
import DiscernEngine
import DiscernModels
@testable import DiscernExplain

/// The fast CAM path (fused InferenceSession up to the latest cut before the target layer, AutogradExecutor
/// after it) against the all-AutogradExecutor path, and against PyTorch through EndToEndTests/Lite0Tests.
final class CAMFastPathTests: XCTestCase {
    private func compare(_ g: Graph, _ head: LinearParams, _ layer: String, _ x: Tensor, methods: [CAMMethod],
                         tol: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        for m in methods {
            let fast = try CAMExplainer(graph: g, head: head, layer: layer, method: m)
            let slow = try CAMExplainer(graph: g, head: head, layer: layer, method: m)
            slow.useFastPath = false
            let a = try fast.explain(x), b = try slow.explain(x)
            XCTAssertNotNil(fast.splitPath, "\(m.rawValue): fast path in use", file: file, line: line)
            XCTAssertEqual(a.classes, b.classes, m.rawValue, file: file, line: line)
            let scale = b.logits.data.map(abs).max() ?? 1
            assertClose(a.logits, b.logits, tol * max(scale, 1), "\(m.rawValue) logits", file: file, line: line)
            assertClose(a.maps.feature, b.maps.feature, tol, "\(m.rawValue) feature map", file: file, line: line)
            assertClose(a.maps.input, b.maps.input, tol, "\(m.rawValue) input map", file: file, line: line)
        }
    }

    func testTinyResNetFastEqualsExecutor() throws {
        let f = try Fixture("tiny_resnet")
        let (g, head) = try TinyResNet.build(f)
        let x = try f.t("x")
        let ex = try CAMExplainer(graph: g, head: head, layer: "layer2.1")
        // The block output is ReLU(residual sum): everything up to the sum runs fused.
        let t = try g.node(named: "layer2.1")
        XCTAssertEqual(ex.splitPath?.cut, g.nodes[t].inputs[0], "cut at the target's residual sum")
        let inner = try CAMExplainer(graph: g, head: head, layer: "layer2.1.conv2")
        XCTAssertEqual(
            inner.splitPath?.cut, try g.node(named: "layer2.0"), "inside a block: the previous block's output")
        try compare(g, head, "layer2.1.conv2", x, methods: [.gradcam, .eigencam], tol: 1e-5)
        try compare(
            g, head, "layer2.1", x, methods: [.gradcam, .gradcamPlusPlus, .hirescam, .xgradcam, .layercam, .eigencam],
            tol: 1e-5)
        try compare(g, head, "layer2.0", x, methods: [.gradcam], tol: 1e-5)
    }

    /// No cut before the first layer: the explainer falls back to the AutogradExecutor and still works.
    func testFirstLayerFallsBack() throws {
        let f = try Fixture("tiny_resnet")
        let (g, head) = try TinyResNet.build(f)
        let ex = try CAMExplainer(graph: g, head: head, layer: "conv1")
        XCTAssertNil(ex.splitPath)
        let slow = try CAMExplainer(graph: g, head: head, layer: "conv1")
        slow.useFastPath = false
        assertClose(
            try ex.explain(try f.t("x")).maps.input, try slow.explain(try f.t("x")).maps.input, 0, "conv1 fallback")
    }

    /// More images than the session's batch: the prefix runs in chunks, results per image unchanged.
    func testLargeBatchChunks() throws {
        let f = try Fixture("tiny_resnet")
        let (g, head) = try TinyResNet.build(f)
        let x1 = try f.t("x"), n1 = x1.shape[0], n = CAMSplitPath.maxBatch + n1 + 1
        let per = x1.count / n1
        var data = [Float]()
        for i in 0..<n { data += x1.data[((i % n1) * per)..<((i % n1 + 1) * per)] }
        let x = Tensor(shape: [n] + Array(x1.shape.dropFirst()), data: data)
        try compare(g, head, "layer2.1", x, methods: [.gradcam], tol: 1e-5)
    }

    /// A real (random-init) ResNet18 at its default layer `layer4.1`: cut at its residual sum.
    func testResNet18DefaultLayer() throws {
        let bb = try Backbone.build(.resnet18, weights: nil, seed: 7)
        // Deterministic inputs and head (no RNG: the test must not depend on luck).
        let x = Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { 2 * Float(sin(Double($0) * 0.37)) })
        let head = try LinearParams(weight: Tensor(shape: [3, bb.featureCount], data: (0..<(3 * bb.featureCount)).map {
            0.1 * Float(cos(Double($0) * 1.13)) }), bias: Tensor(zeros: [3]))
        let ex = try CAMExplainer(backbone: bb, head: head)
        XCTAssertEqual(ex.splitPath?.cut, bb.graph.nodes[try bb.graph.node(named: "layer4.1")].inputs[0])
        try compare(bb.graph, head, bb.defaultCAMLayer, x, methods: [.gradcam, .gradcamPlusPlus], tol: 1e-4)
    }
}
