import Foundation
import DiscernEngine

/// torch.optim.Adam (amsgrad off): L2 weight decay added to the gradient, moments updated,
/// bias corrections 1 − βᵗ computed in double like PyTorch's Python scalars, and
/// p −= lr/bc1 · m / (√v / √bc2 + eps).
public struct Adam: Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    public private(set) var step = 0
    /// Running averages of the gradients (m) and of their squares (v), one array per parameter array.
    private var firstMoments: [[Float]] = []
    private var secondMoments: [[Float]] = []

    public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    /// One step over parameter arrays in a fixed order; gradients match them in count.
    /// `learningRates` (one per array, like PyTorch parameter groups) replaces `learningRate`.
    public mutating func update(_ params: inout [[Float]], gradients: [[Float]], learningRates: [Double]? = nil) {
        precondition(params.count == gradients.count, "Adam: \(params.count) parameters, \(gradients.count) gradients")
        precondition(learningRates.map { $0.count == params.count } ?? true, "Adam: one learning rate per array")
        if firstMoments.isEmpty {
            firstMoments = params.map { [Float](repeating: 0, count: $0.count) }
            secondMoments = firstMoments
        }
        step += 1
        let biasCorrection1 = 1 - pow(beta1, Double(step))
        let biasCorrection2 = 1 - pow(beta2, Double(step))
        let biasCorrection2Root = Float(biasCorrection2.squareRoot())
        let b1 = Float(beta1)
        let b2 = Float(beta2)
        let epsilon = Float(eps)
        let decay = Float(weightDecay)
        for array in params.indices {
            let stepSize = Float((learningRates?[array] ?? learningRate) / biasCorrection1)
            precondition(params[array].count == gradients[array].count
                         && params[array].count == firstMoments[array].count, "Adam: size changed")
            params[array].withUnsafeMutableBufferPointer { parameter in
                gradients[array].withUnsafeBufferPointer { gradient in
                    firstMoments[array].withUnsafeMutableBufferPointer { first in
                        secondMoments[array].withUnsafeMutableBufferPointer { second in
                            for i in 0..<parameter.count {
                                let g = decay == 0 ? gradient[i] : gradient[i] + decay * parameter[i]
                                first[i] = first[i] * b1 + (1 - b1) * g
                                second[i] = second[i] * b2 + (1 - b2) * g * g
                                let denominator = second[i].squareRoot() / biasCorrection2Root + epsilon
                                parameter[i] -= stepSize * (first[i] / denominator)
                            }
                        }
                    }
                }
            }
        }
    }

    /// What a resumed run needs to continue exactly where it stopped: the step count and both moments.
    public struct State: Sendable, Equatable {
        public var step: Int
        public var firstMoments: [[Float]]
        public var secondMoments: [[Float]]
        public init(step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
            self.step = step
            self.firstMoments = firstMoments
            self.secondMoments = secondMoments
        }
    }

    public var state: State {
        get { State(step: step, firstMoments: firstMoments, secondMoments: secondMoments) }
        set {
            precondition(newValue.firstMoments.count == newValue.secondMoments.count, "Adam: moments differ in count")
            step = newValue.step
            firstMoments = newValue.firstMoments
            secondMoments = newValue.secondMoments
        }
    }

    /// One step on a linear head.
    public mutating func update(_ head: inout LinearParams, weightGradient: Tensor, biasGradient: Tensor) {
        var arrays = [head.weight.data, head.bias.data]
        // Drop the head's references so the update happens in place.
        head.weight.data = []
        head.bias.data = []
        update(&arrays, gradients: [weightGradient.data, biasGradient.data])
        head.weight.data = arrays[0]
        head.bias.data = arrays[1]
    }
}
