import DiscernEngine
import DiscernModels
import DiscernVision

/// What a backbone takes: the test-time Resize((size, size)) and Normalize(mean, std), as in training. The one place
/// that turns photos into network input, one image at a time (`tensor`) or in batches on the prefetching loader
/// (`loaderOptions`, with `evaluation` or an augmenting transform).
public struct ModelInput: Sendable {
    public let size: Int
    public let mean: [Float]
    public let std: [Float]

    public init(backbone: Backbone) {
        size = backbone.inputSize
        mean = backbone.normalization.mean
        std = backbone.normalization.std
    }

    /// The input a model file was trained with.
    public init(metadata: ModelMetadata) {
        size = metadata.imageSize
        mean = metadata.mean
        std = metadata.std
    }

    /// The test-time transform.
    public var evaluation: Compose { Compose.evaluation(size: size) }

    /// One decoded photo as a [1, 3, size, size] tensor.
    public func tensor(_ image: RGBImage) -> Tensor {
        let resized = Resize(height: size, width: size).apply(image)
        return toTensor(resized, mean: mean, std: std).reshaped([1, 3, size, size])
    }

    /// One decoded photo resized and normalized into caller memory of 3·size·size floats (one slot of a batch).
    public func write(_ image: RGBImage, into slot: UnsafeMutablePointer<Float>) {
        toTensor(Resize(height: size, width: size).apply(image), mean: mean, std: std, into: slot)
    }

    /// Loader options that normalize every batch as this input does.
    public func loaderOptions(batchSize: Int, seed: UInt64 = 0, shuffle: Bool, prefetch: Int = 2,
                              fastDecode: Bool = false) -> BatchLoader.Options {
        BatchLoader.Options(batchSize: batchSize, seed: seed, shuffle: shuffle, prefetch: prefetch,
                            fastDecode: fastDecode, fastDecodeSize: size, mean: mean, std: std)
    }
}
