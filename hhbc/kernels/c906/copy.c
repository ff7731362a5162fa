/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): plain copy, float32 and float16.
 * Same signature and semantics as ref/copy.c. Bytes are moved with e8,m8 loads/stores
 * (128 bytes per instruction; no alignment needed). Vector registers: v8.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

static inline void hhbc_c906_copy_bytes(char *dst, const char *src, size_t n)
{
    size_t vl;
    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E8M8);
        HV_VLE(v8, src);
        HV_VSE(v8, dst);
    }
}

void hhbc_copy_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out)
{
    if (in->data == out->data) return;
    hhbc_c906_copy_bytes((char *)out->data, (const char *)in->data, (size_t)hhbc_numel(out) * sizeof(float));
}

void hhbc_copy_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out)
{
    if (in->data == out->data) return;
    hhbc_c906_copy_bytes((char *)out->data, (const char *)in->data, (size_t)hhbc_numel(out) * sizeof(_Float16));
}
