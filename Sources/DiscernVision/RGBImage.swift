/// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC) — what PIL's `.convert('RGB')` holds.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black (zero-filled) image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// Channel `c` of pixel (x, y).
    @inlinable public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        pixels[(y * width + x) * 3 + c]
    }
}

/// Everything that can go wrong reading, writing or transforming images; `description` is one line naming the file.
public enum VisionError: Error, CustomStringConvertible, Equatable {
    case emptyFile(String)
    case unreadable(String, reason: String)
    case notAnImage(String)
    /// A recognised image format that Discern does not decode (OtherImageFormats), with its name.
    case unsupportedFormat(String, format: String)
    case truncated(String, detail: String)
    case corrupt(String, detail: String)
    case tooManyPixels(String, width: Int, height: Int, limit: Int)
    case encodeFailed(String)
    case invalidArgument(String)

    /// The file the error is about, when there is one.
    public var file: String? {
        switch self {
        case let .emptyFile(file), let .unreadable(file, _), let .notAnImage(file), let .unsupportedFormat(file, _),
             let .truncated(file, _), let .corrupt(file, _), let .tooManyPixels(file, _, _, _):
            return file
        case .encodeFailed, .invalidArgument:
            return nil
        }
    }

    /// What went wrong, without the file's name (for a caller that names the file itself, as `serve` does).
    public var problem: String {
        switch self {
        case .emptyFile: return "empty file (0 bytes)"
        case let .unreadable(_, reason): return "cannot read file (\(reason))"
        case .notAnImage: return "not a JPEG or PNG image"
        case let .unsupportedFormat(_, format):
            return "a \(format) image; Discern reads JPEG and PNG only (convert it, e.g. to PNG)"
        case let .truncated(_, detail): return "truncated image (\(detail))"
        case let .corrupt(_, detail): return "corrupt image (\(detail))"
        case let .tooManyPixels(_, width, height, limit):
            return "too many pixels (\(width)x\(height) = \(width * height) > limit \(limit)), refused as a "
                + "possible decompression bomb"
        case let .encodeFailed(message): return "image encoding failed: \(message)"
        case let .invalidArgument(message): return message
        }
    }

    public var description: String { file.map { "\($0): \(problem)" } ?? problem }
}
