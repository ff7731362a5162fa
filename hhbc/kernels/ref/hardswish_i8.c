/* hhbc reference kernel: hard-swish, int8 (TFLite HARD_SWISH). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/*
 * TFLite's int16 fixed-point evaluation of x * relu6(x + 3) / 6:
 * x' = (x - in_zp) * 2^7 on a "hires" input scale; v = x' rescaled to the output scale
 * (not yet shifted); r = x' rescaled so that 3.0 maps to 2^15 (saturating), mapped from
 * [-1, 1] to [0, 1]; out = rdbpot(sdhm(r, v), -output_exponent) + out_zp.
 */
void hhbc_hardswish_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                       const hhbc_hardswish_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t size = hhbc_numel(in);

    for (int32_t i = 0; i < size; i++) {
        const int16_t x_hires = (int16_t)(((int32_t)src[i] - p->input_zp) * (1 << 7));
        const int16_t x_preshift = hhbc_fp_srdhm16(x_hires, p->output_multiplier);
        int16_t r = x_hires;
        if (p->reluish_exponent > 0) r = hhbc_fp_sat_shl16(r, p->reluish_exponent - 1);
        r = hhbc_fp_srdhm16(r, p->reluish_multiplier);
        if (p->reluish_exponent > 0) r = hhbc_fp_sat_shl16(r, 1);
        if (p->reluish_exponent < 0) r = hhbc_fp_rdbpot16(r, -p->reluish_exponent);
        r = (int16_t)(((int32_t)r + (1 << 15)) >> 1);   /* [-1, 1] -> [0, 1] */
        const int16_t y_preshift = hhbc_fp_sdhm16(r, x_preshift);
        const int16_t y = hhbc_fp_wrap16((int32_t)hhbc_fp_rdbpot16(y_preshift, -p->output_exponent)
                                         + p->output_zp);
        dst[i] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
    }
}
