/* hhbc reference kernel: 2-D max / average pooling, NHWC, int8 (TFLite MAX_POOL_2D,
 * AVERAGE_POOL_2D; ONNX QLinearAveragePool in the ONNX flavour). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* One window of channel c, clipped to the input: the quantized result. */
static int32_t pool_window(const int8_t *src_n, int32_t iw_n, int32_t c_n, int32_t c, int32_t ih0,
                           int32_t iw0, int32_t kh0, int32_t kh1, int32_t kw0, int32_t kw1,
                           const hhbc_pool2d_i8_params *p)
{
    int32_t acc = p->kind == HHBC_POOL_MAX ? INT8_MIN : 0;
    float sum = 0.0f;
    int32_t count = 0;
    for (int32_t kh = kh0; kh < kh1; kh++) {
        for (int32_t kw = kw0; kw < kw1; kw++) {
            const int32_t x = src_n[((size_t)(ih0 + kh) * iw_n + iw0 + kw) * c_n + c];
            if (p->kind == HHBC_POOL_MAX) {
                acc = x > acc ? x : acc;
            } else if (p->rounding == HHBC_POOL_ONNX_FLOAT) {
                const float real = p->input_scale * (float)(x - p->input_zp);
                sum += real;
            } else {
                acc += x;
            }
            count++;
        }
    }
    if (p->kind == HHBC_POOL_MAX || count == 0) return acc;
    if (p->rounding == HHBC_POOL_ONNX_WHOLE)
        return hhbc_fp_requant_f32(acc - count * p->input_zp, p->scale, p->output_zp, INT8_MIN, INT8_MAX);
    if (p->rounding == HHBC_POOL_ONNX_FLOAT) {
        /* ONNX Runtime on x86 runs this in uint8: its zero point is + 128 before rounding */
        const int32_t n = p->count_include_pad ? p->kernel_h * p->kernel_w : count;
        const float avg = sum / (float)n;
        const float scaled = avg / p->output_scale;
        const float v = scaled + (float)(p->output_zp + 128);
        return hhbc_fp_quantize_f32(v, 0, 0, 255) - 128;
    }
    /* round half away from 0 */
    return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
}

/* in [N][H][W][C], out [N][OH][OW][C]; windows clipped to the input. */
void hhbc_pool2d_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh0, kh1;
            hhbc_window_clip(ih0, p->kernel_h, ih_n, &kh0, &kh1);
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int32_t kw0, kw1;
                hhbc_window_clip(iw0, p->kernel_w, iw_n, &kw0, &kw1);
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                for (int32_t c = 0; c < c_n; c++) {
                    const int32_t y = pool_window(src_n, iw_n, c_n, c, ih0, iw0, kh0, kh1, kw0, kw1, p);
                    dst_px[c] = (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
                }
            }
        }
    }
}
