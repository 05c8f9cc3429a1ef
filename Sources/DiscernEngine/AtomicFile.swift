import Foundation

/// Whole files written through a temporary sibling and a rename, so a crash or a kill never
/// leaves half a file where a good one was (models, checkpoints, tables, reports).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw EngineError.invalid("\(url.path): cannot write (\(String(cString: strerror(errno))))")
            }
        } catch let e as EngineError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw EngineError.invalid("\(url.path): cannot write (\((error as NSError).localizedDescription))")
        }
    }
}
