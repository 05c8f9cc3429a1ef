import Foundation

/// The run's output folder. Refuses to overwrite an earlier run without --force, and proves it
/// can write before any work starts (a read-only or full disk fails here, not after training).
struct OutputFolder {
    let root: URL

    /// resume: reuse the folder of an interrupted (or finished) run and its feature cache.
    init(_ path: String, force: Bool, resume: Bool = false) throws {
        root = URL(fileURLWithPath: path)
        let fm = FileManager.default
        let marker = root.appendingPathComponent("metrics.json").path
        // Any trace of an earlier run, finished or killed, counts.
        let earlier = [marker] + ["model.safetensors", "cache", "checkpoints"].map {
            root.appendingPathComponent($0).path
        }
        if earlier.contains(where: fm.fileExists(atPath:)) && !force && !resume {
            throw KitError.outputExists(path)
        }
        // --force starts over: an earlier run's cached features must not leak into this one.
        if force && !resume { try? fm.removeItem(at: root.appendingPathComponent("cache")) }
        do {
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
            let probe = root.appendingPathComponent(".discern-write-test")
            try Data(repeating: 0, count: 1 << 20).write(to: probe)
            try fm.removeItem(at: probe)
        } catch {
            throw KitError.invalid("\(path): cannot write there (\((error as NSError).localizedDescription))")
        }
    }

    func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    func folder(_ name: String) throws -> URL {
        let folder = root.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
