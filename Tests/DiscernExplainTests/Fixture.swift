import Foundation
import XCTest
import DiscernEngine
import DiscernWeights

/// Loads a committed fixture from Tests/Fixtures/explain (made by tools/make_explain_fixtures.py).
struct Fixture {
    let name: String
    let file: SafeTensors.File
    init(_ name: String) throws {
        self.name = name
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/explain/\(name).safetensors").standardized
        file = try SafeTensors.read(url)
    }
    func t(_ key: String) throws -> Tensor {
        guard let v = file.tensors[key] else {
            throw FixtureError(description: "fixture \(name) lacks \(key): "
                                   + "regenerate it with tools/make_explain_fixtures.py")
        }
        return v
    }
    func ints(_ key: String) throws -> [Int] { try t(key).data.map { Int($0) } }
    func meta(_ key: String) -> Int { Int(file.metadata[key] ?? "") ?? 0 }
}

/// A key a test needs is not in its fixture: a failure (the fixture is stale), never a skip.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

func assertClose(
    _ a: Tensor, _ b: Tensor, _ tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
    guard a.shape == b.shape else { return }
    let d = maxAbsDiff(a.data, b.data)
    XCTAssertLessThanOrEqual(d, tol, "\(what): max abs diff \(d)", file: file, line: line)
}
