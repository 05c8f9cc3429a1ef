#include "pixel_kernels.h"

#include "cpu_features.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define DISCERN_X86 1
#endif

static int limit_level = 1;

int discern_pixel_kernels_level(void) {
    const int cpu = discern_cpu_vector_level();
    return cpu < limit_level ? cpu : limit_level;
}
void discern_pixel_kernels_limit(int level) { limit_level = level; }

static inline uint8_t clip8(int32_t value, int precision_bits) {
    int32_t shifted = value >> precision_bits;
    return shifted < 0 ? 0 : (shifted > 255 ? 255 : (uint8_t)shifted);
}

/* ---- horizontal pass ---- */

static void horizontal_baseline(const uint8_t *row, uint8_t *out, ptrdiff_t out_width, const ptrdiff_t *bounds,
                                const int32_t *weights, ptrdiff_t ksize, int precision_bits) {
    const int32_t half = 1 << (precision_bits - 1);
    for (ptrdiff_t x = 0; x < out_width; x++) {
        const uint8_t *pixel = row + bounds[2 * x] * 3;
        const int32_t *k = weights + x * ksize;
        int32_t r = half, g = half, b = half;
        for (ptrdiff_t t = 0; t < bounds[2 * x + 1]; t++) {
            r += pixel[3 * t] * k[t];
            g += pixel[3 * t + 1] * k[t];
            b += pixel[3 * t + 2] * k[t];
        }
        out[3 * x] = clip8(r, precision_bits);
        out[3 * x + 1] = clip8(g, precision_bits);
        out[3 * x + 2] = clip8(b, precision_bits);
    }
}

#if DISCERN_X86
/* Two output pixels per 256-bit register, (r, g, b, unused) lanes each; the shorter of the two filters reads
   past its own taps, where its weights are zero (the row is padded, so the reads stay in memory we own). */
__attribute__((target("avx2")))
static void horizontal_avx2(const uint8_t *row, uint8_t *out, ptrdiff_t out_width, const ptrdiff_t *bounds,
                            const int32_t *weights, ptrdiff_t ksize, int precision_bits) {
    const __m256i half = _mm256_set1_epi32(1 << (precision_bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(precision_bits);
    ptrdiff_t x = 0;
    for (; x + 1 < out_width; x += 2) {
        const uint8_t *first = row + bounds[2 * x] * 3, *second = row + bounds[2 * x + 2] * 3;
        const int32_t *k0 = weights + x * ksize, *k1 = k0 + ksize;
        ptrdiff_t taps = bounds[2 * x + 1] > bounds[2 * x + 3] ? bounds[2 * x + 1] : bounds[2 * x + 3];
        __m256i sum = half;
        for (ptrdiff_t t = 0; t < taps; t++) {
            int32_t a, b;
            memcpy(&a, first + 3 * t, 4);
            memcpy(&b, second + 3 * t, 4);
            __m256i pixels = _mm256_cvtepu8_epi32(_mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b)));
            __m256i k = _mm256_setr_m128i(_mm_set1_epi32(k0[t]), _mm_set1_epi32(k1[t]));
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(pixels, k));
        }
        __m256i shifted = _mm256_sra_epi32(sum, shift);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(shifted), _mm256_extracti128_si256(shifted, 1));
        __m128i bytes = _mm_packus_epi16(words, words);      /* clip to 0...255, as clip8 */
        uint8_t lanes[16];
        _mm_storeu_si128((__m128i *)lanes, bytes);
        out[3 * x] = lanes[0];
        out[3 * x + 1] = lanes[1];
        out[3 * x + 2] = lanes[2];
        out[3 * x + 3] = lanes[4];
        out[3 * x + 4] = lanes[5];
        out[3 * x + 5] = lanes[6];
    }
    if (x < out_width) horizontal_baseline(row, out + 3 * x, 1, bounds + 2 * x, weights + x * ksize, ksize,
                                           precision_bits);
}
#endif

void discern_resample_horizontal(const uint8_t *source, ptrdiff_t in_width, ptrdiff_t rows, uint8_t *destination,
                                 ptrdiff_t out_width, const ptrdiff_t *bounds, const int32_t *weights,
                                 ptrdiff_t ksize, int precision_bits, uint8_t *scratch) {
    const ptrdiff_t row_bytes = in_width * 3;
    memset(scratch + row_bytes, 0, (size_t)(3 * ksize + 8));
    const int level = discern_pixel_kernels_level();
    for (ptrdiff_t y = 0; y < rows; y++) {
        memcpy(scratch, source + y * row_bytes, (size_t)row_bytes);
        uint8_t *out = destination + y * out_width * 3;
#if DISCERN_X86
        if (level >= 1) {
            horizontal_avx2(scratch, out, out_width, bounds, weights, ksize, precision_bits);
            continue;
        }
#endif
        horizontal_baseline(scratch, out, out_width, bounds, weights, ksize, precision_bits);
    }
}

