import Foundation

/// Decodes JPEG/PNG bytes to 8-bit upright RGB exactly as PIL's `ImageOps.exif_transpose(Image.open(f))
/// .convert('RGB')` (the EXIF orientation applied, as viewers show the photo), and encodes RGB images to PNG/JPEG.
public enum ImageCodec {
    /// PIL's default `Image.MAX_IMAGE_PIXELS`.
    public static let defaultMaxPixels = 89_478_485

    /// `minSize` (width, height of the upright image): when given and a JPEG is at least twice that in both
    /// dimensions, libjpeg-turbo's DCT scaling decodes at the smallest size still covering it (faster, not
    /// bit-identical to PIL).
    public static func decode(_ data: [UInt8], name: String, maxPixels: Int = defaultMaxPixels,
                              minSize: (Int, Int)? = nil) throws -> RGBImage {
        if data.isEmpty { throw VisionError.emptyFile(name) }
        if data.count >= 3, data[0] == 0xFF, data[1] == 0xD8, data[2] == 0xFF {
            let orientation = ExifOrientation.orientation(of: data)
            let storedMinSize = ExifOrientation.swapsSides(orientation) ? minSize.map { ($0.1, $0.0) } : minSize
            let stored = try JPEGCodec.decode(data, name: name, maxPixels: maxPixels, minSize: storedMinSize)
            return ExifOrientation.upright(stored, orientation: orientation)
        }
        if data.count >= 8, data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] as [UInt8]) {
            let stored = try PNGCodec.decode(data, name: name, maxPixels: maxPixels)
            return ExifOrientation.upright(stored, orientation: ExifOrientation.orientation(of: data))
        }
        let jpegMagic: [UInt8] = [0xFF, 0xD8, 0xFF],
            pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if data.count < 8, jpegMagic.starts(with: data.prefix(3)) || pngMagic.starts(with: data) {
            throw VisionError.truncated(name, detail: "only \(data.count) bytes")
        }
        if let format = OtherImageFormats.name(of: data) { throw VisionError.unsupportedFormat(name, format: format) }
        throw VisionError.notAnImage(name)
    }

    public static func decodeFile(_ path: String, maxPixels: Int = defaultMaxPixels,
                                  minSize: (Int, Int)? = nil) throws -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let ns = error as NSError
            let reason =
                (ns.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? ns.localizedDescription
            throw VisionError.unreadable(path, reason: reason)
        }
        return try decode([UInt8](data), name: path, maxPixels: maxPixels, minSize: minSize)
    }

    public static func encodePNG(_ image: RGBImage) throws -> [UInt8] {
        try PNGCodec.encode(image)
    }

    public static func encodeJPEG(_ image: RGBImage, quality: Int = 90) throws -> [UInt8] {
        try JPEGCodec.encode(image, quality: quality)
    }
}

extension ImageCodec {
    /// Reads only what is needed to know the format and size (cheap check for datasets): refuses empty files,
    /// non-images, unreadable headers and images over `maxPixels`. Returns the stored (width, height), before any
    /// EXIF orientation.
    public static func probeFile(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> (Int, Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw VisionError.unreadable(path, reason: (error as NSError).localizedDescription)
        }
        return try probe([UInt8](data), name: path, maxPixels: maxPixels)
    }

    public static func probe(_ data: [UInt8], name: String, maxPixels: Int = defaultMaxPixels) throws -> (Int, Int) {
        if data.isEmpty { throw VisionError.emptyFile(name) }
        if data.starts(with: [0xFF, 0xD8, 0xFF] as [UInt8]) {
            let (w, h) = try JPEGCodec.header(data, name: name)
            if w * h > maxPixels { throw VisionError.tooManyPixels(name, width: w, height: h, limit: maxPixels) }
            return (w, h)
        }
        // PNG: decode with a pixel limit of 0 stops right after the header with the dimensions.
        do {
            _ = try decode(data, name: name, maxPixels: 0)
        } catch let VisionError.tooManyPixels(_, w, h, _) {
            if w * h > maxPixels { throw VisionError.tooManyPixels(name, width: w, height: h, limit: maxPixels) }
            return (w, h)
        }
        return (0, 0)
    }
}
