/* hhbc reference kernel: reduction over any set of axes, float32. */
#include <math.h>

#include "hhbc_kernels.h"

/*
 * Every input element at index idx folds into out[sum idx[i] * out_stride[i]]
 * (out_stride is 0 on reduced axes). MEAN divides each sum by reduce_count.
 * The last input axis is the inner loop; the outer axes advance as an odometer.
 */
void hhbc_reduce_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t last = p->ndim - 1;
    const int32_t inner = p->in_dim[last];
    const int32_t os = p->out_stride[last];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1;
    int32_t ob = 0;
    float init;

    switch (p->op) {
    case HHBC_RED_MAX: init = -INFINITY; break;
    case HHBC_RED_MIN: init = INFINITY; break;
    case HHBC_RED_MEAN:
    case HHBC_RED_SUM:
    default: init = 0.0f; break;
    }
    for (int32_t i = 0; i < p->out_size; i++) dst[i] = init;

    for (int32_t i = 0; i < last; i++) outer *= p->in_dim[i];

    for (int32_t o = 0; o < outer; o++) {
        float *y = dst + ob;
        switch (p->op) {
        case HHBC_RED_MAX:
            for (int32_t j = 0; j < inner; j++) y[j * os] = fmaxf(y[j * os], src[j]);
            break;
        case HHBC_RED_MIN:
            for (int32_t j = 0; j < inner; j++) y[j * os] = fminf(y[j * os], src[j]);
            break;
        case HHBC_RED_MEAN:
        case HHBC_RED_SUM:
        default:
            for (int32_t j = 0; j < inner; j++) y[j * os] += src[j];
            break;
        }
        src += inner;
        /* advance the outer input index (axes last-1 .. 0) */
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            idx[ax]++;
            ob += p->out_stride[ax];
            if (idx[ax] < p->in_dim[ax]) break;
            ob -= p->out_stride[ax] * p->in_dim[ax];
            idx[ax] = 0;
        }
    }

    if (p->op == HHBC_RED_MEAN) {
        const float count = (float)p->reduce_count;
        for (int32_t i = 0; i < p->out_size; i++) dst[i] /= count;
    }
}
