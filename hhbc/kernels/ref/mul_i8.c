/* hhbc reference kernel: elementwise multiply with broadcasting, int8 (TFLite MUL). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

static int8_t mul_one(int32_t a, int32_t b, const hhbc_mul_i8_params *p)
{
    const int32_t prod = (a - p->a_zp) * (b - p->b_zp);   /* |prod| <= 255 * 255 */
    const int32_t y = hhbc_fp_mul_by_qm(prod, p->output_multiplier, p->output_shift) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(y, p->act_min, p->act_max);
}

/* Walks the output in row-major order; a and b advance by their per-axis strides. */
void hhbc_mul_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_mul_i8_params *p)
{
    const int8_t *pa = (const int8_t *)a->data;
    const int8_t *pb = (const int8_t *)b->data;
    int8_t *dst = (int8_t *)out->data;
    const hhbc_broadcast_i8 *s = &p->shape;
    const int32_t last = s->ndim - 1;
    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t ia = 0, ib = 0, o = 0;

    do {
        for (int32_t i = 0; i < s->out_dim[last]; i++)
            dst[o++] = mul_one(pa[ia + (size_t)i * s->a_stride[last]],
                               pb[ib + (size_t)i * s->b_stride[last]], p);
    } while (hhbc_broadcast_next_row(s, idx, &ia, &ib));
}
