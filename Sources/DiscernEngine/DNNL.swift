import COneDNN

/// The process-wide oneDNN CPU engine and stream. oneDNN (Debian build, OpenMP runtime)
/// uses every core by default.
public final class DNNLContext: @unchecked Sendable {
    public static let shared = DNNLContext()
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    private init() {
        // Not `precondition(call == ok)`: with -Ounchecked (release) its condition is never
        // evaluated, so the engine would never be created.
        var e: dnnl_engine_t?
        guard dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success, let eng = e else { fatalError("oneDNN: cannot create the CPU engine") }
        var s: dnnl_stream_t?
        guard dnnl_stream_create(&s, eng, dnnl_stream_default_flags.rawValue) == dnnl_success, let str = s else {
            fatalError("oneDNN: cannot create a stream")
        }
        engine = eng; stream = str
    }
}

/// Turns a oneDNN status into a thrown error naming the call.
@inline(__always)
public func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
    if status != dnnl_success { throw EngineError.dnnl(what: what(), status: Int(status.rawValue)) }
}
