/*
 * hhbc reference kernel body: 2-D transposed convolution (deconvolution), NHWC.
 * Type-generic (see conv2d_body.h for the HHBC_KERNEL/HHBC_T/HHBC_LD/HHBC_ST contract).
 *
 * in  [N][H][W][C], out [N][OH][OW][OC],
 * weight [OC][KH][KW][C / groups], bias [OC] or NULL.
 * Written as a gather, one output pixel at a time: tap (kh, kw) of output row oh
 * reads input row ih = (oh + pad_top - kh * dilation_h) / stride_h when that
 * division is exact and ih is inside the input (likewise for columns).
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_deconv2d_params *p)
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
            for (int32_t ow = 0; ow < ow_n; ow++) {
                HHBC_T *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    const int32_t g = oc / ocg;
                    const HHBC_T *w_oc = (const HHBC_T *)p->weight + (size_t)oc * kh_n * kw_n * icg;
                    float acc = p->bias ? p->bias[oc] : 0.0f;
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t th = oh + p->pad_top - kh * p->dilation_h;
                        if (th < 0 || th % p->stride_h != 0) continue;
                        const int32_t ih = th / p->stride_h;
                        if (ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int32_t tw = ow + p->pad_left - kw * p->dilation_w;
                            if (tw < 0 || tw % p->stride_w != 0) continue;
                            const int32_t iw = tw / p->stride_w;
                            if (iw >= iw_n) continue;
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
