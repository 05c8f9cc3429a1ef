import Foundation
import XCTest
import DiscernTestSupport

/// One `discern run` through the built binary on a small subset of the shared photos (32 training and
/// 12 test images per class, 16 flowers; 3 epochs, 1 augmented view, 1 shifted copy), made on first use
/// and shared by every command test of the process, so the suite trains once.
final class TrainedModel: @unchecked Sendable {
    /// The subset: training_set/ and test_set/ with cats/ and dogs/, and unknown/flowers/.
    let data: URL
    let unknown: URL
    let out: URL
    let modelPath: String
    /// `discern run`'s metrics.json and its standard output.
    let metrics: [String: Any]
    let stdout: String

    static let classes = ["cats", "dogs"]
    static let epochs = 3, seed = 0

    /// The options of the fixture's run; `train` with the same ones must give the same model.
    static func trainingArguments(data: URL, out: URL, weights: URL) -> [String] {
        ["--data", data.path, "--weights", weights.path, "--out", out.path, "--epochs", "\(epochs)",
         "--augment-views", "1", "--shift-copies", "1", "--seed", "\(seed)", "--force"]
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: Result<TrainedModel, Error>?

    static func shared() throws -> TrainedModel {
        lock.lock()
        defer { lock.unlock() }
        if made == nil { made = Result { try TrainedModel() } }
        return try made!.get()
    }

    private init() throws {
        let weights = try TestPaths.liteWeights
        let subset = try TestPaths.subset(perClass: 32, testPerClass: 12, unknown: 16)
        data = subset.data
        unknown = subset.unknown
        out = try TestPaths.temporaryDirectory("run")
        let run = try TestPaths.run(["run"] + Self.trainingArguments(data: data, out: out, weights: weights)
                                    + ["--unknown", unknown.path])
        guard run.status == 0 else {
            throw CommandFailure("discern run exited with \(run.status): \(run.err.suffix(2000))")
        }
        stdout = run.out
        modelPath = out.appendingPathComponent("model.safetensors").path
        guard run.out.contains("model \(modelPath)") else {
            throw CommandFailure("run printed no model path: \(run.out)")
        }
        metrics = try JSONFile.object(out.appendingPathComponent("metrics.json"))
    }

    /// The subset's test photos, sorted, with their true class.
    func testImages() throws -> [(path: String, label: String)] {
        try Self.classes.flatMap { cls in
            try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("test_set/\(cls)").path)
                .sorted().map { (data.appendingPathComponent("test_set/\(cls)/\($0)").path, cls) }
        }
    }

    func flowerImages() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: unknown.path).sorted()
            .map { unknown.appendingPathComponent($0).path }
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs the CLI and fails with its error output unless it exits 0.
func discern(_ arguments: [String], environment: [String: String] = [:],
             file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let r = try TestPaths.run(arguments, environment: environment)
    guard r.status == 0 else {
        throw CommandFailure("discern \(arguments.first ?? "") exited with \(r.status): \(r.err.suffix(2000))")
    }
    return r.out
}

/// `discern predict --json` parsed: one object per image.
func predictJSON(_ model: String, _ images: [String], options: [String] = []) throws -> [[String: Any]] {
    try JSONFile.parse(try discern(["predict", "--model", model, "--json"] + options + images))
}

enum JSONFile {
    static func object(_ url: URL) throws -> [String: Any] {
        try cast(JSONSerialization.jsonObject(with: Data(contentsOf: url)), url.path)
    }

    static func parse<T>(_ text: String, as _: T.Type = T.self) throws -> T {
        try cast(JSONSerialization.jsonObject(with: Data(text.utf8)), String(text.prefix(200)))
    }

    static func cast<T>(_ value: Any, _ what: String) throws -> T {
        guard let v = value as? T else { throw CommandFailure("\(what) is not a \(T.self)") }
        return v
    }
}

/// Walks a JSON object by keys: `json["a", "b"]`.
func value<T>(_ object: [String: Any], _ keys: String..., as _: T.Type = T.self) throws -> T {
    var current: Any = object
    for k in keys {
        guard let d = current as? [String: Any], let next = d[k] else {
            throw CommandFailure("no \(keys.joined(separator: ".")) (missing \(k)) in \(object.keys.sorted())")
        }
        current = next
    }
    return try JSONFile.cast(current, keys.joined(separator: "."))
}

/// The per-image table (`predictions/test.csv` of a run, `test.csv` of an evaluation): path, true, predicted,
/// correct, p_<class>..., logit_<class>... (paths without commas here, so a plain split reads it).
struct PredictionCSV {
    struct Row { var path: String, trueClass: String, predicted: String, correct: Bool, logits: [Double] }
    let rows: [Row]

    init(_ url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        guard let header = lines.first, header.prefix(4) == ["path", "true", "predicted", "correct"] else {
            throw CommandFailure("\(url.path): unexpected header")
        }
        let logitColumns = header.indices.filter { header[$0].hasPrefix("logit_") }
        rows = lines.dropFirst().map { f in
            Row(path: f[0], trueClass: f[1], predicted: f[2], correct: f[3] == "1",
                logits: logitColumns.map { Double(f[$0]) ?? .nan })
        }
    }

    /// Accuracy recounted from the true and predicted columns.
    var recountedAccuracy: Double { Double(rows.filter { $0.trueClass == $0.predicted }.count) / Double(rows.count) }
}

/// tools/reference/lite0_reference.py: the PyPI efficientnet_lite_pytorch model with the real weights, PIL
/// decoding and resizing, and (with a model file) the head read from it by a plain safetensors reader.
enum Lite0Reference {
    struct Image: Decodable {
        let path: String
        let imagenet_top5: [Int]
        let imagenet_probabilities: [Double]
        let logits: [Double]?
        let predicted: Int?
        let cams: [String: [[Double]]]?
    }

    /// `size`: the network built for, and the photos resized to, another side than Lite0's 224.
    static func compute(_ images: [String], model: String? = nil, size: Int? = nil) throws -> [Image] {
        let python = try TestEnvironment.torchPython()
        let script = TestEnvironment.repository.appendingPathComponent("tools/reference/lite0_reference.py").path
        var arguments = [script, "--weights", try TestPaths.liteWeights.path]
        if let model { arguments += ["--model", model] }
        if let size { arguments += ["--size", "\(size)"] }
        let r = try TestPaths.execute(URL(fileURLWithPath: python), arguments + images)
        guard r.status == 0 else { throw CommandFailure("lite0_reference.py failed: \(r.err.suffix(2000))") }
        return try JSONDecoder().decode([Image].self, from: Data(r.out.utf8))
    }
}

func softmax(_ logits: [Double]) -> [Double] {
    let m = logits.max() ?? 0
    let e = logits.map { Foundation.exp($0 - m) }
    let z = e.reduce(0, +)
    return e.map { $0 / z }
}
