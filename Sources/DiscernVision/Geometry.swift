import Foundation

/// Pixel-moving operations with PIL's exact semantics (libImaging/Geometry.c, Crop.c).
public enum Geometry {
    /// PIL `img.crop((left, top, left+width, top+height))`: areas outside the image are black.
    public static func crop(_ image: RGBImage, left: Int, top: Int, width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: max(width, 0), height: max(height, 0))
        let x0 = max(left, 0), x1 = min(left + width, image.width)
        guard x1 > x0 else { return out }
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in max(top, 0) ..< max(min(top + height, image.height), max(top, 0)) {
                    let s = src.baseAddress! + (y * image.width + x0) * 3
                    let d = dst.baseAddress! + ((y - top) * width + (x0 - left)) * 3
                    d.update(from: s, count: (x1 - x0) * 3)
                }
            }
        }
        return out
    }

    /// PIL `Transpose.FLIP_LEFT_RIGHT`.
    public static func flipLeftRight(_ image: RGBImage) -> RGBImage {
        var out = image
        let w = image.width
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< image.height {
                    let s = src.baseAddress! + y * w * 3, d = dst.baseAddress! + y * w * 3
                    for x in 0 ..< w {
                        let r = (w - 1 - x) * 3
                        d[r] = s[x * 3]
                        d[r + 1] = s[x * 3 + 1]
                        d[r + 2] = s[x * 3 + 2]
                    }
                }
            }
        }
        return out
    }

    /// Output pixel (X, Y) = input (x, y) given by `map`; used for PIL's exact 90/180/270° transposes.
    static func remap(_ image: RGBImage, width: Int, height: Int, _ map: (Int, Int) -> (Int, Int)) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< height {
                    for x in 0 ..< width {
                        let (sx, sy) = map(x, y)
                        let s = (sy * image.width + sx) * 3, d = (y * width + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }

    /// PIL `Image.rotate(angle, NEAREST, expand=False, fillcolor=fill)` about the centre (w/2, h/2),
    /// counter-clockwise in degrees, including PIL's transpose fast paths and 15-decimal rounding of the matrix.
    public static func rotate(_ image: RGBImage, degrees: Double, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> RGBImage {
        var angle = degrees.truncatingRemainder(dividingBy: 360)
        if angle < 0 { angle += 360 }
        let w = image.width, h = image.height
        if angle == 0 { return image }
        if angle == 180 { return remap(image, width: w, height: h) { x, y in (w - 1 - x, h - 1 - y) } }
        if angle == 90 && w == h { return remap(image, width: w, height: h) { x, y in (w - 1 - y, x) } }
        if angle == 270 && w == h { return remap(image, width: w, height: h) { x, y in (y, h - 1 - x) } }
        let r = -angle * Double.pi / 180
        let c = round15(cos(r)), s = round15(sin(r)), ns = round15(-sin(r))
        let cx = Double(w) / 2.0, cy = Double(h) / 2.0
        var m = [c, s, 0.0, ns, c, 0.0]
        m[2] = m[0] * -cx + m[1] * -cy + 0.0
        m[5] = m[3] * -cx + m[4] * -cy + 0.0
        m[2] += cx
        m[5] += cy
        return affine(image, matrix: m, width: w, height: h, fill: fill)
    }

    /// Python's `round(x, 15)`: correctly rounded through the decimal string, as CPython does.
    static func round15(_ x: Double) -> Double {
        Double(String(format: "%.15f", x)) ?? x
    }

    /// PIL `Image.transform(size, AFFINE, matrix, NEAREST, fillcolor=fill)`: output (x, y) samples the input at
    /// matrix·(x+0.5, y+0.5). Uses PIL's three engines: pure scaling, 16.16 fixed point, and floating point.
    public static func affine(_ image: RGBImage, matrix a: [Double], width: Int, height: Int,
                              fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> RGBImage {
        precondition(a.count >= 6, "Geometry.affine: needs 6 coefficients")
        var out = RGBImage(width: width, height: height)
        if fill != (0, 0, 0) {
            for i in 0..<width * height {
                out.pixels[i * 3] = fill.0
                out.pixels[i * 3 + 1] = fill.1
                out.pixels[i * 3 + 2] = fill.2
            }
        }
        let inW = image.width, inH = image.height
        // A degenerate matrix (e.g. scale 0) samples nothing: fill only, never a trapping conversion.
        guard a.prefix(6).allSatisfy({ $0.isFinite }) else { return out }
        func coord(_ v: Double) -> Int { v < 0 ? -1 : (v < 2_147_483_647 ? Int(v) : Int(Int32.max)) }
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                @inline(__always) func put(_ x: Int, _ y: Int, _ xin: Int, _ yin: Int) {
                    let s = (yin * inW + xin) * 3, d = (y * width + x) * 3
                    dst[d] = src[s]
                    dst[d + 1] = src[s + 1]
                    dst[d + 2] = src[s + 2]
                }
                if a[1] == 0 && a[3] == 0 {   // ImagingScaleAffine
                    var xo = a[2] + a[0] * 0.5, yo = a[5] + a[4] * 0.5
                    var xin = [Int](repeating: -1, count: width)
                    for x in 0..<width {
                        xin[x] = coord(xo)
                        xo += a[0]
                    }
                    for y in 0..<height {
                        let yi = coord(yo)
                        if yi >= 0 && yi < inH {
                            for x in 0..<width where xin[x] >= 0 && xin[x] < inW { put(x, y, xin[x], yi) }
                        }
                        yo += a[4]
                    }
                    return
                }
                func fits(_ x: Int, _ y: Int) -> Bool {
                    abs(Double(x) * a[0] + Double(y) * a[1] + a[2]) < 32768.0 &&
                        abs(Double(x) * a[3] + Double(y) * a[4] + a[5]) < 32768.0
                }
                if fits(0, 0) && fits(width, height) && fits(0, height) && fits(width, 0) {   // affine_fixed
                    func fix(_ v: Double) -> Int32 { Int32(truncatingIfNeeded: Int64(floor(v * 65536.0 + 0.5))) }
                    let a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4])
                    var a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5)
                    let sp = src.baseAddress!, inW32 = Int32(inW), inH32 = Int32(inH)
                    for y in 0 ..< height {
                        var xx = a2, yy = a5
                        var d = dst.baseAddress! + y * width * 3
                        for _ in 0 ..< width {
                            let xin = xx >> 16, yin = yy >> 16
                            if xin >= 0 && xin < inW32 && yin >= 0 && yin < inH32 {
                                let s = sp + (Int(yin) * inW + Int(xin)) * 3
                                d[0] = s[0]
                                d[1] = s[1]
                                d[2] = s[2]
                            }
                            d += 3
                            xx &+= a0
                            yy &+= a3
                        }
                        a2 &+= a1
                        a5 &+= a4
                    }
                    return
                }
                var xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5
                for y in 0 ..< height {
                    var xx = xo, yy = yo
                    for x in 0 ..< width {
                        let xin = coord(xx)
                        if xin >= 0 && xin < inW {
                            let yin = coord(yy)
                            if yin >= 0 && yin < inH { put(x, y, xin, yin) }
                        }
                        xx += a[0]
                        yy += a[3]
                    }
                    xo += a[1]
                    yo += a[4]
                }
            }
        }
        return out
    }
}
