import DiscernEngine

/// Training-time degradations that photos of the same subjects meet when they come from elsewhere: fewer pixels
/// (a thumbnail or a small upload enlarged again), stronger JPEG compression, softer focus, other colours. With
/// `probability` an image gets one of them, and with `secondProbability` a second one; otherwise it passes
/// unchanged. Meant to follow the geometric augmentation. The ranges are wider than, and drawn independently of,
/// `PhotoShift`'s, which calibrates the verdict on held-out images.
public struct RandomPhotoDegradation: ImageTransform {
    public enum Kind: String, CaseIterable, Sendable {
        /// The longer side reduced to 16–128 px, then enlarged back.
        case lowResolution = "low-resolution"
        /// Re-encoded as JPEG at quality 10–70.
        case jpeg
        /// Gaussian blur, σ = 0.5–2 px.
        case blur
        /// Brightness and contrast 0.7–1.3, saturation 0.6–1.4.
        case colour
    }

    public struct Params: Sendable, Equatable {
        /// The degradations in the order they are applied (at most two, never the same twice).
        public var kinds: [Kind] = []
        public var longerSide = 0
        public var jpegQuality = 0
        public var blurSigma = 0.0
        public var brightness = 1.0, contrast = 1.0, saturation = 1.0
        public init() {}
    }

    /// The output size (the geometric augmentation's).
    public let size: Int
    public let probability: Double
    public let secondProbability: Double

    public init(size: Int = 224, probability: Double, secondProbability: Double = 0.3) {
        self.size = size
        self.probability = probability
        self.secondProbability = secondProbability
    }

    public func sample(rng: inout SplitMix64) -> Params {
        var params = Params()
        // Every value is drawn for every image, so the choices made do not shift the values of the next images.
        let draw = rng.uniform(0, 1), secondDraw = rng.uniform(0, 1)
        let first = rng.int(0, Kind.allCases.count), second = rng.int(0, Kind.allCases.count - 1)
        params.longerSide = rng.int(16, 129)
        params.jpegQuality = rng.int(10, 71)
        params.blurSigma = rng.uniform(0.5, 2.0)
        params.brightness = rng.uniform(0.7, 1.3)
        params.contrast = rng.uniform(0.7, 1.3)
        params.saturation = rng.uniform(0.6, 1.4)
        guard draw < probability else { return params }
        params.kinds = [Kind.allCases[first]]
        if secondDraw < secondProbability {
            params.kinds.append(Kind.allCases.filter { $0 != params.kinds[0] }[second])
        }
        // JPEG last: compression is what happens to an already degraded photo when it is stored again.
        params.kinds.sort { ($0 == .jpeg ? 1 : 0) < ($1 == .jpeg ? 1 : 0) }
        return params
    }

    public func apply(_ image: RGBImage, _ params: Params) -> RGBImage {
        let resize = Resize(height: size, width: size)
        var result = image
        for kind in params.kinds {
            switch kind {
            case .lowResolution:
                result = PhotoShift.downscaled(result, longerSide: params.longerSide, resize)
            case .blur:
                result = PhotoShift.gaussianBlur(result, sigma: params.blurSigma)
            case .colour:
                result = PhotoShift.colour(result, gains: [1, 1, 1], saturation: params.saturation,
                                           brightness: params.brightness, contrast: params.contrast)
            case .jpeg:
                if let bytes = try? ImageCodec.encodeJPEG(result, quality: params.jpegQuality),
                   let back = try? ImageCodec.decode(bytes, name: "degraded copy") {
                    result = back
                }
            }
        }
        return result.width == size && result.height == size ? result : resize.apply(result)
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image, sample(rng: &rng)) }
}

extension Compose {
    /// The study's training augmentation, then `RandomPhotoDegradation` with `probability`.
    public static func training(size: Int = 224, degradation probability: Double) -> Compose {
        probability > 0
            ? Compose(training(size: size).steps + [RandomPhotoDegradation(size: size, probability: probability)])
            : training(size: size)
    }
}
