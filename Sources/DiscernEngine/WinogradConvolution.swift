import COneDNN
import CWinograd

/// Discern's own Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions where oneDNN has no Winograd kernel (oneDNN 2.6
/// has one on AVX-512 only). On AVX2 its direct kernel runs ResNet's 3x3 layers near the cores' peak, so only fewer
/// multiplications make them faster: F(4x4, 3x3) needs 36 per 4x4 outputs and channel pair instead of 144.
/// Measured on one layer at a time under `ONEDNN_MAX_CPU_ISA=AVX2` (AMD Zen 5, 2 threads): 56x56x64 0.33 against
/// oneDNN's 0.87 ms, 28x28x128 0.34 against 0.89, 14x14x256 0.49 against 0.93, 7x7x512 1.11 against 1.13.
enum WinogradConvolution {
    /// Fewer 4x4 tiles than this (a 7x7 map has 4, computing 8x8 outputs for 49) leave matrix products of a few
    /// rows each, dominated by reading weights 4x the size of the direct ones: no faster than oneDNN's direct kernel.
    static let minimumTiles = 16

    static var implementationName: String { "discern_wino_4x3:avx2" }

    /// Whether a layer of the fused inference path runs here: fp32, 3x3, stride 1, padding 1, no groups, channel
    /// counts in 8-channel blocks (a residual sum and ReLU/ReLU6 it applies itself), the blocked layout asked for,
    /// Winograd asked for and oneDNN without a Winograd kernel for it on this CPU, and a CPU with AVX2 and FMA.
    static func applies(_ conv: FusedConv, inDims: [Int], dataType: dnnl_data_type_t,
                        options: InferenceOptions) throws -> Bool {
        let (height, width) = (inDims[2], inDims[3])
        guard options.convolution == .winograd, options.layout == .blocked, dataType == dnnl_f32,
              CPUKernels.channelBlock == 8, discern_winograd_available() == 1,
              conv.kernel == (3, 3), conv.stride == (1, 1), conv.groups == 1,
              [conv.padTop, conv.padLeft, conv.padBottom, conv.padRight] == [1, 1, 1, 1],
              conv.inChannels % 8 == 0, conv.outChannels % 8 == 0,
              ((height + 3) / 4) * ((width + 3) / 4) >= minimumTiles else { return false }
        // A future oneDNN with its own Winograd here is preferred: ask it.
        let source = try DNNL.memoryDescriptor(inDims, dataType, dnnl_nChw8c)
        let destination = try DNNL.memoryDescriptor([inDims[0], conv.outChannels, height, width], dataType,
                                                    dnnl_nChw8c)
        if let pd = try SessionConvDesc.create(conv, src: source, dst: destination, dt: dataType,
                                               alg: dnnl_convolution_winograd) {
            dnnl_primitive_desc_destroy(pd)
            return false
        }
        return true
    }
}

/// A layer's transformed weights and bias, made once per session and shared by its plans (read-only once made).
/// Unchecked Sendable: the buffers are written only in `init`.
final class WinogradWeights: @unchecked Sendable {
    let transformed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>

    init(_ conv: FusedConv) {
        let count = discern_winograd_weight_floats(Int32(conv.inChannels), Int32(conv.outChannels))
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: count)
        conv.weight.withUnsafeBufferPointer {
            discern_winograd_transform_weights($0.baseAddress!, Int32(conv.outChannels), Int32(conv.inChannels),
                                               transformed)
        }
        self.transformed = transformed
        bias = .allocate(capacity: conv.outChannels)
        bias.initialize(from: conv.bias, count: conv.outChannels)
    }

    deinit {
        transformed.deallocate()
        bias.deallocate()
    }
}

/// One Winograd layer of a plan: its shapes and weights; runs on the calling thread's OpenMP team.
struct WinogradStep {
    let weights: WinogradWeights
    let images: Int
    let inChannels: Int
    let outChannels: Int
    let height: Int
    let width: Int
    let activation: Int32
    /// Adds the destination's contents (the residual, placed there before) ahead of the activation.
    let accumulate: Bool

    init(conv: FusedConv, inDims: [Int], weights: WinogradWeights) {
        self.weights = weights
        accumulate = conv.residual != nil
        (images, inChannels, height, width) = (inDims[0], inDims[1], inDims[2], inDims[3])
        outChannels = conv.outChannels
        switch conv.activation {
        case .relu: activation = Int32(discern_winograd_relu)
        case .relu6: activation = Int32(discern_winograd_relu6)
        case nil: activation = Int32(discern_winograd_identity)
        }
    }

    var scratchFloats: Int {
        discern_winograd_scratch_floats(Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
    }

    /// `source` and `destination` in the 8-channel blocked layout (nChw8c).
    func run(source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, scratch: UnsafeMutablePointer<Float>) {
        _ = BLASThreads.callingThreadOnly
        discern_winograd_forward(source.assumingMemoryBound(to: Float.self),
                                 destination.assumingMemoryBound(to: Float.self), weights.transformed, weights.bias,
                                 Int32(images), Int32(inChannels), Int32(outChannels), Int32(height), Int32(width),
                                 activation, accumulate ? 1 : 0, scratch)
    }
}
