import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import DiscernTestSupport

/// A `discern serve` process on a loopback port chosen by the kernel (`--port 0`), for the cluster tests, and the
/// small model they serve (trained once per test run by `discern train` on a tiny subset of cats-and-dogs).
/// Unchecked Sendable: the log is only touched under `lock`, and `port` is written only in `init`.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    private let errors = Pipe()
    private let lock = NSLock()
    private var log = ""
    private(set) var port = 0

    var url: String { "127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }
    var logText: String { lock.withLock { log } }

    init(model: URL, arguments: [String] = []) throws {
        process.executableURL = try TestPaths.binary
        process.arguments = ["serve", "--model", model.path, "--port", "0"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            self?.lock.withLock { self?.log += text }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while port == 0 {
            if let line = logText.split(separator: "\n").first(where: { $0.hasSuffix("[DiscernServer] listening") }),
               let range = line.range(of: #"port=[0-9]+"#, options: .regularExpression) {
                port = Int(line[range].dropFirst(5)) ?? 0
            }
            guard process.isRunning, Date() < deadline else {
                throw MissingPrerequisite("discern serve did not start listening: \(logText)", fix: "see its log")
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// The status of a GET on the server, or nil when the connection fails.
    func status(_ path: String) -> Int? {
        var request = URLRequest(url: URL(string: "http://\(url)\(path)")!)
        request.timeoutInterval = 10
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int?   // written once by the callback, read after the semaphore
        URLSession.shared.dataTask(with: request) { _, response, _ in
            status = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        done.wait()
        return status
    }

    func waitUntilReady(seconds: Double = 120) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while status("/v2/health/ready") != 200 {
            guard process.isRunning, Date() < deadline else {
                throw MissingPrerequisite("discern serve never became ready: \(logText)", fix: "see its log")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Waits for the exit (SIGKILL after `seconds`); returns the exit status.
    func waitForExit(seconds: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(pid, SIGKILL) } }
}

enum ServeCluster {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var trained: URL?

    /// A real Lite0 model from `discern train` on 24 cats and 24 dogs (1 epoch), shared by the tests of one run.
    static func model() throws -> URL {
        try lock.withLock {
            if let trained { return trained }
            let (data, _) = try TestPaths.subset(perClass: 24, testPerClass: 4, unknown: 0)
            let out = try TestPaths.temporaryDirectory("serve-model")
            let run = try TestPaths.run(["train", "--data", data.path, "--out", out.path, "--epochs", "1",
                                         "--augment-views", "1", "--shift-copies", "0", "--force",
                                         "--weights", try TestPaths.liteWeights.path])
            guard run.status == 0 else {
                throw MissingPrerequisite("a model from discern train (exit \(run.status): \(run.err))",
                                          fix: "see the error above")
            }
            let model = out.appendingPathComponent("model.safetensors")
            trained = model
            return model
        }
    }

    /// A cat, a dog and a flower none of the training saw.
    static func images() throws -> [String] {
        let ds = try TestPaths.datasets
        let flowers = try FileManager.default.contentsOfDirectory(
            atPath: ds.appendingPathComponent("unknown/flowers").path).sorted()
        return [ds.appendingPathComponent("cats-and-dogs/test_set/cats/cat.4500.jpg").path,
                ds.appendingPathComponent("cats-and-dogs/test_set/dogs/dog.4500.jpg").path,
                ds.appendingPathComponent("unknown/flowers/\(flowers.last!)").path]
    }

    /// Runs tools/server/cluster_client.py with Debian's Python; returns its JSON answer.
    static func client(_ arguments: [String]) throws -> [String: Any] {
        let python = try TestEnvironment.python(importing: "tritonclient.http, prometheus_client, numpy")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestPaths.repo.appendingPathComponent("tools/server/cluster_client.py").path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let answer = try JSONSerialization.jsonObject(with: out) as? [String: Any] else {
            XCTFail("cluster_client.py \(arguments.first ?? "") failed: \(String(decoding: err, as: UTF8.self))")
            throw MissingPrerequisite("an answer from cluster_client.py", fix: "see the failure above")
        }
        return answer
    }
}
