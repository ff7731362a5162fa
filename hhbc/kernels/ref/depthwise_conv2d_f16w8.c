/* hhbc reference kernel: depthwise 2-D convolution, NHWC, float16 activations (_Float16),
 * int8 weights (the float16_w_int8 scheme). */
#include "hhbc_kernels_w8.h"
#include "hhbc_act.h"

#define HHBC_F16W8_CHUNK 128   /* float32 accumulators on the stack, channels per pass */

/*
 * in [N][H][W][C], out [N][OH][OW][OC] with OC = C * multiplier; output channel
 * oc = c * multiplier + m reads input channel c. weight [KH][KW][OC] int8, w_scale [OC],
 * bias [OC] or NULL. Taps outside the input contribute zero. p->groups is ignored.
 * Per output pixel, up to HHBC_F16W8_CHUNK channels at a time accumulate x * w in float32
 * (taps in kh, kw order); then out = half(act(acc * w_scale + bias)).
 */
void hhbc_depthwise_conv2d_f16w8(const hhbc_tensor *in, const hhbc_tensor *out,
                                 const hhbc_conv2d_w8_params *p)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const int32_t mult = oc_n / c_n;
    float acc[HHBC_F16W8_CHUNK];

    for (int32_t n = 0; n < batch; n++) {
        const _Float16 *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                _Float16 *y = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc0 = 0; oc0 < oc_n; oc0 += HHBC_F16W8_CHUNK) {
                    const int32_t cn = oc_n - oc0 < HHBC_F16W8_CHUNK ? oc_n - oc0 : HHBC_F16W8_CHUNK;
                    for (int32_t i = 0; i < cn; i++) acc[i] = 0.0f;
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const _Float16 *x = src_n + ((size_t)ih * iw_n + iw) * c_n;
                            const int8_t *w = p->weight + ((size_t)kh * kw_n + kw) * oc_n + oc0;
                            for (int32_t i = 0; i < cn; i++)
                                acc[i] += (float)x[(oc0 + i) / mult] * (float)w[i];
                        }
                    }
                    for (int32_t i = 0; i < cn; i++) {
                        float v = acc[i] * p->w_scale[oc0 + i];
                        if (p->bias) v += p->bias[oc0 + i];
                        y[oc0 + i] = (_Float16)hhbc_act_apply(v, &p->act);
                    }
                }
            }
        }
    }
}
