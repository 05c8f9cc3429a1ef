import ArgumentParser
import Foundation
import DiscernKit
import DiscernServer
import Logging

/// `discern serve`: the HTTP API and web page (routes documented on `DiscernServer`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve predictions, verdicts and heatmaps over HTTP (API + web page).")

    @OptionGroup var model: ModelOption
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: one the kernel picks; the log line \"listening\" names it).") var port = 8080
    @Option(help: "Most images in one forward pass.") var maxBatch = 32
    @Option(help: "Milliseconds a request waits for others to share its forward pass.") var maxDelayMs = 5.0
    @Option(help: "Largest accepted request body in bytes.") var maxBodyBytes = 20 * 1024 * 1024
    @Option(help: "Seconds before an unanswered request gets 503.") var timeout = 30.0
    @Option(help: "Directory whose images the page can load with /?example=NAME (demo and screenshot).")
    var examples: String?
    @Option(help: "The model's name in the Open Inference Protocol routes (/v2/models/NAME).") var modelName = "discern"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard maxDelayMs >= 0, timeout > 0, maxBodyBytes > 0 else {
            throw ValidationError("--max-delay-ms must be >= 0, --timeout and --max-body-bytes > 0")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "discern.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // A wrong path fails at once; the slow part (building the network, the warm-up pass) runs after the
        // listener is up, so a cluster sees the pod alive but not yet ready.
        guard FileManager.default.isReadableFile(atPath: model.path) else {
            throw ValidationError("--model \(model.path): no readable file there")
        }
        var config = ServerConfig()
        config.host = host
        config.port = port
        config.maxBatch = maxBatch
        config.maxDelayMs = maxDelayMs
        config.maxBodyBytes = maxBodyBytes
        config.requestTimeoutSeconds = timeout
        config.examplesDirectory = examples
        config.modelName = modelName
        let (model, batchSize) = (model, maxBatch)
        try await DiscernServer.run(config: config, logger: logger) {
            let service = try model.load(batchSize: batchSize)
            try service.warmUp()
            return service
        }
    }
}
