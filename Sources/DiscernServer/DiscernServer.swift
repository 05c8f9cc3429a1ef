import DiscernExplain
import DiscernKit
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import ServiceLifecycle

/// The HTTP API of `discern serve`.
///
/// Routes (all errors are `{"error": "..."}` with the status below; every response carries `X-Request-Id`):
/// - `POST /v1/predict` — body: one raw image (any `Content-Type` except multipart; name from the
///   `X-Filename` header or `?name=`), or `multipart/form-data` with one or more `image` parts.
///   200 → `{"predictions": [Prediction...], "timing_ms": total server time, "batch_images": images
///   in the forward pass this request shared}`; each prediction object is exactly the JSON of
///   `discern predict --json`.
/// - `POST /v1/explain?method=gradcam&layer=L&class=C` — one image as above. 200 → `image/png`
///   overlay; with `Accept: application/json` → `{class, method, layer, attention_area,
///   heatmap: {width, height, data}, overlay_png_base64}`.
/// - `GET /v1/model` → ModelInfo JSON. `GET /healthz` → `{"status": "ok"}`. `GET /` → the web page.
/// - `/v2/...` — the Open Inference Protocol v2 (KServe, Triton): `InferenceRoutes`.
/// - `GET /metrics` — Prometheus text (`ServerMetrics`).
/// Until the model is loaded (`ModelSlot`), the routes that need it answer 503.
/// - `GET /examples/NAME` — only with `ServerConfig.examplesDirectory`: serves image files directly
///   in that directory (for the browser demo/screenshot, `/?example=NAME`).
/// Concurrent predict requests share forward passes (`PredictionBatcher`); a bad image fails only its
/// own request (a request with several images fails as a whole, with its bad image's status).
/// Errors: 400 bad request, 404, 413 body > maxBodyBytes or too many pixels, 415 unsupported image,
/// 422 corrupt image, 503 timeout, 500 internal (details only in the log).
public enum DiscernServer {
    public static func makeRouter(service: any PredictionService, config: ServerConfig) -> Router<BasicRequestContext> {
        makeRouter(slot: ModelSlot(service: service), metrics: ServerMetrics(), config: config)
    }

