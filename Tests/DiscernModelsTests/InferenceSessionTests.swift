import DiscernEngine
import DiscernModels
import XCTest

/// Input checking and graph patterns of the fused fast path (numerics are checked against
/// PyTorch in ResNetTests / EfficientNetLiteTests).
final class InferenceSessionTests: XCTestCase {
    func smallGraph() throws -> Graph {
        try Backbone.resnet(bottleneck: false, layers: [1, 1, 1, 1], widths: [4, 4, 8, 8], weights: nil, seed: 2).graph
    }

    func testRejectsBadInputsWithClearErrors() throws {
        let s = try InferenceSession(graph: try smallGraph(), batchSize: 2)
        XCTAssertThrowsError(try s.run(Tensor(zeros: [3, 32, 32]))) {
            XCTAssertTrue("\($0)".contains("[N,C,H,W]"), "\($0)")
        }
        XCTAssertThrowsError(try s.run(Tensor(zeros: [3, 3, 32, 32]))) {
            XCTAssertTrue("\($0)".contains("batch of 3"), "\($0)")
        }
        XCTAssertThrowsError(try s.run(Tensor(zeros: [1, 4, 32, 32]))) {
            XCTAssertTrue("\($0)".contains("input channels"), "\($0)")
        }
        var g = Graph()
        g.add(.conv2d(Conv2dParams(weight: Tensor(zeros: [1, 1, 3, 3]))), [g.input()])
        XCTAssertThrowsError(try InferenceSession(graph: g, batchSize: 1).run(Tensor(zeros: [1, 1, 2, 2]))) {
            XCTAssertTrue("\($0)".contains("too small"), "\($0)")
        }
        XCTAssertThrowsError(try InferenceSession(graph: try smallGraph(), batchSize: 0))
        // Still usable after errors.
        XCTAssertEqual(try s.run(Tensor(zeros: [2, 3, 32, 32])).shape, [2, 8])
    }

    func testUnfusablePatternIsReported() throws {
        var g = Graph()
        let x = g.input()
        g.add(.relu, [x], names: ["act"])
        XCTAssertThrowsError(try InferenceSession(graph: g, batchSize: 1)) {
            XCTAssertTrue("\($0)".contains("'act'"), "\($0)")
        }
    }

    /// A conv-only graph without pooling returns the plain NCHW map; checked against a direct loop.
    func testPlainConvReluMatchesDirectLoop() throws {
        var g = Graph()
        let x = g.input()
        let w = Tensor(shape: [2, 1, 3, 3], data: (0..<18).map { Float($0 % 5) - 2 })
        let c = g.add(
            .conv2d(Conv2dParams(weight: w, bias: Tensor(shape: [2], data: [0.5, -1]), stride: 1, padding: 1)), [x])
        g.add(.relu, [c])
        let input = Tensor(shape: [1, 1, 4, 5], data: (0..<20).map { Float($0) / 7 - 1 })
        let out = try InferenceSession(graph: g, batchSize: 1).run(input)
        XCTAssertEqual(out.shape, [1, 2, 4, 5])
        for o in 0..<2 { for i in 0..<4 { for j in 0..<5 {
            var s = o == 0 ? Float(0.5) : -1
            for u in 0..<3 { for v in 0..<3 {
                let (y, xx) = (i + u - 1, j + v - 1)
                if y >= 0 && y < 4 && xx >= 0 && xx < 5 { s += w.data[o * 9 + u * 3 + v] * input.data[y * 5 + xx] }
            } }
            XCTAssertEqual(out.data[(o * 4 + i) * 5 + j], max(s, 0), accuracy: 1e-5)
        } } }
    }
}
