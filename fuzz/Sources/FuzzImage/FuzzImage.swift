import DiscernVision
import FuzzSupport

/// A small pixel limit keeps each run fast and exercises the decompression-bomb refusal; inputs of
/// even length also take the JPEG DCT-scaled path (minSize) used by the loader.
let maxPixels = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Array(UnsafeBufferPointer(start: bytes, count: size))
    let minSize: (Int, Int)? = size % 2 == 0 ? (8, 8) : nil
    do {
        let image = try ImageCodec.decode(data, name: Oracle.fileName, maxPixels: maxPixels, minSize: minSize)
        Oracle.require(image.width > 0 && image.height > 0 && image.width * image.height <= maxPixels,
                       "decoded \(image.width)x\(image.height)")
        Oracle.require(image.pixels.count == image.width * image.height * 3,
                       "\(image.pixels.count) bytes for \(image.width)x\(image.height)")
    } catch {
        Oracle.checkRefusal(error)
    }
    do {
        let (w, h) = try ImageCodec.probe(data, name: Oracle.fileName, maxPixels: maxPixels)
        Oracle.require(w >= 0 && h >= 0 && w * h <= maxPixels, "probed \(w)x\(h)")
    } catch {
        Oracle.checkRefusal(error)
    }
    return 0
}
