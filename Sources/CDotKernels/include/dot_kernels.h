#ifndef DISCERN_DOT_KERNELS_H
#define DISCERN_DOT_KERNELS_H

#include <stddef.h>

/* Double-precision dot products for the out-of-distribution scores (Mahalanobis's triangular solves, ViM's
   projection, covariance scatter), in C because Swift cannot pick an instruction set per function at run time:
   a baseline x86-64 (SSE2) version and an AVX2+FMA one, chosen when first called from what the CPU reports.
   Every element of a product is summed in the order `discern_dot` uses, whatever its place in the product, so a
   row's result never depends on the rows computed with it (one shard of a batch job or the whole job). The two
   versions sum in different orders: their results agree to rounding, not bit for bit. */

/* 0 = baseline, 1 = AVX2 with FMA. `discern_dot_kernels_limit(0)` keeps every later call on the baseline
   (tests run both); the AVX2 version is used only when the CPU has AVX2 and FMA. */
int discern_dot_kernels_level(void);
void discern_dot_kernels_limit(int level);

/* x·y over n values. */
double discern_dot(const double *x, const double *y, ptrdiff_t n);

/* c[i*ldc + j] = a_i · b_j over k values for the m rows a_i (stride lda) and n rows b_j (stride ldb). With
   `upper_only`, row i (numbered from `first_row` in the whole product) needs only the columns j >= first_row + i;
   some below are computed too (whole tiles). */
void discern_dot_rows(const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, ptrdiff_t m, ptrdiff_t n,
                      ptrdiff_t k, double *c, ptrdiff_t ldc, int upper_only, ptrdiff_t first_row);

#endif
