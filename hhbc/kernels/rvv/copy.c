/*
 * hhbc rvv kernel: plain copy (float32 and float16), RVV 1.0 intrinsics, VLEN-agnostic:
 * a byte copy in e8 m8 strips. Same signature as ref/copy.c.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

void hhbc_copy_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out)
{
    if (in->data != out->data) hhbc_rvv_copy_bytes(out->data, in->data, (size_t)hhbc_numel(out) * 4u);
}

void hhbc_copy_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out)
{
    if (in->data != out->data) hhbc_rvv_copy_bytes(out->data, in->data, (size_t)hhbc_numel(out) * 2u);
}
