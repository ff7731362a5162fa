/*
 * hhbc reference kernel body: depthwise 2-D convolution, NHWC. Type-generic (see
 * conv2d_body.h); HHBC_T_F32 is 1 when HHBC_T is float.
 *
 * in [N][H][W][C], out [N][OH][OW][OC] with OC = C * multiplier; output channel
 * oc = c * multiplier + m reads input channel c. weight [KH][KW][OC], bias [OC] or NULL.
 * Taps outside the input contribute zero. p->groups is ignored.
 * Accumulators are float32: for float the output pixel doubles as the accumulator (one
 * chunk of all channels, no scratch); otherwise the channels go through a fixed-size
 * float buffer, HHBC_ACC_CHUNK channels at a time, rounded once on the store.
 * Every output sums its taps in the same order either way.
 */
#ifndef HHBC_ACC_CHUNK
#define HHBC_ACC_CHUNK 128
#endif

void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const int32_t mult = oc_n / c_n;
#if HHBC_T_F32
    const int32_t chunk = oc_n > 0 ? oc_n : 1;
#else
    const int32_t chunk = HHBC_ACC_CHUNK;
    float accbuf[HHBC_ACC_CHUNK];
#endif

    for (int32_t n = 0; n < batch; n++) {
        const HHBC_T *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                HHBC_T *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc0 = 0; oc0 < oc_n; oc0 += chunk) {
                    const int32_t cn = oc_n - oc0 < chunk ? oc_n - oc0 : chunk;
#if HHBC_T_F32
                    float *acc = dst_px + oc0;
#else
                    float *acc = accbuf;
#endif
                    for (int32_t i = 0; i < cn; i++) acc[i] = p->bias ? p->bias[oc0 + i] : 0.0f;
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const HHBC_T *x = src_n + ((size_t)ih * iw_n + iw) * c_n;
                            const HHBC_T *w = (const HHBC_T *)p->weight + ((size_t)kh * kw_n + kw) * oc_n + oc0;
                            if (mult == 1) {
                                const HHBC_T *xc = x + oc0;
                                for (int32_t i = 0; i < cn; i++) acc[i] += HHBC_LD(xc[i]) * HHBC_LD(w[i]);
                            } else {
                                int32_t c = oc0 / mult, m = oc0 % mult;
                                for (int32_t i = 0; i < cn; i++) {
                                    acc[i] += HHBC_LD(x[c]) * HHBC_LD(w[i]);
                                    if (++m == mult) { m = 0; c++; }
                                }
                            }
                        }
                    }
                    for (int32_t i = 0; i < cn; i++) dst_px[oc0 + i] = HHBC_ST(hhbc_act_apply(acc[i], &p->act));
                }
            }
        }
    }
}
