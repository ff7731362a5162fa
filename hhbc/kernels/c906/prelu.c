/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): PReLU with a per-channel float32
 * slope, float32 and float16 activations. Same signature, params and semantics as
 * ref/prelu.c (x >= 0 ? x : slope[c] * x, computed as a masked multiply where x < 0).
 *  - inner == 1 (NHWC, channels last): vector along the channels, the slope row loaded
 *    with the same strip (v16);
 *  - inner > 1: vector along inner with the channel's slope as a scalar operand.
 * Strips of 16 lanes at e32,m4 in v8 (float16: e16,m2 loads widened, narrowed at the store).
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

HHBC_C906_INLINE void hhbc_c906_prelu_load(const char *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_load_f16_v8((const _Float16 *)p, vl);
    else HV_VLE(v8, p);
}

HHBC_C906_INLINE void hhbc_c906_prelu_store(char *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_store_f16_v8((_Float16 *)p, vl);
    else HV_VSE(v8, p);
}

static void hhbc_c906_prelu(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p, int is16)
{
    const size_t esz = is16 ? 2 : 4;
    const char *x = (const char *)in->data;
    char *y = (char *)out->data;
    const int32_t c_n = p->channels, inner = p->inner;
    size_t n, vl;

    for (int32_t o = 0; o < p->outer; o++) {
        if (inner == 1) {
            const float *s = p->slope;
            for (n = (size_t)c_n; n > 0; n -= vl, x += vl * esz, y += vl * esz, s += vl) {
                HV_VSETVLI(vl, n, HV_E32M4);
                hhbc_c906_prelu_load(x, is16, vl);
                HV_VLE(v16, s);
                HV_VMFLT_VF(v0, v8, 0.0f);
                HV_VFMUL_VV_M(v8, v8, v16);
                hhbc_c906_prelu_store(y, is16, vl);
            }
            continue;
        }
        for (int32_t c = 0; c < c_n; c++) {
            const float s = p->slope[c];
            for (n = (size_t)inner; n > 0; n -= vl, x += vl * esz, y += vl * esz) {
                HV_VSETVLI(vl, n, HV_E32M4);
                hhbc_c906_prelu_load(x, is16, vl);
                HV_VMFLT_VF(v0, v8, 0.0f);
                HV_VFMUL_VF_M(v8, v8, s);
                hhbc_c906_prelu_store(y, is16, vl);
            }
        }
    }
}

void hhbc_prelu_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p)
{
    hhbc_c906_prelu(in, out, p, 0);
}

void hhbc_prelu_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p)
{
    hhbc_c906_prelu(in, out, p, 1);
}
