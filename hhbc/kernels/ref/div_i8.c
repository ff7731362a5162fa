/* hhbc reference kernel: elementwise division with broadcasting, int8 (TFLite DIV). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* Leading bits equal to the sign bit, the sign bit excluded (CountLeadingSignBits). */
static int32_t leading_sign_bits(int32_t x)
{
    if (x >= 0) return hhbc_fp_clz((uint32_t)x) - 1;
    if (x == INT32_MIN) return 0;
    return hhbc_fp_clz(2u * (uint32_t)(-x) - 1u);
}

/* RoundingDivideByPOT as TFLite runs it for any exponent >= 0: past 31 (a small numerator
 * over a large divisor) gemmlowp's mask is all ones and the shift count wraps modulo 32 on
 * x86 and RISC-V alike; spelled out here so the C stays defined. */
static int32_t rdbpot_any(int32_t x, int32_t exponent)
{
    if (exponent <= 31) return hhbc_fp_rdbpot(x, exponent);
    return hhbc_fp_asr(x, exponent & 31) + (x > (x < 0 ? 0 : -1) ? 1 : 0);
}

static int8_t div_one(int32_t a, int32_t b, const void *params)
{
    const hhbc_div_i8_params *p = (const hhbc_div_i8_params *)params;
    int32_t num = a - p->a_zp, den = b - p->b_zp;
    if (den == 0)   /* TFLite leaves this undefined: saturate by the numerator's sign */
        return (int8_t)(num > 0 ? p->act_max : (num < 0 ? p->act_min : hhbc_fp_clamp(p->output_zp, p->act_min, p->act_max)));
    if (den < 0) {
        num = -num;
        den = -den;
    }
    /* 1 / den as a Q0.31 reciprocal of den / 2^recip_shift in [1, 2) (GetReciprocal) */
    const int32_t headroom_plus_one = hhbc_fp_clz((uint32_t)den);
    const int32_t recip_shift = 31 - headroom_plus_one;
    const int32_t shifted_minus_one = hhbc_fp_from_u32(((uint32_t)den << headroom_plus_one) - (1u << 31));
    const int32_t inv = hhbc_fp_one_over_one_plus_x(shifted_minus_one);
    const int32_t headroom = leading_sign_bits(num);
    const int32_t quotient = hhbc_fp_srdhm(hhbc_fp_shl(num, headroom), inv);
    const int32_t total_shift = p->output_shift - recip_shift - headroom;
    const int32_t right = total_shift < 0 ? -total_shift : 0;
    const int32_t y = rdbpot_any(hhbc_fp_srdhm(quotient, p->output_multiplier), right) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
}

void hhbc_div_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out, const hhbc_div_i8_params *p)
{
    hhbc_broadcast_map_i8(a, b, out, &p->shape, div_one, p);
}
