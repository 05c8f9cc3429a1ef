#include "dot_kernels.h"

#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DISCERN_X86 1
#endif

static int limit_level = 1;

int discern_dot_kernels_level(void) {
    const int cpu = discern_cpu_vector_level();
    return cpu < limit_level ? cpu : limit_level;
}
void discern_dot_kernels_limit(int level) { limit_level = level; }

/* Columns of b kept hot in cache while pairs of a's rows pass over them. */
enum { column_block = 32 };

/* ---- baseline: four lanes (two SSE2 registers), lane = p mod 4, then the tail in order ---- */

#if DISCERN_X86
static inline double finish_baseline(__m128d s0, __m128d s1, const double *x, const double *y, ptrdiff_t p,
                                     ptrdiff_t n) {
    __m128d s = _mm_add_pd(s0, s1);
    double r = _mm_cvtsd_f64(s) + _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
    for (; p < n; p++) r += x[p] * y[p];
    return r;
}

static double dot_baseline(const double *x, const double *y, ptrdiff_t n) {
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();
    ptrdiff_t p = 0;
    for (; p + 4 <= n; p += 4) {
        s0 = _mm_add_pd(s0, _mm_mul_pd(_mm_loadu_pd(x + p), _mm_loadu_pd(y + p)));
        s1 = _mm_add_pd(s1, _mm_mul_pd(_mm_loadu_pd(x + p + 2), _mm_loadu_pd(y + p + 2)));
    }
    return finish_baseline(s0, s1, x, y, p, n);
}

/* Two rows of a against two rows of b, each element exactly as dot_baseline sums it. */
static void tile_baseline(const double *a0, const double *a1, const double *b0, const double *b1, ptrdiff_t k,
                          double *c0, double *c1) {
    __m128d s00 = _mm_setzero_pd(), t00 = _mm_setzero_pd(), s01 = _mm_setzero_pd(), t01 = _mm_setzero_pd();
    __m128d s10 = _mm_setzero_pd(), t10 = _mm_setzero_pd(), s11 = _mm_setzero_pd(), t11 = _mm_setzero_pd();
    ptrdiff_t p = 0;
    for (; p + 4 <= k; p += 4) {
        __m128d x0 = _mm_loadu_pd(a0 + p), y0 = _mm_loadu_pd(a0 + p + 2);
        __m128d x1 = _mm_loadu_pd(a1 + p), y1 = _mm_loadu_pd(a1 + p + 2);
        __m128d u0 = _mm_loadu_pd(b0 + p), v0 = _mm_loadu_pd(b0 + p + 2);
        __m128d u1 = _mm_loadu_pd(b1 + p), v1 = _mm_loadu_pd(b1 + p + 2);
        s00 = _mm_add_pd(s00, _mm_mul_pd(x0, u0)); t00 = _mm_add_pd(t00, _mm_mul_pd(y0, v0));
        s01 = _mm_add_pd(s01, _mm_mul_pd(x0, u1)); t01 = _mm_add_pd(t01, _mm_mul_pd(y0, v1));
        s10 = _mm_add_pd(s10, _mm_mul_pd(x1, u0)); t10 = _mm_add_pd(t10, _mm_mul_pd(y1, v0));
        s11 = _mm_add_pd(s11, _mm_mul_pd(x1, u1)); t11 = _mm_add_pd(t11, _mm_mul_pd(y1, v1));
    }
    c0[0] = finish_baseline(s00, t00, a0, b0, p, k);
    c0[1] = finish_baseline(s01, t01, a0, b1, p, k);
    c1[0] = finish_baseline(s10, t10, a1, b0, p, k);
    c1[1] = finish_baseline(s11, t11, a1, b1, p, k);
}
#else
static double dot_baseline(const double *x, const double *y, ptrdiff_t n) {
    double r = 0;
    for (ptrdiff_t p = 0; p < n; p++) r += x[p] * y[p];
    return r;
}

static void tile_baseline(const double *a0, const double *a1, const double *b0, const double *b1, ptrdiff_t k,
                          double *c0, double *c1) {
    c0[0] = dot_baseline(a0, b0, k);
    c0[1] = dot_baseline(a0, b1, k);
    c1[0] = dot_baseline(a1, b0, k);
    c1[1] = dot_baseline(a1, b1, k);
}
#endif

/* ---- AVX2 + FMA: eight lanes (two registers), lane = p mod 8, then the tail in order with fused steps ---- */

