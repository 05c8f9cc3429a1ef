import DiscernEngine
import DiscernWeights
import Foundation
import XCTest

/// Locations of the committed model fixtures and of optional real weight files.
enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/models").standardizedFileURL
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL

    static func load(_ name: String) throws -> SafeTensors.File {
        try SafeTensors.read(dir.appendingPathComponent(name))
    }

    /// Tensors under `prefix` with the prefix removed.
    static func strip(_ t: [String: Tensor], _ prefix: String) -> [String: Tensor] {
        Dictionary(
            uniqueKeysWithValues: t.filter { $0.key.hasPrefix(prefix) }.map {
                (String($0.key.dropFirst(prefix.count)), $0.value)
            })
    }

    /// logits = features · Wᵀ + b, the head applied outside the session.
    static func linear(_ f: Tensor, _ p: LinearParams) -> Tensor {
        let n = f.shape[0], k = p.inFeatures, m = p.outFeatures
        var out = [Float](repeating: 0, count: n * m)
        for i in 0..<n { for o in 0..<m {
            var s = p.bias.data[o]
            for j in 0..<k { s += f.data[i * k + j] * p.weight.data[o * k + j] }
            out[i * m + o] = s
        } }
        return Tensor(shape: [n, m], data: out)
    }

    static func assertClose(_ a: Tensor, _ b: Tensor, rel: Float = 0, abs: Float = 0, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        guard a.shape == b.shape else { return }
        let scale = b.data.map { Swift.abs($0) }.max() ?? 1
        var worst: Float = 0
        for (x, y) in zip(a.data, b.data) { worst = max(worst, Swift.abs(x - y)) }
        XCTAssertLessThanOrEqual(
            worst, max(abs, rel * scale), "\(what): max abs diff \(worst) (max |ref| \(scale))", file: file, line: line)
    }
}
