/* hhbc reference kernel: depthwise 2-D convolution, NHWC, float32. */
#include "hhbc_kernels.h"
#include "hhbc_act.h"

/*
 * in [N][H][W][C], out [N][OH][OW][OC] with OC = C * multiplier; output channel
 * oc = c * multiplier + m reads input channel c. weight [KH][KW][OC], bias [OC] or NULL.
 * Taps outside the input contribute zero. p->groups is ignored.
 * The output pixel doubles as the accumulator (channels innermost, no scratch).
 */
void hhbc_depthwise_conv2d_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                               const hhbc_conv2d_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const int32_t mult = oc_n / c_n;

    for (int32_t n = 0; n < batch; n++) {
        const float *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                float *acc = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) acc[oc] = p->bias ? p->bias[oc] : 0.0f;
                for (int32_t kh = 0; kh < kh_n; kh++) {
                    const int32_t ih = ih0 + kh * p->dilation_h;
                    if (ih < 0 || ih >= ih_n) continue;
                    for (int32_t kw = 0; kw < kw_n; kw++) {
                        const int32_t iw = iw0 + kw * p->dilation_w;
                        if (iw < 0 || iw >= iw_n) continue;
                        const float *x = src_n + ((size_t)ih * iw_n + iw) * c_n;
                        const float *w = (const float *)p->weight + ((size_t)kh * kw_n + kw) * oc_n;
                        if (mult == 1) {
                            for (int32_t c = 0; c < c_n; c++) acc[c] += x[c] * w[c];
                        } else {
                            for (int32_t c = 0; c < c_n; c++) {
                                const float xv = x[c];
                                float *a = acc + (size_t)c * mult;
                                const float *wc = w + (size_t)c * mult;
                                for (int32_t m = 0; m < mult; m++) a[m] += xv * wc[m];
                            }
                        }
                    }
                }
                for (int32_t oc = 0; oc < oc_n; oc++) acc[oc] = hhbc_act_apply(acc[oc], &p->act);
            }
        }
    }
}
