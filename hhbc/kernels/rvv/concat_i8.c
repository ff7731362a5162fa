/*
 * hhbc rvv variant: concat along one axis, int8 (TFLite CONCATENATION), RVV 1.0 intrinsics,
 * VLEN-agnostic. Same params and results as ref/concat_i8.c, bit for bit: each input is viewed as
 * [outer][axis_dim[i] * inner] and its rows go one after another into [outer][sum * inner], copied
 * in e8/m8 strips, or (requant non-NULL) rescaled in e32/m4 strips:
 *   out = clamp(mul_by_qm(x - input_zp, multiplier, shift) + output_zp, -128, 127)
 * with mul_by_qm and the narrowing from hhbc_rvv_i8.h (exact on ties and saturation).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

static void hhbc_rvv_concat_row_rq(int8_t *d, const int8_t *s, size_t n, const hhbc_requant_i8 *q)
{
    size_t vl;
    for (size_t j = 0; j < n; j += vl) {
        vl = __riscv_vsetvl_e32m4(n - j);
        vint32m4_t v = __riscv_vsext_vf4_i32m4(__riscv_vle8_v_i8m1(s + j, vl), vl);
        v = hhbc_rvv_mul_by_qm_vx_i32m4(__riscv_vsub_vx_i32m4(v, q->input_zp, vl), q->multiplier, q->shift, vl);
        v = __riscv_vadd_vx_i32m4(v, q->output_zp, vl);
        __riscv_vse8_v_i8m1(d + j, hhbc_rvv_narrow_i8m4(v, INT8_MIN, INT8_MAX, vl), vl);
    }
}

void hhbc_concat_i8_rvv(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_i8_params *p)
{
    int8_t *dst = (int8_t *)out->data;
    size_t out_row = 0;
    for (int32_t i = 0; i < p->num_inputs; i++) out_row += (size_t)p->axis_dim[i] * p->inner;

    size_t col = 0;
    for (int32_t i = 0; i < p->num_inputs; i++) {
        const int8_t *src = (const int8_t *)in[i]->data;
        const size_t row = (size_t)p->axis_dim[i] * p->inner;
        for (int32_t o = 0; o < p->outer; o++) {
            const int8_t *s = src + (size_t)o * row;
            int8_t *d = dst + (size_t)o * out_row + col;
            if (p->requant) {
                hhbc_rvv_concat_row_rq(d, s, row, &p->requant[i]);
                continue;
            }
            size_t vl;
            for (size_t j = 0; j < row; j += vl) {
                vl = __riscv_vsetvl_e8m8(row - j);
                __riscv_vse8_v_i8m8(d + j, __riscv_vle8_v_i8m8(s + j, vl), vl);
            }
        }
        col += row;
    }
}
