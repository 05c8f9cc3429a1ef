import COneDNN
import Foundation

public enum Precision: String, Sendable, CaseIterable { case fp32, bf16 }

/// How the fused session lays out activations: `.blocked` asks for the channel-blocked layout of
/// this CPU's jit kernels (falling back to oneDNN's choice where that would run reference code);
/// `.any` always leaves the layout to oneDNN.
public enum ActivationLayout: String, Sendable, CaseIterable { case blocked, any }

/// 3x3 stride-1 convolutions: Winograd — oneDNN's kernel where it has one (AVX-512 only in oneDNN 2.6; about 10%
/// faster for ResNet50 there), else Discern's own F(4x4, 3x3) on CPUs with AVX2 and FMA (`WinogradConvolution`;
/// about 13% faster for ResNet50 under AVX2) — relative error ~1e-5, or always oneDNN's direct kernels.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable { case winograd, direct }

/// Kernel choices of an `InferenceSession`; the defaults are the fastest measured choices.
public struct InferenceOptions: Sendable, Equatable {
    public var precision: Precision
    public var layout: ActivationLayout
    public var convolution: ConvolutionAlgorithm
    /// Batches of two or more images run one image per stream, each stream a single-threaded worker;
    /// nil = one per core available (`InferenceOptions.coreBudget`, when set, is the budget); 1 = every batch on
    /// oneDNN's own thread team, as a single image always is.
    public var streams: Int?
    public init(precision: Precision = .fp32, layout: ActivationLayout = .blocked,
                convolution: ConvolutionAlgorithm = .winograd, streams: Int? = nil) {
        self.precision = precision
        self.layout = layout
        self.convolution = convolution
        self.streams = streams
    }

