import Foundation
import XCTest
import DiscernTestSupport

/// deploy/ checked offline by tools/deploy_check.py: the manifests against the Kubernetes API schemas that
/// kubernetes-validate bundles (strict: unknown fields are errors) and KServe's against deploy/schemas; the
/// Dockerfile's steps against this repository, Debian's package lists and the libraries the binary links.
final class DeployManifestTests: XCTestCase {
    private let deploy = TestPaths.repo.appendingPathComponent("deploy")

    func testManifestsAreValid() throws {
        let run = try check(["manifests", deploy.appendingPathComponent("k8s").path,
                             deploy.appendingPathComponent("kserve").path])
        XCTAssertEqual(run.status, 0, run.out)
        XCTAssertTrue(run.out.contains("9 manifests valid against Kubernetes 1.33 (strict)"), run.out)
    }

    /// A misspelled field, a wrong type, a protocol typo and shard counts that disagree: each is named.
    func testBrokenManifestsAreRejected() throws {
        let copy = try TestPaths.temporaryDirectory("deploy")
        for folder in ["k8s", "kserve"] {
            try FileManager.default.copyItem(at: deploy.appendingPathComponent(folder),
                                             to: copy.appendingPathComponent(folder))
        }
        try edit(copy.appendingPathComponent("k8s/serve.yaml"), "readinessProbe:", "readinesProbe:")
        try edit(copy.appendingPathComponent("k8s/score-job.yaml"), "completions: 4", "completions: 5")
        try edit(copy.appendingPathComponent("kserve/inferenceservice.yaml"), "protocolVersion:", "protocolVersoin:")
        try edit(copy.appendingPathComponent("kserve/servingruntime.yaml"), "containerPort: 8080",
                 "containerPort: http")
        let run = try check(["manifests", copy.appendingPathComponent("k8s").path,
                             copy.appendingPathComponent("kserve").path])
        XCTAssertEqual(run.status, 1, run.out)
        for expected in ["serve.yaml: Deployment/discern-serve: spec.template.spec.containers.0: "
                            + "Additional properties are not allowed ('readinesProbe' was unexpected)",
                         "score-job.yaml: Job/discern-score: container score: "
                            + "JOB_COMPLETIONS '4' differs from completions 5",
                         "merge-job.yaml: Job/discern-merge: container merge: JOB_COMPLETIONS '4' differs",
                         "inferenceservice.yaml: InferenceService/discern: spec.predictor.model: "
                            + "Additional properties are not allowed ('protocolVersoin' was unexpected)",
                         "servingruntime.yaml: ServingRuntime/discern: spec.containers.0.ports.0.containerPort: "
                            + "'http' is not of type 'integer'"] {
            XCTAssertTrue(run.out.contains(expected), "missing \(expected) in:\n\(run.out)")
        }
    }

    /// The Dockerfile as far as no Docker engine is needed, with the release binary's libraries.
    func testDockerfileStepsHoldOnThisMachine() throws {
        let binary = try TestPaths.binary.path
        let run = try check(["dockerfile", "--binary", binary, deploy.appendingPathComponent("Dockerfile").path])
        XCTAssertEqual(run.status, 0, run.out)

        let copy = try TestPaths.temporaryDirectory("dockerfile").appendingPathComponent("Dockerfile")
        try FileManager.default.copyItem(at: deploy.appendingPathComponent("Dockerfile"), to: copy)
        try edit(copy, "COPY scripts ./scripts", "COPY script ./scripts")
        try edit(copy, "libpng16-16 ", "")
        try edit(copy, "USER 10001:10001", "USER root")
        try edit(copy, "/v2/health/live", "/healthz")
        let broken = try check(["dockerfile", "--binary", binary, copy.path])
        XCTAssertEqual(broken.status, 1, broken.out)
        for expected in ["COPY source script is not in the repository", "links libpng16.so.16 from libpng16-16",
                         "must end as a non-root USER", "no HEALTHCHECK on /v2/health/live"] {
            XCTAssertTrue(broken.out.contains(expected), "missing \(expected) in:\n\(broken.out)")
        }
    }

    private func edit(_ file: URL, _ old: String, _ new: String) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(text.contains(old), "\(file.lastPathComponent) has no \(old)")
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }

    private func check(_ arguments: [String]) throws -> (status: Int32, out: String) {
        let python = try TestEnvironment.python(importing: "kubernetes_validate, yaml, jsonschema")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestPaths.repo.appendingPathComponent("tools/deploy_check.py").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}