#if DISCERN_X86
__attribute__((target("avx2,fma")))
static inline double finish_avx2(__m256d s0, __m256d s1, const double *x, const double *y, ptrdiff_t p,
                                 ptrdiff_t n) {
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    __m128d r = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
    for (; p < n; p++) r = _mm_fmadd_sd(_mm_load_sd(x + p), _mm_load_sd(y + p), r);
    return _mm_cvtsd_f64(r);
}

__attribute__((target("avx2,fma")))
static double dot_avx2(const double *x, const double *y, ptrdiff_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    ptrdiff_t p = 0;
    for (; p + 8 <= n; p += 8) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + p), _mm256_loadu_pd(y + p), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + p + 4), _mm256_loadu_pd(y + p + 4), s1);
    }
    return finish_avx2(s0, s1, x, y, p, n);
}

__attribute__((target("avx2,fma")))
static void tile_avx2(const double *a0, const double *a1, const double *b0, const double *b1, ptrdiff_t k,
                      double *c0, double *c1) {
    __m256d s00 = _mm256_setzero_pd(), t00 = _mm256_setzero_pd(), s01 = _mm256_setzero_pd();
    __m256d t01 = _mm256_setzero_pd(), s10 = _mm256_setzero_pd(), t10 = _mm256_setzero_pd();
    __m256d s11 = _mm256_setzero_pd(), t11 = _mm256_setzero_pd();
    ptrdiff_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256d x0 = _mm256_loadu_pd(a0 + p), y0 = _mm256_loadu_pd(a0 + p + 4);
        __m256d x1 = _mm256_loadu_pd(a1 + p), y1 = _mm256_loadu_pd(a1 + p + 4);
        __m256d u0 = _mm256_loadu_pd(b0 + p), v0 = _mm256_loadu_pd(b0 + p + 4);
        __m256d u1 = _mm256_loadu_pd(b1 + p), v1 = _mm256_loadu_pd(b1 + p + 4);
        s00 = _mm256_fmadd_pd(x0, u0, s00); t00 = _mm256_fmadd_pd(y0, v0, t00);
        s01 = _mm256_fmadd_pd(x0, u1, s01); t01 = _mm256_fmadd_pd(y0, v1, t01);
        s10 = _mm256_fmadd_pd(x1, u0, s10); t10 = _mm256_fmadd_pd(y1, v0, t10);
        s11 = _mm256_fmadd_pd(x1, u1, s11); t11 = _mm256_fmadd_pd(y1, v1, t11);
    }
    c0[0] = finish_avx2(s00, t00, a0, b0, p, k);
    c0[1] = finish_avx2(s01, t01, a0, b1, p, k);
    c1[0] = finish_avx2(s10, t10, a1, b0, p, k);
    c1[1] = finish_avx2(s11, t11, a1, b1, p, k);
}
#endif

double discern_dot(const double *x, const double *y, ptrdiff_t n) {
#if DISCERN_X86
    if (discern_dot_kernels_level() >= 1) return dot_avx2(x, y, n);
#endif
    return dot_baseline(x, y, n);
}

void discern_dot_rows(const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, ptrdiff_t m, ptrdiff_t n,
                      ptrdiff_t k, double *c, ptrdiff_t ldc, int upper_only, ptrdiff_t first_row) {
    const int level = discern_dot_kernels_level();
    for (ptrdiff_t j0 = 0; j0 < n; j0 += column_block) {
        const ptrdiff_t j1 = j0 + column_block < n ? j0 + column_block : n;
        for (ptrdiff_t i = 0; i < m; i += 2) {
            const int pair = i + 1 < m;
            ptrdiff_t j = j0;
            if (upper_only) {
                const ptrdiff_t first = (first_row + i) & ~(ptrdiff_t)1;   /* whole 2x2 tiles from the diagonal */
                if (first >= j1) continue;
                if (first > j) j = first;
            }
            const double *a0 = a + i * lda, *a1 = a0 + lda;
            double *c0 = c + i * ldc, *c1 = c0 + ldc;
            for (; j + 2 <= j1 && pair; j += 2) {
                const double *b0 = b + j * ldb, *b1 = b0 + ldb;
#if DISCERN_X86
                if (level >= 1) {
                    tile_avx2(a0, a1, b0, b1, k, c0 + j, c1 + j);
                    continue;
                }
#endif
                tile_baseline(a0, a1, b0, b1, k, c0 + j, c1 + j);
            }
            for (; j < j1; j++) {               /* the edges: one element at a time, in the tiles' order */
                c0[j] = discern_dot(a0, b + j * ldb, k);
                if (pair) c1[j] = discern_dot(a1, b + j * ldb, k);
            }
        }
    }
}
