import Foundation
import XCTest
@testable import DiscernEngine
import DiscernWeights

/// Discern's own Winograd F(4x4, 3x3) layer (where oneDNN has no Winograd kernel: below AVX-512) against PyTorch's
/// float64 convolution (tools/make_winograd_fixtures.py): partial tiles at the edges, two images (one inference
/// stream each, and each alone, to the bit), the smallest map it takes, ResNet50's layer1 shape; bias and ReLU,
/// ReLU6 or none. ISACapTests runs this test again under every `ONEDNN_MAX_CPU_ISA` cap, so an AVX-512 machine
/// checks the kernel too.
final class WinogradTests: XCTestCase {
    static let cases = ["edges", "smallest", "resnet_layer1"]

    /// The kernel must run exactly where oneDNN's blocks are 8 channels wide (SSE4.1 to AVX2, where oneDNN 2.6 has
    /// no Winograd) and the CPU itself has AVX2 and FMA, as /proc/cpuinfo says.
    static var expectsOwnKernel: Bool {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        return CPUKernels.channelBlock == 8 && flags.isSuperset(of: ["avx2", "fma"])
    }

    static func ownKernelCount() -> Int {
        KernelLog.shared.mix["convolution"]?[WinogradConvolution.implementationName] ?? 0
    }

    func testLayersMatchPyTorchAndRunOnDiscernsKernelBelowAVX512() throws {
        let file = try Fixture.load("winograd_3x3")
        for name in Self.cases {
            let x = try file.t(name + ".x")
            let graph = try Self.layer(file, name)
            let before = Self.ownKernelCount()
            let session = try InferenceSession(graph: graph, batchSize: x.shape[0])
            assertClose(try session.run(x), try file.t(name + ".y"), tol: 3e-5, "\(name) (\(CPUKernels.isaName))")
            XCTAssertEqual(Self.ownKernelCount() > before, Self.expectsOwnKernel,
                           "\(name): Discern's Winograd kernel ran: \(Self.ownKernelCount() > before), ISA "
                           + "\(CPUKernels.isaName), block \(CPUKernels.channelBlock.map(String.init) ?? "none")")
        }
        // A batch runs one image per single-threaded stream, a lone image on the whole OpenMP team: each image's
        // result must be the same to the bit either way (scores do not depend on the batch).
        let x = try file.t("edges.x")
        let batched = try InferenceSession(graph: try Self.layer(file, "edges"), batchSize: 2).run(x)
        let alone = try InferenceSession(graph: try Self.layer(file, "edges"), batchSize: 1)
        for image in 0..<2 {
            let single = try alone.run(x.item(image))
            XCTAssertEqual(single.data, Array(batched.data[(image * single.count)..<((image + 1) * single.count)]),
                           "edges image \(image): a batch of 2 and the image alone differ (\(CPUKernels.isaName))")
        }
    }

    /// A 3x3 layer, then ResNet18/34's BasicBlock on its output: the block's second 3x3 layer adds the block's
    /// input before its ReLU, in place (the input has no later reader). All three layers run on Discern's kernel
    /// below AVX-512.
    func testBasicBlockResidualSumMatchesPyTorch() throws {
        let file = try Fixture.load("winograd_3x3")
        var graph = Graph()
        let input = graph.input()
        func conv(_ layer: String, _ from: Int) throws -> Int {
            let params = Conv2dParams(weight: try file.t("basic_block.w" + layer),
                                      bias: try file.t("basic_block.b" + layer), padding: 1)
            return graph.add(.conv2d(params), [from])
        }
        let stem = graph.add(.relu, [try conv("0", input)])
        let hidden = graph.add(.relu, [try conv("1", stem)])
        let sum = graph.add(.add, [try conv("2", hidden), stem])
        graph.output = graph.add(.relu, [sum])
        let before = Self.ownKernelCount()
        let session = try InferenceSession(graph: graph, batchSize: 1)
        assertClose(try session.run(try file.t("basic_block.x")), try file.t("basic_block.y"), tol: 3e-5,
                    "basic block (\(CPUKernels.isaName))")
        XCTAssertEqual(Self.ownKernelCount() - before, Self.expectsOwnKernel ? 3 : 0,
                       "layers of the block on Discern's Winograd kernel (ISA \(CPUKernels.isaName))")
    }

    /// `--convolution direct` keeps every layer on oneDNN's direct kernels, with the same results.
    func testDirectOptionKeepsOneDNN() throws {
        let file = try Fixture.load("winograd_3x3")
        let x = try file.t("edges.x")
        let before = Self.ownKernelCount()
        let session = try InferenceSession(graph: try Self.layer(file, "edges"), batchSize: x.shape[0],
                                           options: InferenceOptions(convolution: .direct))
        assertClose(try session.run(x), try file.t("edges.y"), tol: 1e-5, "edges, direct")
        XCTAssertEqual(Self.ownKernelCount(), before, "--convolution direct ran Discern's Winograd kernel")
    }

    static func layer(_ file: SafeTensors.File, _ name: String) throws -> Graph {
        var graph = Graph()
        let input = graph.input()
        let params = Conv2dParams(weight: try file.t(name + ".w"), bias: try file.t(name + ".b"), padding: 1)
        let conv = graph.add(.conv2d(params), [input])
        switch file.metadata[name] {
        case "relu": graph.output = graph.add(.relu, [conv])
        case "relu6": graph.output = graph.add(.relu6, [conv])
        case "none": graph.output = conv
        default: throw EngineError.invalid("winograd fixture: no activation for \(name)")
        }
        return graph
    }
}
