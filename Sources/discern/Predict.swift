import ArgumentParser
import DiscernKit
import DiscernRobustness
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            Label images with a trained model, with every OOD score and a verdict: accept, unknown or unsure, with \
            the reason.
            """,
        discussion: """
            Folders are searched recursively (sorted). With --jsonl the images are scored in batches as a stream and \
            each one's line is written as soon as it is scored: a killed job loses nothing and --resume continues it. \
            --shard I/N (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS of a Kubernetes Indexed Job) scores the paths \
            whose number in the input stream is I modulo N.
            """)
    @OptionGroup var model: ModelOption
    @Argument(help: "Image files (JPEG or PNG) or folders of them.")
    var images: [String] = []
    @Option(help: "Also read image paths, one per line, from this file ('-' = standard input).")
    var pathsFrom: String?
    @Option(help: "Write one JSON line per image to this file as soon as it is scored (with \"index\" and \"path\").")
    var jsonl: String?
    @Flag(help: "With --jsonl: keep the lines already in the file and score only the images not in it.")
    var resume = false
    @Option(help: "Score only shard I of N (I/N); default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS when set.")
    var shard: String?
    @Option(help: "Images per forward pass.")
    var batchSize = 32
    @Flag(help: "One JSON array instead of a table.")
    var json = false
    @Option(help: """
        Use the study's single-score rule with this score (default: the model's two questions): \
        \(OODScoreKind.choices).
        """, transform: OODScoreKind.parse)
    var score: OODScoreKind?
    @Option(help: "Threshold for --score (default: that score's calibrated threshold stored in the model).")
    var threshold: Double?
    @Option(help: "Also write Grad-CAM explanations for each image into this folder.")
    var explain: String?

    func validate() throws {
        if images.isEmpty && pathsFrom == nil {
            throw ValidationError("give at least one image, a folder or --paths-from")
        }
        if resume && jsonl == nil { throw ValidationError("--resume continues a --jsonl file: give --jsonl") }
        if jsonl != nil && (json || explain != nil) { throw ValidationError("--jsonl excludes --json and --explain") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let service = try model.load(batchSize: batchSize)
        let shard = try ProcessEnvironment.shard(self.shard)
        let paths = try PathStream(arguments: images, listFile: pathsFrom, shard: shard)
        if let jsonl { return try stream(paths, service: service, to: jsonl, shard: shard) }
        // A bad image is reported on its own line; the others are still predicted.
        let (results, failures) = try service.predictFiles(paths.map(\.path), score: score, threshold: threshold)
        for failure in failures { Output.warn(failure) }
        if let folder = explain {
            for result in results {
                let explanation = try service.explainFile(result.path, method: .gradcam, layer: nil, className: nil,
                                                          out: folder)
                let area = String(format: "%.3f", explanation.attentionArea)
                Output.warn("\(result.path): explained '\(explanation.className)', attention area \(area)")
            }
        }
        if json {
            try Output.printJSON(results)
        } else {
            print(PredictionTableText.render(results, classes: service.info.classes))
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// The batch job: bad images get an "error" line and one line on stderr; the job itself succeeds.
    func stream(_ paths: PathStream, service: DiscernModelService, to out: String, shard: Shard) throws {
        let lines = try ScoreLines(path: out, resume: resume)
        let done = lines.done
        let summary = try BatchScoring(service: service).run(paths, skip: { done.contains($0) }, score: score,
                                                               threshold: threshold) { outcome in
            switch outcome {
            case let .scored(index, prediction):
                try lines.write(prediction, index: index)
            case let .failed(index, path, reason):
                Output.warn(reason)
                try lines.write(failure: reason, path: path, index: index)
            }
        }
        Output.warn(String(format: "shard %@: %d images scored, %d failed, %d already in %@ (%.1f images/s)",
                           shard.description, summary.scored, summary.failed, summary.skipped, out,
                           summary.imagesPerSecond))
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the --jsonl files of predict's shards into one, in input order (by each line's \"index\").")
    @Option(help: "Merged JSONL file.")
    var out: String
    @Option(help: "Number of paths in the input stream: a gap at the end is then caught too.")
    var expect: Int?
    @Argument(help: "The shards' JSONL files.")
    var shards: [String]

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give the shards' JSONL files") }
    }

    func run() throws {
        let summary = try ShardMerge.merge(shards, into: out, expected: expect)
        print("merged \(summary.lines) lines (\(summary.failures) images with an error) from \(shards.count) files "
              + "into \(out)")
    }
}
