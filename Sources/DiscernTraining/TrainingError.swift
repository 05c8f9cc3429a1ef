import Foundation

/// Errors from training and evaluation; `description` is one readable line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case shape(String)
    case label(index: Int, value: Int, classes: Int)
    case empty(String)
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .shape(m): return m
        case let .label(i, v, c): return "label \(v) of sample \(i) is outside 0..<\(c)"
        case let .empty(m): return m
        case let .write(p, r): return "\(p): \(r)"
        }
    }
}

/// Writes through a temporary sibling and a rename, so readers never see half a file.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw TrainingError.write(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            if let e = error as? TrainingError { throw e }
            throw TrainingError.write(path: url.path, reason: "cannot write (\((error as NSError).localizedDescription))")
        }
    }
}
