/// Settings of `discern serve`; defaults are safe for a loopback deployment.
public struct ServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Larger request bodies are refused with 413 before they are buffered.
    public var maxBodyBytes: Int = 20 * 1024 * 1024
    /// Most images one forward pass takes from the batcher.
    public var maxBatch: Int = 32
    /// How long the batcher waits for more requests after the first one arrives.
    public var maxDelayMs: Double = 5
    /// A request that has no answer after this long gets 503.
    public var requestTimeoutSeconds: Double = 30
    /// Most `image` parts one multipart request may carry.
    public var maxImagesPerRequest: Int = 64
    /// When set, `GET /examples/NAME` serves image files directly in this directory, and
    /// `/?example=NAME` makes the page submit one (used by tools/server/screenshot.sh). Off by default.
    public var examplesDirectory: String? = nil
    /// The model's name in the `/v2/models/{name}` routes (Open Inference Protocol).
    public var modelName: String = "discern"
    public init() {}
}
