import COneDNN

/// The process-wide oneDNN CPU engine and stream. oneDNN (Debian build, OpenMP runtime)
/// uses every core by default.
public final class DNNLContext: @unchecked Sendable {
    public static let shared = DNNLContext()
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    private init() {
        // The calls stay outside precondition(), whose condition an -Ounchecked build would not evaluate.
        var e: dnnl_engine_t?
        let es = dnnl_engine_create(&e, dnnl_cpu, 0)
        guard es == dnnl_success, let e else { fatalError("oneDNN: cannot create the CPU engine (status \(es.rawValue))") }
        var s: dnnl_stream_t?
        let ss = dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue)
        guard ss == dnnl_success, let s else { fatalError("oneDNN: cannot create a stream (status \(ss.rawValue))") }
        engine = e; stream = s
    }
}

/// Turns a oneDNN status into a thrown error naming the call.
@inline(__always)
public func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
    if status != dnnl_success { throw EngineError.dnnl(what: what(), status: Int(status.rawValue)) }
}
