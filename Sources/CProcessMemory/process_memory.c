#include "process_memory.h"
#include <limits.h>   /* any libc header: it defines __GLIBC__ under glibc */

#if defined(__GLIBC__)
#include <malloc.h>

int discern_keep_freed_memory(void) {
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}
#else
int discern_keep_freed_memory(void) { return 0; }
#endif
