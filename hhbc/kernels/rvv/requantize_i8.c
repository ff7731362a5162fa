/*
 * hhbc rvv variant: int8 -> int8 requantization with a clamp (TFLite QUANTIZE between int8
 * tensors, RELU, RELU6, RELU_N1_TO_1; ONNX DequantizeLinear + QuantizeLinear), RVV 1.0 intrinsics,
 * VLEN-agnostic, e32/m8 chunks. Same params and results as ref/requantize_i8.c, bit for bit:
 *  - TFLite: y = clamp(mul_by_qm(x - input_zp, m, s) + output_zp), mul_by_qm from hhbc_rvv_i8.h.
 *  - ONNX: v = (input_scale * float(x - input_zp)) / output_scale (one vfmul, one vfdiv: both
 *    correctly rounded, as the reference's float statements), clamped in float to
 *    [act_min - zp, act_max - zp] (vfmax/vfmin; NaN cannot occur for finite scales and gives the
 *    low bound anyway, as the reference), rounded half to even (vfcvt, static rm), + zp.
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

void hhbc_requantize_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out,
                            const hhbc_requantize_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const hhbc_requant_i8 *q = &p->rq;
    const int32_t size = hhbc_numel(in);
    const float flo = (float)(p->act_min - q->output_zp), fhi = (float)(p->act_max - q->output_zp);
    size_t vl;
    for (int32_t i = 0; i < size; i += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m8((size_t)(size - i));
        vint32m8_t x = __riscv_vsub_vx_i32m8(__riscv_vsext_vf4_i32m8(__riscv_vle8_v_i8m2(src + i, vl), vl),
                                             q->input_zp, vl);
        if (p->onnx) {
            vfloat32m8_t v = __riscv_vfmul_vf_f32m8(__riscv_vfcvt_f_x_v_f32m8(x, vl), p->input_scale, vl);
            v = __riscv_vfdiv_vf_f32m8(v, p->output_scale, vl);
            v = __riscv_vfmin_vf_f32m8(__riscv_vfmax_vf_f32m8(v, flo, vl), fhi, vl);
            x = __riscv_vfcvt_x_f_v_i32m8_rm(v, __RISCV_FRM_RNE, vl);
        } else {
            x = hhbc_rvv_mul_by_qm_vx_i32m8(x, q->multiplier, q->shift, vl);
        }
        x = __riscv_vadd_vx_i32m8(x, q->output_zp, vl);
        __riscv_vse8_v_i8m2(dst + i, hhbc_rvv_narrow_i8m8(x, p->act_min, p->act_max, vl), vl);
    }
}
