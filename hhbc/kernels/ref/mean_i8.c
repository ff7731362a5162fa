/* hhbc reference kernel: mean over a set of axes, int8 (TFLite MEAN). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* Advances idx over the axes whose flag equals `which` (last axis fastest) and returns the
 * change of the input offset; returns -1 in *done when the walk wrapped around. */
static ptrdiff_t step(int32_t *idx, const hhbc_mean_i8_params *p, const size_t *stride,
                      int32_t which, int32_t *done)
{
    ptrdiff_t delta = 0;
    for (int32_t d = p->ndim - 1; d >= 0; d--) {
        if (p->reduced[d] != which) continue;
        delta += (ptrdiff_t)stride[d];
        if (++idx[d] < p->in_dim[d]) return delta;
        delta -= (ptrdiff_t)stride[d] * p->in_dim[d];
        idx[d] = 0;
    }
    *done = 1;
    return delta;
}

void hhbc_mean_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_mean_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    size_t stride[HHBC_MAX_DIMS];
    int32_t kept[HHBC_MAX_DIMS] = {0}, red[HHBC_MAX_DIMS] = {0};
    size_t s = 1;
    for (int32_t d = p->ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)p->in_dim[d];
    }

    size_t base = 0, o = 0;
    int32_t outer_done = 0;
    while (!outer_done) {
        int32_t sum = 0, inner_done = 0;
        size_t off = base;
        while (!inner_done) {
            sum += src[off];
            off = (size_t)((ptrdiff_t)off + step(red, p, stride, 1, &inner_done));
        }
        const int32_t centered = sum - p->input_zp * p->count;
        const int32_t y = hhbc_fp_mul_by_qm(centered, p->multiplier, p->shift) + p->output_zp;
        dst[o++] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
        base = (size_t)((ptrdiff_t)base + step(kept, p, stride, 0, &outer_done));
    }
}
