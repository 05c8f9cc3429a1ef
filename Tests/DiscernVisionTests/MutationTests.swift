import DiscernEngine
import DiscernVision
import Foundation
import XCTest

/// Damaged files never crash the decoders: every truncation and random byte flip of the synthetic
/// images either decodes to a consistent image or throws a one-line VisionError naming the file.
final class MutationTests: XCTestCase {
    func testTruncatedAndCorruptedFilesDecodeOrFailCleanly() throws {
        let dir = Fixtures.dir.appendingPathComponent("synthetic")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty)
        var rng = SplitMix64(seed: 99)
        var refused = 0, decoded = 0
        for name in names {
            let data = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
            var variants: [[UInt8]] = stride(from: 0, to: data.count, by: max(data.count / 40, 1)).map {
                Array(data[..<$0])
            }
            for _ in 0..<40 {
                var d = data
                for _ in 0 ..< 1 + rng.int(0, 4) { d[rng.int(0, d.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                variants.append(d)
            }
            for (k, v) in variants.enumerated() {
                let label = "\(name)#\(k)"
                do {
                    let img = try ImageCodec.decode(v, name: label, maxPixels: 1 << 20)
                    XCTAssertEqual(img.pixels.count, img.width * img.height * 3)
                    decoded += 1
                } catch let e as VisionError {
                    XCTAssertTrue(e.description.hasPrefix(label) && !e.description.contains("\n"), e.description)
                    refused += 1
                }
            }
        }
        print("mutations: \(decoded) decoded, \(refused) refused")
        XCTAssertGreaterThan(refused, 0)
    }
}
