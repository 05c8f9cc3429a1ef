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
        case let .badRequest(message), let .unsupportedMediaType(message), let .notFound(message),
             let .unavailable(message), let .internal(message):
            return message
        case let .timeout(seconds): return "request not answered within \(seconds) s"
        }
    }
}

/// One place that decides the status and client-visible message of every error.
enum ErrorMapping {
    static func status(_ error: Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let serviceError as ServiceError:
            switch serviceError {
            case .tooManyPixels: return (.contentTooLarge, serviceError.description)
            case .unsupportedImage: return (.unsupportedMediaType, serviceError.description)
            case .corruptImage: return (.unprocessableContent, serviceError.description)
            case .badRequest: return (.badRequest, serviceError.description)
            }
        case let serverError as ServerError:
            switch serverError {
            case .bodyTooLarge: return (.contentTooLarge, serverError.description)
            case .badRequest: return (.badRequest, serverError.description)
            case .unsupportedMediaType: return (.unsupportedMediaType, serverError.description)
            case .notFound: return (.notFound, serverError.description)
            case .timeout, .unavailable: return (.serviceUnavailable, serverError.description)
            case .internal: return (.internalServerError, "internal error")
            }
        case is NIOTooManyBytesError: return (.contentTooLarge, "request body too large")
        case let httpError as HTTPError: return (httpError.status, httpError.body ?? httpError.status.reasonPhrase)
        case is CancellationError: return (.serviceUnavailable, "request cancelled")
        default: return (.internalServerError, "internal error")
        }
    }
}
