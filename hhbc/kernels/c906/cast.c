/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): float32 <-> float16 conversion,
 * same signature, params and semantics as ref/cast.c (round to nearest even, as the C
 * conversion). 32 elements per strip: e32,m8 <-> e16,m4 with vfncvt.f.f.v / vfwcvt.f.f.v.
 * Vector registers: v8 (float32 group), v16 (float16 group).
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

void hhbc_cast_f32_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const float *src = (const float *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    size_t n = (size_t)p->size, vl, vl2;

    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E32M8);
        HV_VLE(v8, src);
        HV_VSETVLI(vl2, vl, HV_E16M4);
        HV_VFNCVT_F_F_V(v16, v8);
        HV_VSE(v16, dst);
    }
    (void)vl2;
}

void hhbc_cast_f16_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const _Float16 *src = (const _Float16 *)in->data;
    float *dst = (float *)out->data;
    size_t n = (size_t)p->size, vl, vl2;

    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E16M4);
        HV_VLE(v16, src);
        HV_VFWCVT_F_F_V(v8, v16);
        HV_VSETVLI(vl2, vl, HV_E32M8);
        HV_VSE(v8, dst);
    }
    (void)vl2;
}
