/*
 * hhbc rvv variant: mean over a set of axes, int8 (TFLite MEAN), RVV 1.0 intrinsics,
 * VLEN-agnostic. Same params and results as ref/mean_i8.c, bit for bit. The trailing axes that
 * share the last axis's kind (all kept or all reduced) form one contiguous block of B elements:
 *  - kept block (NHWC mean over H, W): each output row of B channels is a vector sum, in e32/m8
 *    strips, of the input rows at every position of the reduced axes, then requantized in vector;
 *  - reduced block: each output's sum takes the block in e32/m4 strips (vredsum at the end).
 * Sums wrap modulo 2^32 as the reference's int32 sums; then
 *   out = clamp(mul_by_qm(sum - input_zp * count, multiplier, shift) + output_zp, -128, 127)
 * with mul_by_qm from hhbc_rvv_i8.h (exact on ties and saturation).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

/* Advances idx over the axes 0 .. top whose flag equals `which` (last fastest) and returns the
 * change of the input offset; sets *done when the walk wrapped around. */
static ptrdiff_t hhbc_rvv_mean_step(int32_t *idx, const hhbc_mean_i8_params *p, const size_t *stride,
                                    int32_t top, int32_t which, int32_t *done)
{
    ptrdiff_t delta = 0;
    for (int32_t d = top; d >= 0; d--) {
        if (p->reduced[d] != which) continue;
        delta += (ptrdiff_t)stride[d];
        if (++idx[d] < p->in_dim[d]) return delta;
        delta -= (ptrdiff_t)stride[d] * p->in_dim[d];
        idx[d] = 0;
    }
    *done = 1;
    return delta;
}

void hhbc_mean_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_mean_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    size_t stride[HHBC_MAX_DIMS];
    int32_t kept[HHBC_MAX_DIMS] = {0};
    const int32_t last = p->ndim - 1, kind = p->reduced[last];
    size_t s = 1;
    for (int32_t d = last; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)p->in_dim[d];
    }
    int32_t top = last;   /* axes top + 1 .. last: the trailing block */
    size_t block = 1;
    while (top >= 0 && p->reduced[top] == kind) block *= (size_t)p->in_dim[top--];
    /* input_zp * count modulo 2^32, as the reference's int32 product */
    const int32_t zc = hhbc_fp_from_u32((uint32_t)p->input_zp * (uint32_t)p->count);

    size_t base = 0, o = 0;
    int32_t outer_done = 0;
    while (!outer_done) {
        if (!kind) {
            size_t vl;
            for (size_t j = 0; j < block; j += vl) {
                vl = __riscv_vsetvl_e32m8(block - j);
                vint32m8_t acc = __riscv_vmv_v_x_i32m8(0, vl);
                int32_t red[HHBC_MAX_DIMS] = {0}, inner_done = 0;
                size_t off = base + j;
                while (!inner_done) {
                    acc = __riscv_vadd_vv_i32m8(acc, __riscv_vsext_vf4_i32m8(__riscv_vle8_v_i8m2(src + off, vl), vl),
                                                vl);
                    off = (size_t)((ptrdiff_t)off + hhbc_rvv_mean_step(red, p, stride, top, 1, &inner_done));
                }
                acc = hhbc_rvv_mul_by_qm_vx_i32m8(__riscv_vsub_vx_i32m8(acc, zc, vl), p->multiplier, p->shift, vl);
                acc = __riscv_vadd_vx_i32m8(acc, p->output_zp, vl);
                __riscv_vse8_v_i8m2(dst + o + j, hhbc_rvv_narrow_i8m8(acc, INT8_MIN, INT8_MAX, vl), vl);
            }
            o += block;
        } else {
            const size_t vlmax = __riscv_vsetvlmax_e32m4();
            vint32m4_t acc = __riscv_vmv_v_x_i32m4(0, vlmax);
            int32_t red[HHBC_MAX_DIMS] = {0}, inner_done = 0;
            size_t off = base;
            while (!inner_done) {
                size_t vl;
                for (size_t j = 0; j < block; j += vl) {
                    vl = __riscv_vsetvl_e32m4(block - j);
                    acc = __riscv_vadd_vv_i32m4_tu(acc, acc,
                              __riscv_vsext_vf4_i32m4(__riscv_vle8_v_i8m1(src + off + j, vl), vl), vl);
                }
                off = (size_t)((ptrdiff_t)off + hhbc_rvv_mean_step(red, p, stride, top, 1, &inner_done));
            }
            const int32_t sum = __riscv_vmv_x_s_i32m1_i32(
                __riscv_vredsum_vs_i32m4_i32m1(acc, __riscv_vmv_s_x_i32m1(0, 1), vlmax));
            const int32_t y = hhbc_fp_add(hhbc_fp_mul_by_qm(hhbc_fp_sub(sum, zc), p->multiplier, p->shift),
                                          p->output_zp);
            dst[o++] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
        }
        base = (size_t)((ptrdiff_t)base + hhbc_rvv_mean_step(kept, p, stride, top, 0, &outer_done));
    }
}
