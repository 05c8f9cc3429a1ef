import COpenBLAS

/// OpenBLAS runs every call on the calling thread alone. Discern's callers already keep the cores busy (one
/// inference stream per core, decoding on every core), and OpenBLAS's own workers spin (sched_yield) for a while
/// after each call, taking those cores from the streams. Every BLAS and LAPACK entry point of the engine touches
/// `callingThreadOnly` first, so the setting is in place before the first call, and every process sums each
/// product in the same order.
enum BLASThreads {
    static let callingThreadOnly: Void = { openblas_set_num_threads(1) }()
}
