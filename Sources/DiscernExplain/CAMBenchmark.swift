import Foundation
import DiscernEngine

/// Cost of an explanation relative to a plain forward pass on the same executor path
/// (for `discern`'s benchmark command and scripts; not a test).
public enum CAMBenchmark {
    public struct Timing: Sendable, CustomStringConvertible {
        public let forwardSeconds: Double, camSeconds: Double
        public var ratio: Double { camSeconds / max(forwardSeconds, 1e-12) }
        public var description: String {
            String(
                format: "forward %.1f ms, CAM %.1f ms, ratio %.2f× a forward pass", forwardSeconds * 1e3,
                camSeconds * 1e3, ratio)
        }
    }

    /// Median over `repeats` runs of a forward and of a full `explain` (forward + backward to the layer + map).
    public static func measure(_ explainer: CAMExplainer, input x: Tensor, repeats: Int = 3) throws -> Timing {
        func median(_ body: () throws -> Void) rethrows -> Double {
            var seconds = [Double]()
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return seconds.sorted()[seconds.count / 2]
        }
        _ = try explainer.explain(x)   // warm-up
        let fwd = try median { _ = try explainer.executor.forward(x) }
        let cam = try median { _ = try explainer.explain(x) }
        return Timing(forwardSeconds: fwd, camSeconds: cam)
    }
}
