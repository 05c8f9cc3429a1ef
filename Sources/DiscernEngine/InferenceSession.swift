import COneDNN
import Foundation

public enum Precision: String, Sendable, CaseIterable { case fp32, bf16 }

/// The fast inference path over a `Graph`: batch-norm folded into convolutions, ReLU/ReLU6 and
/// the residual sum fused as oneDNN post-ops, activations kept in oneDNN's blocked layouts with
/// reorders only at the edges, primitives and reordered weights made once per input shape,
/// buffers reused by lifetime (no allocation per call in the steady state except the result).
/// Not reentrant: calls are serialised.
public final class InferenceSession: @unchecked Sendable {
    public let batchSize: Int
    /// The precision actually used (bf16 falls back to fp32 where the CPU lacks AVX512-BF16/AMX).
    public let precision: Precision
    /// Set when the requested precision was not available.
    public let notice: String?

    private let program: FusedProgram
    private let weights = SessionWeightCache()
    private var plans: [[Int]: InferencePlan] = [:]
    private var planOrder: [[Int]] = []
    private let lock = NSLock()

    public init(graph: Graph, batchSize: Int, precision: Precision = .fp32) throws {
        guard batchSize >= 1 else { throw EngineError.invalid("InferenceSession: batch size must be at least 1, got \(batchSize)") }
        self.batchSize = batchSize
        program = try Fusion.compile(graph)
        if precision == .bf16 && !InferenceSession.bf16Supported {
            self.precision = .fp32
            notice = "bf16 needs a CPU with AVX512-BF16 or AMX; running in fp32"
        } else {
            self.precision = precision; notice = nil
        }
    }

    /// fp32 3x3 stride-1 convolutions use oneDNN's Winograd kernel where it has one (about 10%
    /// faster for ResNet50 here, relative error ~1e-6); DISCERN_CONV_ALGO=direct turns it off.
    static let convAlgorithm: dnnl_alg_kind_t =
        ProcessInfo.processInfo.environment["DISCERN_CONV_ALGO"] == "direct" ? dnnl_convolution_direct : dnnl_convolution_winograd

    /// oneDNN's view of the CPU: bf16 kernels from avx512_core_bf16 upwards.
    public static var bf16Supported: Bool {
        dnnl_get_effective_cpu_isa().rawValue >= dnnl_cpu_isa_avx512_core_bf16.rawValue
            && dnnl_get_effective_cpu_isa() != dnnl_cpu_isa_all
    }

    /// x: [n,C,H,W] plain float32 with 1 <= n <= batchSize. Returns [n, features] when the graph
    /// ends in global pooling + flatten, else the final map [n,C,H,W].
    public func run(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else { throw EngineError.invalid("InferenceSession: input must be [N,C,H,W], got \(x.shape)") }
        guard x.shape[0] >= 1 && x.shape[0] <= batchSize else {
            throw EngineError.invalid("InferenceSession: batch of \(x.shape[0]) outside 1...\(batchSize)")
        }
        lock.lock(); defer { lock.unlock() }
        let plan: InferencePlan
        if let p = plans[x.shape] { plan = p } else {
            plan = try InferencePlan(program: program, shape: x.shape, dt: precision == .bf16 ? dnnl_bf16 : dnnl_f32, weights: weights)
            // Bounded: a stream of odd shapes must not grow memory without limit.
            if plans.count >= 4, let victim = planOrder.first { plans[victim] = nil; planOrder.removeFirst() }
            plans[x.shape] = plan; planOrder.append(x.shape)
        }
        let out = try x.data.withUnsafeBufferPointer { try plan.run($0.baseAddress!) }
        return Tensor(shape: plan.outputShape, data: out)
    }
}
