import ArgumentParser
import DiscernKit
import DiscernServer
import Logging

/// `discern serve`: the HTTP API and web page (routes documented on `DiscernServer`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve predictions, verdicts and heatmaps over HTTP (API + web page).")

    @Option(help: "Model file written by `discern train`/`discern run`.") var model: String
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Most images in one forward pass.") var maxBatch = 32
    @Option(help: "Milliseconds a request waits for others to share its forward pass.") var maxDelayMs = 5.0
    @Option(help: "Largest accepted request body in bytes.") var maxBodyBytes = 20 * 1024 * 1024
    @Option(help: "Seconds before an unanswered request gets 503.") var timeout = 30.0
    @Option(help: "Directory whose images the page can load with /?example=NAME (demo and screenshot).")
    var examples: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1...65535") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard maxDelayMs >= 0, timeout > 0, maxBodyBytes > 0 else {
            throw ValidationError("--max-delay-ms must be >= 0, --timeout and --max-body-bytes > 0")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "discern.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let service = try DiscernModelService.load(path: model, batchSize: maxBatch)
        var config = ServerConfig()
        config.host = host
        config.port = port
        config.maxBatch = maxBatch
        config.maxDelayMs = maxDelayMs
        config.maxBodyBytes = maxBodyBytes
        config.requestTimeoutSeconds = timeout
        config.examplesDirectory = examples
        try await DiscernServer.run(service: service, config: config, logger: logger)
    }
}
