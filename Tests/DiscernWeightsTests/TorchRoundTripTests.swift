import DiscernTestSupport
import XCTest
import Foundation
import DiscernEngine
@testable import DiscernWeights

/// A real torchvision ResNet18 state_dict (random weights), saved by torch at test time in both
/// formats, loads to exactly torch's values. Fails when /usr/bin/python3 has no torch (scripts/setup --dev).
final class TorchRoundTripTests: XCTestCase {
    func testTorchvisionResNet18BothFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("discern-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tools = Fixtures.dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools")
        let script = """
        import sys, torch, torchvision
        sys.path.insert(0, \(pyString(tools.path)))
        from fixture_io import save
        torch.manual_seed(3)
        sd = torchvision.models.resnet18(num_classes=10).state_dict()
        torch.save(sd, "zip.pth")
        torch.save(sd, "legacy.pth", _use_new_zipfile_serialization=False)
        save("ref.safetensors", {k: v.to(torch.float64).numpy() for k, v in sd.items()})
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestEnvironment.torchPython())
        p.arguments = ["-c", script]
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard p.terminationStatus == 0 else { return XCTFail("torch script failed: \(message)") }
        let ref = try SafeTensors.read(dir.appendingPathComponent("ref.safetensors")).tensors
        XCTAssertEqual(ref.count, 122)
        for name in ["zip.pth", "legacy.pth"] {
            let got = try WeightFile.load(dir.appendingPathComponent(name))
            XCTAssertEqual(Set(got.keys), Set(ref.keys), name)
            for (k, r) in ref {
                guard let g = got[k] else { continue }
                XCTAssertEqual(g.count, r.count, "\(name) \(k)")
                if r.shape != [1] { XCTAssertEqual(g.shape, r.shape, "\(name) \(k)") }   // 0-d written as [1]
                XCTAssertEqual(g.data, r.data, "\(name) \(k)")
            }
        }
    }

    private func pyString(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
