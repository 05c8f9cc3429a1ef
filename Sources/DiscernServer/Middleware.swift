import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let filename = HTTPField.Name("X-Filename")!
}

/// Outermost middleware: gives every response the request id, turns every error into a JSON
/// `{"error": "..."}` body with its status, logs one structured line per request and counts it in the metrics
/// (by route pattern, so `/examples/a.jpg` and `/examples/b.jpg` are one route).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let id = context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let (status, message) = ErrorMapping.status(error)
            if status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            response = JSONBody.error(message, status: status)
        }
        response.headers[.requestID] = id
        metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                        status: Int(response.status.code), duration: ContinuousClock.now - start)
        let ms = milliseconds(since: start)
        context.logger.info("request", metadata: [
            "method": "\(request.method)", "path": "\(request.uri.path)",
            "status": "\(response.status.code)", "ms": "\(String(format: "%.1f", ms))",
        ])
        return response
    }
}

/// Runs `operation` in its own task and gives up after `seconds` with `ServerError.timeout`.
/// The operation is cancelled but not awaited: a forward pass cannot be interrupted, and the
/// client must get its 503 on time. Used for the service calls, after the body has been read.
func withDeadline<T: Sendable>(seconds: Double, limit: Double,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    let work = Task { once.resume(await Result(catching: operation)) }
    let timer = Task {
        try await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000)))
        once.resume(.failure(ServerError.timeout(seconds: limit)))
    }
    defer {
        timer.cancel()
        work.cancel()
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { once.set($0) }
    } onCancel: {
        once.resume(.failure(CancellationError()))
    }
}

/// A continuation that is resumed by whichever result comes first; the later ones are dropped.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?
    private var early: Result<T, Error>?
    private var done = false

    func set(_ waiting: CheckedContinuation<T, Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            waiting.resume(with: early)
            return
        }
        // Unreachable: `done` implies `early`.
        guard !done else {
            lock.unlock()
            return
        }
        continuation = waiting
        lock.unlock()
    }

    func resume(_ result: Result<T, Error>) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        done = true
        if let waiting = continuation {
            continuation = nil
            lock.unlock()
            waiting.resume(with: result)
            return
        }
        early = result
        lock.unlock()
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

enum JSONBody {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else {
            return error("could not encode the response", status: .internalServerError)
        }
        return bytes(Array(data), contentType: "application/json", status: status)
    }

    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONEncoder().encode(["error": message])) ?? Data(#"{"error":"error"}"#.utf8)
        return bytes(Array(data), contentType: "application/json", status: status)
    }

    static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}
