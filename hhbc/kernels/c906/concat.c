/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): concatenation along one axis,
 * float32 and float16. Same signature, params and semantics as ref/concat.c: for every
 * outer index the inputs' contiguous blocks are copied one after another, as bytes with
 * e8,m8 loads/stores (128 bytes per instruction). Vector registers: v8.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

static inline void hhbc_c906_concat_bytes(char *dst, const char *src, size_t n)
{
    size_t vl;
    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E8M8);
        HV_VLE(v8, src);
        HV_VSE(v8, dst);
    }
}

static void hhbc_c906_concat(const hhbc_tensor *const *in, const hhbc_tensor *out,
                             const hhbc_concat_params *p, size_t elem)
{
    char *dst = (char *)out->data;

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t i = 0; i < p->num_inputs; i++) {
            const size_t block = (size_t)p->axis_dim[i] * (size_t)p->inner * elem;
            hhbc_c906_concat_bytes(dst, (const char *)in[i]->data + (size_t)o * block, block);
            dst += block;
        }
    }
}

void hhbc_concat_f32_c906(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_params *p)
{
    hhbc_c906_concat(in, out, p, sizeof(float));
}

void hhbc_concat_f16_c906(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_params *p)
{
    hhbc_c906_concat(in, out, p, sizeof(_Float16));
}