    /// Streams for this process: the explicit count, else the cores the process may use.
    var streamCount: Int {
        if let streams { return max(1, streams) }
        if let budget = Self.coreBudget, budget > 0 {
            return min(budget, ProcessInfo.processInfo.activeProcessorCount)
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// The cores a session without an explicit stream count may use, for the whole process (nil = every core).
    /// The CLI sets it once at start from OMP_NUM_THREADS, the budget OpenMP itself honours; the libraries read
    /// no environment.
    public static var coreBudget: Int? {
        get { CoreBudget.shared.value }
        set { CoreBudget.shared.value = newValue }
    }
}

/// The storage of `InferenceOptions.coreBudget`. Unchecked Sendable: `stored` is only touched under `lock`.
private final class CoreBudget: @unchecked Sendable {
    static let shared = CoreBudget()
    private let lock = NSLock()
    private var stored: Int?

    var value: Int? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// The fast inference path over a `Graph`: batch-norm folded into convolutions, ReLU/ReLU6 and
/// the residual sum fused as oneDNN post-ops, activations kept in oneDNN's blocked layouts with
/// reorders only at the edges, primitives and reordered weights made once per input shape,
/// buffers reused by lifetime (no allocation per call in the steady state except the result).
/// Not reentrant: calls are serialised.
/// Unchecked Sendable: the plans (oneDNN handles) are only touched under `lock`; the streams are Sendable.
public final class InferenceSession: @unchecked Sendable {
    public let batchSize: Int
    /// The precision actually used (bf16 falls back to fp32 where the CPU lacks AVX512-BF16/AMX).
    public let precision: Precision
    /// Set when the requested precision was not available, or is slower than fp32 on this CPU.
    public let notice: String?

    private let program: FusedProgram
    private let weights = SessionWeightCache()
    private var plans: [[Int]: InferencePlan] = [:]
    private var planOrder: [[Int]] = []
    private let lock = NSLock()

    private let options: InferenceOptions
    private let streams: [InferenceStream]

    public convenience init(graph: Graph, batchSize: Int, precision: Precision = .fp32) throws {
        try self.init(graph: graph, batchSize: batchSize, options: InferenceOptions(precision: precision))
    }

    public convenience init(graph: Graph, batchSize: Int, options: InferenceOptions) throws {
        try self.init(graph: graph, batchSize: batchSize, options: options, checkingBF16Speed: true)
    }

    /// `checkingBF16Speed`: whether a bf16 session times bf16 against fp32 here (`BF16Speed`) and says so when it
    /// is no faster; off only for that measurement's own sessions.
    init(graph: Graph, batchSize: Int, options: InferenceOptions, checkingBF16Speed: Bool) throws {
        guard batchSize >= 1 else {
            throw EngineError.invalid("InferenceSession: batch size must be at least 1, got \(batchSize)")
        }
        self.batchSize = batchSize
        program = try Fusion.compile(graph)
        var effective = options
        if options.precision == .bf16 && !InferenceSession.bf16Supported {
            effective.precision = .fp32
            notice = "bf16 needs a CPU with AVX512-BF16 or AMX (this one: \(CPUKernels.isaName)); running in fp32"
        } else if options.precision == .bf16 && checkingBF16Speed {
            notice = BF16Speed.slowNotice
        } else {
            notice = nil
        }
        self.options = effective
        precision = effective.precision
        let count = OpenMPThreads.available && batchSize > 1 ? effective.streamCount : 1
        let program = self.program, weights = self.weights
        streams = count > 1 ? (0..<count).map {
            InferenceStream(program: program, options: effective, weights: weights, index: $0)
        } : []
    }

    deinit { for stream in streams { stream.stop() } }

    /// oneDNN's view of the CPU: native bf16 kernels from avx512_core_bf16 upwards.
    public static var bf16Supported: Bool { CPUKernels.bf16Native }

    /// x: [n,C,H,W] plain float32 with 1 <= n <= batchSize. Returns [n, features] when the graph
    /// ends in global pooling + flatten, else the final map [n,C,H,W].
    public func run(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else {
            throw EngineError.invalid("InferenceSession: input must be [N,C,H,W], got \(x.shape)")
        }
        guard x.shape[0] >= 1 && x.shape[0] <= batchSize else {
            throw EngineError.invalid("InferenceSession: batch of \(x.shape[0]) outside 1...\(batchSize)")
        }
        lock.lock()
        defer { lock.unlock() }
        if x.shape[0] > 1 && !streams.isEmpty { return try runOnStreams(x) }
        let plan: InferencePlan
        if let p = plans[x.shape] { plan = p } else {
            plan = try InferencePlan(program: program, shape: x.shape, options: options, weights: weights,
                                     stream: DNNLContext.shared.stream)
            // Bounded: a stream of odd shapes must not grow memory without limit.
            if plans.count >= 4, let victim = planOrder.first {
                plans[victim] = nil
                planOrder.removeFirst()
            }
            plans[x.shape] = plan
            planOrder.append(x.shape)
        }
        let out = try x.data.withUnsafeBufferPointer { try plan.run($0.baseAddress!) }
        return Tensor(shape: plan.outputShape, data: out)
    }

    /// Each stream takes the batch's next image when it is free (not a fixed half): a stream slowed down by other
    /// work on its core (decoding, scoring) then runs fewer images instead of keeping the others waiting.
    /// An image's numbers do not depend on the stream that ran it: every stream runs the same batch-1 plan.
    private func runOnStreams(_ x: Tensor) throws -> Tensor {
        let count = x.shape[0]
        let imageShape = Array(x.shape.dropFirst())
        let used = min(streams.count, count)
        let results = ThreadSafeResults(count: used)
        let queue = ImageQueue(count: count)
        let group = DispatchGroup()
        x.data.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            // The buffer outlives the jobs: this call waits for all of them before returning.
            let input = UncheckedPointer(base)
            for part in 0..<used {
                group.enter()
                streams[part].submit {
                    results.set(part, Result {
                        try self.streams[part].runImages(input.pointer, imageShape: imageShape, next: queue.next)
                    })
                    group.leave()
                }
            }
            group.wait()
        }
        var outputs: [[Float]?] = Array(repeating: nil, count: count)
        var shape: [Int] = []
        for part in 0..<used {
            let output = try results.get(part)
            for (index, values) in output.images { outputs[index] = values }
            shape = output.shape
        }
        var values: [Float] = []
        for output in outputs {
            guard let output else { throw EngineError.invalid("InferenceSession: an image of the batch was not run") }
            if values.isEmpty { values.reserveCapacity(output.count * count) }
            values.append(contentsOf: output)
        }
        return Tensor(shape: [count] + shape.dropFirst(), data: values)
    }
}

/// The images of one batch handed out one at a time to whichever stream asks first.
private final class ImageQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = 0
    private let count: Int

    init(count: Int) { self.count = count }

    /// The next image's index, or nil once every image is taken.
    @Sendable func next() -> Int? {
        lock.withLock {
            guard taken < count else { return nil }
            taken += 1
            return taken - 1
        }
    }
}

/// A pointer handed to stream threads. Unchecked Sendable: its owner waits for those threads to finish
/// before the buffer it points into can go away.
private struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    init(_ pointer: UnsafePointer<Float>) { self.pointer = pointer }
}

/// The per-stream outcomes of one batch. Unchecked Sendable: `slots` is only touched under `lock`.
private final class ThreadSafeResults: @unchecked Sendable {
    typealias Output = (images: [(index: Int, values: [Float])], shape: [Int])
    private var slots: [Result<Output, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<Output, Error>) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }
    func get(_ index: Int) throws -> Output {
        lock.lock()
        defer { lock.unlock() }
        guard let slot = slots[index] else { throw EngineError.invalid("InferenceSession: a stream returned nothing") }
        return try slot.get()
    }
}
