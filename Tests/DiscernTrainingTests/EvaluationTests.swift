import XCTest
import Foundation
import DiscernEngine
@testable import DiscernTraining

/// Confusion matrix, precision/recall and softmax against scikit-learn / PyTorch (eval.safetensors).
final class EvaluationTests: XCTestCase {
    let classes = ["ant", "bee", "cat", "dog"]

    func load() throws -> (logits: Tensor, labels: [Int], t: [String: Tensor]) {
        let t = try trainingFixture("eval.safetensors").tensors
        return (t["logits"]!, t["labels"]!.data.map { Int($0) }, t)
    }

    func testConfusionPrecisionRecallMatchSklearn() throws {
        let (logits, labels, t) = try load()
        let pred = Evaluation.argmax(logits)
        let cm = try ConfusionMatrix(classes: classes, labels: labels, predicted: pred)
        XCTAssertEqual(cm.counts.flatMap { $0 }.map(Float.init), t["confusion"]!.data)
        XCTAssertEqual(cm.support.map(Float.init), t["support"]!.data)
        for k in 0..<4 {
            // sklearn reports 0 where a class was never predicted; we report NaN.
            let p = cm.precision(k)
            XCTAssertEqual(p.isNaN ? 0 : Float(p), t["precision"]!.data[k], accuracy: 1e-6)
            XCTAssertEqual(Float(cm.recall(k)), t["recall"]!.data[k], accuracy: 1e-6)
            XCTAssertEqual(Float(cm.f1(k)), t["f1"]!.data[k], accuracy: 1e-6)
        }
        let diag = (0..<4).map { t["confusion"]!.data[$0 * 5] }.reduce(0, +)
        XCTAssertEqual(cm.accuracy, Double(diag) / 40, accuracy: 1e-12)
        XCTAssertEqual(Evaluation.accuracy(predicted: pred, labels: labels), Double(diag) / 40, accuracy: 1e-12)
    }

    func testPredictionTableRowsAndJSON() throws {
        let (logits, labels, t) = try load()
        let paths = labels.indices.map { "img \($0),\"x\".jpg" }
        let table = try PredictionTable(classes: classes, paths: paths, labels: labels, logits: logits)
        assertClose(table.rows.flatMap(\.probabilities), t["softmax"]!.data, tol: 1e-6, "softmax")
        let json = try JSONSerialization.jsonObject(with: try table.json()) as! [[String: Any]]
        XCTAssertEqual(json.count, 40)
        let r3 = json[3]
        XCTAssertEqual(r3["path"] as? String, paths[3])
        XCTAssertEqual(r3["true"] as? String, classes[labels[3]])
        let scores = r3["scores"] as! [String: Double]
        for (k, c) in classes.enumerated() {
            XCTAssertEqual(Float(scores[c]!), t["softmax"]!.data[12 + k], accuracy: 1e-6)
        }
        XCTAssertEqual((r3["logits"] as! [Double]).map(Float.init), Array(logits.data[12..<16]))
    }

