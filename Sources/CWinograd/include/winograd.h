#ifndef DISCERN_WINOGRAD_H
#define DISCERN_WINOGRAD_H

#include <stddef.h>

/* Winograd F(4x4, 3x3) convolution for 3x3, stride-1, padding-1 layers on CPUs whose oneDNN has no Winograd kernel
   (oneDNN 2.6 has one on AVX-512 only). Each 4x4 block of outputs ("tile") comes from a 6x6 input patch with 36
   multiplications per channel pair instead of 144: the patches are transformed (B^T d B), multiplied with the
   transformed weights (G g G^T) as 36 matrix products over channels (OpenBLAS, one thread each), and transformed
   back (A^T m A) with the bias, a residual sum if any, and the activation. Activations are in oneDNN's 8-channel blocked layout (nChw8c),
   as its AVX2 kernels around it keep them. Results agree with a direct convolution to float rounding (about 1e-5
   relative), not bit for bit. AVX2 with FMA only: the caller checks `discern_winograd_available`. */

/* 1 when this CPU runs the kernel (AVX2 and FMA), else 0. */
int discern_winograd_available(void);

/* Floats of the transformed weights of a layer: 36 * in_channels * out_channels. */
size_t discern_winograd_weight_floats(int in_channels, int out_channels);

/* weights [out][in][3][3] (plain, batch-norm folded in) -> transformed [36][in][out]. */
void discern_winograd_transform_weights(const float *weights, int out_channels, int in_channels, float *transformed);

/* Floats of scratch memory one call needs for images of height x width. */
size_t discern_winograd_scratch_floats(int in_channels, int out_channels, int height, int width);

/* 0 none, 1 ReLU, 2 ReLU6, applied after the bias. */
enum { discern_winograd_identity = 0, discern_winograd_relu = 1, discern_winograd_relu6 = 2 };

/* images x [in_channels/8][height][width][8] -> images x [out_channels/8][height][width][8]; both channel counts
   multiples of 8. With `accumulate`, what `destination` holds (a residual) is added before the activation;
   `source` and `destination` must not overlap. Runs on the calling thread's OpenMP team (the runtime oneDNN uses), so a thread limited to one
   OpenMP thread (an inference stream) runs it alone; without an OpenMP runtime in the process, on the calling
   thread. `scratch` holds discern_winograd_scratch_floats(...) floats. */
void discern_winograd_forward(const float *source, float *destination, const float *transformed, const float *bias,
                              int images, int in_channels, int out_channels, int height, int width, int activation,
                              int accumulate, float *scratch);

#endif
