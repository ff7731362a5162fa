/* hhbc reference kernel: int8 -> int8 requantization with a clamp (TFLite QUANTIZE between
 * int8 tensors, RELU, RELU6, RELU_N1_TO_1). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

void hhbc_requantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_requantize_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const hhbc_requant_i8 *q = &p->rq;
    const int32_t size = hhbc_numel(in);
    if (p->onnx) {   /* DequantizeLinear, then QuantizeLinear, in float32 */
        for (int32_t i = 0; i < size; i++) {
            const float real = p->input_scale * (float)((int32_t)src[i] - q->input_zp);
            const float v = real / p->output_scale;
            dst[i] = (int8_t)hhbc_fp_quantize_f32(v, q->output_zp, p->act_min, p->act_max);
        }
        return;
    }
    for (int32_t i = 0; i < size; i++) {
        const int32_t y = hhbc_fp_mul_by_qm((int32_t)src[i] - q->input_zp, q->multiplier, q->shift)
                          + q->output_zp;
        dst[i] = (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
    }
}
