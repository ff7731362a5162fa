/*
 * hhbc reference kernel body: 2-D convolution, NHWC. One loop nest for every dtype; the
 * including file defines
 *   HHBC_KERNEL         the function name,
 *   HHBC_T              the element type of the activations (input and output),
 * and may override the float defaults below:
 *   HHBC_PARAMS         the params struct                      (hhbc_conv2d_params)
 *   HHBC_W_T            the weight element type                (HHBC_T)
 *   HHBC_ACC_T          the accumulator type                   (float)
 *   HHBC_MAC(acc, x, w) one multiply-accumulate                (acc += x * w in float32)
 *   HHBC_START(oc)      the accumulator's first value          (bias[oc], or 0)
 *   HHBC_FINISH(acc, oc) the output element from the sum        (activation, then HHBC_ST)
 *   HHBC_PROLOGUE       statements run first, e.g. a dispatch to another instance (none)
 * with HHBC_LD(x) (element -> float) and HHBC_ST(v) (float -> element) for the float types.
 * No include guard: each <op>.c / <op>_f16.c / <op>_w8.c / <op>_i8.c includes its body once.
 *
 * in  [N][H][W][C], out [N][OH][OW][OC],
 * weight [OC][KH][KW][C / groups], bias [OC] or NULL.
 * Output pixel (oh, ow) reads input row oh * stride_h - pad_top + kh * dilation_h
 * (likewise for columns); taps outside the input are skipped (zero, or the zero point in int8).
 */
#ifndef HHBC_PARAMS
#define HHBC_PARAMS hhbc_conv2d_params
#endif
#ifndef HHBC_W_T
#define HHBC_W_T HHBC_T
#endif
#ifndef HHBC_ACC_T
#define HHBC_ACC_T float
#endif
#ifndef HHBC_MAC
#define HHBC_MAC(acc, x, w) ((acc) += HHBC_LD(x) * HHBC_LD(w))
#endif
#ifndef HHBC_START
#define HHBC_START(oc) (p->bias ? p->bias[oc] : 0.0f)
#endif
#ifndef HHBC_FINISH
#define HHBC_FINISH(acc, oc) HHBC_ST(hhbc_act_apply((acc), &p->act))
#endif

void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const HHBC_PARAMS *p)
{
#ifdef HHBC_PROLOGUE
    HHBC_PROLOGUE
#endif
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
                    const HHBC_W_T *w_oc = (const HHBC_W_T *)p->weight + (size_t)oc * kh_n * kw_n * icg;
                    HHBC_ACC_T acc = HHBC_START(oc);
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const HHBC_T *x = src_n + ((size_t)ih * iw_n + iw) * ic_n + (size_t)g * icg;
                            const HHBC_W_T *w = w_oc + ((size_t)kh * kw_n + kw) * icg;
                            for (int32_t ic = 0; ic < icg; ic++) HHBC_MAC(acc, x[ic], w[ic]);
                        }
                    }
                    dst_px[oc] = HHBC_FINISH(acc, oc);
                }
            }
        }
    }
}
