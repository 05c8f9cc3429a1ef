import Foundation
import XCTest
import DiscernEngine
import DiscernWeights

/// Loads Tests/Fixtures/training/<name> (made by tools/make_training_fixtures.py).
func trainingFixture(_ name: String) throws -> SafeTensors.File {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training/\(name)")
    return try SafeTensors.read(url)
}

func assertClose(
    _ a: [Float], _ b: [Float], tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    var worst: Float = 0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
    XCTAssertLessThanOrEqual(worst, tol, "\(what): max error \(worst)", file: file, line: line)
}
