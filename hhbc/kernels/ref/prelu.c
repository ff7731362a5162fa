/* hhbc reference kernel: PReLU with a per-channel slope, float32. */
#include "hhbc_kernels.h"

/* in/out viewed as [outer][channels][inner]: x >= 0 ? x : slope[c] * x. */
void hhbc_prelu_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t c_n = p->channels, inner = p->inner;

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t c = 0; c < c_n; c++) {
            const float s = p->slope[c];
            const size_t base = ((size_t)o * c_n + c) * inner;
            const float *x = src + base;
            float *y = dst + base;
            for (int32_t i = 0; i < inner; i++) y[i] = x[i] >= 0.0f ? x[i] : s * x[i];
        }
    }
}
