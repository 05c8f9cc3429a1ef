import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// Fixture and dataset locations, and comparison helpers for the PIL/torchvision references.
enum Fixtures {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dir = repo.appendingPathComponent("Tests/Fixtures/vision")

    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    static func load(_ name: String) throws -> SafeTensors.File { try SafeTensors.read(dir.appendingPathComponent(name)) }

    /// `<repo>/../shared/datasets`, else `/work/shared/datasets`; nil when neither exists.
    static var datasets: URL? {
        for u in [repo.deletingLastPathComponent().appendingPathComponent("shared/datasets"), URL(fileURLWithPath: "/work/shared/datasets")]
        where FileManager.default.fileExists(atPath: u.path) { return u }
        return nil
    }

    /// The photo a fixture was made from, or an XCTSkip when the dataset is absent.
    static func photo(_ file: SafeTensors.File) throws -> String {
        guard let base = datasets, let rel = file.metadata["path"] else { throw XCTSkip("datasets not found") }
        let p = base.appendingPathComponent(rel).path
        guard FileManager.default.fileExists(atPath: p) else { throw XCTSkip("\(p) not found") }
        return p
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
    var description: String { "max |Δ| \(maxAbs), \(String(format: "%.4f", withinOne * 100))% within ±1, \(String(format: "%.4f", exact * 100))% exact, n=\(count)" }
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
    return Diff(maxAbs: m, withinOne: Double(one) / Double(max(a.count, 1)), exact: Double(ex) / Double(max(a.count, 1)), count: a.count)
}

func assertClose(_ got: [Float], _ want: [Float], minWithinOne: Double = 0.99, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard got.count == want.count else { return XCTFail("\(what): \(got.count) values vs \(want.count) expected", file: file, line: line) }
    let d = diff(got, want)
    print("\(what): \(d)")
    XCTAssertGreaterThanOrEqual(d.withinOne, minWithinOne, "\(what): \(d)", file: file, line: line)
}
