import Foundation

/// PIL's `Image.resize(size, BILINEAR)` (libImaging/Resample.c): separable triangle filter whose support grows
/// with the shrink factor (antialiasing), double-precision weights normalised per output pixel, then 22-bit
/// fixed point; horizontal pass first into an 8-bit intermediate, then vertical. Replicated step by step so
/// results match PIL bit for bit.
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

    @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
        let s = v >> Int32(precisionBits)
        return s < 0 ? 0 : (s > 255 ? 255 : UInt8(truncatingIfNeeded: s))
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
        let ksize = coeffs.ksize, inW = image.width
        let half = SIMD4<Int32>(repeating: Int32(1 << (precisionBits - 1)))
        // One padding byte lets every pixel load 4 bytes (r, g, b + the next byte, whose lane is ignored).
        var padded = [UInt8](repeating: 0, count: inW * 3 + 4)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                padded.withUnsafeMutableBufferPointer { row in
                    coeffs.weights.withUnsafeBufferPointer { kk in
                        coeffs.bounds.withUnsafeBufferPointer { bounds in
                            let raw = UnsafeRawPointer(row.baseAddress!)
                            for (oy, y) in rows.enumerated() {
                                row.baseAddress!.update(from: src.baseAddress! + y * inW * 3, count: inW * 3)
                                let orow = dst.baseAddress! + oy * outWidth * 3
                                for xx in 0 ..< outWidth {
                                    let xmin = bounds[xx * 2], n = bounds[xx * 2 + 1]
                                    let k = kk.baseAddress! + xx * ksize
                                    var acc = half
                                    for x in 0..<n {
                                        let px = raw.loadUnaligned(
                                            fromByteOffset: (xmin + x) * 3, as: SIMD4<UInt8>.self)
                                        acc &+= SIMD4<Int32>(truncatingIfNeeded: px) &* k[x]
                                    }
                                    orow[xx * 3] = clip8(acc[0])
                                    orow[xx * 3 + 1] = clip8(acc[1])
                                    orow[xx * 3 + 2] = clip8(acc[2])
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    static func vertical(_ image: RGBImage, coeffs: Coefficients, outHeight: Int) -> RGBImage {
        let w3 = image.width * 3
        var out = [UInt8](repeating: 0, count: w3 * outHeight)
        let ksize = coeffs.ksize
        let half = Int32(1 << (precisionBits - 1))
        var acc = [Int32](repeating: 0, count: w3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { a in
                    for yy in 0 ..< outHeight {
                        let ymin = coeffs.bounds[yy * 2], n = coeffs.bounds[yy * 2 + 1]
                        for i in 0 ..< w3 { a[i] = half }
                        // Row-wise accumulation: the same integer sums as PIL's per-pixel loop, cache friendly.
                        for y in 0 ..< n {
                            let w = coeffs.weights[yy * ksize + y]
                            let row = src.baseAddress! + (ymin + y) * w3
                            for i in 0 ..< w3 { a[i] &+= Int32(row[i]) &* w }
                        }
                        let orow = dst.baseAddress! + yy * w3
                        for i in 0 ..< w3 { orow[i] = clip8(a[i]) }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outHeight, pixels: out)
    }
}
