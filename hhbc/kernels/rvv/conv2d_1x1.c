/*
 * hhbc rvv kernels: pointwise (1x1, stride 1, no padding, one group) convolution, NHWC,
 * float32 and float16 (zvfh). RVV 1.0 C intrinsics, VLEN-agnostic.
 *
 * Packed weight layout (conv_gkkio with G = KH = KW = 1): the GEMM matrix [IC][OC],
 * output channels contiguous. in [P][IC] and out [P][OC] with P = N * H * W pixels.
 *
 * Scheme (hhbc_rvv_conv.h): output channels are the vector axis, strip-mined with vsetvl
 * (e32 m8 for float32; e16 m4 weights -> e32 m8 accumulators for float16), so a strip
 * widens with VLEN. A tile is 3 consecutive pixels x one strip: each weight-vector load
 * feeds 3 vfmacc.vf / vfwmacc.vf, each with one scalar input load. Bias initialises the
 * float32 accumulators; the epilogue applies the activation, narrows (f16) and stores.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

void hhbc_conv2d_1x1_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_rvv_gemm_F32((const float *)in->data, (float *)out->data, (const float *)p->weight, p->bias,
                      out->dim[0] * out->dim[1] * out->dim[2], out->dim[3], in->dim[3], &p->act);
}

void hhbc_conv2d_1x1_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_rvv_gemm_F16((const _Float16 *)in->data, (_Float16 *)out->data, (const _Float16 *)p->weight, p->bias,
                      out->dim[0] * out->dim[1] * out->dim[2], out->dim[3], in->dim[3], &p->act);
}
