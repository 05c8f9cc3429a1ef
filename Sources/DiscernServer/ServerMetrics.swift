import DiscernKit
import Metrics
import Prometheus

/// The server's Prometheus metrics, served as text by `GET /metrics`.
///
/// Recorded through swift-metrics with this server's own factory rather than the global `MetricsSystem`, so two
/// servers in one process (the tests) keep separate counts.
/// - `discern_http_requests_total{route, method, status}`: requests answered, by route pattern and status.
/// - `discern_http_request_duration_seconds{route}`: latency histogram, body reading included.
/// - `discern_batch_images`: histogram of the images in each forward pass (requests share passes).
/// - `discern_images_total` and `discern_images_per_second` (the rate of the latest forward pass, decode included).
/// - `discern_verdicts_total{verdict, reason}`: answers by verdict and the score that decided it.
/// - `discern_model_ready`: 1 once the model is loaded and warmed up.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30),
        ]
        factory.valueHistogramBuckets["discern_batch_images"] = [1, 2, 4, 8, 16, 32, 64, 128]
        self.factory = factory
        Gauge(label: "discern_model_ready", factory: factory).record(0)
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        Counter(label: "discern_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))],
                factory: factory).increment()
        Timer(label: "discern_http_request_duration_seconds", dimensions: [("route", route)],
              factory: factory).recordNanoseconds(nanoseconds(duration))
    }

    func batch(images: Int, duration: Duration, predictions: [Prediction]) {
        Recorder(label: "discern_batch_images", factory: factory).record(images)
        Counter(label: "discern_images_total", factory: factory).increment(by: images)
        let seconds = Double(nanoseconds(duration)) / 1e9
        if seconds > 0 { Gauge(label: "discern_images_per_second", factory: factory).record(Double(images) / seconds) }
        for prediction in predictions {
            Counter(label: "discern_verdicts_total",
                    dimensions: [("verdict", prediction.verdict.rawValue), ("reason", prediction.score.rawValue)],
                    factory: factory).increment()
        }
    }

    func modelReady() { Gauge(label: "discern_model_ready", factory: factory).record(1) }

    private func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// The Prometheus text exposition format (version 0.0.4).
    func text() -> [UInt8] { registry.emitToBuffer() }
}
