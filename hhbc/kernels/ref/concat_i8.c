/* hhbc reference kernel: concat along one axis, int8 (TFLite CONCATENATION). */
#include <string.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

/* Each input is viewed as [outer][axis_dim[i] * inner]; slices are copied (or requantized
 * to the output's scale and zero point) one after another into [outer][sum * inner]. */
void hhbc_concat_i8(const hhbc_tensor *const *in, const hhbc_tensor *out,
                    const hhbc_concat_i8_params *p)
{
    int8_t *dst = (int8_t *)out->data;
    size_t out_row = 0;
    for (int32_t i = 0; i < p->num_inputs; i++) out_row += (size_t)p->axis_dim[i] * p->inner;

    size_t col = 0;
    for (int32_t i = 0; i < p->num_inputs; i++) {
        const int8_t *src = (const int8_t *)in[i]->data;
        const size_t row = (size_t)p->axis_dim[i] * p->inner;
        for (int32_t o = 0; o < p->outer; o++) {
            const int8_t *s = src + (size_t)o * row;
            int8_t *d = dst + (size_t)o * out_row + col;
            if (!p->requant) {
                memcpy(d, s, row);
                continue;
            }
            const hhbc_requant_i8 *q = &p->requant[i];
            for (size_t j = 0; j < row; j++) {
                const int32_t y = hhbc_fp_mul_by_qm((int32_t)s[j] - q->input_zp, q->multiplier,
                                                    q->shift) + q->output_zp;
                d[j] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
            }
        }
        col += row;
    }
}
