import Foundation
import XCTest
@testable import DiscernKit
import DiscernEngine
import DiscernModels
import DiscernWeights

/// `--fine-tune` end to end on a tiny subset: the head, then the last block and `_conv_head` trained;
/// the model file holds the changed weights (and the untouched ones unchanged), and the loaded model
/// predicts the run's own test logits, which only the fine-tuned network gives.
final class FineTuneStudyTests: XCTestCase {
    func testFineTunedRunStoresAndPredictsWithTheTunedNetwork() throws {
        let weights = try TestPaths.liteWeights
        let (data, unknown) = try TestPaths.subset(perClass: 32, testPerClass: 8, unknown: 8)
        let out = try TestPaths.temporaryDirectory("finetune")
        var o = StudyOptions(data: data.path)
        o.unknown = [unknown.path]
        o.epochs = 1; o.augmentViews = 1; o.out = out.path; o.force = true; o.explain = false; o.shiftCopies = 0
        o.weights = weights.path
        o.fineTune = true; o.unfreezeBlocks = 1; o.fineTuneEpochs = 1; o.fineTuneLearningRate = 1e-3
        let outcome = try Study(options: o).run()

        let model = try ModelFile.load(URL(fileURLWithPath: outcome.modelPath))
        let settings = try XCTUnwrap(model.metadata.training.fineTune, "the model file records the fine-tuning")
        XCTAssertEqual(settings.blocks, 1)
        XCTAssertEqual(settings.groupLearningRates.count, 3, "_blocks.15, _conv_head/_bn1, head")
        let imagenet = try PyTorchCheckpoint.load(weights)
        for key in ["_blocks.15._project_conv.weight", "_blocks.15._bn1.weight", "_conv_head.weight", "_bn1.bias"] {
            let stored = try XCTUnwrap(model.backboneWeights[key], key)
            XCTAssertNotEqual(stored.data, imagenet[key]?.data, "\(key) was trained, so it must differ from ImageNet's")
        }
        for key in ["_blocks.14._project_conv.weight", "_conv_stem.weight", "_bn1.running_mean"] {
            XCTAssertEqual(model.backboneWeights[key]?.data, imagenet[key]?.data, "\(key) is frozen")
        }
        XCTAssertEqual(outcome.history.epochs.count, 2, "one head epoch, then one fine-tuning epoch")

        // `evaluate --cache` must not hand this model the features of the frozen network or of another fine-tuning.
        var imagenetModel = model
        imagenetModel.metadata.training.fineTune = nil
        imagenetModel.backboneWeights = imagenet
        XCTAssertEqual(imagenetModel.featureCacheIdentity, weights.lastPathComponent)
        XCTAssertNotEqual(model.featureCacheIdentity, imagenetModel.featureCacheIdentity)
        var other = model
        var changed = other.backboneWeights["_conv_head.weight"]!
        changed.data[0] += 1e-3
        other.backboneWeights["_conv_head.weight"] = changed
        XCTAssertNotEqual(model.featureCacheIdentity, other.featureCacheIdentity)

        // The served model gives the run's test logits; the ImageNet network with the same head does not.
        let service = try DiscernModelService.load(path: outcome.modelPath)
        let rows = outcome.test.table.rows
        let (preds, failures) = try service.predictFiles(rows.map(\.path))
        XCTAssertTrue(failures.isEmpty)
        var worst = 0.0
        for (p, row) in zip(preds, rows) {
            for (a, b) in zip(p.logits, row.logits) { worst = max(worst, abs(a - Double(b))) }
        }
        XCTAssertLessThan(worst, 1e-3, "predict uses the fine-tuned network")
        var frozen = model
        frozen.backboneWeights = imagenet.filter { !$0.key.hasPrefix("_fc.") }
        let frozenPath = out.appendingPathComponent("frozen.safetensors")
        try frozen.save(to: frozenPath)
        let (old, _) = try DiscernModelService.load(path: frozenPath.path).predictFiles(rows.map(\.path))
        var moved = 0.0
        for (p, q) in zip(old, preds) { for (a, b) in zip(p.logits, q.logits) { moved = max(moved, abs(a - b)) } }
        XCTAssertGreaterThan(moved, 1e-2, "the fine-tuned weights change the logits")
    }
}
