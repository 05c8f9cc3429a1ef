#include "cpu_features.h"

int discern_cpu_vector_level(void) {
#if defined(__x86_64__)
    static int cached = -1;            /* a benign race: every thread computes the same value */
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}
