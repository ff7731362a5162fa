/* hhbc reference kernel: sum over a set of axes, int8 (TFLite SUM). */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

void hhbc_sum_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_sum_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    size_t stride[HHBC_MAX_DIMS];
    size_t s = 1;
    for (int32_t d = p->ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)p->in_dim[d];
    }
    int32_t kept[HHBC_MAX_DIMS] = {0};
    size_t base = 0, o = 0;
    for (;;) {
        /* the sum over the reduced axes at this output position (an odometer over them) */
        int32_t red[HHBC_MAX_DIMS] = {0};
        int32_t sum = 0;
        size_t off = base;
        for (;;) {
            sum += src[off];
            int32_t d = p->ndim - 1;
            for (; d >= 0; d--) {
                if (!p->reduced[d]) continue;
                off += stride[d];
                if (++red[d] < p->in_dim[d]) break;
                off -= stride[d] * (size_t)p->in_dim[d];
                red[d] = 0;
            }
            if (d < 0) break;
        }
        /* TFLite's float rescale: round(sum * scale + bias), one float operation at a time */
        const float scaled = (float)sum * p->scale;
        const float v = roundf(scaled + p->bias);
        const float c = v < -512.0f ? -512.0f : (v > 512.0f ? 512.0f : v);
        dst[o++] = (int8_t)hhbc_fp_clamp((int32_t)c + p->output_zp, INT8_MIN, INT8_MAX);
        int32_t d = p->ndim - 1;
        for (; d >= 0; d--) {
            if (p->reduced[d]) continue;
            base += stride[d];
            if (++kept[d] < p->in_dim[d]) break;
            base -= stride[d] * (size_t)p->in_dim[d];
            kept[d] = 0;
        }
        if (d < 0) break;
    }
}
