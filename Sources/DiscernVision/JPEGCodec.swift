import CTurboJPEG

/// JPEG through libjpeg-turbo's TurboJPEG API (default flags = accurate DCT + fancy upsampling, as PIL's libjpeg).
enum JPEGCodec {
    static func decode(_ data: [UInt8], name: String, maxPixels: Int, minSize: (Int, Int)?) throws -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw VisionError.corrupt(name, detail: "cannot start JPEG decoder")
        }
        defer { tjDestroy(handle) }
        return try data.withUnsafeBufferPointer { src -> RGBImage in
            var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &w, &h, &subsamp, &colorspace) != 0 {
                throw classify(handle, src, name: name)
            }
            guard w > 0, h > 0 else { throw VisionError.corrupt(name, detail: "zero-sized JPEG") }
            if Int(w) * Int(h) > maxPixels {
                throw VisionError.tooManyPixels(name, width: Int(w), height: Int(h), limit: maxPixels)
            }
            let (ow, oh) = scaledSize(width: Int(w), height: Int(h), minSize: minSize)
            let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
            let bpp = cmyk ? 4 : 3
            var out = [UInt8](repeating: 0, count: ow * oh * bpp)
            let format = cmyk ? TJPF_CMYK : TJPF_RGB
            // LIMITSCANS: a progressive JPEG may repeat scans (libjpeg only warns), each one a pass over every
            // block: a 125 KB file with 2000 scans of a 4000x4000 image took 100 s. Over 500 scans is refused.
            let rc = out.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                              Int32(ow), 0, Int32(oh), Int32(format.rawValue), TJFLAG_LIMITSCANS)
            }
            if rc != 0 {
                // Warnings still yield a full image; only a premature end means data is missing (PIL refuses it).
                let message = String(cString: tjGetErrorStr2(handle))
                if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end") {
                    throw classify(handle, src, name: name)
                }
            }
            if cmyk { out = cmykToRGB(out, count: ow * oh) }
            return RGBImage(width: ow, height: oh, pixels: out)
        }
    }

    static func header(_ data: [UInt8], name: String) throws -> (Int, Int) {
        guard let handle = tjInitDecompress() else {
            throw VisionError.corrupt(name, detail: "cannot start JPEG decoder")
        }
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let rc = data.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &w, &h, &subsamp, &colorspace)
        }
        if rc != 0 { throw data.withUnsafeBufferPointer { classify(handle, $0, name: name) } }
        return (Int(w), Int(h))
    }

    /// Smallest libjpeg-turbo DCT-scaled size that still covers `minSize`, used only when the image is ≥ 2× it.
    static func scaledSize(width: Int, height: Int, minSize: (Int, Int)?) -> (Int, Int) {
        guard let (tw, th) = minSize, tw > 0, th > 0, width >= 2 * tw, height >= 2 * th else { return (width, height) }
        var n: Int32 = 0
        guard let factors = tjGetScalingFactors(&n) else { return (width, height) }
        var best = (width, height)
        for i in 0 ..< Int(n) {
            let f = factors[i]
            guard f.num < f.denom else { continue }
            let sw = (width * Int(f.num) + Int(f.denom) - 1) / Int(f.denom)
            let sh = (height * Int(f.num) + Int(f.denom) - 1) / Int(f.denom)
            if sw >= tw, sh >= th, sw * sh < best.0 * best.1 { best = (sw, sh) }
        }
        return best
    }

    /// PIL reads 4-component JPEGs as Adobe-inverted CMYK ("CMYK;I") and converts with
    /// R = (255-K) - (C·(255-K))/255 (Convert.c cmyk2rgb, MULDIV255 rounding). libjpeg gives the raw,
    /// uninverted values, so C = 255 - raw and 255 - K = rawK.
    static func cmykToRGB(_ raw: [UInt8], count: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: count * 3)
        raw.withUnsafeBufferPointer { s in
            rgb.withUnsafeMutableBufferPointer { d in
                for i in 0 ..< count {
                    let nk = Int(s[i * 4 + 3])
                    for c in 0 ..< 3 {
                        let t = (255 - Int(s[i * 4 + c])) * nk + 128
                        let v = nk - (((t >> 8) + t) >> 8)
                        d[i * 3 + c] = UInt8(clamping: v)
                    }
                }
            }
        }
        return rgb
    }

    /// Truncated when the data stops before an end-of-image marker following the last scan; otherwise corrupt.
    static func classify(_ handle: tjhandle, _ data: UnsafeBufferPointer<UInt8>, name: String) -> VisionError {
        let message = String(cString: tjGetErrorStr2(handle))
        var lastSOS = -1, eoiAfterSOS = false
        if data.count >= 2 {
            for i in 0..<data.count - 1 where data[i] == 0xFF {
                if data[i + 1] == 0xDA {
                    lastSOS = i
                    eoiAfterSOS = false
                } else if data[i + 1] == 0xD9 && lastSOS >= 0 {
                    eoiAfterSOS = true
                }
            }
        }
        if message.contains("Premature end") || !eoiAfterSOS { return .truncated(name, detail: message) }
        return .corrupt(name, detail: message)
    }

    static func encode(_ image: RGBImage, quality: Int) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw VisionError.encodeFailed("JPEG needs a non-empty image") }
        guard (1...100).contains(quality) else {
            throw VisionError.encodeFailed("JPEG quality \(quality) not in 1...100")
        }
        guard let handle = tjInitCompress() else { throw VisionError.encodeFailed("cannot start JPEG encoder") }
        defer { tjDestroy(handle) }
        var buf: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = image.pixels.withUnsafeBufferPointer { p in
            tjCompress2(handle, p.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &buf, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { if let b = buf { tjFree(b) } }
        guard rc == 0, let b = buf else { throw VisionError.encodeFailed(String(cString: tjGetErrorStr2(handle))) }
        return [UInt8](UnsafeBufferPointer(start: b, count: Int(size)))
    }
}
