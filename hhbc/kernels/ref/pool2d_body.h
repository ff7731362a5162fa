/*
 * hhbc reference kernel body: 2-D max / average pooling, NHWC. Type-generic (see
 * conv2d_body.h); HHBC_T_F32 is 1 when HHBC_T is float.
 *
 * in [N][H][W][C], out [N][OH][OW][C]; the output size comes from out->dim (it may
 * include ceil_mode windows). Window (oh, ow) covers rows oh * stride_h - pad_top
 * + kh * dilation_h, kh < kernel_h (likewise for columns).
 *  - MAX ignores taps outside the input (a window with no real tap gives -INFINITY).
 *  - AVG sums the taps inside the input and divides by the number of taps inside
 *    the input (count_include_pad = 0) or inside the padded extent
 *    [-pad_top, H + pad_bottom) x [-pad_left, W + pad_right) (count_include_pad = 1).
 *    A window with a zero divisor gives 0.
 * Accumulators are float32: for float the output pixel doubles as the per-channel
 * accumulator; otherwise channels go through a fixed float buffer, HHBC_ACC_CHUNK at a
 * time, rounded once on the store.
 */
#ifndef HHBC_ACC_CHUNK
#define HHBC_ACC_CHUNK 128
#endif

void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t is_max = p->kind == HHBC_POOL_MAX;
#if HHBC_T_F32
    const int32_t chunk = c_n > 0 ? c_n : 1;
#else
    const int32_t chunk = HHBC_ACC_CHUNK;
    float accbuf[HHBC_ACC_CHUNK];
#endif

    for (int32_t n = 0; n < batch; n++) {
        const HHBC_T *src_n = src + (size_t)n * ih_n * iw_n * c_n;
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
                HHBC_T *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                int32_t cols_in = 0, cols_pad = 0;
                for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                    const int32_t iw = iw0 + kw * p->dilation_w;
                    cols_in += iw >= 0 && iw < iw_n;
                    cols_pad += iw >= -p->pad_left && iw < iw_n + p->pad_right;
                }

                for (int32_t c0 = 0; c0 < c_n; c0 += chunk) {
                    const int32_t cn = c_n - c0 < chunk ? c_n - c0 : chunk;
#if HHBC_T_F32
                    float *acc = dst_px + c0;
#else
                    float *acc = accbuf;
#endif
                    for (int32_t c = 0; c < cn; c++) acc[c] = is_max ? -INFINITY : 0.0f;
                    for (int32_t kh = 0; kh < p->kernel_h; kh++) {
                        const int32_t ih = ih0 + kh * p->dilation_h;
                        if (ih < 0 || ih >= ih_n) continue;
                        for (int32_t kw = 0; kw < p->kernel_w; kw++) {
                            const int32_t iw = iw0 + kw * p->dilation_w;
                            if (iw < 0 || iw >= iw_n) continue;
                            const HHBC_T *x = src_n + ((size_t)ih * iw_n + iw) * c_n + c0;
                            if (is_max) {
                                for (int32_t c = 0; c < cn; c++) {
                                    const float v = HHBC_LD(x[c]);
                                    acc[c] = v > acc[c] ? v : acc[c];
                                }
                            } else {
                                for (int32_t c = 0; c < cn; c++) acc[c] += HHBC_LD(x[c]);
                            }
                        }
                    }
                    if (!is_max) {
                        const int32_t count = p->count_include_pad ? rows_pad * cols_pad : rows_in * cols_in;
                        const float divisor = (float)count;
                        for (int32_t c = 0; c < cn; c++)
                            dst_px[c0 + c] = HHBC_ST(count > 0 ? acc[c] / divisor : 0.0f);
                    } else {
                        for (int32_t c = 0; c < cn; c++) dst_px[c0 + c] = HHBC_ST(acc[c]);
                    }
                }
            }
        }
    }
}
