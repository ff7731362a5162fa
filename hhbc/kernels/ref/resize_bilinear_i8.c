/* hhbc reference kernel: 2-D bilinear resize, NHWC, int8 (TFLite RESIZE_BILINEAR's integer
 * reference kernel). Input and output share their quantization: the raw int8 values are
 * interpolated with weights in 1/1024 steps, each product of two weights in 1/2^20, and the
 * sum rounded half away from zero to an integer. The tables (lower/quantized_resample.py)
 * hold, per output row, the source rows y0, y1 and the sample's offset dy past y0 in 1/1024
 * (negative at a half-pixel border, where y0 = y1); likewise per output column.
 * int32 is enough: the weights stay within [-512, 1536], so |every partial sum| < 2^29. */
#include "hhbc_kernels_i8.h"

void hhbc_resize_bilinear_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                             const hhbc_resize_bilinear_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const size_t row = (size_t)iw_n * c_n;
    const int32_t one = 1 << 10, half = 1 << 19, unit = 1 << 20;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * row;
        for (int32_t oy = 0; oy < oh_n; oy++) {
            const int8_t *r0 = src_n + (size_t)p->y0[oy] * row;
            const int8_t *r1 = src_n + (size_t)p->y1[oy] * row;
            const int32_t wy1 = p->dy[oy], wy0 = one - wy1;
            for (int32_t ox = 0; ox < ow_n; ox++) {
                const int32_t wx1 = p->dx[ox], wx0 = one - wx1;
                const int8_t *a = r0 + (size_t)p->x0[ox] * c_n, *b = r1 + (size_t)p->x0[ox] * c_n;
                const int8_t *c = r0 + (size_t)p->x1[ox] * c_n, *d = r1 + (size_t)p->x1[ox] * c_n;
                for (int32_t ch = 0; ch < c_n; ch++) {
                    const int32_t v = a[ch] * wy0 * wx0 + b[ch] * wy1 * wx0 + c[ch] * wy0 * wx1
                                      + d[ch] * wy1 * wx1;
                    dst[ch] = (int8_t)((v + (v > 0 ? half : -half)) / unit);
                }
                dst += c_n;
            }
        }
    }
}
