import DiscernEngine
import Foundation

/// A seeded copy of a photo as it might arrive from elsewhere: recompressed, smaller, softer, in other colours
/// or framed tighter, or a thumbnail. Used to calibrate the verdict on what photos of the trained classes look like
/// outside the training set, never as training data. The output is `size` × `size` (the evaluation Resize included).
public struct PhotoShift: ImageTransform {
    public enum Kind: String, CaseIterable, Sendable {
        /// Re-encoded as JPEG at quality 10–40.
        case jpeg
        /// The longer side reduced to 48–112 px, then resized back up.
        case lowResolution = "low-resolution"
        /// Gaussian blur, σ = 0.8–2.5 px at the input size.
        case blur
        /// Per-channel gains 0.75–1.25, saturation 0.4–1.6, brightness 0.7–1.3, contrast 0.7–1.3.
        case colour
        /// A crop keeping 50–85% of each side.
        case crop
        /// A thumbnail: the longer side reduced to 24–40 px, then resized back up. Kept apart from the others
        /// (`everyday`): a thumbnail is a hard case the confidence must learn to doubt, not a view the
        /// "is this a trained class?" threshold should stretch to cover.
        case thumbnail
        /// A close-up: a square of 20–30% of the shorter side, enlarged. It shows fur, fabric or background but no
        /// whole object, so it stands in for photos of other things when the unknown score is chosen; never
        /// training data, never pooled with the photos of the trained classes.
        case detail

        /// The shifts photos of the trained classes commonly meet elsewhere.
        public static let everyday: [Kind] = [.jpeg, .lowResolution, .blur, .colour, .crop]
    }

    public let size: Int
    /// The kinds to draw from (one per image, uniformly).
    public let kinds: [Kind]

    public init(size: Int = 224, kinds: [Kind] = Kind.everyday) {
        precondition(!kinds.isEmpty, "PhotoShift needs at least one kind")
        self.size = size
        self.kinds = kinds
    }

    public func callAsFunction(_ image: RGBImage, rng: inout SplitMix64) -> RGBImage {
        apply(image, kind: kinds[rng.int(0, kinds.count)], rng: &rng)
    }

    public func apply(_ image: RGBImage, kind: Kind, rng: inout SplitMix64) -> RGBImage {
        let resize = Resize(height: size, width: size)
        switch kind {
        case .jpeg:
            let q = rng.int(10, 41)
            guard let bytes = try? ImageCodec.encodeJPEG(image, quality: q),
                  let back = try? ImageCodec.decode(bytes, name: "shifted copy") else { return resize.apply(image) }
            return resize.apply(back)
        case .lowResolution:
            return PhotoShift.downscaled(image, longerSide: rng.int(48, 113), resize)
        case .thumbnail:
            return PhotoShift.downscaled(image, longerSide: rng.int(24, 41), resize)
        case .blur:
            return PhotoShift.gaussianBlur(resize.apply(image), sigma: rng.uniform(0.8, 2.5))
        case .colour:
            let gains = (0..<3).map { _ in rng.uniform(0.75, 1.25) }
            return PhotoShift.colour(resize.apply(image), gains: gains, saturation: rng.uniform(0.4, 1.6),
                                     brightness: rng.uniform(0.7, 1.3), contrast: rng.uniform(0.7, 1.3))
        case .detail:
            let side = max(1, Int(Double(min(image.width, image.height)) * rng.uniform(0.2, 0.3)))
            let x = rng.int(0, image.width - side + 1), y = rng.int(0, image.height - side + 1)
            return resize.apply(Geometry.crop(image, left: x, top: y, width: side, height: side))
        case .crop:
            let fw = rng.uniform(0.5, 0.85), fh = rng.uniform(0.5, 0.85)
            let w = max(1, Int(Double(image.width) * fw)), h = max(1, Int(Double(image.height) * fh))
            let x = rng.int(0, image.width - w + 1), y = rng.int(0, image.height - h + 1)
            return resize.apply(Geometry.crop(image, left: x, top: y, width: w, height: h))
        }
    }

