import DiscernKit
import HTTPTypes
import Hummingbird
import NIOCore

/// Errors the HTTP layer itself raises (the service raises `ServiceError`).
public enum ServerError: Error, CustomStringConvertible, Sendable {
    case bodyTooLarge(limit: Int)
    case badRequest(String)
    case unsupportedMediaType(String)
    case notFound(String)
    case timeout(seconds: Double)
    /// The model is still loading (or failed to load): 503, so probes and clients retry elsewhere.
    case unavailable(String)
    case `internal`(String)

    public var description: String {
        switch self {
        case let .bodyTooLarge(limit): return "request body larger than \(limit) bytes"
        case let .badRequest(m), let .unsupportedMediaType(m), let .notFound(m), let .unavailable(m), let .internal(m):
            return m
        case let .timeout(s): return "request not answered within \(s) s"
        }
    }
}

/// One place that decides the status and client-visible message of every error.
enum ErrorMapping {
    static func status(_ error: Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let e as ServiceError:
            switch e {
            case .tooManyPixels: return (.contentTooLarge, e.description)
            case .unsupportedImage: return (.unsupportedMediaType, e.description)
            case .corruptImage: return (.unprocessableContent, e.description)
            case .badRequest: return (.badRequest, e.description)
            }
        case let e as ServerError:
            switch e {
            case .bodyTooLarge: return (.contentTooLarge, e.description)
            case .badRequest: return (.badRequest, e.description)
            case .unsupportedMediaType: return (.unsupportedMediaType, e.description)
            case .notFound: return (.notFound, e.description)
            case .timeout, .unavailable: return (.serviceUnavailable, e.description)
            case .internal: return (.internalServerError, "internal error")
            }
        case is NIOTooManyBytesError: return (.contentTooLarge, "request body too large")
        case let e as HTTPError: return (e.status, e.body ?? e.status.reasonPhrase)
        case is CancellationError: return (.serviceUnavailable, "request cancelled")
        default: return (.internalServerError, "internal error")
        }
    }
}