    func testCSVQuotesAndNeutralisesFormulas() throws {
        let logits = Tensor(shape: [2, 2], data: [2, 0, 0, 1])
        let table = try PredictionTable(
            classes: ["a,b", "=cmd"], paths: ["x \"y\".jpg", "plain.jpg"], labels: [0, 0], logits: logits)
        let lines = table.csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "path,true,predicted,correct,\"p_a,b\",p_=cmd,\"logit_a,b\",logit_=cmd")
        XCTAssertTrue(lines[1].hasPrefix("\"x \"\"y\"\".jpg\",\"a,b\",\"a,b\",1,"))
        XCTAssertTrue(lines[2].hasPrefix("plain.jpg,\"a,b\",'=cmd,0,"))
        XCTAssertEqual(lines.count, 3)
    }

    func testErrorBucketsUseWrongClassProbability() throws {
        XCTAssertEqual(ErrorBucket.of(wrongProbability: 0.71), .high)
        XCTAssertEqual(ErrorBucket.of(wrongProbability: 0.70), .mid)
        XCTAssertEqual(ErrorBucket.of(wrongProbability: 0.60), .mid)
        XCTAssertEqual(ErrorBucket.of(wrongProbability: 0.59), .low)
        // 3 classes: true 0, predicted 2 with p = 0.5 -> low, although 0.5 is the max.
        let l = Tensor(shape: [3, 3], data: [log(0.3), log(0.2), log(0.5),   // wrong, p(pred) = 0.5
                                              0, 0, 5,                          // confidently wrong
                                              5, 0, 0])                         // right
        let table = try PredictionTable(classes: ["a", "b", "c"], paths: ["0", "1", "2"], labels: [0, 0, 0], logits: l)
        XCTAssertEqual(table.rows.map(\.predicted), [2, 2, 0])
        XCTAssertEqual(table.rows[0].probabilities[2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(table.rows.map(\.errorBucket), [.low, .high, nil])
        XCTAssertEqual(table.errors(in: .high).map(\.path), ["1"])
        XCTAssertEqual(table.errors(in: .low).map(\.path), ["0"])
        XCTAssertTrue(table.errors(in: .mid).isEmpty)
        let mid = try PredictionTable(classes: ["a", "b", "c"], paths: ["m"], labels: [0],
                                      logits: Tensor(shape: [1, 3], data: [log(0.15), log(0.2), log(0.65)]))
        XCTAssertEqual(mid.rows[0].errorBucket, .mid)
    }

    func testAtomicWriteLeavesNoTemporaryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try PredictionTable(
            classes: ["a", "b"], paths: ["p"], labels: [1], logits: Tensor(shape: [1, 2], data: [0, 1]))
        try table.writeCSV(to: dir.appendingPathComponent("t.csv"))
        try table.writeJSON(to: dir.appendingPathComponent("t.json"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["t.csv", "t.json"])
        XCTAssertThrowsError(try table.writeCSV(to: dir.appendingPathComponent("missing/t.csv"))) {
            XCTAssertTrue(String(describing: $0).contains("missing/t.csv"))
        }
    }
}

final class SummaryTests: XCTestCase {
    func testSummaryMatchesSklearnAndEncodesUndefinedAsNull() throws {
        let t = try trainingFixture("eval.safetensors").tensors
        let labels = t["labels"]!.data.map { Int($0) }
        let table = try PredictionTable(
            classes: ["a", "b", "c", "d"], paths: labels.map { "\($0)" }, labels: labels, logits: t["logits"]!)
        let s = try ClassificationSummary(table)
        XCTAssertEqual(s.images, 40)
        XCTAssertEqual(s.classes.map { Float($0.recall ?? -1) }, t["recall"]!.data)
        XCTAssertEqual(s.classes.map(\.support).map(Float.init), t["support"]!.data)
        XCTAssertEqual(s.errors.values.reduce(0, +), 40 - s.confusion.indices.map { s.confusion[$0][$0] }.reduce(0, +))
        // Class "c" has no samples and is never predicted here: every ratio undefined.
        let none = try ClassificationSummary(
            PredictionTable(
                classes: ["a", "b", "c"], paths: ["x", "y"], labels: [0, 1],
                logits: Tensor(shape: [2, 3], data: [1, 0, 0, 1, 0, 0])))
        XCTAssertNil(none.classes[2].precision)
        XCTAssertNil(none.classes[2].recall)
        XCTAssertNil(none.classes[1].precision)
        XCTAssertEqual(none.classes[1].recall, 0)
        let json = String(decoding: try JSONEncoder().encode(none), as: UTF8.self)
        XCTAssertFalse(json.contains("nan"))
    }

    func testHeadRoundTripsThroughNamedTensors() throws {
        let h = LinearParams(inFeatures: 4, outFeatures: 3, seed: 2)
        XCTAssertEqual(try LinearParams(namedTensors: h.namedTensors()), h)
        XCTAssertThrowsError(try LinearParams(namedTensors: ["head.weight": h.weight]))
    }
}