    public static func makeRouter(slot: ModelSlot, metrics: ServerMetrics,
                                  config: ServerConfig) -> Router<BasicRequestContext> {
        let batcher = PredictionBatcher(
            maxBatch: config.maxBatch, maxDelay: .microseconds(Int64(config.maxDelayMs * 1000)),
            observe: { metrics.batch(images: $0, duration: $1, predictions: $2) },
            predict: { try await slot.service().predict($0) })
        let handlers = Handlers(slot: slot, batcher: batcher, explainGate: AsyncGate(), config: config)
        let router = Router()
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.get("/") { _, _ in JSONBody.bytes(Array(WebPage.html.utf8), contentType: "text/html; charset=utf-8") }
        router.get("/healthz") { _, _ in JSONBody.response(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            JSONBody.bytes(metrics.text(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/v1/model") { _, _ in JSONBody.response(try slot.service().info) }
        router.post("/v1/predict") { request, context in try await handlers.predict(request, context: context) }
        router.post("/v1/explain") { request, context in try await handlers.explain(request, context: context) }
        router.get("/examples/:name") { _, context in try handlers.example(context.parameters.get("name") ?? "") }
        InferenceRoutes(slot: slot, batcher: batcher, config: config).add(to: router)
        return router
    }

    public static func makeApplication(service: any PredictionService, config: ServerConfig,
                                       logger: Logger = Logger(label: "discern.server")) -> some ApplicationProtocol {
        makeApplication(slot: ModelSlot(service: service), metrics: ServerMetrics(), config: config, logger: logger)
    }

    public static func makeApplication(
        slot: ModelSlot, metrics: ServerMetrics, config: ServerConfig, services: [any Service] = [],
        logger: Logger = Logger(label: "discern.server"),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        // The idle timeout closes connections that stall mid-request (slow or abandoned uploads).
        let http1 = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(config.requestTimeoutSeconds * 1000)))
        return Application(router: makeRouter(slot: slot, metrics: metrics, config: config),
                           server: .http1(configuration: http1),
                           configuration: .init(address: .hostname(config.host, port: config.port),
                                                serverName: "discern"),
                           services: services, onServerRunning: onServerRunning, logger: logger)
    }
}

extension DiscernServer {
    /// Listens first, then loads the model with `load` (readiness turns true once it returns), and serves until
    /// SIGTERM/SIGINT: the listener closes, requests already accepted are answered, and the call returns.
    /// A failed load stops the server and throws the load's error.
    public static func run(config: ServerConfig, logger: Logger = Logger(label: "discern.server"),
                           load: @escaping @Sendable () throws -> any PredictionService) async throws {
        let slot = ModelSlot(), metrics = ServerMetrics()
        let (listening, signal) = AsyncStream.makeStream(of: Void.self)
        let loader = ModelLoader(slot: slot, metrics: metrics, logger: logger, listening: listening, load: load)
        let app = makeApplication(slot: slot, metrics: metrics, config: config, services: [loader], logger: logger) {
            channel in
            logger.info("listening", metadata: [
                "host": "\(config.host)", "port": "\(channel.localAddress?.port ?? config.port)",
                "max_batch": "\(config.maxBatch)", "max_delay_ms": "\(config.maxDelayMs)",
            ])
            signal.yield(())
            signal.finish()
        }
        try await app.runService()
        logger.info("stopped: every accepted request was answered")
    }
}

struct ExplainJSON: Encodable {
    struct Heatmap: Encodable {
        var width: Int
        var height: Int
        var data: [Float]
    }
    var `class`: String
    var method: String
    var layer: String
    var attention_area: Double
    var heatmap: Heatmap
    var overlay_png_base64: String
}

struct PredictJSON: Encodable {
    var predictions: [Prediction]
    var timing_ms: Double
    var batch_images: Int
}

struct Handlers: Sendable {
    let slot: ModelSlot
    let batcher: PredictionBatcher
    let explainGate: AsyncGate
    let config: ServerConfig

    func predict(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        _ = try slot.service()   // 503 while the model loads, before the body is read
        let images = try await readImages(request, maxImages: config.maxImagesPerRequest)
        let result = try await withDeadline(seconds: remaining(since: start),
                                            limit: config.requestTimeoutSeconds) { [batcher] in
            try await batcher.submit(images)
        }
        return JSONBody.response(PredictJSON(predictions: result.predictions, timing_ms: milliseconds(since: start),
                                             batch_images: result.batchImages))
    }

    func explain(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let query = request.uri.queryParameters
        // A wrong method is answered before the model or the body is looked at.
        let method = try Self.method(query.get("method"))
        let (layer, className) = (query.get("layer"), query.get("class"))
        let service = try slot.service()
        let images = try await readImages(request, maxImages: 1)
        let explanation = try await withDeadline(seconds: remaining(since: start),
                                                 limit: config.requestTimeoutSeconds) { [explainGate] in
            try await explainGate.run {
                try await service.explain(images[0], method: method, layer: layer, className: className)
            }
        }
        guard explanation.heatmap.count == explanation.width * explanation.height else {
            throw ServerError.internal("heatmap has \(explanation.heatmap.count) values for "
                                       + "\(explanation.width)x\(explanation.height)")
        }
        let accept = request.headers[.accept] ?? ""
        if accept.contains("application/json") {
            // Rounded to 1e-4: the page and clients need the shape, not float noise, and it halves the JSON.
            let data = explanation.heatmap.map { ($0 * 10_000).rounded() / 10_000 }
            return JSONBody.response(ExplainJSON(
                class: explanation.className, method: explanation.method.rawValue, layer: explanation.layer,
                attention_area: explanation.attentionArea,
                heatmap: .init(width: explanation.width, height: explanation.height, data: data),
                overlay_png_base64: Data(explanation.overlayPNG).base64EncodedString()))
        }
        return JSONBody.bytes(explanation.overlayPNG, contentType: "image/png")
    }

    /// The `method` query parameter (Grad-CAM when absent); 400 listing the methods when it names none.
    static func method(_ name: String?) throws -> CAMMethod {
        guard let name else { return .gradcam }
        guard let method = CAMMethod(name: name) else {
            let choices = CAMMethod.allCases.map(\.rawValue).joined(separator: ", ")
            throw ServerError.badRequest("unknown method \(name): use one of \(choices)")
        }
        return method
    }

    /// The request timeout counts from the handler's start, body reading included.
    private func remaining(since start: ContinuousClock.Instant) -> Double {
        config.requestTimeoutSeconds - milliseconds(since: start) / 1000
    }

    /// Files directly inside the configured examples directory; names with path parts are refused.
    func example(_ name: String) throws -> Response {
        guard let dir = config.examplesDirectory else { throw ServerError.notFound("examples are not enabled") }
        let types = ["jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"]
        let ext = (name as NSString).pathExtension.lowercased()
        guard !name.hasPrefix("."), !name.contains("/"), !name.contains("\\"), let type = types[ext] else {
            throw ServerError.notFound("no example named \(name)")
        }
        let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url), data.count <= config.maxBodyBytes else {
            throw ServerError.notFound("no example named \(name)")
        }
        return JSONBody.bytes(Array(data), contentType: type)
    }

    /// The images of a request: a raw body or the `image` parts of a multipart form.
    func readImages(_ request: Request, maxImages: Int) async throws -> [ImageInput] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes {
            throw ServerError.bodyTooLarge(limit: config.maxBodyBytes)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: config.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw ServerError.bodyTooLarge(limit: config.maxBodyBytes)
        }
        let body = Array(buffer.readableBytesView)
        let contentType = request.headers[.contentType] ?? ""
        guard let boundary = try Multipart.boundary(contentType: contentType) else {
            if contentType.lowercased().hasPrefix("multipart/") {
                throw ServerError.unsupportedMediaType("use multipart/form-data or a raw image body")
            }
            guard !body.isEmpty else { throw ServerError.badRequest("empty request body: send an image") }
            let name = request.headers[.filename] ?? request.uri.queryParameters.get("name") ?? "upload"
            return [ImageInput(name: name, bytes: body)]
        }
        let parts = try Multipart.parse(body, boundary: boundary, maxParts: maxImages)
        if let other = parts.first(where: { $0.name != "image" }) {
            throw ServerError.badRequest("unexpected form field \"\(other.name)\": send images as \"image\" parts")
        }
        guard !parts.isEmpty else { throw ServerError.badRequest("multipart form has no \"image\" part") }
        guard parts.count <= maxImages else {
            throw ServerError.badRequest("at most \(maxImages) image(s) per request")
        }
        return parts.enumerated().map { index, part in
            ImageInput(name: part.filename.flatMap { $0.isEmpty ? nil : $0 } ?? "image\(index + 1)", bytes: part.body)
        }
    }
}
