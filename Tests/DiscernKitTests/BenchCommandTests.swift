import Foundation
import XCTest

/// `discern bench` through the binary: the JSON line describes the run asked for, including the ISA cap
/// oneDNN was given, and `--cam` reports a CAM's cost against a forward.
final class BenchCommandTests: XCTestCase {
    func testBackboneLineFollowsTheISACap() throws {
        let out = try discern(["bench", "--batch", "2", "--iterations", "2", "--json"],
                              environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        let line: [String: Any] = try JSONFile.parse(out)
        XCTAssertEqual(line["backbone"] as? String, "efficientnet-lite0")
        XCTAssertEqual(line["batch"] as? Int, 2)
        XCTAssertEqual(line["precision"] as? String, "fp32")
        let isa = line["isa"] as? String ?? "?"
        XCTAssertTrue(isa.hasPrefix("avx2"), "\(isa) under the AVX2 cap")
        XCTAssertEqual(line["reference_fallbacks"] as? Int, 0, "no convolution on oneDNN's reference code")
        let ms = try value(line, "ms_per_image", as: Double.self)
        let best = try value(line, "best_ms_per_image", as: Double.self)
        XCTAssertGreaterThan(best, 0)
        XCTAssertLessThanOrEqual(best, ms + 1e-9, "the best round is not slower than the median")
        XCTAssertGreaterThan(try value(line, "cpu_ms_per_image", as: Double.self), 0, "CPU time over the timed runs")
        let kernels = line["kernels"] as? [String] ?? []
        XCTAssertFalse(kernels.isEmpty)
        XCTAssertFalse(kernels.contains { $0.contains("avx512") }, "kernels under the cap: \(kernels)")
        // Discern's own C kernels follow the CPU (oneDNN's cap is oneDNN's): AVX2 exactly when the kernel's
        // /proc/cpuinfo lists both avx2 and fma.
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        let expected = flags.contains("avx2") && flags.contains("fma") ? "avx2+fma" : "baseline"
        XCTAssertEqual(line["c_kernels"] as? [String: String], ["pixels": expected, "dot_products": expected])
    }

    func testCAMCost() throws {
        let out = try discern(["bench", "--cam", "gradcam", "--iterations", "1"])
        XCTAssertTrue(out.hasPrefix("efficientnet-lite0 gradcam at _conv_head:"), out)
        XCTAssertNotNil(out.range(of: #"_conv_head: [0-9.]+ ms/image;"#, options: .regularExpression), out)
        XCTAssertTrue(out.contains("; isa "), "the ISA oneDNN used: \(out)")
        let found = out.range(of: #"-> [0-9.]+× a fused forward"#, options: .regularExpression)
        let ratio = try XCTUnwrap(found.map { out[$0] }, out)
        let value = Double(ratio.dropFirst(3).prefix { $0 != "×" }) ?? 0
        XCTAssertGreaterThan(value, 0.5, "a Grad-CAM costs at least about a fused forward: \(out)")
    }
}
