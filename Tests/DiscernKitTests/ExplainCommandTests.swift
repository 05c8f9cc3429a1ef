import Foundation
import XCTest
import DiscernVision
import DiscernExplain

/// `discern explain` through the binary with the shared run's model, every method on one photo.
final class ExplainCommandTests: XCTestCase {
    static let methods = ["gradcam", "gradcam++", "hirescam", "xgradcam", "layercam", "eigencam", "scorecam"]
    /// Methods whose 7×7 map the PyTorch reference computes (autograd at `_conv_head`, pytorch-grad-cam's formulas).
    static let referenced: Set = ["gradcam", "hirescam", "xgradcam", "layercam"]

    func testEveryMethod() throws {
        let model = try TrainedModel.shared()
        let photo = try model.testImages()[1].path
        let name = URL(fileURLWithPath: photo).deletingPathExtension().lastPathComponent
        let image = try ImageCodec.decodeFile(photo)
        let reference = try XCTUnwrap(try Lite0Reference.compute([photo], model: model.modelPath).first)
        let predicted = TrainedModel.classes[try XCTUnwrap(reference.predicted)]
        var featureMaps: [String: [Float]] = [:]
        for method in Self.methods {
            let out = try TestPaths.temporaryDirectory("explain-\(method)")
            let line = try discern(["explain", "--model", model.modelPath, "--method", method,
                                    "--out", out.path, photo])
            XCTAssertTrue(line.contains(": \(method) explained '\(predicted)' at _conv_head"), line)

            let featureFile = out.appendingPathComponent("\(name).cam-feature.npy")
            let feature = try NPY.decode(try Data(contentsOf: featureFile), name: name)
            XCTAssertEqual(feature.shape, [7, 7], method)
            XCTAssertEqual(feature.data.max() ?? 0, 1, accuracy: 1e-4, "\(method): min-max scaled")
            featureMaps[method] = feature.data
            if Self.referenced.contains(method), let expected = reference.cams?[method] {
                let e = expected.flatMap { $0 }
                let worst = zip(feature.data, e).map { abs(Double($0) - $1) }.max() ?? .infinity
                XCTAssertLessThan(worst, 0.02, "\(method) map vs PyTorch: \(feature.data) vs \(e)")
                XCTAssertEqual(feature.data.firstIndex(of: feature.data.max()!), e.firstIndex(of: e.max()!),
                               "\(method) peak")
            }
            let full = try NPY.decode(try Data(contentsOf: out.appendingPathComponent("\(name).cam.npy")), name: name)
            XCTAssertEqual(full.shape, [image.height, image.width], "\(method): the map at the photo's size")
            let overlay = try ImageCodec.decodeFile(out.appendingPathComponent("\(name).cam.png").path)
            XCTAssertEqual([overlay.width, overlay.height], [image.width, image.height], method)

            // Guided backprop and guided Grad-CAM come with every gradient method, at the network's input size.
            let gradientMethod = !["eigencam", "scorecam"].contains(method)
            for suffix in [".guided.png", ".guided-cam.png"] {
                let file = out.appendingPathComponent(name + suffix)
                XCTAssertEqual(FileManager.default.fileExists(atPath: file.path), gradientMethod, method + suffix)
                guard gradientMethod else { continue }
                let guided = try ImageCodec.decodeFile(file.path)
                XCTAssertEqual([guided.width, guided.height], [224, 224], method + suffix)
                XCTAssertGreaterThan(Set(guided.pixels).count, 16, "\(method + suffix) is not a flat picture")
            }
        }
        // Each method computes its own map: the maps are not all the same.
        XCTAssertEqual(Set(Self.methods.map { featureMaps[$0] ?? [] }).count, Self.methods.count,
                       "every method's map differs")
    }
}
