import DiscernEngine
import Foundation

/// An image-to-image step. Random steps sample parameters with `sample` and apply them with `apply(_:_:)`,
/// so tests can feed torchvision's parameters; `callAsFunction` does both.
public protocol ImageTransform: Sendable {
    func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage
}

/// torchvision `Resize`: `.exact(h, w)` or `.shorter(n)` (shorter side to n, aspect kept, long side truncated).
public struct Resize: ImageTransform {
    public enum Size: Sendable, Equatable { case exact(height: Int, width: Int), shorter(Int) }
    public let size: Size
    public init(_ size: Size) { self.size = size }
    public init(height: Int, width: Int) { size = .exact(height: height, width: width) }
    public init(shorter: Int) { size = .shorter(shorter) }

    /// torchvision's `_compute_resized_output_size` as (width, height).
    public func outputSize(width w: Int, height h: Int) -> (width: Int, height: Int) {
        switch size {
        case let .exact(oh, ow): return (ow, oh)
        case let .shorter(s):
            if w <= 0 || h <= 0 { return (0, 0) }
            if w <= h { return (s, Int(Double(s) * Double(h) / Double(w))) }
            return (Int(Double(s) * Double(w) / Double(h)), s)
        }
    }

    public func apply(_ image: RGBImage) -> RGBImage {
        let (ow, oh) = outputSize(width: image.width, height: image.height)
        return Resample.resize(image, width: ow, height: oh)
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image) }
}

/// torchvision `CenterCrop((h, w))`: pads with black first when the crop is larger; offsets use Python's round.
public struct CenterCrop: ImageTransform {
    public let height: Int, width: Int
    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }
    public init(_ size: Int) { self.init(height: size, width: size) }

    public func apply(_ image: RGBImage) -> RGBImage {
        var img = image
        if width > img.width || height > img.height {
            let padL = width > img.width ? (width - img.width) / 2 : 0
            let padT = height > img.height ? (height - img.height) / 2 : 0
            let padR = width > img.width ? (width - img.width + 1) / 2 : 0
            let padB = height > img.height ? (height - img.height + 1) / 2 : 0
            img = Geometry.crop(
                img, left: -padL, top: -padT, width: img.width + padL + padR, height: img.height + padT + padB)
            if img.width == width && img.height == height { return img }
        }
        let top = Int((Double(img.height - height) / 2.0).rounded(.toNearestOrEven))
        let left = Int((Double(img.width - width) / 2.0).rounded(.toNearestOrEven))
        return Geometry.crop(img, left: left, top: top, width: width, height: height)
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image) }
}

/// torchvision `RandomRotation(degrees)`: angle ~ U(-d, d), nearest, no expand, fill 0.
public struct RandomRotation: ImageTransform {
    public struct Params: Sendable, Equatable {
        public var angle: Double
        public init(angle: Double) { self.angle = angle }
    }
    public let minDegrees: Double, maxDegrees: Double
    public init(degrees: Double) {
        minDegrees = -abs(degrees)
        maxDegrees = abs(degrees)
    }
    public init(min: Double, max: Double) {
        minDegrees = min
        maxDegrees = max
    }

    public func sample(rng: inout SplitMix64) -> Params { Params(angle: rng.uniform(minDegrees, maxDegrees)) }
    public func apply(_ image: RGBImage, _ p: Params) -> RGBImage { Geometry.rotate(image, degrees: p.angle) }
    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image, sample(rng: &rng)) }
}

/// torchvision `RandomHorizontalFlip(p)`.
public struct RandomHorizontalFlip: ImageTransform {
    public struct Params: Sendable, Equatable {
        public var flip: Bool
        public init(flip: Bool) { self.flip = flip }
    }
    public let probability: Double
    public init(_ p: Double = 0.5) { probability = p }

    public func sample(rng: inout SplitMix64) -> Params { Params(flip: rng.uniform(0, 1) < probability) }
    public func apply(_ image: RGBImage, _ p: Params) -> RGBImage { p.flip ? Geometry.flipLeftRight(image) : image }
    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image, sample(rng: &rng)) }
}
