import DiscernEngine
import Foundation
import XCTest

/// Other CPUs seen from this one: the fixture tests of inference (ResNet50, Lite0, a small ResNet, Discern's own
/// Winograd layer, which runs only below AVX-512),
/// gradients (the autograd executor's backward, as training and Grad-CAM use it) and Grad-CAM run
/// again in child processes of this test binary under every `ONEDNN_MAX_CPU_ISA` cap this CPU
/// allows. Each child must pass them (same PyTorch fixtures) and oneDNN's verbose log must show no
/// convolution or pooling on its `ref:` loops, which would mean a layout no jit kernel accepts there.
final class ISACapTests: XCTestCase {
    static let childTests = [
        "DiscernModelsTests.EfficientNetLiteTests/testLite0RealWeightsMatchPyTorchOnPhotos",
        "DiscernModelsTests.ResNet50TorchTests/testResNet50ZipAndLegacyFilesGivePyTorchLogits",
        "DiscernModelsTests.ResNetTests/testSmallBottleneckResNetLogitsMatchPyTorch",
        "DiscernModelsTests.ResNetGradientTests/testLayer4ActivationAndLogitGradientMatchPyTorch",
        "DiscernExplainTests.Lite0Tests/testLite0GradCAMAndGuidedBackprop",
        "DiscernEngineTests.WinogradTests/testLayersMatchPyTorchAndRunOnDiscernsKernelBelowAVX512",
        "DiscernEngineTests.WinogradTests/testBasicBlockResidualSumMatchesPyTorch",
    ]

    static let childTimeLimit: TimeInterval = 300

    /// The caps below this CPU's own level, each with the ISA line oneDNN then prints.
    static func caps() throws -> [(cap: String, isaLine: String)] {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        var caps: [(String, String)] = []
        if flags.contains("sse4_1") { caps.append(("SSE41", "Intel SSE4.1")) }
        if flags.contains("avx") { caps.append(("AVX", "Intel AVX")) }
        if flags.contains("avx2") { caps.append(("AVX2", "Intel AVX2")) }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
            caps.append(("AVX512_CORE", "Intel AVX-512"))
        }
        return caps
    }

    func testFixturesUnderEveryISACapUseJitKernels() throws {
        let caps = try Self.caps()
        XCTAssertFalse(caps.isEmpty, "this x86-64 CPU reports no SSE4.1")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        for (cap, isaLine) in caps {
            let result = try Self.runChild(binary: binary, cap: cap)
            let lines = result.output.split(separator: "\n")
            let isa = lines.first { $0.hasPrefix("onednn_verbose,info,cpu,isa:") }.map(String.init) ?? "none"
            XCTAssertTrue(isa.hasSuffix(isaLine) || isa.contains(isaLine + " "), "\(cap): oneDNN reports \(isa)")
            XCTAssertEqual(result.status, 0, "\(cap): the fixture tests failed:\n\(Self.failures(lines))")
            let executed = lines.last { $0.contains("Executed \(Self.childTests.count) tests") }
            XCTAssertNotNil(executed, "\(cap): expected \(Self.childTests.count) tests to run:\n\(Self.summary(lines))")
            XCTAssertFalse(lines.contains { $0.contains(" skipped") && $0.hasPrefix("Test Case") },
                           "\(cap): a fixture test skipped:\n\(Self.summary(lines))")
            let fallbacks = Self.referenceFallbacks(lines)
            XCTAssertEqual(fallbacks, [], "\(cap): convolutions or poolings on oneDNN's reference code")
            let executions = lines.filter { $0.hasPrefix("onednn_verbose,exec,cpu,convolution") }.count
            XCTAssertGreaterThan(executions, 100, "\(cap): too few convolutions traced; was the verbose log read?")
        }
    }

    /// `onednn_verbose,exec,cpu,<kind>,<implementation>,...` lines of hot kinds on `ref:` implementations.
    static func referenceFallbacks(_ lines: [Substring]) -> [String] {
        lines.filter { $0.hasPrefix("onednn_verbose,exec,cpu,") }.compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > 5 else { return nil }
            let kind = fields[3], implementation = fields[4]
            let hot =
                kind.hasPrefix("convolution") || kind.hasPrefix("pooling") || kind == "inner_product"
                || kind == "matmul"
            return hot && implementation.hasPrefix("ref") ? String(line.prefix(200)) : nil
        }
    }

    static func failures(_ lines: [Substring]) -> String {
        lines.filter { $0.contains("error:") || $0.contains(" failed") }.prefix(20).joined(separator: "\n")
    }

    static func summary(_ lines: [Substring]) -> String {
        lines.filter { $0.hasPrefix("Test Case") || $0.contains("Executed") }.suffix(20).joined(separator: "\n")
    }

    static func runChild(binary: URL, cap: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = [childTests.joined(separator: ",")]
        var environment = ProcessInfo.processInfo.environment
        environment["ONEDNN_MAX_CPU_ISA"] = cap
        environment["ONEDNN_VERBOSE"] = "1"
        process.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("discern-isa-\(cap)-\(UUID()).log")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: output.path])
        }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // With jit kernels a child takes well under a minute; reference loops take hours, so a child
        // still running after the limit has fallen back, and it fails instead of holding CI.
        let deadline = Date().addingTimeInterval(childTimeLimit)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            process.waitUntilExit()
        }
        try handle.close()
        let text = try String(contentsOf: output, encoding: .utf8)
        return (timedOut ? -1 : process.terminationStatus,
                timedOut ? text + "\nchild timed out after \(Int(childTimeLimit)) s\n" : text)
    }
}
