import DiscernKit
import Foundation

/// The CLI's progress display: a redrawn bar with rate and ETA on a terminal, plain lines (every 10%) when stderr
/// is a pipe or file, so logs stay readable.
struct TerminalProgress: ProgressReporter {
    func start(_ title: String, total: Int, unit: String) -> any ProgressTask {
        ProgressBar(title, total: total, unit: unit)
    }
}

final class ProgressBar: ProgressTask, @unchecked Sendable {
    let title: String
    let total: Int
    let unit: String
    private let start = Date()
    private let terminal: Bool
    /// Guards the counters below: feature extraction and training report from their own threads.
    private let lock = NSLock()
    private var done = 0
    private var lastDraw = Date.distantPast
    private var lastDecile = -1

    init(_ title: String, total: Int, unit: String) {
        self.title = title
        self.total = max(total, 0)
        self.unit = unit
        terminal = ProcessEnvironment.drawsProgress
    }

    func advance(_ count: Int, note: String) {
        lock.lock()
        defer { lock.unlock() }
        done += count
        draw(note: note, force: done >= total)
    }

    func finish(note: String) {
        lock.lock()
        defer { lock.unlock() }
        done = max(done, total)
        draw(note: note, force: true)
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(note: String, force: Bool) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        if terminal {
            guard force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let width = 28
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(format: "\r%@ %@ %3d%% %d/%d  %.1f %@/s  ETA %@ %@\u{1B}[K", title, bar,
                              Int(fraction * 100), done, total, rate, unit, Self.clock(remaining), note)
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile != lastDecile else { return }
            lastDecile = decile
            let line = String(format: "%@: %d/%d (%d%%), %.1f %@/s, ETA %@ %@\n", title, done, total,
                              Int(fraction * 100), rate, unit, Self.clock(remaining), note)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Seconds as m:ss, or h:mm:ss from an hour on.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole >= 3600 {
            return String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
        }
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
