import Foundation

/// Reusable 64-byte aligned scratchpads for the autograd executor's primitives: one buffer per
/// concurrent caller, grown to the largest need, so steady-state calls neither allocate nor
/// page-fault fresh memory.
/// Unchecked Sendable: the free list is only touched under `lock`; a taken buffer belongs to one caller.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    struct Buffer {
        let pointer: UnsafeMutableRawPointer
        let size: Int
    }
    private var free: [Buffer] = []
    private let lock = NSLock()

    func take(_ bytes: Int) -> Buffer {
        lock.lock()
        let reuse = free.firstIndex { $0.size >= bytes }.map { free.remove(at: $0) }
        let old = reuse == nil ? free.popLast() : nil
        lock.unlock()
        if let reuse { return reuse }
        old?.pointer.deallocate()
        let size = max(bytes, 4096)
        return Buffer(pointer: .allocate(byteCount: size, alignment: 64), size: size)
    }

    func give(_ buffer: Buffer) {
        lock.lock()
        free.append(buffer)
        lock.unlock()
    }
}

/// Thread-safe cache of primitives keyed by shape/params, kept for the process lifetime.
/// Unchecked Sendable: `entries` is only touched under `lock`, and the primitives are Sendable.
final class PrimitiveCache<Key: Hashable>: @unchecked Sendable {
    private var entries: [Key: DNNLPrimitive] = [:]
    private let lock = NSRecursiveLock()  // backward primitives build their forward hint through the cache

    func get(_ key: Key, make: () throws -> DNNLPrimitive) throws -> DNNLPrimitive {
        lock.lock()
        defer { lock.unlock() }
        if let cached = entries[key] { return cached }
        let made = try make()
        entries[key] = made
        return made
    }
}
