/*
 * hhbc C906 kernel: 1x1 convolution (stride 1, no padding, one group), float32 and float16,
 * RVV 0.7.1 through hhbc_rvv071.h, VLEN 128.
 *
 * Packed weight layout (packing.conv_gkkio with G = KH = KW = 1): [IC][OC], output channels
 * contiguous. bias [OC] float32 or NULL. in [N][H][W][IC], out [N][H][W][OC].
 * The pixels (N*H*W) are one GEMM axis: tiles of 3 pixels x 32 output channels (e32,m8
 * accumulators v8/v16/v24), one weight vector load per input channel feeding 3 vfmacc.vf
 * (float16: vfwmacc.vf from e16,m4 weights into float32 accumulators).
 */
#include "hhbc_c906_conv.h"

HHBC_C906_INLINE void hhbc_c906_gemm(const void *in, void *out, const void *weight, const float *bias,
                                     int32_t npix, int32_t k, int32_t n, const hhbc_act *act, int f16)
{
    const hhbc_act_kind kind = act->kind;
    const float lo = act->lo, hi = act->hi, alpha = act->alpha;
    const size_t esz = f16 ? 2 : 4;
    for (int32_t oc0 = 0; oc0 < n; oc0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(n - oc0 < HHBC_C906_STRIP ? n - oc0 : HHBC_C906_STRIP);
        const float *b = bias ? bias + oc0 : NULL;
        const char *w = (const char *)weight + (size_t)oc0 * esz;
        for (int32_t p0 = 0; p0 < npix; p0 += 3) {
            const int R = npix - p0 < 3 ? npix - p0 : 3;
            const char *x = (const char *)in + (size_t)p0 * k * esz;
            hhbc_c906_cv_init(b, vl, R, f16);
            hhbc_c906_cv_run(R, f16, x, k, 0, w, n, 0, 1, k);
            hhbc_c906_cv_store((char *)out + ((size_t)p0 * n + oc0) * esz, n, R, vl, kind, lo, hi, alpha, f16);
        }
    }
}

void hhbc_conv2d_1x1_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_gemm(in->data, out->data, p->weight, p->bias, in->dim[0] * in->dim[1] * in->dim[2], in->dim[3],
                   out->dim[3], &p->act, 0);
}

void hhbc_conv2d_1x1_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_gemm(in->data, out->data, p->weight, p->bias, in->dim[0] * in->dim[1] * in->dim[2], in->dim[3],
                   out->dim[3], &p->act, 1);
}
