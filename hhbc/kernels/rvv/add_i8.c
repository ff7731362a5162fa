/*
 * hhbc rvv variant: int8 elementwise add / sub with numpy broadcasting (TFLite ADD, SUB), RVV 1.0
 * intrinsics, VLEN-agnostic. Same params and results as ref/add_i8.c, bit for bit, in TFLite's
 * arithmetic (the ONNX QLinearAdd flavour stays on ref: table_rvv.py). The broadcast walk goes row
 * by row over the output (hhbc_broadcast_next_row); each innermost row is vectorized in e32/m4
 * chunks, an operand with innermost stride 0 being one value for the whole row (rescaled once, in
 * scalar, with the reference's own functions). Per element, as the reference:
 *   a' = mul_by_qm((a - a_zp) << left_shift, a_m, a_s), b' likewise, s = a' +- b' (wrapping),
 *   out = clamp(mul_by_qm(s, out_m, out_s) + out_zp, act_min, act_max),
 * with mul_by_qm from hhbc_rvv_i8.h (exact on ties and saturation).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

/* the rescaled terms of one operand: vl elements at x (stride 1), or the row's constant */
static inline vint32m4_t hhbc_rvv_add_term(const int8_t *x, int contiguous, int32_t konst, int32_t zp,
                                           int32_t left, int32_t mult, int32_t shift, size_t vl)
{
    if (!contiguous) return __riscv_vmv_v_x_i32m4(konst, vl);
    vint32m4_t v = __riscv_vsext_vf4_i32m4(__riscv_vle8_v_i8m1(x, vl), vl);
    v = __riscv_vsll_vx_i32m4(__riscv_vsub_vx_i32m4(v, zp, vl), (size_t)left, vl);
    return hhbc_rvv_mul_by_qm_vx_i32m4(v, mult, shift, vl);
}

void hhbc_add_i8_rvv(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_add_i8_params *p)
{
    const hhbc_broadcast_i8 *s = &p->shape;
    const int8_t *pa = (const int8_t *)a->data;
    const int8_t *pb = (const int8_t *)b->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t last = s->ndim - 1, len = s->out_dim[last];
    const int ca = s->a_stride[last] != 0, cb = s->b_stride[last] != 0;   /* 1: stride 1 (table_rvv.py) */
    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t ia = 0, ib = 0, o = 0;

    do {
        const int32_t ka = ca ? 0 : hhbc_fp_mul_by_qm(hhbc_fp_shl(pa[ia] - p->a_zp, p->left_shift),
                                                      p->a_multiplier, p->a_shift);
        const int32_t kb = cb ? 0 : hhbc_fp_mul_by_qm(hhbc_fp_shl(pb[ib] - p->b_zp, p->left_shift),
                                                      p->b_multiplier, p->b_shift);
        size_t vl;
        for (int32_t i = 0; i < len; i += (int32_t)vl) {
            vl = __riscv_vsetvl_e32m4((size_t)(len - i));
            vint32m4_t ta = hhbc_rvv_add_term(pa + ia + i, ca, ka, p->a_zp, p->left_shift, p->a_multiplier,
                                              p->a_shift, vl);
            vint32m4_t tb = hhbc_rvv_add_term(pb + ib + i, cb, kb, p->b_zp, p->left_shift, p->b_multiplier,
                                              p->b_shift, vl);
            vint32m4_t sum = p->sub ? __riscv_vsub_vv_i32m4(ta, tb, vl) : __riscv_vadd_vv_i32m4(ta, tb, vl);
            sum = hhbc_rvv_mul_by_qm_vx_i32m4(sum, p->output_multiplier, p->output_shift, vl);
            sum = __riscv_vadd_vx_i32m4(sum, p->output_zp, vl);
            __riscv_vse8_v_i8m1(dst + o + i, hhbc_rvv_narrow_i8m4(sum, p->act_min, p->act_max, vl), vl);
        }
        o += (size_t)len;
    } while (hhbc_broadcast_next_row(s, idx, &ia, &ib));
}
