/* hhbc reference kernel: elementwise squared difference with broadcasting, int8 (TFLite
 * SQUARED_DIFFERENCE). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

static int8_t squared_difference_one(int32_t a, int32_t b, const void *params)
{
    const hhbc_squared_difference_i8_params *p = (const hhbc_squared_difference_i8_params *)params;
    /* every shift is <= 0 (the lowering checks it): mul_by_qm is a plain rescale here */
    const int32_t a_scaled = hhbc_fp_mul_by_qm(hhbc_fp_shl(a - p->a_zp, p->left_shift),
                                               p->a_multiplier, p->a_shift);
    const int32_t b_scaled = hhbc_fp_mul_by_qm(hhbc_fp_shl(b - p->b_zp, p->left_shift),
                                               p->b_multiplier, p->b_shift);
    const int32_t diff = a_scaled - b_scaled;   /* |diff| <= 255 * 2^7 */
    const int32_t y = hhbc_fp_mul_by_qm(diff * diff, p->output_multiplier, p->output_shift) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
}

void hhbc_squared_difference_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                                const hhbc_squared_difference_i8_params *p)
{
    hhbc_broadcast_map_i8(a, b, out, &p->shape, squared_difference_one, p);
}
