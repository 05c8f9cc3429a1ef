import DiscernKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Open Inference Protocol v2 routes (KServe, Triton): health, server and model metadata, and infer.
/// Input: one BYTES tensor `image` of N encoded images (shape [N] or [N, 1]). Outputs, row i for image i:
/// `label` BYTES [N], `probabilities` FP32 [N, C] (classes in the model's order), `verdict` BYTES [N]
/// (accept | unknown | unsure), `reason` BYTES [N] (one readable line), `scores` BYTES [N] (a JSON object of the
/// out-of-distribution scores by name). Answers are shared forward passes, as `POST /v1/predict`'s.
struct InferenceRoutes: Sendable {
    let slot: ModelSlot
    let batcher: PredictionBatcher
    let config: ServerConfig
    static let version = "1"

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v2") { _, _ in
            JSONBody.response(ServerMetadata(name: "discern", version: Self.version,
                                             extensions: ["binary_tensor_data"]))
        }
        router.get("/v2/health/live") { _, _ in JSONBody.response(["live": true]) }
        router.get("/v2/health/ready") { _, _ in readiness() }
        router.get("/v2/models/:name") { _, context in try metadata(context) }
        router.get("/v2/models/:name/versions/:version") { _, context in try metadata(context) }
        router.get("/v2/models/:name/ready") { _, context in try modelReadiness(context) }
        router.get("/v2/models/:name/versions/:version/ready") { _, context in try modelReadiness(context) }
        router.post("/v2/models/:name/infer") { request, context in try await infer(request, context: context) }
        router.post("/v2/models/:name/versions/:version/infer") { request, context in
            try await infer(request, context: context)
        }
    }

    /// 200 once the model is loaded and warmed up; 503 before (a readiness probe keeps traffic away).
    private func readiness() -> Response {
        JSONBody.response(["ready": slot.isReady], status: slot.isReady ? .ok : .serviceUnavailable)
    }

    private func modelReadiness(_ context: BasicRequestContext) throws -> Response {
        try checkModel(context)
        return readiness()
    }

    /// The model named in the path must be this server's (`--model-name`), at version 1 when one is given.
    private func checkModel(_ context: BasicRequestContext) throws {
        let name = context.parameters.get("name") ?? ""
        guard name == config.modelName else {
            throw ServerError.notFound("no model named \"\(name)\" (this server serves \"\(config.modelName)\")")
        }
        if let version = context.parameters.get("version"), version != Self.version {
            throw ServerError.notFound("model \(name) has no version \(version) (it has \(Self.version))")
        }
    }

    private func metadata(_ context: BasicRequestContext) throws -> Response {
        try checkModel(context)
        let classes = try slot.service().info.classes.count
        let outputs = InferenceProtocol.OutputName.allCases.map { output in
            output == .probabilities
                ? TensorMetadata(name: output.rawValue, datatype: "FP32", shape: [-1, classes])
                : TensorMetadata(name: output.rawValue, datatype: "BYTES", shape: [-1])
        }
        return JSONBody.response(ModelMetadata(
            name: config.modelName, versions: [Self.version], platform: "discern",
            inputs: [TensorMetadata(name: InferenceProtocol.inputName, datatype: "BYTES", shape: [-1])],
            outputs: outputs))
    }

    private func infer(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        try checkModel(context)
        let service = try slot.service()
        let body = try await readBody(request)
        let (message, images) = try InferenceDecoding.decode(
            body: body, headerLength: request.headers[HTTPField.Name(InferenceProtocol.headerLength)!],
            maxImages: config.maxImagesPerRequest)
        let remaining = config.requestTimeoutSeconds - milliseconds(since: start) / 1000
        let result = try await withDeadline(seconds: remaining, limit: config.requestTimeoutSeconds) { [batcher] in
            try await batcher.submit(images)
        }
        let tensors = InferenceEncoding.tensors(result.predictions, classes: service.info.classes)
        return try InferenceEncoding.response(tensors, for: message, modelName: config.modelName,
                                              version: Self.version)
    }

    private func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes {
            throw ServerError.bodyTooLarge(limit: config.maxBodyBytes)
        }
        do {
            return Array(try await request.body.collect(upTo: config.maxBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ServerError.bodyTooLarge(limit: config.maxBodyBytes)
        }
    }
}
