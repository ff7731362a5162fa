/*
 * hhbc C906 kernel: depthwise 2-D convolution, NHWC, int8 (TFLite DEPTHWISE_CONV_2D),
 * depth multiplier 1, RVV 0.7.1 through hhbc_rvv071.h. Any kernel size, stride, padding and
 * dilation. Bit-exact with ref/depthwise_conv2d_i8.c (TFLite flavour).
 *
 * Constants (hhbc/codegen/packing_c906.py, depthwise_i8_c906): weight [KH][KW][C] int8 as
 * the reference has it; multiplier: the requantization block of hhbc_c906_i8.h (folded
 * bias = bias - input_zp * sum over the taps of the channel's weights).
 * Channels are the vector axis: per 3 output pixels (row-major order) and strip of channels
 * (e16,m4 = e32,m8 accumulators v0 / v8 / v16, 32 lanes at VLEN 128): per tap one vlb.v of
 * the weights (v24) shared by the three pixels, one vlb.v of each pixel's inputs (v28) and
 * a vwmacc.vv; a tap in the padding is a vwmacc.vx by input_zp.
 */
#include "hhbc_c906_i8.h"

/* One pixel's tap in the border path: its inputs (vlb.v into v28) times the weights in v24,
 * or input_zp times the weights when the tap is in the padding. */
#define DW_TAP(ACC, r)                                                                          \
    do {                                                                                        \
        const int32_t ih_ = ih0[r] + kh * dh, iw_ = iw0[r] + kw * dw;                           \
        if (ih_ >= 0 && ih_ < ih_n && iw_ >= 0 && iw_ < iw_n) {                                 \
            HV_VLB_RO(v28, src_n[r] + ((size_t)ih_ * iw_n + iw_) * c_n + c0);                   \
            HV_VWMACC_VV(ACC, v28, v24);                                                        \
        } else {                                                                                \
            HV_VWMACC_VX(ACC, zp, v24);                                                         \
        }                                                                                       \
    } while (0)

void hhbc_depthwise_conv2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out,
                                   const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t npix = in->dim[0] * oh_n * ow_n;
    const int32_t *rq = p->multiplier;
    const long zp = p->input_zp;
    const int32_t ext_h = (kh_n - 1) * dh, ext_w = (kw_n - 1) * dw;
    const size_t tap = (size_t)dw * c_n, row = (size_t)dh * iw_n * c_n;
    int32_t n = 0, oh = 0, ow = 0;   /* the next pixel */

    HC8_VXRM_RNU();
    for (int32_t px = 0; px < npix; px += 3) {
        const int r_n = npix - px < 3 ? npix - px : 3;   /* real pixels; the others repeat px */
        const int8_t *src_n[3];
        int32_t ih0[3], iw0[3];
        int inside = 1;
        for (int r = 0; r < 3; r++) {
            if (r < r_n) {
                src_n[r] = src + (size_t)n * ih_n * iw_n * c_n;
                ih0[r] = oh * p->stride_h - p->pad_top;
                iw0[r] = ow * p->stride_w - p->pad_left;
                if (++ow == ow_n) {
                    ow = 0;
                    if (++oh == oh_n) {
                        oh = 0;
                        n++;
                    }
                }
            } else {
                src_n[r] = src_n[0];
                ih0[r] = ih0[0];
                iw0[r] = iw0[0];
            }
            inside &= ih0[r] >= 0 && ih0[r] + ext_h < ih_n && iw0[r] >= 0 && iw0[r] + ext_w < iw_n;
        }
        int8_t *o = dst + (size_t)px * c_n;
        for (int32_t c0 = 0; c0 < c_n;) {
            size_t vl;
            HV_VSETVLI(vl, (size_t)(c_n - c0), HV_E32M8);
            HV_VLE_RO(v0, hc8_rq_row(rq, HC8_RQ_BIAS, c0));
            HV_VMV_V_V(v8, v0);
            HV_VMV_V_V(v16, v0);
            HV_VSETVLI(vl, vl, HV_E16M4);
            const int8_t *w = p->weight + c0;
            if (inside) {
                /* every window inside the input: no bounds checks */
                const int8_t *xa = src_n[0] + ((size_t)ih0[0] * iw_n + iw0[0]) * c_n + c0;
                const int8_t *xb = src_n[1] + ((size_t)ih0[1] * iw_n + iw0[1]) * c_n + c0;
                const int8_t *xc = src_n[2] + ((size_t)ih0[2] * iw_n + iw0[2]) * c_n + c0;
                for (int32_t kh = 0; kh < kh_n; kh++, xa += row, xb += row, xc += row) {
                    const int8_t *ta = xa, *tb = xb, *tc = xc;
                    for (int32_t kw = 0; kw < kw_n; kw++, w += c_n, ta += tap, tb += tap, tc += tap) {
                        HV_VLB_RO(v24, w);
                        HV_VLB_RO(v28, ta);
                        HV_VWMACC_VV(v0, v28, v24);
                        HV_VLB_RO(v28, tb);
                        HV_VWMACC_VV(v8, v28, v24);
                        HV_VLB_RO(v28, tc);
                        HV_VWMACC_VV(v16, v28, v24);
                    }
                }
            } else {
                for (int32_t kh = 0; kh < kh_n; kh++) {
                    for (int32_t kw = 0; kw < kw_n; kw++, w += c_n) {
                        HV_VLB_RO(v24, w);
                        DW_TAP(v0, 0);
                        DW_TAP(v8, 1);
                        DW_TAP(v16, 2);
                    }
                }
            }
            HV_VSETVLI(vl, vl, HV_E32M8);
            hc8_requant_store3(rq, c0, r_n, o + c0, (size_t)c_n, p->output_zp, p->act_min, p->act_max);
            c0 += (int32_t)vl;
        }
    }
}
