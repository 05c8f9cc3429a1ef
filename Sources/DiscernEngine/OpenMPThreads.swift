import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// oneDNN's threads come from the OpenMP runtime it was built with (libgomp in Debian's build).
/// OpenMP's thread count is a per-thread setting: a thread that sets it to 1 runs every primitive
/// it creates and executes on itself alone, which is what an inference stream needs. Looked up at
/// run time, because the runtime is a dependency of libdnnl, not of this package.
enum OpenMPThreads {
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32

    private static let setter: SetThreads? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: SetThreads.self)
    }()
    private static let getter: GetThreads? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "omp_get_max_threads") else { return nil }
        return unsafeBitCast(symbol, to: GetThreads.self)
    }()

    /// Whether the calling thread can be limited (false with a non-OpenMP oneDNN build).
    static var available: Bool { setter != nil && getter != nil }

    /// Limits the OpenMP teams the calling thread starts to `count` threads.
    static func limitCallingThread(to count: Int) {
        setter?(Int32(count))
    }

    /// The team size a parallel region started by the calling thread would get.
    static var maximum: Int { Int(getter?() ?? 1) }
}
