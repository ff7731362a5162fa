/*
 * hhbc reference kernel body: 2-D convolution, NHWC. Type-generic: the including file
 * defines HHBC_KERNEL (function name), HHBC_T (element type of activations and weights),
 * HHBC_LD(x) (element -> float) and HHBC_ST(v) (float -> element); arithmetic is float32.
 * HHBC_T_F32 is 1 when HHBC_T is float (the float output can double as accumulator).
 * No include guard: each <op>.c / <op>_f16.c includes its body once.
 *
 * in  [N][H][W][C], out [N][OH][OW][OC],
 * weight [OC][KH][KW][C / groups], bias [OC] or NULL.
 * Output pixel (oh, ow) reads input row oh * stride_h - pad_top + kh * dilation_h
 * (likewise for columns); taps outside the input contribute zero.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const int32_t icg = ic_n / p->groups;   /* input channels per group */
    const int32_t ocg = oc_n / p->groups;   /* output channels per group */

    for (int32_t n = 0; n < batch; n++) {
        const HHBC_T *src_n = src + (size_t)n * ih_n * iw_n * ic_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                HHBC_T *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    const int32_t g = oc / ocg;
                    const HHBC_T *w_oc = (const HHBC_T *)p->weight + (size_t)oc * kh_n * kw_n * icg;
                    float acc = p->bias ? p->bias[oc] : 0.0f;
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const HHBC_T *x = src_n + ((size_t)ih * iw_n + iw) * ic_n + (size_t)g * icg;
                            const HHBC_T *w = w_oc + ((size_t)kh * kw_n + kw) * icg;
                            for (int32_t ic = 0; ic < icg; ic++) acc += HHBC_LD(x[ic]) * HHBC_LD(w[ic]);
                        }
                    }
                    dst_px[oc] = HHBC_ST(hhbc_act_apply(acc, &p->act));
                }
            }
        }
    }
}
