/* hhbc reference kernel: softmax along one axis, int8 (TFLite SOFTMAX). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/*
 * Output scale 1/256, zero point -128. Per row: d = x - max(x); where d >= diff_min,
 * e = exp(d * beta * in_scale) in Q0.31 from d rescaled to Q5.26 by input_multiplier <<
 * input_left_shift; the sum of e / 2^12 (Q12.19) is inverted by Newton-Raphson and each
 * output is e * (1 / sum) rounded to 8 bits; elsewhere the output is -128.
 */
void hhbc_softmax_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                     const hhbc_softmax_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t scaled_diff_bits = 5;    /* Q5.26 input to exp */
    const int32_t accum_bits = 12;         /* Q12.19 sum of exps */

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t i = 0; i < p->inner; i++) {
            const size_t base = (size_t)o * p->axis_size * p->inner + (size_t)i;
            const size_t stride = (size_t)p->inner;
            int32_t max = INT8_MIN;
            for (int32_t c = 0; c < p->axis_size; c++) {
                const int32_t x = src[base + (size_t)c * stride];
                max = x > max ? x : max;
            }
            int32_t sum = 0;
            for (int32_t c = 0; c < p->axis_size; c++) {
                const int32_t diff = src[base + (size_t)c * stride] - max;
                if (diff < p->diff_min) continue;
                const int32_t scaled = hhbc_fp_mul_by_qm(diff, p->input_multiplier,
                                                         p->input_left_shift);
                const int32_t e = hhbc_fp_exp_on_negative_values(scaled, scaled_diff_bits);
                sum = hhbc_fp_add(sum, hhbc_fp_rdbpot(e, accum_bits));   /* Q0.31 -> Q12.19 */
            }
            /* 1 / sum: sum = 2^bits_over_unit * (1 + f), f in [0, 1) */
            const int32_t headroom = hhbc_fp_clz((uint32_t)sum);
            const int32_t bits_over_unit = accum_bits - headroom;
            const int32_t f = hhbc_fp_from_u32(((uint32_t)sum << headroom) - 0x80000000u);
            const int32_t reciprocal = hhbc_fp_one_over_one_plus_x(f);
            const int32_t exponent = bits_over_unit + 31 - 8;
            for (int32_t c = 0; c < p->axis_size; c++) {
                const size_t k = base + (size_t)c * stride;
                const int32_t diff = src[k] - max;
                if (diff < p->diff_min) {
                    dst[k] = INT8_MIN;
                    continue;
                }
                const int32_t scaled = hhbc_fp_mul_by_qm(diff, p->input_multiplier,
                                                         p->input_left_shift);
                const int32_t e = hhbc_fp_exp_on_negative_values(scaled, scaled_diff_bits);
                const int32_t y = hhbc_fp_rdbpot(hhbc_fp_srdhm(reciprocal, e), exponent) + INT8_MIN;
                dst[k] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
            }
        }
    }
}
