/* hhbc reference kernel: elementwise multiply with broadcasting, int8 (TFLite MUL). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

static int8_t mul_one(int32_t a, int32_t b, const void *params)
{
    const hhbc_mul_i8_params *p = (const hhbc_mul_i8_params *)params;
    const int32_t prod = (a - p->a_zp) * (b - p->b_zp);   /* |prod| <= 255 * 255 */
    const int32_t y = hhbc_fp_mul_by_qm(prod, p->output_multiplier, p->output_shift) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
}

void hhbc_mul_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_mul_i8_params *p)
{
    hhbc_broadcast_map_i8(a, b, out, &p->shape, mul_one, p);
}
