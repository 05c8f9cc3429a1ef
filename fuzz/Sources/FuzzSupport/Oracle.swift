/// Properties every harness checks beyond "no crash": a refusal must be a one-line message that
/// names the file (issue 9: "one clear line"), and a success must be self-consistent.
/// A violation traps, so libFuzzer saves the input as a crash.
public enum Oracle {
    public static let fileName = "fuzz-input"

    public static func checkRefusal(_ error: Error) {
        let text = String(describing: error)
        if text.contains("\n") || text.contains("\r") {
            fatalError("error message spans several lines: \(text.debugDescription)")
        }
        if !text.contains(fileName) && !text.hasPrefix("weights:") {
            fatalError("error message does not name the file: \(text.debugDescription)")
        }
    }

    public static func require(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { fatalError("inconsistent result: \(what())") }
    }
}
