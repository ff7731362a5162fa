/* hhbc reference kernel: 2-D transposed convolution, NHWC, int8 (TFLite TRANSPOSE_CONV).
 *
 * TFLite scatters every input pixel through the filter into int32 sums; this kernel gathers
 * the same sums one output pixel at a time (integer sums do not depend on their order):
 * tap (kh, kw) of output row oh reads input row ih = (oh + pad_top - kh) / stride_h when the
 * division is exact and ih lies inside the input (likewise for columns); only the taps with
 * kh = (oh + pad_top) mod stride_h (+ a multiple of the stride) are visited. Then, as CONV_2D:
 * acc = sum w * (x - input_zp) + bias, out = clamp(mul_by_qm(acc) + output_zp). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

void hhbc_deconv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * ic_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t th = oh + p->pad_top;   /* >= 0: TFLite pads with pad_top >= 0 */
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t tw = ow + p->pad_left;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n;
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    const int8_t *w_oc = p->weight + (size_t)oc * kh_n * kw_n * ic_n;
                    int32_t acc = 0;
                    /* the taps that reach this pixel: kh = th mod stride_h, stepping by the stride
                     * (the source row th / stride_h falls by one each step) */
                    for (int32_t kh = th % p->stride_h; kh < kh_n && kh <= th; kh += p->stride_h) {
                        const int32_t ih = (th - kh) / p->stride_h;
                        if (ih >= ih_n) continue;
                        for (int32_t kw = tw % p->stride_w; kw < kw_n && kw <= tw; kw += p->stride_w) {
                            const int32_t iw = (tw - kw) / p->stride_w;
                            if (iw >= iw_n) continue;
                            const int8_t *x = src_n + ((size_t)ih * iw_n + iw) * ic_n;
                            const int8_t *w = w_oc + ((size_t)kh * kw_n + kw) * ic_n;
                            for (int32_t ic = 0; ic < ic_n; ic++)
                                acc += (int32_t)w[ic] * ((int32_t)x[ic] - p->input_zp);
                        }
                    }
                    const int32_t q = p->per_channel ? oc : 0;
                    if (p->bias) acc += p->bias[oc];
                    acc = hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]) + p->output_zp;
                    dst_px[oc] = (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
