#include "process_memory.h"
#include <limits.h>   /* any libc header: it defines __GLIBC__ under glibc */

#if defined(__GLIBC__)
#include <malloc.h>

int discern_keep_freed_memory(void) {
    /* The arena limit first: a thread's own arena grows in 64 MB heaps that glibc unmaps as soon as one is
       empty, whatever the trim threshold says. */
    return mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}
#else
int discern_keep_freed_memory(void) { return 0; }
#endif
