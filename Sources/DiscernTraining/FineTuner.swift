import DiscernEngine

/// One fine-tuning step on the trainable part of a network and its linear head: the AutogradExecutor's
/// forward with the trainable nodes' inputs recorded, cross-entropy, backward to the earliest
/// trainable node only (BatchNorm in inference mode, its statistics frozen), and one Adam step with
/// a learning rate per layer group (the head is the last group).
public final class FineTuner {
    public private(set) var trainable: TrainableGraph
    public private(set) var head: LinearParams
    private var optimizer: Adam

    public init(trainable: TrainableGraph, head: LinearParams, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 0) {
        self.trainable = trainable
        self.head = head
        optimizer = Adam(learningRate: 0, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    /// Learning rates: one per layer group of `trainable`, then the head's.
    public var groupCount: Int { trainable.groupCount + 1 }

    /// Adam's β₁ for the next steps (one-cycle schedules move it with the learning rate).
    public var beta1: Double {
        get { optimizer.beta1 }
        set { optimizer.beta1 = newValue }
    }

    /// What one forward/backward pass gives.
    struct Pass {
        let loss: Float, logits: Tensor
        let parameters: [Int: ParameterGradient]
        let headWeight: Tensor, headBias: Tensor
    }

    func pass(_ input: Tensor, labels: [Int]) throws -> Pass {
        let executor = AutogradExecutor(graph: trainable.graph)
        let ids = Set(trainable.nodes)
        let features = try executor.forward(input, recordForBackward: true, parameters: ids).output
        let logits = try head.logits(features)
        let ce = try CrossEntropy.evaluate(logits: logits, labels: labels)
        let headGradient = try Ops.linearBackward(ce.logitGradient, input: features, head)
        let back = try executor.backward(outputGradient: headGradient.input, parameters: ids)
        return Pass(loss: ce.loss, logits: logits, parameters: back.parameters, headWeight: headGradient.weight,
                    headBias: headGradient.bias)
    }

    /// Forward, loss, backward and one Adam step on `input` (the trainable graph's input, e.g. the
    /// frozen prefix's activations); returns the batch loss and how many pre-step logits were right.
    @discardableResult
    public func step(_ input: Tensor, labels: [Int], learningRates: [Double]) throws -> (loss: Float, correct: Int) {
        guard learningRates.count == groupCount else {
            throw TrainingError.shape("\(learningRates.count) learning rates for \(groupCount) layer groups")
        }
        let result = try pass(input, labels: labels)
        var (values, groups) = trainable.arrays
        var gradients = try trainable.gradientArrays(result.parameters)
        values += [head.weight.data, head.bias.data]
        gradients += [result.headWeight.data, result.headBias.data]
        groups += [trainable.groupCount, trainable.groupCount]
        optimizer.update(&values, gradients: gradients, learningRates: groups.map { learningRates[$0] })
        head = try LinearParams(weight: Tensor(shape: head.weight.shape, data: values[values.count - 2]),
                                bias: Tensor(shape: head.bias.shape, data: values[values.count - 1]))
        try trainable.apply(Array(values.dropLast(2)))
        let correct = zip(Evaluation.argmax(result.logits), labels).filter { $0 == $1 }.count
        return (result.loss, correct)
    }

    /// Everything that changes while fine-tuning: the trainable arrays (in `trainable.arrays` order), the head and
    /// Adam's state. Restoring it continues training exactly as if it had not stopped.
    public struct Snapshot: Sendable {
        public var arrays: [[Float]]
        public var head: LinearParams
        public var optimizer: Adam.State
        public init(arrays: [[Float]], head: LinearParams, optimizer: Adam.State) {
            self.arrays = arrays
            self.head = head
            self.optimizer = optimizer
        }
    }

    public var snapshot: Snapshot {
        Snapshot(arrays: trainable.arrays.values, head: head, optimizer: optimizer.state)
    }

    /// Restores a snapshot of the same network; throws when its arrays or moments do not fit this one.
    public func restore(_ snapshot: Snapshot) throws {
        let sizes = trainable.arrays.values.map(\.count)
        guard snapshot.arrays.map(\.count) == sizes else {
            throw TrainingError.shape("snapshot of \(snapshot.arrays.count) arrays does not fit the \(sizes.count) "
                                      + "trainable arrays of this network")
        }
        guard snapshot.head.weight.shape == head.weight.shape, snapshot.head.bias.shape == head.bias.shape else {
            throw TrainingError.shape("snapshot head \(snapshot.head.weight.shape) is not \(head.weight.shape)")
        }
        let momentSizes = sizes + [head.weight.count, head.bias.count]
        let moments = snapshot.optimizer
        guard moments.step == 0 || (moments.firstMoments.map(\.count) == momentSizes
                                    && moments.secondMoments.map(\.count) == momentSizes) else {
            throw TrainingError.shape("snapshot's Adam moments do not fit this network's parameters")
        }
        try trainable.apply(snapshot.arrays)
        head = snapshot.head
        optimizer.state = moments
    }

    /// Parameter gradients of the loss on one batch by state-dict key (the head's as `head.weight`,
    /// `head.bias`), without updating anything.
    public func gradients(_ input: Tensor, labels: [Int]) throws -> [String: Tensor] {
        let result = try pass(input, labels: labels)
        var out: [String: Tensor] = ["head.weight": result.headWeight, "head.bias": result.headBias]
        for id in trainable.nodes {
            guard let name = trainable.graph.nodes[id].names.first, let gradient = result.parameters[id] else {
                continue
            }
            out[name + ".weight"] = gradient.weight
            if let bias = gradient.bias { out[name + ".bias"] = bias }
        }
        return out
    }
}
