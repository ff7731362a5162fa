/* hhbc reference kernel: elementwise add with broadcasting, int8 (TFLite ADD, and SUB). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* ONNX Runtime's x86 QLinearAdd, in its uint8 domain (every value + 128); one float
 * operation per statement (no fused multiply-add). */
static int8_t add_one_onnx(int32_t a, int32_t b, const hhbc_add_i8_params *p)
{
    const float ta = (float)(a + 128) * p->a_ratio;
    const float tb = (float)(b + 128) * p->b_ratio;
    const float partial = p->fixed + ta;
    const float v = partial + tb;
    return (int8_t)(hhbc_fp_quantize_f32(v, 0, p->act_min + 128, p->act_max + 128) - 128);
}

static int8_t add_one(int32_t a, int32_t b, const void *params)
{
    const hhbc_add_i8_params *p = (const hhbc_add_i8_params *)params;
    if (p->onnx) return add_one_onnx(a, b, p);
    const int32_t a_scaled = hhbc_fp_mul_by_qm(hhbc_fp_shl(a - p->a_zp, p->left_shift),
                                               p->a_multiplier, p->a_shift);
    const int32_t b_scaled = hhbc_fp_mul_by_qm(hhbc_fp_shl(b - p->b_zp, p->left_shift),
                                               p->b_multiplier, p->b_shift);
    /* TFLite SUB: the same arithmetic, input 2's scaled term subtracted */
    const int32_t sum = p->sub ? hhbc_fp_sub(a_scaled, b_scaled) : hhbc_fp_add(a_scaled, b_scaled);
    const int32_t y = hhbc_fp_mul_by_qm(sum, p->output_multiplier, p->output_shift) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
}

void hhbc_add_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_add_i8_params *p)
{
    hhbc_broadcast_map_i8(a, b, out, &p->shape, add_one, p);
}
