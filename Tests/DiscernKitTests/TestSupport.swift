import Foundation
import XCTest
import DiscernTestSupport

/// Paths the end-to-end tests need: the shared datasets, the Lite0 weights and the release binary.
/// Each fails the test with what is missing and how to get it (TestEnvironment), never skips it.
enum TestPaths {
    static let repo = TestEnvironment.repository

    static var datasets: URL { get throws { try TestEnvironment.datasets() } }

    static var liteWeights: URL { get throws { try TestEnvironment.lite0Weights() } }

    /// `$DISCERN_BINARY` (set by scripts/test to the binary it has just built), else `.build/release/discern`.
    static var binary: URL { get throws { try TestEnvironment.binary() } }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("discern-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// A small image-folder dataset of symlinks to the first `perClass` images of each class.
    static func subset(perClass: Int, testPerClass: Int, unknown: Int) throws -> (data: URL, unknown: URL) {
        let ds = try datasets
        let root = try temporaryDirectory("subset")
        let fm = FileManager.default
        for (split, n) in [("training_set", perClass), ("test_set", testPerClass)] {
            for cls in ["cats", "dogs"] {
                let src = ds.appendingPathComponent("cats-and-dogs/\(split)/\(cls)")
                let dst = root.appendingPathComponent("\(split)/\(cls)")
                try fm.createDirectory(at: dst, withIntermediateDirectories: true)
                let files = try fm.contentsOfDirectory(atPath: src.path).filter { $0.hasSuffix(".jpg") }.sorted().prefix(n)
                for f in files { try fm.createSymbolicLink(at: dst.appendingPathComponent(f), withDestinationURL: src.appendingPathComponent(f)) }
            }
        }
        let unk = root.appendingPathComponent("unknown/flowers")
        try fm.createDirectory(at: unk, withIntermediateDirectories: true)
        let src = ds.appendingPathComponent("unknown/flowers")
        for f in try fm.contentsOfDirectory(atPath: src.path).sorted().prefix(unknown) {
            try fm.createSymbolicLink(at: unk.appendingPathComponent(f), withDestinationURL: src.appendingPathComponent(f))
        }
        return (root, unk)
    }

    /// Runs the CLI (with `environment` added to this process's); returns exit status, stdout and stderr.
    @discardableResult
    static func run(_ args: [String], environment: [String: String] = [:], executable: URL? = nil,
                    directory: URL? = nil, fullEnvironment: [String: String]? = nil)
        throws -> (status: Int32, out: String, err: String) {
        try execute(try executable ?? binary, args, environment: environment, directory: directory,
                    fullEnvironment: fullEnvironment)
    }

    /// Runs a program to its end, reading its output and error streams concurrently (no pipe deadlock).
    /// `environment` is added to this process's; `fullEnvironment` replaces it.
    @discardableResult
    static func execute(_ program: URL, _ args: [String], environment: [String: String] = [:],
                        directory: URL? = nil, fullEnvironment: [String: String]? = nil)
        throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = program
        p.arguments = args
        if let directory { p.currentDirectoryURL = directory }
        if let fullEnvironment {
            p.environment = fullEnvironment.merging(environment) { $1 }
        } else if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        nonisolated(unsafe) var ed = Data()
        let done = NSCondition()
        nonisolated(unsafe) var finished = false
        let reader = Thread {
            let d = e.fileHandleForReading.readDataToEndOfFile()
            done.lock(); ed = d; finished = true; done.signal(); done.unlock()
        }
        reader.start()
        let od = o.fileHandleForReading.readDataToEndOfFile()
        done.lock(); while !finished { done.wait() }; done.unlock()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
    }
}
