/* hhbc reference kernel: 2-D max / average pooling, NHWC, int8 (TFLite MAX_POOL_2D,
 * AVERAGE_POOL_2D). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* in [N][H][W][C], out [N][OH][OW][C]; windows clipped to the input. */
void hhbc_pool2d_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];

    for (int32_t n = 0; n < batch; n++) {
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            const int32_t kh0 = ih0 < 0 ? -ih0 : 0;
            const int32_t kh1 = p->kernel_h < ih_n - ih0 ? p->kernel_h : ih_n - ih0;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                const int32_t kw0 = iw0 < 0 ? -iw0 : 0;
                const int32_t kw1 = p->kernel_w < iw_n - iw0 ? p->kernel_w : iw_n - iw0;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                for (int32_t c = 0; c < c_n; c++) {
                    int32_t acc = p->kind == HHBC_POOL_MAX ? INT8_MIN : 0;
                    int32_t count = 0;
                    for (int32_t kh = kh0; kh < kh1; kh++) {
                        for (int32_t kw = kw0; kw < kw1; kw++) {
                            const int32_t x =
                                src[(((size_t)n * ih_n + ih0 + kh) * iw_n + iw0 + kw) * c_n + c];
                            if (p->kind == HHBC_POOL_MAX) acc = x > acc ? x : acc;
                            else acc += x;
                            count++;
                        }
                    }
                    if (p->kind == HHBC_POOL_AVG && count > 0)   /* round half away from 0 */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    dst_px[c] = (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
