import DiscernEngine
import DiscernWeights
import Foundation
import XCTest

/// Reads a real weight file for the tests. Until DiscernWeights can read .pth itself, a
/// safetensors conversion made by tools/make_model_fixtures.py --safetensors-weights is used.
enum WeightLoading {
    static func load(_ url: URL) throws -> [String: Tensor] {
        let converted = URL(fileURLWithPath: "/tmp/effw_st/lite0.safetensors")
        guard FileManager.default.fileExists(atPath: converted.path) else {
            throw XCTSkip("no .pth reader yet and no safetensors conversion at \(converted.path)")
        }
        return try SafeTensors.read(converted).tensors
    }
}
