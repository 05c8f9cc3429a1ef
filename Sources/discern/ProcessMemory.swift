import CProcessMemory

/// glibc serves every allocation above its mmap threshold (32 MB at most) with fresh pages and unmaps them when
/// freed, and a thread other than the main one allocates from its own arena, whose 64 MB heaps are unmapped as
/// soon as they are empty. A fine-tuning step, which runs off the main thread, allocates and frees dozens of
/// activations and gradients, so the kernel zeroed their pages again every step: about a third of a step with
/// every block of Lite1 unfrozen, on one core. Fine-tuning keeps freed memory in one heap for the next step
/// instead; the process then holds on to its peak memory until it exits, which a training run does soon after.
enum ProcessMemory {
    static func keepFreedMemoryForReuse() {
        _ = discern_keep_freed_memory()
    }
}

/// A command that may fine-tune, so `Discern.main` keeps freed memory for it before it starts.
protocol FineTuningCommand {
    var fineTunes: Bool { get }
}

extension Run: FineTuningCommand {
    var fineTunes: Bool { training.fineTune }
}

extension Train: FineTuningCommand {
    var fineTunes: Bool { training.fineTune }
}

extension Bench: FineTuningCommand {
    var fineTunes: Bool { fineTune != nil }
}
