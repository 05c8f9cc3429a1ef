import COneDNN
import Foundation

/// Which oneDNN implementation every created primitive resolved to. A convolution, pooling,
/// inner product or matmul on oneDNN's `ref:` loops is a layout or algorithm that does not fit
/// this CPU; it is said once on stderr (op, shapes, ISA) instead of silently running for hours.
/// Unchecked Sendable: every mutable field is only touched under `lock`.
public final class KernelLog: @unchecked Sendable {
    public static let shared = KernelLog()

    /// Op kinds whose `ref:` implementation is a performance bug (reorders and eltwise are cheap).
    static let hotKinds: Set<String> = ["convolution", "pooling", "inner product", "matmul"]
    /// At most this many distinct fallbacks are described; the count keeps going.
    static let warningLimit = 5

    private let lock = NSLock()
    private var counts: [String: [String: Int]] = [:]
    private var warned: Set<String> = []
    private var fallbackCount = 0

    /// Records `pd`'s implementation; warns on stderr the first time a hot op falls back to `ref:`.
    func record(_ pd: dnnl_primitive_desc_t) {
        if Thread.current.threadDictionary[KernelLog.unrecordedKey] != nil { return }
        let impl = KernelLog.implementation(pd)
        let kind = KernelLog.kind(pd)
        lock.lock()
        counts[kind, default: [:]][impl, default: 0] += 1
        var message: String?
        if KernelLog.hotKinds.contains(kind) && KernelLog.isReference(impl) {
            fallbackCount += 1
            let key = kind + " " + KernelLog.shapes(pd)
            if !warned.contains(key) && warned.count < KernelLog.warningLimit {
                warned.insert(key)
                message = "discern: warning: oneDNN runs \(key) on its reference code (\(impl)) on this CPU "
                    + "(ISA \(CPUKernels.isaName)): that step will be about 1000x slower than a jit kernel\n"
            }
        }
        lock.unlock()
        if let message { FileHandle.standardError.write(Data(message.utf8)) }
    }

    /// Records one of Discern's own kernels (not a oneDNN primitive) in the implementation mix.
    func record(kind: String, implementation: String) {
        if Thread.current.threadDictionary[KernelLog.unrecordedKey] != nil { return }
        lock.lock()
        counts[kind, default: [:]][implementation, default: 0] += 1
        lock.unlock()
    }

    private static let unrecordedKey = "discern.KernelLog.unrecorded"

    /// Runs `body` without recording the primitives it creates on this thread: `BF16Speed`'s own small
    /// measurement must not show in the implementation mix that `discern bench` prints.
    static func unrecorded<T>(_ body: () throws -> T) rethrows -> T {
        Thread.current.threadDictionary[unrecordedKey] = true
        defer { Thread.current.threadDictionary[unrecordedKey] = nil }
        return try body()
    }

    /// Whether an implementation name is one of oneDNN's reference loops (`ref:…`), which the engine avoids by
    /// trying another layout.
    static func isReference(_ implementation: String) -> Bool { implementation.hasPrefix("ref") }
    static func isReference(_ pd: dnnl_primitive_desc_t) -> Bool { isReference(implementation(pd)) }

    static func implementation(_ pd: dnnl_primitive_desc_t) -> String {
        var text: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &text)
        return text.map { String(cString: $0) } ?? "unknown"
    }

    static func kind(_ pd: dnnl_primitive_desc_t) -> String {
        var kind = dnnl_undefined_primitive
        dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind)
        switch kind {
        case dnnl_convolution: return "convolution"
        case dnnl_pooling, dnnl_pooling_v2: return "pooling"
        case dnnl_inner_product: return "inner product"
        case dnnl_matmul: return "matmul"
        case dnnl_reorder: return "reorder"
        case dnnl_eltwise: return "eltwise"
        default: return "primitive kind \(kind.rawValue)"
        }
    }

    /// `[32,64,56,56] -> [32,64,56,56]`, from the source and destination (or their gradients).
    static func shapes(_ pd: dnnl_primitive_desc_t) -> String {
        func dims(_ query: dnnl_query_t) -> String? {
            guard let md = dnnl_primitive_desc_query_md(pd, query, 0), md.pointee.ndims > 0 else { return nil }
            return "[" + DNNL.dimensions(of: md.pointee).map(String.init).joined(separator: ",") + "]"
        }
        let source = dims(dnnl_query_src_md) ?? dims(dnnl_query_diff_src_md) ?? "?"
        let destination = dims(dnnl_query_dst_md) ?? dims(dnnl_query_diff_dst_md) ?? "?"
        return source + " -> " + destination
    }

    /// Primitives created so far: op kind -> implementation -> count.
    public var mix: [String: [String: Int]] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// Hot primitives created on `ref:` implementations so far.
    public var fallbacks: Int {
        lock.lock()
        defer { lock.unlock() }
        return fallbackCount
    }

    /// One line per op kind, e.g. `convolution: jit_1x1:avx2 x34, jit:avx2 x16`.
    public var summary: [String] {
        mix.sorted { $0.key < $1.key }.map { kind, impls in
            kind + ": " + impls.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
        }
    }
}
