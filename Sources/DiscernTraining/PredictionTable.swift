import Foundation
import DiscernEngine

/// One evaluated image.
public struct PredictionRow: Sendable, Codable, Equatable {
    public let path: String
    public let trueLabel: Int
    public let predicted: Int
    public let probabilities: [Float]
    public let logits: [Float]
    public var correct: Bool { trueLabel == predicted }
    /// The predicted class's probability when wrong (the study's error score), else nil.
    public var errorBucket: ErrorBucket? {
        correct ? nil : ErrorBucket.of(wrongProbability: Double(probabilities[predicted]))
    }
}

/// Per-image results of an evaluation with CSV and JSON writers.
public struct PredictionTable: Sendable, Equatable {
    public let classes: [String]
    public let rows: [PredictionRow]

    public init(classes: [String], paths: [String], labels: [Int], logits: Tensor) throws {
        guard logits.rank == 2, logits.shape[1] == classes.count else {
            throw TrainingError.shape("logits \(logits.shape) do not have \(classes.count) classes")
        }
        guard !classes.isEmpty else { throw TrainingError.empty("no class names") }
        guard paths.count == labels.count, labels.count == logits.shape[0] else {
            throw TrainingError.shape("\(paths.count) paths, \(labels.count) labels, \(logits.shape[0]) logit rows")
        }
        let classCount = classes.count
        for (index, label) in labels.enumerated() where !(0..<classCount).contains(label) {
            throw TrainingError.label(index: index, value: label, classes: classCount)
        }
        let probabilities = Softmax.probabilities(logits)
        let predicted = Evaluation.argmax(logits)
        self.classes = classes
        rows = labels.indices.map { i in
            PredictionRow(path: paths[i], trueLabel: labels[i], predicted: predicted[i],
                          probabilities: Array(probabilities.data[i * classCount ..< (i + 1) * classCount]),
                          logits: Array(logits.data[i * classCount ..< (i + 1) * classCount]))
        }
    }

    public var accuracy: Double { Evaluation.accuracy(predicted: rows.map(\.predicted), labels: rows.map(\.trueLabel)) }
    public func confusion() throws -> ConfusionMatrix {
        try ConfusionMatrix(classes: classes, labels: rows.map(\.trueLabel), predicted: rows.map(\.predicted))
    }
    /// Misclassified rows by bucket (the study's limits by default), each sorted by decreasing
    /// wrong-class probability.
    public func errors(in bucket: ErrorBucket, high: Double = 0.7, mid: Double = 0.6) -> [PredictionRow] {
        rows.filter {
            !$0.correct
                && ErrorBucket.of(wrongProbability: Double($0.probabilities[$0.predicted]), high: high, mid: mid)
                    == bucket
        }
        .sorted { $0.probabilities[$0.predicted] > $1.probabilities[$1.predicted] }
    }

    /// Header: path,true,predicted,correct,p_<class>…,logit_<class>…
    public func csv() -> String {
        var lines = [
            (["path", "true", "predicted", "correct"] + classes.map { "p_" + $0 } + classes.map { "logit_" + $0 })
                .map(Self.csvField).joined(separator: ",")
        ]
        for row in rows {
            let fields = [row.path, classes[row.trueLabel], classes[row.predicted], row.correct ? "1" : "0"]
                + row.probabilities.map { "\($0)" } + row.logits.map { "\($0)" }
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 quoting, plus a leading quote mark neutralising spreadsheet formulas.
    static func csvField(_ text: String) -> String {
        var field = text
        if let first = field.first, "=+-@".contains(first), Double(field) == nil { field = "'" + field }
        guard field.contains(where: { ",\"\n\r".contains($0) }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    struct JSONRow: Encodable {
        let path: String, `true`: String, predicted: String, correct: Bool
        let scores: [String: Float], logits: [Float]
    }

    /// `[{"path","true","predicted","correct","scores":{"<class>":p},"logits":[...]}]`
    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(
            rows.map { row in
                JSONRow(
                    path: row.path, true: classes[row.trueLabel], predicted: classes[row.predicted],
                    correct: row.correct,
                    scores: Dictionary(zip(classes, row.probabilities), uniquingKeysWith: { first, _ in first }),
                    logits: row.logits
                )
            })
    }

    public func writeCSV(to url: URL) throws { try AtomicFile.write(Data(csv().utf8), to: url) }
    public func writeJSON(to url: URL) throws { try AtomicFile.write(try json(), to: url) }
}
