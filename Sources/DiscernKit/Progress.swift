import Foundation

/// Progress for long work: a redrawn bar with rate and ETA on a terminal, plain lines
/// (every 10%) when stderr is a pipe or file, so logs stay readable.
public final class Progress: @unchecked Sendable {
    public let title: String
    public let total: Int
    public let unit: String
    private let start = Date()
    private var done = 0
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private let tty: Bool
    private let lock = NSLock()
    public static var quiet = false

    public init(_ title: String, total: Int, unit: String = "img") {
        self.title = title; self.total = max(total, 0); self.unit = unit
        tty = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    public func advance(_ n: Int = 1, note: String = "") {
        lock.lock(); defer { lock.unlock() }
        done += n
        draw(note: note, force: done >= total)
    }

    public func finish(note: String = "") {
        lock.lock(); defer { lock.unlock() }
        if done < total { done = total }
        draw(note: note, force: true)
        if tty && !Progress.quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(note: String, force: Bool) {
        guard !Progress.quiet else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let frac = total > 0 ? Double(done) / Double(total) : 1
        if tty {
            guard force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let width = 28, filled = Int(frac * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(format: "\r%@ %@ %3d%% %d/%d  %.1f %@/s  ETA %@ %@\u{1B}[K", title, bar, Int(frac * 100),
                              done, total, rate, unit, Progress.clock(eta), note)
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            let decile = Int(frac * 10)
            guard decile != lastDecile else { return }
            lastDecile = decile
            let line = String(format: "%@: %d/%d (%d%%), %.1f %@/s, ETA %@ %@\n", title, done, total, Int(frac * 100),
                              rate, unit, Progress.clock(eta), note)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
