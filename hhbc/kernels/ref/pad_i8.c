/* hhbc reference kernel: constant pad, int8 (TFLite PAD, PADV2). */
#include "hhbc_kernels_i8.h"

/* Walks the output in row-major order; element at out index o reads the input at
 * o - before on every axis when that lies inside the input, else the fill value. */
void hhbc_pad_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t last = p->ndim - 1;
    size_t in_stride[HHBC_MAX_DIMS];
    size_t s = 1;
    for (int32_t d = last; d >= 0; d--) {
        in_stride[d] = s;
        s *= (size_t)p->in_dim[d];
    }

    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t o = 0;
    for (;;) {
        /* the current row (last axis) lies inside the input iff every outer index does */
        int32_t inside = 1;
        size_t base = 0;
        for (int32_t d = 0; d < last; d++) {
            const int32_t i = idx[d] - p->before[d];
            if (i < 0 || i >= p->in_dim[d]) inside = 0;
            else base += (size_t)i * in_stride[d];
        }
        for (int32_t j = 0; j < p->out_dim[last]; j++) {
            const int32_t i = j - p->before[last];
            dst[o++] = (inside && i >= 0 && i < p->in_dim[last]) ? src[base + (size_t)i]
                                                                 : (int8_t)p->value;
        }
        int32_t d = last - 1;
        for (; d >= 0; d--) {   /* odometer over the outer axes */
            if (++idx[d] < p->out_dim[d]) break;
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}
