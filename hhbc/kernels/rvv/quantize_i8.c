/*
 * hhbc rvv variant: float32 <-> int8 affine (de)quantization (TFLite QUANTIZE / DEQUANTIZE, ONNX
 * QuantizeLinear), RVV 1.0 intrinsics, VLEN-agnostic, e32/m8 chunks. Same params and results as
 * ref/quantize_i8.c and ref/dequantize_i8.c, bit for bit:
 *  - quantize, TFLite: round(x / scale) ties away from zero (vfdiv, correctly rounded as the
 *    reference's float division; vfcvt with rm = rmm is roundf), clamped to [-512, 512] first
 *    (vfmax/vfmin: NaN gives -512 as in the reference; clamping before rounding is the same since
 *    the bounds are integers), + zero_point in int16, saturated to int8 (vnclip).
 *  - quantize, ONNX: x / scale clamped in float to [-128 - zp, 127 - zp] (NaN -> low bound),
 *    rounded half to even (rm = rne), + zero_point.
 *  - dequantize: scale * float(x - zero_point) (x - zp exact in int16, widened to float exactly,
 *    one vfmul).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

void hhbc_quantize_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_affine_i8_params *p)
{
    const float *src = (const float *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t size = hhbc_numel(in);
    const float lo = p->onnx ? (float)(INT8_MIN - p->zero_point) : -512.0f;
    const float hi = p->onnx ? (float)(INT8_MAX - p->zero_point) : 512.0f;
    size_t vl;
    for (int32_t i = 0; i < size; i += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m8((size_t)(size - i));
        vfloat32m8_t v = __riscv_vfdiv_vf_f32m8(__riscv_vle32_v_f32m8(src + i, vl), p->scale, vl);
        v = __riscv_vfmin_vf_f32m8(__riscv_vfmax_vf_f32m8(v, lo, vl), hi, vl);
        /* |v| <= 512: the int16 conversion and the zero point add cannot overflow */
        vint16m4_t h = p->onnx ? __riscv_vfncvt_x_f_w_i16m4_rm(v, __RISCV_FRM_RNE, vl)
                               : __riscv_vfncvt_x_f_w_i16m4_rm(v, __RISCV_FRM_RMM, vl);
        h = __riscv_vadd_vx_i16m4(h, (int16_t)p->zero_point, vl);
        __riscv_vse8_v_i8m2(dst + i, __riscv_vnclip_wx_i8m2(h, 0, __RISCV_VXRM_RNU, vl), vl);
    }
}

void hhbc_dequantize_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_affine_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    float *dst = (float *)out->data;
    const int32_t size = hhbc_numel(in);
    size_t vl;
    for (int32_t i = 0; i < size; i += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m8((size_t)(size - i));
        vint16m4_t x = __riscv_vsub_vx_i16m4(__riscv_vsext_vf2_i16m4(__riscv_vle8_v_i8m2(src + i, vl), vl),
                                             (int16_t)p->zero_point, vl);
        __riscv_vse32_v_f32m8(dst + i, __riscv_vfmul_vf_f32m8(__riscv_vfwcvt_f_x_v_f32m8(x, vl), p->scale, vl), vl);
    }
}
