/*
 * hhbc rvv variant: int8 elementwise multiply with numpy broadcasting (TFLite MUL), RVV 1.0
 * intrinsics, VLEN-agnostic. Same params and results as ref/mul_i8.c, bit for bit. The broadcast
 * walk goes row by row over the output (hhbc_broadcast_next_row), as add_i8.c, after merging into
 * the row every outer axis along which both operands stay contiguous (or constant): same-shape
 * operands are one row. Each row is vectorized in e32/m8 chunks, an operand with innermost stride 0
 * (table_rvv.py takes only strides 0 and 1) being one value for the whole row. Per element, as
 * the reference:
 *   d = (a - a_zp) * (b - b_zp)          (each factor in [-255, 255]: e16, one widening multiply)
 *   out = clamp(mul_by_qm(d, out_m, out_s) + out_zp, act_min, act_max)
 * with mul_by_qm from hhbc_rvv_i8.h (exact on ties and saturation).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

/* x - zp of vl int8 values, in int16 */
static inline vint16m4_t hhbc_rvv_mul_factor(const int8_t *x, int32_t zp, size_t vl)
{
    return __riscv_vsub_vx_i16m4(__riscv_vsext_vf2_i16m4(__riscv_vle8_v_i8m2(x, vl), vl), (int16_t)zp, vl);
}

/* s with the outer axes that continue the innermost row of both operands merged into it */
static hhbc_broadcast_i8 hhbc_rvv_mul_rows(const hhbc_broadcast_i8 *s)
{
    hhbc_broadcast_i8 m = *s;
    const int32_t last = s->ndim - 1;
    const int32_t ca = s->a_stride[last] != 0, cb = s->b_stride[last] != 0;
    int32_t len = s->out_dim[last], d = last - 1;
    while (d >= 0 && (s->out_dim[d] == 1 || ((s->a_stride[d] == (ca ? len : 0))
                                             && (s->b_stride[d] == (cb ? len : 0))))) {
        len *= s->out_dim[d];
        d--;
    }
    m.ndim = d + 2;
    m.out_dim[d + 1] = len;
    m.a_stride[d + 1] = ca;
    m.b_stride[d + 1] = cb;
    return m;
}

void hhbc_mul_i8_rvv(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_mul_i8_params *p)
{
    const hhbc_broadcast_i8 rows = hhbc_rvv_mul_rows(&p->shape), *s = &rows;
    const int8_t *pa = (const int8_t *)a->data;
    const int8_t *pb = (const int8_t *)b->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t last = s->ndim - 1, len = s->out_dim[last];
    const int ca = s->a_stride[last] != 0, cb = s->b_stride[last] != 0;   /* 1: stride 1 */
    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t ia = 0, ib = 0, o = 0;

    do {
        const int32_t ka = (int32_t)pa[ia] - p->a_zp, kb = (int32_t)pb[ib] - p->b_zp;   /* stride-0 rows */
        size_t vl;
        for (int32_t i = 0; i < len; i += (int32_t)vl) {
            vl = __riscv_vsetvl_e32m8((size_t)(len - i));
            vint32m8_t prod;
            if (ca && cb)
                prod = __riscv_vwmul_vv_i32m8(hhbc_rvv_mul_factor(pa + ia + i, p->a_zp, vl),
                                              hhbc_rvv_mul_factor(pb + ib + i, p->b_zp, vl), vl);
            else if (ca)
                prod = __riscv_vwmul_vx_i32m8(hhbc_rvv_mul_factor(pa + ia + i, p->a_zp, vl), (int16_t)kb, vl);
            else if (cb)
                prod = __riscv_vwmul_vx_i32m8(hhbc_rvv_mul_factor(pb + ib + i, p->b_zp, vl), (int16_t)ka, vl);
            else
                prod = __riscv_vmv_v_x_i32m8(ka * kb, vl);
            prod = hhbc_rvv_mul_by_qm_vx_i32m8(prod, p->output_multiplier, p->output_shift, vl);
            prod = __riscv_vadd_vx_i32m8(prod, p->output_zp, vl);
            __riscv_vse8_v_i8m2(dst + o + i, hhbc_rvv_narrow_i8m8(prod, p->act_min, p->act_max, vl), vl);
        }
        o += (size_t)len;
    } while (hhbc_broadcast_next_row(s, idx, &ia, &ib));
}
