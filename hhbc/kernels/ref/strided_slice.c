/* hhbc reference kernel: strided slice (a box of the input at a fixed step), float32. */
#include "hhbc_kernels.h"

/*
 * out is dense with extents out_dim[0..ndim); the element at index idx reads
 * in[offset + sum idx[i] * in_stride[i]]. The last output axis is the inner loop;
 * the outer axes advance as an odometer.
 */
void hhbc_strided_slice_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                            const hhbc_strided_slice_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t last = p->ndim - 1;
    const int32_t inner = p->out_dim[last];
    const int32_t is = p->in_stride[last];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1;
    int32_t ib = p->offset;

    for (int32_t i = 0; i < last; i++) outer *= p->out_dim[i];

    for (int32_t o = 0; o < outer; o++) {
        const float *x = src + ib;
        for (int32_t j = 0; j < inner; j++) dst[j] = x[j * is];
        dst += inner;
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            idx[ax]++;
            ib += p->in_stride[ax];
            if (idx[ax] < p->out_dim[ax]) break;
            ib -= p->in_stride[ax] * p->out_dim[ax];
            idx[ax] = 0;
        }
    }
}
