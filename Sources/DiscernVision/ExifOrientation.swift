/// The EXIF Orientation tag (0x0112) of a JPEG or PNG and the transpose that shows the photo upright, as PIL's
/// `ImageOps.exif_transpose`. Phone cameras store portrait photos as landscape pixels plus this tag; every viewer
/// and browser applies it, so a model (and an overlay) that ignored it would see the photo sideways.
public enum ExifOrientation {
    /// 1 (as stored) to 8, read from the first EXIF block; 1 when there is none or it cannot be read.
    public static func orientation(of data: [UInt8]) -> Int {
        let tiff: ArraySlice<UInt8>?
        if data.starts(with: [0xFF, 0xD8] as [UInt8]) {
            tiff = jpegExif(data)
        } else if data.starts(with: [0x89, 0x50, 0x4E, 0x47] as [UInt8]) {
            tiff = pngExif(data)
        } else {
            tiff = nil
        }
        guard let block = tiff, let value = orientationTag(in: block), (1...8).contains(value) else { return 1 }
        return value
    }

    /// Orientations 5–8 turn the image a quarter: its width and height swap.
    public static func swapsSides(_ orientation: Int) -> Bool { (5...8).contains(orientation) }

    /// The upright image for a stored image with this orientation (PIL's transpose for each value).
    public static func upright(_ image: RGBImage, orientation: Int) -> RGBImage {
        let w = image.width, h = image.height
        // For each output pixel (x, y), the stored pixel it comes from.
        let outW = swapsSides(orientation) ? h : w, outH = swapsSides(orientation) ? w : h
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (w - 1 - x, y) }              // FLIP_LEFT_RIGHT
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }      // ROTATE_180
        case 4: source = { x, y in (x, h - 1 - y) }              // FLIP_TOP_BOTTOM
        case 5: source = { x, y in (y, x) }                      // TRANSPOSE
        case 6: source = { x, y in (y, h - 1 - x) }              // ROTATE_270 (clockwise quarter)
        case 7: source = { x, y in (w - 1 - y, h - 1 - x) }      // TRANSVERSE
        case 8: source = { x, y in (w - 1 - y, x) }              // ROTATE_90 (anticlockwise quarter)
        default: return image
        }
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< outH {
                    for x in 0 ..< outW {
                        let (sx, sy) = source(x, y)
                        let s = (sy * w + sx) * 3, d = (y * outW + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }

    /// The TIFF block of the first APP1 "Exif\0\0" segment before the image data.
    static func jpegExif(_ data: [UInt8]) -> ArraySlice<UInt8>? {
        var i = 2
        while i + 4 <= data.count, data[i] == 0xFF {
            let marker = data[i + 1]
            if marker == 0xFF { i += 1; continue }                  // fill byte
            if marker == 0xD9 || marker == 0xDA { return nil }      // end of image, start of scan
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }   // no length
            let length = Int(data[i + 2]) << 8 | Int(data[i + 3])
            guard length >= 2, i + 2 + length <= data.count else { return nil }
            let body = data[(i + 4) ..< (i + 2 + length)]
            if marker == 0xE1, body.starts(with: exifHeader) { return body.dropFirst(exifHeader.count) }
            i += 2 + length
        }
        return nil
    }

    /// The TIFF block of a PNG's eXIf chunk (PNG 1.5; stored without the "Exif\0\0" prefix).
    static func pngExif(_ data: [UInt8]) -> ArraySlice<UInt8>? {
        var i = 8
        while i + 8 <= data.count {
            let length = Int(readUInt32(data[...], at: i, bigEndian: true) ?? 0)
            let type = data[(i + 4) ..< (i + 8)]
            guard i + 8 + length <= data.count else { return nil }
            if type.elementsEqual("eXIf".utf8) {
                let body = data[(i + 8) ..< (i + 8 + length)]
                return body.starts(with: exifHeader) ? body.dropFirst(exifHeader.count) : body
            }
            if type.elementsEqual("IEND".utf8) { return nil }
            i += 12 + length
        }
        return nil
    }

    /// Orientation's value in the first image file directory of a TIFF block (SHORT or LONG, one value).
    static func orientationTag(in tiff: ArraySlice<UInt8>) -> Int? {
        let block = Array(tiff)
        guard block.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (block[0], block[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return nil
        }
        guard readUInt16(block, at: 2, bigEndian: bigEndian) == 42,
              let ifd = readUInt32(block[...], at: 4, bigEndian: bigEndian).map(Int.init),
              let count = readUInt16(block, at: ifd, bigEndian: bigEndian) else { return nil }
        for entry in 0 ..< count {
            let at = ifd + 2 + entry * 12
            guard let tag = readUInt16(block, at: at, bigEndian: bigEndian),
                  let type = readUInt16(block, at: at + 2, bigEndian: bigEndian) else { return nil }
            guard tag == 0x0112 else { continue }
            switch type {
            case 3: return readUInt16(block, at: at + 8, bigEndian: bigEndian)
            case 4: return readUInt32(block[...], at: at + 8, bigEndian: bigEndian).map(Int.init)
            default: return nil
            }
        }
        return nil
    }

    private static let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]

    private static func readUInt16(_ bytes: [UInt8], at offset: Int, bigEndian: Bool) -> Int? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        let a = Int(bytes[offset]), b = Int(bytes[offset + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    private static func readUInt32(_ bytes: ArraySlice<UInt8>, at offset: Int, bigEndian: Bool) -> UInt32? {
        let start = bytes.startIndex + offset
        guard offset >= 0, start + 4 <= bytes.endIndex else { return nil }
        var value: UInt32 = 0
        for k in 0 ..< 4 {
            let byte = UInt32(bytes[start + (bigEndian ? k : 3 - k)])
            value = value << 8 | byte
        }
        return value
    }
}
