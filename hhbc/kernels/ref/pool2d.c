/* hhbc reference kernel: 2-D max / average pooling, NHWC, float32. */
#include <math.h>

#include "hhbc_kernels.h"

/*
 * in [N][H][W][C], out [N][OH][OW][C]; the output size comes from out->dim (it may
 * include ceil_mode windows). Window (oh, ow) covers rows oh * stride_h - pad_top
 * + kh * dilation_h, kh < kernel_h (likewise for columns).
 *  - MAX ignores taps outside the input (a window with no real tap gives -INFINITY).
 *  - AVG sums the taps inside the input and divides by the number of taps inside
 *    the input (count_include_pad = 0) or inside the padded extent
 *    [-pad_top, H + pad_bottom) x [-pad_left, W + pad_right) (count_include_pad = 1).
 *    A window with a zero divisor gives 0.
 * The output pixel doubles as the per-channel accumulator.
 */
void hhbc_pool2d_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t is_max = p->kind == HHBC_POOL_MAX;

    for (int32_t n = 0; n < batch; n++) {
        const float *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            /* taps of this window row-wise inside the input / the padded extent */
            int32_t rows_in = 0, rows_pad = 0;
            for (int32_t kh = 0; kh < p->kernel_h; kh++) {
                const int32_t ih = ih0 + kh * p->dilation_h;
                rows_in += ih >= 0 && ih < ih_n;
                rows_pad += ih >= -p->pad_top && ih < ih_n + p->pad_bottom;
            }
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                float *acc = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                int32_t cols_in = 0, cols_pad = 0;
                for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                    const int32_t iw = iw0 + kw * p->dilation_w;
                    cols_in += iw >= 0 && iw < iw_n;
                    cols_pad += iw >= -p->pad_left && iw < iw_n + p->pad_right;
                }

                for (int32_t c = 0; c < c_n; c++) acc[c] = is_max ? -INFINITY : 0.0f;
                for (int32_t kh = 0; kh < p->kernel_h; kh++) {
                    const int32_t ih = ih0 + kh * p->dilation_h;
                    if (ih < 0 || ih >= ih_n) continue;
                    for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                        const int32_t iw = iw0 + kw * p->dilation_w;
                        if (iw < 0 || iw >= iw_n) continue;
                        const float *x = src_n + ((size_t)ih * iw_n + iw) * c_n;
                        if (is_max) {
                            for (int32_t c = 0; c < c_n; c++) acc[c] = x[c] > acc[c] ? x[c] : acc[c];
                        } else {
                            for (int32_t c = 0; c < c_n; c++) acc[c] += x[c];
                        }
                    }
                }
                if (!is_max) {
                    const int32_t count = p->count_include_pad ? rows_pad * cols_pad : rows_in * cols_in;
                    const float divisor = (float)count;
                    for (int32_t c = 0; c < c_n; c++) acc[c] = count > 0 ? acc[c] / divisor : 0.0f;
                }
            }
        }
    }
}
