#ifndef DISCERN_PIXEL_KERNELS_H
#define DISCERN_PIXEL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The inner loops of PIL's bilinear resize and of torchvision's ToTensor + Normalize on 8-bit RGB, in C because
   Swift cannot pick an instruction set per function at run time: each kernel has a baseline x86-64 version and
   an AVX2 one, chosen when first called from what the CPU reports. Both give identical results (integer
   arithmetic for the resize; the same IEEE operations in the same order for the normalization). */

/* 0 = baseline, 1 = AVX2. `discern_pixel_kernels_limit(0)` keeps every later call on the baseline versions
   (tests run both); the AVX2 versions are used only when the CPU has AVX2 and FMA (CCPUFeatures). */
int discern_pixel_kernels_level(void);
void discern_pixel_kernels_limit(int level);

/* Horizontal pass: `rows` rows of `in_width` RGB pixels (row stride in_width*3) into rows of `out_width`.
   Output pixel x sums bounds[2x+1] inputs from bounds[2x], weighted by weights[x*ksize ...] (fixed point,
   `precision_bits` fractional bits), rounded and clipped to 0...255. `scratch` holds in_width*3 + 3*ksize + 8
   bytes. */
void discern_resample_horizontal(const uint8_t *source, ptrdiff_t in_width, ptrdiff_t rows, uint8_t *destination,
                                 ptrdiff_t out_width, const ptrdiff_t *bounds, const int32_t *weights,
                                 ptrdiff_t ksize, int precision_bits, uint8_t *scratch);

/* Vertical pass over rows of `row_bytes` bytes: output row y sums bounds[2y+1] input rows from bounds[2y].
   `accumulator` holds row_bytes int32 values. */
void discern_resample_vertical(const uint8_t *source, ptrdiff_t row_bytes, uint8_t *destination,
                               ptrdiff_t out_height, const ptrdiff_t *bounds, const int32_t *weights,
                               ptrdiff_t ksize, int precision_bits, int32_t *accumulator);

/* Interleaved RGB bytes to planar floats: out[c*count + i] = (pixels[3i+c] / 255 - mean[c]) / std[c]. */
void discern_normalize_planar(const uint8_t *pixels, ptrdiff_t count, const float *mean, const float *std,
                              float *out);

#endif
