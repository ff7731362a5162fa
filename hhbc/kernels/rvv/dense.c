/*
 * hhbc rvv kernels: fully connected layer, float32 and float16 (zvfh). RVV 1.0 C
 * intrinsics, VLEN-agnostic.
 *
 * Packed weight layout (dense_kn): [K][N], output features contiguous.
 * in [M][K] (leading dims flattened), out [M][N]; bias [N] float32 or NULL.
 *
 * Scheme (hhbc_rvv_conv.h): output features are the vector axis, strip-mined with vsetvl
 * (e32 m8 for float32; e16 m4 weights -> e32 m8 accumulators for float16). Rows go in
 * tiles of 3 sharing each weight-vector load (one vfmacc.vf + one scalar load per row and
 * k), the remainder one row at a time. Bias initialises the float32 accumulators; the
 * epilogue applies the activation, narrows (f16) and stores.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

void hhbc_dense_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    hhbc_rvv_gemm_F32((const float *)in->data, (float *)out->data, (const float *)p->weight, p->bias,
                      p->m, p->n, p->k, &p->act);
}

void hhbc_dense_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    hhbc_rvv_gemm_F16((const _Float16 *)in->data, (_Float16 *)out->data, (const _Float16 *)p->weight, p->bias,
                      p->m, p->n, p->k, &p->act);
}
