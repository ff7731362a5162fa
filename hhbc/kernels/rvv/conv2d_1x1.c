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

#define HHBC_RVV_DEFINE_CONV1X1(NAME, D)                                                      \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)         \
{                                                                                             \
    typedef HHBC_##D##_T elem_t;                                                              \
    const elem_t *src = (const elem_t *)in->data;                                             \
    elem_t *dst = (elem_t *)out->data;                                                        \
    const elem_t *wgt = (const elem_t *)p->weight;                                            \
    const int32_t ic_n = in->dim[3], oc_n = out->dim[3];                                      \
    const int32_t px_n = out->dim[0] * out->dim[1] * out->dim[2];                             \
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);                                      \
    size_t vl;                                                                                \
    for (int32_t oc0 = 0; oc0 < oc_n; oc0 += (int32_t)vl) {                                   \
        vl = HHBC_##D##_SETVL((size_t)(oc_n - oc0));                                          \
        int32_t px = 0;                                                                       \
        for (; px + 3 <= px_n; px += 3) {                                                     \
            const elem_t *x0 = src + (size_t)px * ic_n;                                       \
            const elem_t *x1 = x0 + ic_n, *x2 = x1 + ic_n;                                    \
            const elem_t *w = wgt + oc0;                                                      \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(p->bias, oc0, vl);                                \
            vfloat32m8_t a1 = a0, a2 = a0;                                                    \
            HHBC_RVV_RUN3(D, a0, a1, a2, x0, x1, x2, w, oc_n, ic_n, vl);                      \
            elem_t *y = dst + (size_t)px * oc_n + oc0;                                        \
            HHBC_RVV_STORE3(D, y, y + oc_n, y + 2 * oc_n, a0, a1, a2, epi, vl);               \
        }                                                                                     \
        for (; px < px_n; px++) {                                                             \
            const elem_t *x0 = src + (size_t)px * ic_n;                                       \
            const elem_t *w = wgt + oc0;                                                      \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(p->bias, oc0, vl);                                \
            HHBC_RVV_RUN1(D, a0, x0, w, oc_n, ic_n, vl);                                      \
            HHBC_RVV_STORE1(D, dst + (size_t)px * oc_n + oc0, a0, epi, vl);                   \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_CONV1X1(hhbc_conv2d_1x1_f32_rvv, F32)
HHBC_RVV_DEFINE_CONV1X1(hhbc_conv2d_1x1_f16_rvv, F16)
