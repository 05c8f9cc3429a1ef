import CProcessMemory

/// glibc serves every allocation above its mmap threshold (32 MB at most) with fresh pages and unmaps them when
/// freed. A fine-tuning step allocates and frees dozens of such activations and gradients, so the kernel zeroed
/// them again every step: about a third of a step with every block of Lite1 unfrozen, on one core. Fine-tuning
/// keeps freed memory in the heap for the next step instead; the process then holds on to its peak memory until it
/// exits, which a training run does soon after.
enum ProcessMemory {
    static func keepFreedMemoryForReuse() {
        _ = discern_keep_freed_memory()
    }
}
