#ifndef DISCERN_CPU_FEATURES_H
#define DISCERN_CPU_FEATURES_H

/* The widest vector code Discern's own C kernels (CPixelKernels, CDotKernels) may run on this CPU, asked of the
   CPU itself once: 0 = baseline x86-64 (SSE2), 1 = AVX2 with FMA. */
int discern_cpu_vector_level(void);

#endif
