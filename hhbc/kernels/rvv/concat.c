/*
 * hhbc rvv kernel: concat along one axis (float32 and float16), RVV 1.0 intrinsics,
 * VLEN-agnostic. Same signature and params as ref/concat.c: for each of the outer rows,
 * each input contributes one contiguous run of axis_dim[i] * inner elements, copied as
 * bytes in e8 m8 strips.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

static void hhbc_rvv_concat(const hhbc_tensor *const *in, const hhbc_tensor *out,
                            const hhbc_concat_params *p, size_t esize)
{
    char *dst = (char *)out->data;
    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t i = 0; i < p->num_inputs; i++) {
            const size_t run = (size_t)p->axis_dim[i] * (size_t)p->inner * esize;
            hhbc_rvv_copy_bytes(dst, (const char *)in[i]->data + (size_t)o * run, run);
            dst += run;
        }
    }
}

void hhbc_concat_f32_rvv(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_params *p)
{
    hhbc_rvv_concat(in, out, p, 4u);
}

void hhbc_concat_f16_rvv(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_params *p)
{
    hhbc_rvv_concat(in, out, p, 2u);
}
