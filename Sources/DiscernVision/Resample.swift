import Foundation
import CPixelKernels

/// PIL's `Image.resize(size, BILINEAR)` (libImaging/Resample.c): separable triangle filter whose support grows
/// with the shrink factor (antialiasing), double-precision weights normalised per output pixel, then 22-bit
/// fixed point; horizontal pass first into an 8-bit intermediate, then vertical. Replicated step by step so
/// results match PIL bit for bit; the two passes' loops are C (CPixelKernels), with an AVX2 version.
public enum Resample {
    static let precisionBits = 32 - 8 - 2

    struct Coefficients {
        var ksize: Int
        var bounds: [Int]     // (first input index, count) per output index
        var weights: [Int32]  // outSize * ksize fixed-point weights
    }

    static func coefficients(inSize: Int, in0: Double, in1: Double, outSize: Int) -> Coefficients {
        let scale = (in1 - in0) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = 1.0 * filterscale          // bilinear filter support is 1
        let ksize = Int(ceil(support)) * 2 + 1
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterscale
        let one = Double(1 << precisionBits)
        for xx in 0 ..< outSize {
            let center = in0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            for x in 0 ..< max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let w = t < 1.0 ? 1.0 - t : 0.0
                k[x] = w
                ww += w
            }
            for x in 0 ..< max(xmax, 0) {
                if ww != 0 { k[x] /= ww }
                let v = k[x]
                weights[xx * ksize + x] = Int32(v < 0 ? -0.5 + v * one : 0.5 + v * one)
            }
            bounds[xx * 2] = xmin
            bounds[xx * 2 + 1] = max(xmax, 0)
        }
        return Coefficients(ksize: ksize, bounds: bounds, weights: weights)
    }

    /// Resizes to `width`×`height` (PIL bilinear, antialiased when shrinking).
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if width == image.width && height == image.height { return image }
        if width <= 0 || height <= 0 || image.width == 0 || image.height == 0 {
            return RGBImage(width: max(width, 0), height: max(height, 0))
        }
        let needH = width != image.width, needV = height != image.height
        let ch = coefficients(inSize: image.width, in0: 0, in1: Double(image.width), outSize: width)
        var cv = coefficients(inSize: image.height, in0: 0, in1: Double(image.height), outSize: height)
        var src = image
        if needH {
            let first = cv.bounds[0], last = cv.bounds[height * 2 - 2] + cv.bounds[height * 2 - 1]
            for i in 0 ..< height { cv.bounds[i * 2] -= first }
            src = horizontal(image, rows: first ..< (needV ? last : image.height), coeffs: ch, outWidth: width)
            if !needV { return src }
        }
        return vertical(src, coeffs: cv, outHeight: height)
    }

    static func horizontal(_ image: RGBImage, rows: Range<Int>, coeffs: Coefficients, outWidth: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        var scratch = [UInt8](repeating: 0, count: image.width * 3 + 3 * coeffs.ksize + 8)
        image.pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                scratch.withUnsafeMutableBufferPointer { row in
                    discern_resample_horizontal(
                        source.baseAddress! + rows.lowerBound * image.width * 3, image.width, rows.count,
                        destination.baseAddress!, outWidth, coeffs.bounds, coeffs.weights, coeffs.ksize,
                        Int32(precisionBits), row.baseAddress!)
                }
            }
        }
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    static func vertical(_ image: RGBImage, coeffs: Coefficients, outHeight: Int) -> RGBImage {
        let rowBytes = image.width * 3
        var out = [UInt8](repeating: 0, count: rowBytes * outHeight)
        var accumulator = [Int32](repeating: 0, count: rowBytes)
        image.pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    discern_resample_vertical(
                        source.baseAddress!, rowBytes, destination.baseAddress!, outHeight, coeffs.bounds,
                        coeffs.weights, coeffs.ksize, Int32(precisionBits), sums.baseAddress!)
                }
            }
        }
        return RGBImage(width: image.width, height: outHeight, pixels: out)
    }
}

/// Which versions of the resize and normalization loops run (CPixelKernels): AVX2 where the CPU has AVX2 and FMA.
public enum PixelKernels {
    /// 0 = baseline x86-64, 1 = AVX2.
    public static var level: Int { Int(discern_pixel_kernels_level()) }

    /// Keeps every later call at or below `level` (tests compare both versions with PIL).
    public static func limit(to level: Int) { discern_pixel_kernels_limit(Int32(level)) }
}
