#include "winograd.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>

#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DISCERN_X86 1
#endif

enum { patch = 6, positions = 36, tile = 4, block = 8 };

int discern_winograd_available(void) {
#if DISCERN_X86
    return discern_cpu_vector_level() >= 1;
#else
    return 0;
#endif
}

size_t discern_winograd_weight_floats(int in_channels, int out_channels) {
    return (size_t)positions * (size_t)in_channels * (size_t)out_channels;
}

static int tiles_along(int side) { return (side + tile - 1) / tile; }

size_t discern_winograd_scratch_floats(int in_channels, int out_channels, int height, int width) {
    const size_t tiles = (size_t)tiles_along(height) * (size_t)tiles_along(width);
    return (size_t)positions * tiles * ((size_t)in_channels + (size_t)out_channels);
}

/* G (6x3) of F(4x4, 3x3) (Lavin and Gray, 2016); the weight transform runs once per layer, in double. */
void discern_winograd_transform_weights(const float *weights, int out_channels, int in_channels, float *transformed) {
    static const double g[patch][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                       {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                       {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    for (int k = 0; k < out_channels; k++) {
        for (int c = 0; c < in_channels; c++) {
            const float *w = weights + ((size_t)k * in_channels + c) * 9;
            double half[patch][3];
            for (int i = 0; i < patch; i++)
                for (int j = 0; j < 3; j++) half[i][j] = g[i][0] * w[j] + g[i][1] * w[3 + j] + g[i][2] * w[6 + j];
            for (int i = 0; i < patch; i++)
                for (int j = 0; j < patch; j++) {
                    const double v = half[i][0] * g[j][0] + half[i][1] * g[j][1] + half[i][2] * g[j][2];
                    transformed[((size_t)(i * patch + j) * in_channels + c) * out_channels + k] = (float)v;
                }
        }
    }
}

/* The OpenMP runtime oneDNN was built with (libgomp in Debian's build), found at run time as the engine's Swift
   code finds it: it is a dependency of libdnnl, not of this package. */
typedef void (*parallel_function)(void (*)(void *), void *, unsigned, unsigned);
typedef void (*barrier_function)(void);
typedef int (*count_function)(void);
static struct {
    parallel_function parallel;
    barrier_function barrier;
    count_function thread_number, thread_count;
} openmp;
static pthread_once_t openmp_once = PTHREAD_ONCE_INIT;

/* Run once per process (pthread_once); leaves `openmp.parallel` null where the process has no OpenMP runtime. */
static void look_up_openmp(void) {
    parallel_function parallel = (parallel_function)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    barrier_function barrier = (barrier_function)dlsym(RTLD_DEFAULT, "GOMP_barrier");
    count_function number = (count_function)dlsym(RTLD_DEFAULT, "omp_get_thread_num");
    count_function count = (count_function)dlsym(RTLD_DEFAULT, "omp_get_num_threads");
    if (parallel && barrier && number && count) {
        openmp.parallel = parallel;
        openmp.barrier = barrier;
        openmp.thread_number = number;
        openmp.thread_count = count;
    }
}

struct job {
    const float *source;
    float *destination;
    const float *transformed;
    const float *bias;
    int images, in_channels, out_channels, height, width, activation, accumulate;
    float *scratch;
};

#if DISCERN_X86
/* B^T x for one 6-point column or row, 8 channels per lane. */
__attribute__((target("avx2,fma"))) static inline void input_points(const __m256 d[patch], __m256 r[patch]) {
    const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
    r[0] = _mm256_add_ps(_mm256_fnmadd_ps(five, d[2], _mm256_mul_ps(four, d[0])), d[4]);
    const __m256 a = _mm256_fnmadd_ps(four, d[1], d[3]), b = _mm256_fnmadd_ps(four, d[2], d[4]);
    r[1] = _mm256_add_ps(a, b);
    r[2] = _mm256_sub_ps(b, a);
    const __m256 c = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1])), e = _mm256_sub_ps(d[4], d[2]);
    r[3] = _mm256_add_ps(e, c);
    r[4] = _mm256_sub_ps(e, c);
    r[5] = _mm256_add_ps(_mm256_fnmadd_ps(five, d[3], _mm256_mul_ps(four, d[1])), d[5]);
}

/* A^T m for one 6-point column or row. */
__attribute__((target("avx2,fma"))) static inline void output_points(const __m256 m[patch], __m256 r[tile]) {
    const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), eight = _mm256_set1_ps(8.f);
    const __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
    r[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
    r[1] = _mm256_fmadd_ps(two, d34, d12);
    r[2] = _mm256_fmadd_ps(four, s34, s12);
    r[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), m[5]);
}

