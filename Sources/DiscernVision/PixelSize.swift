/// An image's width and height in pixels as decoded, before any resize: what the low-resolution verdict looks at.
/// With the loader's fast JPEG decoding it is the size after libjpeg-turbo's DCT scaling, which never goes below
/// the network's input size, so an image is low-resolution under both decodings alike.
public struct PixelSize: Codable, Hashable, Sendable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(_ image: RGBImage) { self.init(width: image.width, height: image.height) }

    public var shortSide: Int { min(width, height) }
}
