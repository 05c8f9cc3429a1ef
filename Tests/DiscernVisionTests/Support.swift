import DiscernTestSupport
import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// Fixture and dataset locations, and comparison helpers for the PIL/torchvision references.
enum Fixtures {
    static let repo = TestEnvironment.repository
    static let dir = repo.appendingPathComponent("Tests/Fixtures/vision")

    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    static func load(_ name: String) throws -> SafeTensors.File {
        try SafeTensors.read(dir.appendingPathComponent(name))
    }

    /// The shared datasets (TestEnvironment: `$DISCERN_DATASETS`, else `<repo>/../shared/datasets`).
    static var datasets: URL { get throws { try TestEnvironment.datasets() } }

    /// The photo a fixture was made from; the test fails naming it when the datasets lack it.
    static func photo(_ file: SafeTensors.File) throws -> String {
        guard let relative = file.metadata["path"] else {
            throw MissingPrerequisite("the fixture's metadata key \"path\"",
                                      fix: "regenerate it with tools/make_vision_fixtures.py")
        }
        return try TestEnvironment.datasetFile(relative).path
    }
}

/// Rows 0, step, 2·step … of an image as a flat HWC byte array (how fixtures subsample large outputs).
func rows(_ img: RGBImage, step: Int) -> [Float] {
    var out: [Float] = []
    for y in stride(from: 0, to: img.height, by: step) {
        out.append(contentsOf: img.pixels[(y * img.width * 3) ..< ((y + 1) * img.width * 3)].map(Float.init))
    }
    return out
}

struct Diff: CustomStringConvertible {
    let maxAbs: Float, withinOne: Double, exact: Double, count: Int
    var description: String {
        "max |Δ| \(maxAbs), \(String(format: "%.4f", withinOne * 100))% within ±1,"
            + " \(String(format: "%.4f", exact * 100))% exact, n=\(count)"
    }
}

func diff(_ a: [Float], _ b: [Float]) -> Diff {
    precondition(a.count == b.count, "diff: \(a.count) vs \(b.count)")
    var m: Float = 0, one = 0, ex = 0
    for i in 0 ..< a.count {
        let d = abs(a[i] - b[i])
        m = max(m, d)
        if d <= 1 { one += 1 }
        if d == 0 { ex += 1 }
    }
    return Diff(
        maxAbs: m, withinOne: Double(one) / Double(max(a.count, 1)), exact: Double(ex) / Double(max(a.count, 1)),
        count: a.count)
}

/// Every value within `maxAbs` grey levels of the reference; 0 (the default) is bit-exact, which is what
/// Resample, Geometry and the codecs claim against PIL. A percentile bound would let a wrong border row pass.
func assertClose(_ got: [Float], _ want: [Float], maxAbs: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard got.count == want.count else {
        return XCTFail("\(what): \(got.count) values vs \(want.count) expected", file: file, line: line)
    }
    let d = diff(got, want)
    print("\(what): \(d)")
    XCTAssertLessThanOrEqual(d.maxAbs, maxAbs, "\(what): \(d)", file: file, line: line)
}
