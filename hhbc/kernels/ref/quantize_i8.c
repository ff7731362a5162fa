/* hhbc reference kernel: float -> int8 affine quantization (TFLite QUANTIZE, ONNX
 * QuantizeLinear). */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

void hhbc_quantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                      const hhbc_affine_i8_params *p)
{
    const float *src = (const float *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t size = hhbc_numel(in);
    for (int32_t i = 0; i < size; i++) {
        if (p->onnx) {   /* division in float, clamp, ties to even (MLAS QuantizeLinear) */
            dst[i] = (int8_t)hhbc_fp_quantize_f32(src[i] / p->scale, p->zero_point, INT8_MIN, INT8_MAX);
            continue;
        }
        float r = roundf(src[i] / p->scale);   /* division in float, ties away from zero */
        if (!(r >= -512.0f)) r = -512.0f;      /* also NaN; keeps the conversion defined */
        if (r > 512.0f) r = 512.0f;
        const int32_t y = (int32_t)r + p->zero_point;
        dst[i] = (int8_t)(y < INT8_MIN ? INT8_MIN : (y > INT8_MAX ? INT8_MAX : y));
    }
}
