/* hhbc reference kernel: depthwise 2-D convolution, NHWC, int8 (TFLite DEPTHWISE_CONV_2D). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

HHBC_I8_OUT_OF_LINE static void depthwise_conv2d_i8_asym(const hhbc_tensor *in, const hhbc_tensor *out,
                                                         const hhbc_conv2d_i8_params *p);

/*
 * in [N][H][W][C], out [N][OH][OW][OC], OC = C * depth_multiplier,
 * weight [KH][KW][OC], bias [OC] or NULL. Output channel oc reads input channel
 * oc / depth_multiplier; taps outside the input are skipped (they read the zero point).
 * Weights with a zero point (p->weight_zp) take depthwise_conv2d_i8_asym below.
 */
void hhbc_depthwise_conv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                              const hhbc_conv2d_i8_params *p)
{
    if (p->weight_zp) {
        depthwise_conv2d_i8_asym(in, out, p);
        return;
    }

    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t mult = oc_n / ic_n;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * ic_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    const int32_t ic = oc / mult;
                    const int32_t q = p->per_channel ? oc : 0;
                    int32_t acc = 0;
                    for (int32_t kh = 0; kh < p->kernel_h; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const int32_t x = src_n[((size_t)ih * iw_n + iw) * ic_n + ic];
                            const int32_t w = p->weight[((size_t)kh * p->kernel_w + kw) * oc_n + oc];
                            acc += w * (x - p->input_zp);
                        }
                    }
                    if (p->bias) acc += p->bias[oc];
                    if (p->scale) {   /* ONNX flavour */
                        dst_px[oc] = (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp,
                                                                 p->act_min, p->act_max);
                        continue;
                    }
                    acc = hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]) + p->output_zp;
                    dst_px[oc] = (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

/* The same loop nest for weights with a zero point: the window sum of x - input_zp is kept
 * beside the tap sum, and weight_zp[oc] times it subtracted (hhbc_i8_weight_zp_fix). */
static int8_t depthwise_conv2d_i8_finish(int32_t acc, int32_t oc, const hhbc_conv2d_i8_params *p)
{
    const int32_t q = p->per_channel ? oc : 0;
    if (p->bias) acc += p->bias[oc];
    if (p->scale)   /* ONNX flavour */
        return (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp, p->act_min, p->act_max);
    acc = hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
}

HHBC_I8_OUT_OF_LINE static void depthwise_conv2d_i8_asym(const hhbc_tensor *in, const hhbc_tensor *out,
                                                         const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t mult = oc_n / ic_n;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * ic_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    const int32_t ic = oc / mult;
                    int32_t acc = 0, xsum = 0;
                    for (int32_t kh = 0; kh < p->kernel_h; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const int32_t x = src_n[((size_t)ih * iw_n + iw) * ic_n + ic] - p->input_zp;
                            const int32_t w = p->weight[((size_t)kh * p->kernel_w + kw) * oc_n + oc];
                            acc += w * x;
                            xsum += x;
                        }
                    }
                    dst_px[oc] = depthwise_conv2d_i8_finish(hhbc_i8_weight_zp_fix(acc, p->weight_zp[oc], xsum),
                                                            oc, p);
                }
            }
        }
    }
}
