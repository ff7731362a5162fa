/*
 * hhbc rvv kernels: casts between float32 and float16 (zvfh), RVV 1.0 intrinsics,
 * VLEN-agnostic. Same signature and params as ref/cast.c: vfncvt.f.f.w (round to nearest
 * even, like the C conversion) and vfwcvt.f.f.v (exact), e16 m4 <-> e32 m8 strips.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

void hhbc_cast_f32_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const float *x = (const float *)in->data;
    _Float16 *y = (_Float16 *)out->data;
    size_t vl;
    for (int32_t n = p->size; n > 0; n -= (int32_t)vl, x += vl, y += vl) {
        vl = __riscv_vsetvl_e32m8((size_t)n);
        hhbc_rvv_st_f16m8(y, __riscv_vle32_v_f32m8(x, vl), vl);
    }
}

void hhbc_cast_f16_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const _Float16 *x = (const _Float16 *)in->data;
    float *y = (float *)out->data;
    size_t vl;
    for (int32_t n = p->size; n > 0; n -= (int32_t)vl, x += vl, y += vl) {
        vl = __riscv_vsetvl_e32m8((size_t)n);
        __riscv_vse32_v_f32m8(y, hhbc_rvv_ld_f16m8(x, vl), vl);
    }
}