/* Channel blocks [first, last) of one image's patches -> transformed[36][tiles][in_channels]. */
__attribute__((target("avx2,fma"))) static void transform_input(const struct job *job, const float *image,
                                                                float *transformed, int first, int last) {
    const int height = job->height, width = job->width, across = tiles_along(width);
    const int tiles = tiles_along(height) * across, channels = job->in_channels;
    for (int channel_block = first; channel_block < last; channel_block++) {
        const float *plane = image + (size_t)channel_block * height * width * block;
        for (int t = 0; t < tiles; t++) {
            const int y0 = (t / across) * tile - 1, x0 = (t % across) * tile - 1;
            __m256 d[patch][patch], rows[patch][patch];
            for (int i = 0; i < patch; i++)
                for (int j = 0; j < patch; j++) {
                    const int y = y0 + i, x = x0 + j;
                    d[i][j] = (y >= 0 && y < height && x >= 0 && x < width)
                                  ? _mm256_loadu_ps(plane + ((size_t)y * width + x) * block)
                                  : _mm256_setzero_ps();
                }
            for (int j = 0; j < patch; j++) {
                __m256 column[patch], r[patch];
                for (int i = 0; i < patch; i++) column[i] = d[i][j];
                input_points(column, r);
                for (int i = 0; i < patch; i++) rows[i][j] = r[i];
            }
            for (int i = 0; i < patch; i++) {
                __m256 r[patch];
                input_points(rows[i], r);
                for (int j = 0; j < patch; j++)
                    _mm256_storeu_ps(transformed + ((size_t)(i * patch + j) * tiles + t) * channels +
                                         channel_block * block,
                                     r[j]);
            }
        }
    }
}

/* Output channel blocks [first, last) of products[36][tiles][out_channels] -> one image's outputs. */
__attribute__((target("avx2,fma"))) static void transform_output(const struct job *job, const float *products,
                                                                 float *image, int first, int last) {
    const int height = job->height, width = job->width, across = tiles_along(width);
    const int tiles = tiles_along(height) * across, channels = job->out_channels;
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
    for (int channel_block = first; channel_block < last; channel_block++) {
        float *plane = image + (size_t)channel_block * height * width * block;
        const __m256 bias = job->bias ? _mm256_loadu_ps(job->bias + channel_block * block) : zero;
        for (int t = 0; t < tiles; t++) {
            const int y0 = (t / across) * tile, x0 = (t % across) * tile;
            __m256 m[patch][patch], rows[tile][patch];
            for (int i = 0; i < patch; i++)
                for (int j = 0; j < patch; j++)
                    m[i][j] = _mm256_loadu_ps(products + ((size_t)(i * patch + j) * tiles + t) * channels +
                                              channel_block * block);
            for (int j = 0; j < patch; j++) {
                __m256 column[patch], r[tile];
                for (int i = 0; i < patch; i++) column[i] = m[i][j];
                output_points(column, r);
                for (int i = 0; i < tile; i++) rows[i][j] = r[i];
            }
            for (int i = 0; i < tile && y0 + i < height; i++) {
                __m256 r[tile];
                output_points(rows[i], r);
                for (int j = 0; j < tile && x0 + j < width; j++) {
                    float *out = plane + ((size_t)(y0 + i) * width + x0 + j) * block;
                    __m256 v = _mm256_add_ps(r[j], bias);
                    if (job->accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(out));
                    if (job->activation != discern_winograd_identity) v = _mm256_max_ps(v, zero);
                    if (job->activation == discern_winograd_relu6) v = _mm256_min_ps(v, six);
                    _mm256_storeu_ps(out, v);
                }
            }
        }
    }
}
#endif

/* One thread's share of every image: its channel blocks of the input transform, its positions' matrix products,
   its channel blocks of the output transform, with the team's barriers between the phases. */
static void run_share(const struct job *job, int thread, int threads, barrier_function barrier) {
#if DISCERN_X86
    const int tiles = tiles_along(job->height) * tiles_along(job->width);
    const int in_channels = job->in_channels, out_channels = job->out_channels;
    float *inputs = job->scratch, *products = job->scratch + (size_t)positions * tiles * in_channels;
    const int in_blocks = in_channels / block, out_blocks = out_channels / block;
    for (int n = 0; n < job->images; n++) {
        const float *image = job->source + (size_t)n * in_channels * job->height * job->width;
        float *result = job->destination + (size_t)n * out_channels * job->height * job->width;
        transform_input(job, image, inputs, in_blocks * thread / threads, in_blocks * (thread + 1) / threads);
        if (barrier) barrier();
        for (int p = thread; p < positions; p += threads)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tiles, out_channels, in_channels, 1.f,
                        inputs + (size_t)p * tiles * in_channels, in_channels,
                        job->transformed + (size_t)p * in_channels * out_channels, out_channels, 0.f,
                        products + (size_t)p * tiles * out_channels, out_channels);
        if (barrier) barrier();
        transform_output(job, products, result, out_blocks * thread / threads, out_blocks * (thread + 1) / threads);
        /* The next image's products overwrite these only after the barrier that follows its input transform. */
    }
#else
    (void)job; (void)thread; (void)threads; (void)barrier;
#endif
}

static void run_on_team(void *argument) {
    run_share((const struct job *)argument, openmp.thread_number(), openmp.thread_count(), openmp.barrier);
}

void discern_winograd_forward(const float *source, float *destination, const float *transformed, const float *bias,
                              int images, int in_channels, int out_channels, int height, int width, int activation,
                              int accumulate, float *scratch) {
    struct job job = {source, destination, transformed, bias, images, in_channels, out_channels, height, width,
                      activation, accumulate, scratch};
    pthread_once(&openmp_once, look_up_openmp);
    if (openmp.parallel) {
        openmp.parallel(run_on_team, &job, 0, 0);  /* 0 threads: the calling thread's OpenMP setting */
    } else {
        run_share(&job, 0, 1, 0);
    }
}
