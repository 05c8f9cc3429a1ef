/// Image formats Discern does not decode, recognised so that such a file is reported by name ("a WebP image")
/// instead of as "not an image", and so that folder scans list them to be skipped aloud rather than silently.
public enum OtherImageFormats {
    /// File extensions of these formats, lowercased.
    public static let extensions: Set<String> = ["webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "avif", "jxl"]

    /// The format's name when `data` starts with one of these formats' signatures.
    public static func name(of data: [UInt8]) -> String? {
        func bytes(_ range: Range<Int>) -> [UInt8]? { data.count >= range.upperBound ? Array(data[range]) : nil }
        func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
        if bytes(0..<4) == ascii("RIFF"), bytes(8..<12) == ascii("WEBP") { return "WebP" }
        if bytes(0..<6) == ascii("GIF87a") || bytes(0..<6) == ascii("GIF89a") { return "GIF" }
        if bytes(0..<2) == ascii("BM"), data.count >= 26 { return "BMP" }
        if bytes(0..<4) == [0x49, 0x49, 0x2A, 0x00] || bytes(0..<4) == [0x4D, 0x4D, 0x00, 0x2A] { return "TIFF" }
        if bytes(0..<2) == [0xFF, 0x0A] || bytes(0..<12) == [0, 0, 0, 0x0C] + ascii("JXL ") + [0x0D, 0x0A, 0x87, 0x0A] {
            return "JPEG XL"
        }
        // ISO base media files (HEIF, AVIF): a box of type "ftyp" first, whose major brand names the format.
        if bytes(4..<8) == ascii("ftyp"), let brand = bytes(8..<12).map({ String(decoding: $0, as: UTF8.self) }) {
            switch brand {
            case "avif", "avis": return "AVIF"
            case "heic", "heix", "heim", "heis", "hevc", "hevx": return "HEIC"
            case "mif1", "msf1": return "HEIF"
            default: return nil
            }
        }
        return nil
    }
}
