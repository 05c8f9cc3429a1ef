import CPNG
import Foundation

/// PNG through libpng (the setjmp-guarded reader lives in CPNG/shim.h). 16-bit samples keep their high byte
/// (libpng's png_set_strip_16: the 8-bit image a viewer shows), for gray as for colour; PIL agrees except for
/// 16-bit gray, which it reads as mode "I" and clips at 255 (white). Alpha and tRNS are dropped without
/// compositing, as PIL's convert('RGB') does.
enum PNGCodec {
    static func decode(_ data: [UInt8], name: String, maxPixels: Int) throws -> RGBImage {
        var raw: UnsafeMutablePointer<UInt8>? = nil
        var w: UInt32 = 0, h: UInt32 = 0
        var channels: Int32 = 0, depth: Int32 = 0, colorType: Int32 = 0
        var msg = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBufferPointer { src in
            discern_png_decode(src.baseAddress, src.count, UInt64(maxPixels), &raw, &w, &h,
                               &channels, &depth, &colorType, &msg, msg.count)
        }
        defer { free(raw) }
        switch rc {
        case 0: break
        case 2: throw VisionError.tooManyPixels(name, width: Int(w), height: Int(h), limit: maxPixels)
        case 3: throw VisionError.corrupt(name, detail: "out of memory")
        default:
            let m = String(decoding: msg.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if m.contains("truncated") || m.contains("Not enough image data") {
                throw VisionError.truncated(name, detail: m)
            }
            if m.contains("Not a PNG") || m.contains("PNG signature") { throw VisionError.notAnImage(name) }
            throw VisionError.corrupt(name, detail: m)
        }
        guard let src = raw else { throw VisionError.corrupt(name, detail: "no pixel data") }
        let width = Int(w), height = Int(h), n = width * height, ch = Int(channels)
        guard depth == 8 else {
            throw VisionError.corrupt(name, detail: "unexpected \(depth)-bit samples after decoding")
        }
        var out = [UInt8](repeating: 0, count: n * 3)
        out.withUnsafeMutableBufferPointer { d in
            for i in 0 ..< n {
                let p = src + i * ch
                if ch <= 2 {
                    d[i * 3] = p[0]
                    d[i * 3 + 1] = p[0]
                    d[i * 3 + 2] = p[0]
                } else {
                    d[i * 3] = p[0]
                    d[i * 3 + 1] = p[1]
                    d[i * 3 + 2] = p[2]
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    static func encode(_ image: RGBImage) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw VisionError.encodeFailed("PNG needs a non-empty image") }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        img.format = UInt32(PNG_FORMAT_FLAG_COLOR)
        var size: Int = 0
        let ok1 = image.pixels.withUnsafeBufferPointer { p in
            png_image_write_to_memory(&img, nil, &size, 0, p.baseAddress, 0, nil)
        }
        guard ok1 != 0, size > 0 else { throw VisionError.encodeFailed(pngMessage(&img)) }
        var out = [UInt8](repeating: 0, count: size)
        let ok2 = out.withUnsafeMutableBytes { o in
            image.pixels.withUnsafeBufferPointer { p in
                png_image_write_to_memory(&img, o.baseAddress, &size, 0, p.baseAddress, 0, nil)
            }
        }
        png_image_free(&img)
        guard ok2 != 0 else { throw VisionError.encodeFailed(pngMessage(&img)) }
        return Array(out.prefix(size))
    }

    private static func pngMessage(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { b in String(decoding: b.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