    static func downscaled(_ image: RGBImage, longerSide: Int, _ resize: Resize) -> RGBImage {
        let s = Double(longerSide) / Double(max(image.width, image.height))
        if s >= 1 { return resize.apply(image) }
        let small = Resample.resize(image, width: max(1, Int((Double(image.width) * s).rounded())),
                                    height: max(1, Int((Double(image.height) * s).rounded())))
        return resize.apply(small)
    }

    /// Separable Gaussian blur, as scipy.ndimage.gaussian_filter(truncate=3, mode="nearest") per channel.
    /// Written over raw buffers with the clamped neighbour offsets precomputed: it runs on training views too.
    public static func gaussianBlur(_ image: RGBImage, sigma: Double) -> RGBImage {
        let r = max(1, Int(3 * sigma + 0.5))      // scipy.ndimage's radius for truncate = 3
        var k = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = k.reduce(0, +)
        k = k.map { $0 / total }
        let w = image.width, h = image.height
        // Pixel offsets of each tap, clamped at the edges ("nearest").
        let columns = (0..<w).flatMap { x in (-r...r).map { min(max(x + $0, 0), w - 1) * 3 } }
        let rows = (0..<h).flatMap { y in (-r...r).map { min(max(y + $0, 0), h - 1) * w * 3 } }
        let taps = 2 * r + 1
        var tmp = [Double](repeating: 0, count: w * h * 3), out = [UInt8](repeating: 0, count: w * h * 3)
        image.pixels.withUnsafeBufferPointer { source in
            tmp.withUnsafeMutableBufferPointer { tmp in
                for y in 0..<h {
                    let row = y * w * 3
                    for x in 0..<w {
                        for c in 0..<3 {
                            var sum = 0.0
                            for i in 0..<taps { sum += k[i] * Double(source[row + columns[x * taps + i] + c]) }
                            tmp[row + x * 3 + c] = sum
                        }
                    }
                }
            }
        }
        tmp.withUnsafeBufferPointer { tmp in
            out.withUnsafeMutableBufferPointer { out in
                for y in 0..<h {
                    for x in 0..<w {
                        for c in 0..<3 {
                            var sum = 0.0
                            for i in 0..<taps { sum += k[i] * tmp[rows[y * taps + i] + x * 3 + c] }
                            out[(y * w + x) * 3 + c] = UInt8(min(max(sum.rounded(), 0), 255))
                        }
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Channel gains, then saturation (blend with the grey level), brightness (scale) and contrast
    /// (blend with the mean).
    public static func colour(
        _ image: RGBImage, gains: [Double], saturation: Double, brightness: Double, contrast: Double
    ) -> RGBImage {
        let n = image.width * image.height
        let (g0, g1, g2) = (gains[0], gains[1], gains[2])
        var v = [Double](repeating: 0, count: n * 3)
        image.pixels.withUnsafeBufferPointer { source in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<n {
                    let p0 = min(Double(source[i * 3]) * g0, 255), p1 = min(Double(source[i * 3 + 1]) * g1, 255)
                    let p2 = min(Double(source[i * 3 + 2]) * g2, 255)
                    let grey = 0.299 * p0 + 0.587 * p1 + 0.114 * p2
                    v[i * 3] = min(max((grey + (p0 - grey) * saturation) * brightness, 0), 255)
                    v[i * 3 + 1] = min(max((grey + (p1 - grey) * saturation) * brightness, 0), 255)
                    v[i * 3 + 2] = min(max((grey + (p2 - grey) * saturation) * brightness, 0), 255)
                }
            }
        }
        var mean = 0.0
        for i in 0..<n { mean += 0.299 * v[i * 3] + 0.587 * v[i * 3 + 1] + 0.114 * v[i * 3 + 2] }
        mean /= Double(max(n, 1))
        let px = v.map { UInt8(min(max((mean + ($0 - mean) * contrast).rounded(), 0), 255)) }
        return RGBImage(width: image.width, height: image.height, pixels: px)
    }
}
