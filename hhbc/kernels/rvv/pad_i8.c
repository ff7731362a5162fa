/*
 * hhbc rvv variant: constant pad, int8 (TFLite PAD, PADV2), RVV 1.0 intrinsics, VLEN-agnostic.
 * Same params and results as ref/pad_i8.c. The output is walked row by row, a row being the innermost
 * padded axis together with the unpadded axes after it (W x C of an NHWC spatial pad): a row
 * whose outer indices fall outside the input is all fill; any other row is fill before, a copy of
 * the input row, fill after. Fills are vse8 of a splat, copies vle8/vse8, in e8/m8 strips.
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

static inline void hhbc_rvv_fill_i8(int8_t *dst, int8_t v, size_t n)
{
    size_t vl;
    for (size_t i = 0; i < n; i += vl) {
        vl = __riscv_vsetvl_e8m8(n - i);
        __riscv_vse8_v_i8m8(dst + i, __riscv_vmv_v_x_i8m8(v, vl), vl);
    }
}

static inline void hhbc_rvv_copy_i8(int8_t *dst, const int8_t *src, size_t n)
{
    size_t vl;
    for (size_t i = 0; i < n; i += vl) {
        vl = __riscv_vsetvl_e8m8(n - i);
        __riscv_vse8_v_i8m8(dst + i, __riscv_vle8_v_i8m8(src + i, vl), vl);
    }
}

void hhbc_pad_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int8_t value = (int8_t)p->value;
    size_t in_stride[HHBC_MAX_DIMS];
    size_t s = 1;
    for (int32_t d = p->ndim - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= (size_t)p->in_dim[d];
    }
    /* the unpadded trailing axes (C of an NHWC spatial pad) join the innermost padded one */
    int32_t last = p->ndim - 1;
    size_t tail = 1;
    while (last > 0 && p->before[last] == 0 && p->in_dim[last] == p->out_dim[last]) tail *= (size_t)p->in_dim[last--];
    const size_t row = (size_t)p->out_dim[last] * tail;
    const size_t before = (size_t)p->before[last] * tail, inner = (size_t)p->in_dim[last] * tail;
    const size_t after = row - before - inner;

    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t o = 0;
    for (;;) {
        int32_t inside = 1;
        size_t base = 0;
        for (int32_t d = 0; d < last; d++) {
            const int32_t i = idx[d] - p->before[d];
            if (i < 0 || i >= p->in_dim[d]) inside = 0;
            else base += (size_t)i * in_stride[d];
        }
        if (!inside) {
            hhbc_rvv_fill_i8(dst + o, value, row);
        } else {
            hhbc_rvv_fill_i8(dst + o, value, before);
            hhbc_rvv_copy_i8(dst + o + before, src + base, inner);
            hhbc_rvv_fill_i8(dst + o + before + inner, value, after);
        }
        o += row;
        int32_t d = last - 1;
        for (; d >= 0; d--) {   /* odometer over the outer axes */
            if (++idx[d] < p->out_dim[d]) break;
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}
