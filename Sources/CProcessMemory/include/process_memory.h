#ifndef DISCERN_PROCESS_MEMORY_H
#define DISCERN_PROCESS_MEMORY_H

/// Keeps freed memory in glibc's heap for reuse: one arena for every thread, no allocation served by mmap, and
/// the heap's top not returned to the system below 2 GB. Returns 1 when all three settings took, 0 otherwise
/// (another C library).
int discern_keep_freed_memory(void);

#endif