/* ---- vertical pass and normalization: plain loops, compiled once per instruction set ---- */

static inline __attribute__((always_inline))
void vertical_body(const uint8_t *source, ptrdiff_t row_bytes, uint8_t *destination, ptrdiff_t out_height,
                   const ptrdiff_t *bounds, const int32_t *weights, ptrdiff_t ksize, int precision_bits,
                   int32_t *accumulator) {
    const int32_t half = 1 << (precision_bits - 1);
    for (ptrdiff_t y = 0; y < out_height; y++) {
        for (ptrdiff_t i = 0; i < row_bytes; i++) accumulator[i] = half;
        for (ptrdiff_t t = 0; t < bounds[2 * y + 1]; t++) {
            const int32_t w = weights[y * ksize + t];
            const uint8_t *in = source + (bounds[2 * y] + t) * row_bytes;
            for (ptrdiff_t i = 0; i < row_bytes; i++) accumulator[i] += in[i] * w;
        }
        uint8_t *out = destination + y * row_bytes;
        for (ptrdiff_t i = 0; i < row_bytes; i++) out[i] = clip8(accumulator[i], precision_bits);
    }
}

static inline __attribute__((always_inline))
void normalize_body(const uint8_t *pixels, ptrdiff_t count, const float *mean, const float *std, float *out) {
    for (int c = 0; c < 3; c++) {
        const float m = mean[c], s = std[c];
        float *plane = out + c * count;
        for (ptrdiff_t i = 0; i < count; i++) plane[i] = ((float)pixels[3 * i + c] / 255.0f - m) / s;
    }
}

/* One copy of each loop per instruction set: the bodies above, inlined and compiled for that target. */
static void vertical_baseline(const uint8_t *source, ptrdiff_t row_bytes, uint8_t *destination,
                              ptrdiff_t out_height, const ptrdiff_t *bounds, const int32_t *weights, ptrdiff_t ksize,
                              int precision_bits, int32_t *accumulator) {
    vertical_body(source, row_bytes, destination, out_height, bounds, weights, ksize, precision_bits, accumulator);
}
static void normalize_baseline(const uint8_t *pixels, ptrdiff_t count, const float *mean, const float *std,
                               float *out) {
    normalize_body(pixels, count, mean, std, out);
}
#if DISCERN_X86
__attribute__((target("avx2")))
static void vertical_avx2(const uint8_t *source, ptrdiff_t row_bytes, uint8_t *destination, ptrdiff_t out_height,
                          const ptrdiff_t *bounds, const int32_t *weights, ptrdiff_t ksize, int precision_bits,
                          int32_t *accumulator) {
    vertical_body(source, row_bytes, destination, out_height, bounds, weights, ksize, precision_bits, accumulator);
}
__attribute__((target("avx2")))
static void normalize_avx2(const uint8_t *pixels, ptrdiff_t count, const float *mean, const float *std,
                           float *out) {
    normalize_body(pixels, count, mean, std, out);
}
#endif

void discern_resample_vertical(const uint8_t *source, ptrdiff_t row_bytes, uint8_t *destination,
                               ptrdiff_t out_height, const ptrdiff_t *bounds, const int32_t *weights,
                               ptrdiff_t ksize, int precision_bits, int32_t *accumulator) {
#if DISCERN_X86
    if (discern_pixel_kernels_level() >= 1) {
        vertical_avx2(source, row_bytes, destination, out_height, bounds, weights, ksize, precision_bits, accumulator);
        return;
    }
#endif
    vertical_baseline(source, row_bytes, destination, out_height, bounds, weights, ksize, precision_bits, accumulator);
}

void discern_normalize_planar(const uint8_t *pixels, ptrdiff_t count, const float *mean, const float *std,
                              float *out) {
#if DISCERN_X86
    if (discern_pixel_kernels_level() >= 1) {
        normalize_avx2(pixels, count, mean, std, out);
        return;
    }
#endif
    normalize_baseline(pixels, count, mean, std, out);
}
