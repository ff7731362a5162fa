/* hhbc reference kernel: softmax / log-softmax along one axis, float32. */
#include <math.h>

#include "hhbc_kernels.h"

/*
 * in/out viewed as [outer][axis_size][inner]; for every (outer, inner) pair the
 * axis_size values (stride inner) are normalised:
 *   softmax:     exp(x - max) / sum exp(x - max)
 *   log-softmax: x - max - log(sum exp(x - max))
 */
void hhbc_softmax_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                      const hhbc_softmax_params *p)
{
    const int32_t axis_n = p->axis_size, inner = p->inner;

    for (int32_t o = 0; o < p->outer; o++) {
        const size_t base = (size_t)o * axis_n * inner;
        for (int32_t i = 0; i < inner; i++) {
            const float *x = (const float *)in->data + base + i;
            float *y = (float *)out->data + base + i;
            float max = x[0];
            float sum = 0.0f;

            for (int32_t a = 1; a < axis_n; a++) max = fmaxf(max, x[(size_t)a * inner]);
            if (p->log) {
                for (int32_t a = 0; a < axis_n; a++) sum += expf(x[(size_t)a * inner] - max);
                const float log_sum = logf(sum);
                for (int32_t a = 0; a < axis_n; a++)
                    y[(size_t)a * inner] = (x[(size_t)a * inner] - max) - log_sum;
            } else {
                for (int32_t a = 0; a < axis_n; a++) {
                    const float e = expf(x[(size_t)a * inner] - max);
                    y[(size_t)a * inner] = e;
                    sum += e;
                }
                for (int32_t a = 0; a < axis_n; a++) y[(size_t)a * inner] /= sum;
            }
        }
    }
}
