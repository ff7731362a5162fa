/*
 * hhbc C906 kernel: 2-D max and average pooling, NHWC, int8 (TFLite MAX_POOL_2D,
 * AVERAGE_POOL_2D), RVV 0.7.1 through hhbc_rvv071.h. Windows clipped to the input, as
 * ref/pool2d_i8.c, bit for bit; the ONNX average-pool flavours stay on the reference kernel.
 *
 * Channels are the vector axis. MAX: e8,m4 (64 lanes at VLEN 128), vmax.vv over the taps
 * from -128, then the activation clamp. AVG: e32,m8 (32 lanes), each tap's bytes
 * sign-extended by vlb.v and summed, then the reference's rounding division
 * (sum +- count/2) / count truncated (vdiv.vx), the +- taken from the sign of the sum.
 */
#include "hhbc_c906_i8.h"

void hhbc_pool2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int is_max = p->kind == HHBC_POOL_MAX;
    const long lo = p->act_min, hi = p->act_max;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh0, kh1;
            hhbc_window_clip(ih0, p->kernel_h, ih_n, &kh0, &kh1);
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int32_t kw0, kw1;
                hhbc_window_clip(iw0, p->kernel_w, iw_n, &kw0, &kw1);
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                int32_t count = (kh1 - kh0) * (kw1 - kw0);
                if (count < 0) count = 0;
                for (int32_t c0 = 0; c0 < c_n;) {
                    size_t vl;
                    const int8_t *base = src_n + c0;
                    if (is_max) {
                        HV_VSETVLI(vl, (size_t)(c_n - c0), HV_E8M4);
                        HV_VMV_V_X(v0, -128L);
                        for (int32_t kh = kh0; kh < kh1; kh++)
                            for (int32_t kw = kw0; kw < kw1; kw++) {
                                HV_VLE_RO(v8, base + ((size_t)(ih0 + kh) * iw_n + iw0 + kw) * c_n);
                                HV_VMAX_VV(v0, v0, v8);
                            }
                        HV_VMAX_VX(v0, v0, lo);
                        HV_VMIN_VX(v0, v0, hi);
                        HV_VSE(v0, dst_px + c0);
                    } else {
                        const long cnt = count > 0 ? count : 1, half = cnt / 2;
                        HV_VSETVLI(vl, (size_t)(c_n - c0), HV_E32M8);
                        HV_VMV_V_I(v0, 0);
                        for (int32_t kh = kh0; kh < kh1; kh++)
                            for (int32_t kw = kw0; kw < kw1; kw++) {
                                HV_VLB_RO(v8, base + ((size_t)(ih0 + kh) * iw_n + iw0 + kw) * c_n);
                                HV_VADD_VV(v0, v0, v8);
                            }
                        /* t = sum > 0 ? half : -half (sum = 0: either gives 0) */
                        HV_VSRA_VI(v8, v0, 31);
                        HV_VXOR_VX(v16, v8, half);
                        HV_VSUB_VV(v16, v16, v8);
                        HV_VADD_VV(v0, v0, v16);
                        HV_VDIV_VX(v0, v0, cnt);
                        HV_VMAX_VX(v0, v0, lo);
                        HV_VMIN_VX(v0, v0, hi);
                        HV_VSB(v0, dst_px + c0);
                    }
                    c0 += (int32_t)vl;
                }
            }
        }
    }
}
