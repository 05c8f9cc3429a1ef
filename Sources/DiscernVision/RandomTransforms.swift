import DiscernEngine
import Foundation

/// torchvision `RandomResizedCrop(size, scale, ratio)`: 10 tries at a random area/aspect box, then the
/// central-crop fallback; the box is cropped and resized bilinearly (antialiased) to `height`×`width`.
public struct RandomResizedCrop: ImageTransform {
    public struct Params: Sendable, Equatable {
        public var top: Int, left: Int, height: Int, width: Int
        public init(top: Int, left: Int, height: Int, width: Int) {
            self.top = top
            self.left = left
            self.height = height
            self.width = width
        }
    }
    public let height: Int, width: Int
    public let scale: (Double, Double), ratio: (Double, Double)

    public init(
        height: Int, width: Int, scale: (Double, Double) = (0.08, 1.0), ratio: (Double, Double) = (3.0 / 4.0, 4.0 / 3.0)
    ) {
        self.height = height
        self.width = width
        self.scale = scale
        self.ratio = ratio
    }
    public init(_ size: Int, scale: (Double, Double) = (0.08, 1.0), ratio: (Double, Double) = (3.0 / 4.0, 4.0 / 3.0)) {
        self.init(height: size, width: size, scale: scale, ratio: ratio)
    }

    public func sample(width imgW: Int, height imgH: Int, rng: inout SplitMix64) -> Params {
        let area = Double(imgH * imgW)
        let logLo = log(ratio.0), logHi = log(ratio.1)
        for _ in 0 ..< 10 {
            let target = area * rng.uniform(scale.0, scale.1)
            let aspect = exp(rng.uniform(logLo, logHi))
            let ws = (target * aspect).squareRoot().rounded(.toNearestOrEven)
            let hs = (target / aspect).squareRoot().rounded(.toNearestOrEven)
            guard ws.isFinite, hs.isFinite, ws < 1e9, hs < 1e9 else { continue }
            let w = Int(ws), h = Int(hs)
            if w > 0 && w <= imgW && h > 0 && h <= imgH {
                let i = rng.int(0, imgH - h + 1), j = rng.int(0, imgW - w + 1)
                return Params(top: i, left: j, height: h, width: w)
            }
        }
        let inRatio = imgH > 0 ? Double(imgW) / Double(imgH) : 1
        var w = imgW, h = imgH
        if inRatio < min(ratio.0, ratio.1) {
            h = Int((Double(w) / min(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        } else if inRatio > max(ratio.0, ratio.1) {
            w = Int((Double(h) * max(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        }
        return Params(top: (imgH - h) / 2, left: (imgW - w) / 2, height: h, width: w)
    }

    public func apply(_ image: RGBImage, _ p: Params) -> RGBImage {
        let box = Geometry.crop(image, left: p.left, top: p.top, width: p.width, height: p.height)
        return Resample.resize(box, width: width, height: height)
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage {
        apply(image, sample(width: image.width, height: image.height, rng: &rng))
    }
}

/// torchvision `RandomAffine(degrees, scale=, shear=)` on PIL images: inverse affine matrix about the centre
/// (`_get_inverse_affine_matrix`), applied by PIL's nearest affine transform with fill 0. No translation.
public struct RandomAffine: ImageTransform {
    public struct Params: Sendable, Equatable {
        public var angle: Double, scale: Double, shearX: Double, shearY: Double
        public init(angle: Double = 0, scale: Double = 1, shearX: Double = 0, shearY: Double = 0) {
            self.angle = angle
            self.scale = scale
            self.shearX = shearX
            self.shearY = shearY
        }
    }
    public let degrees: (Double, Double)
    public let scale: (Double, Double)?
    public let shearX: (Double, Double)?

    /// `shear` as torchvision's single number s: x-shear in [-s, s].
    public init(degrees: Double = 0, scale: (Double, Double)? = nil, shear: Double? = nil) {
        self.degrees = (-abs(degrees), abs(degrees))
        self.scale = scale
        shearX = shear.map { (-abs($0), abs($0)) }
    }

    public func sample(rng: inout SplitMix64) -> Params {
        // Same draw order as torchvision's get_params: angle, (translate), scale, shear.
        let angle = rng.uniform(degrees.0, degrees.1)
        let s = scale.map { rng.uniform($0.0, $0.1) } ?? 1.0
        let sx = shearX.map { rng.uniform($0.0, $0.1) } ?? 0.0
        return Params(angle: angle, scale: s, shearX: sx, shearY: 0)
    }

    /// torchvision `_get_inverse_affine_matrix(center, angle, (0, 0), scale, shear)`.
    public static func inverseMatrix(centerX cx: Double, centerY cy: Double, _ p: Params) -> [Double] {
        let rot = p.angle * Double.pi / 180, sx = p.shearX * Double.pi / 180, sy = p.shearY * Double.pi / 180
        let a = cos(rot - sy) / cos(sy)
        let b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot)
        let c = sin(rot - sy) / cos(sy)
        let d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot)
        var m = [d, -b, 0.0, -c, a, 0.0].map { $0 / p.scale }
        m[2] += m[0] * (-cx - 0) + m[1] * (-cy - 0)
        m[5] += m[3] * (-cx - 0) + m[4] * (-cy - 0)
        m[2] += cx
        m[5] += cy
        return m
    }

    public func apply(_ image: RGBImage, _ p: Params) -> RGBImage {
        let m = Self.inverseMatrix(centerX: Double(image.width) * 0.5, centerY: Double(image.height) * 0.5, p)
        return Geometry.affine(image, matrix: m, width: image.width, height: image.height)
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage { apply(image, sample(rng: &rng)) }
}

/// A chain of image transforms, like torchvision's `Compose` minus the tensor steps (see `toTensor`).
public struct Compose: ImageTransform {
    public let steps: [any ImageTransform]
    public init(_ steps: [any ImageTransform]) { self.steps = steps }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage {
        var img = image
        for s in steps { img = s(img, rng: &rng) }
        return img
    }

    /// The study's evaluation pipeline: Resize((size, size)).
    public static func evaluation(size: Int = 224) -> Compose { Compose([Resize(height: size, width: size)]) }

    /// The study's training augmentation: RandomRotation(20), RandomResizedCrop(size, scale 0.8–1),
    /// RandomHorizontalFlip, RandomAffine(0, shear 10, scale 0.8–1.2).
    public static func training(size: Int = 224) -> Compose {
        Compose([RandomRotation(degrees: 20), RandomResizedCrop(size, scale: (0.8, 1.0)), RandomHorizontalFlip(0.5),
                 RandomAffine(degrees: 0, scale: (0.8, 1.2), shear: 10)])
    }
}
