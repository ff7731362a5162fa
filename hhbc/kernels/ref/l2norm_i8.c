/* hhbc reference kernel: L2 normalization over the last axis, int8 (TFLite L2_NORMALIZATION,
 * integer kernel; output scale 1/128, zero point 0). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* round(x * 2^exponent) for -31 <= exponent <= 31, saturating (SaturatingRoundingMultiplyByPOT). */
static int32_t mul_by_pot(int32_t x, int32_t exponent)
{
    return exponent >= 0 ? hhbc_fp_sat_shl(x, exponent) : hhbc_fp_rdbpot(x, -exponent);
}

/* 1 / sqrt(sum) as multiplier * 2^(shift - 31) (GetInvSqrtQuantizedMultiplierExp, the shift
 * returned as a left shift): Newton-Raphson in Q3.28 on sum normalized to [2^27, 2^29). */
static void inv_sqrt(int32_t sum, int32_t *multiplier, int32_t *shift)
{
    if (sum <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    int32_t right = 11;
    while (sum >= ((int32_t)1 << 29)) {
        sum /= 4;
        right++;
    }
    const int32_t pairs = (hhbc_fp_clz((uint32_t)sum) - 1) / 2 - 1;
    right -= pairs;
    sum <<= 2 * pairs;
    const int32_t half_input = mul_by_pot(sum >> 1, -1);
    const int32_t half_three = ((int32_t)1 << 28) + ((int32_t)1 << 27);
    int32_t x = (int32_t)1 << 28;   /* 1.0 in Q3.28 */
    for (int32_t i = 0; i < 5; i++) {
        const int32_t x3 = mul_by_pot(hhbc_fp_srdhm(hhbc_fp_srdhm(x, x), x), 6);
        x = mul_by_pot(hhbc_fp_sub(hhbc_fp_srdhm(half_three, x), hhbc_fp_srdhm(half_input, x3)), 3);
    }
    x = hhbc_fp_srdhm(x, 1518500250);   /* * sqrt(2) / 2 in Q0.31 */
    if (right < 0) {
        x = hhbc_fp_shl(x, -right);
        right = 0;
    }
    *multiplier = x;
    *shift = -right;
}

void hhbc_l2norm_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_l2norm_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    for (int32_t o = 0; o < p->outer; o++) {
        const int8_t *row = src + (size_t)o * (size_t)p->depth;
        int8_t *y = dst + (size_t)o * (size_t)p->depth;
        int32_t sum = 0;
        for (int32_t c = 0; c < p->depth; c++) {
            const int32_t v = row[c] - p->input_zp;
            sum = hhbc_fp_add(sum, v * v);   /* wraps past 2^31 (depth > 33000) as TFLite's does */
        }
        int32_t multiplier, shift;
        inv_sqrt(sum, &multiplier, &shift);
        for (int32_t c = 0; c < p->depth; c++) {
            const int32_t v = hhbc_fp_mul_by_qm(row[c] - p->input_zp, multiplier, shift + 7);
            y[c] = (int8_t)hhbc_fp_clamp(v, INT8_MIN, INT8_MAX);
        }
    }
}
