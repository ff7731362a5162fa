/* hhbc reference kernel: dense / fully connected, int8 (TFLite FULLY_CONNECTED). */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

HHBC_I8_OUT_OF_LINE static void dense_i8_asym(const hhbc_tensor *in, const hhbc_tensor *out,
                                              const hhbc_dense_i8_params *p);

/* in [M][K], weight [N][K] int8, bias [N] int32 or NULL, out [M][N]. Weights with a zero point
 * (p->weight_zp) take dense_i8_asym below. */
void hhbc_dense_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p)
{
    if (p->weight_zp) {
        dense_i8_asym(in, out, p);
        return;
    }
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;

    for (int32_t m = 0; m < p->m; m++) {
        const int8_t *x = src + (size_t)m * p->k;
        for (int32_t n = 0; n < p->n; n++) {
            const int8_t *w = p->weight + (size_t)n * p->k;
            const int32_t q = p->per_channel ? n : 0;
            int32_t acc = 0;
            for (int32_t k = 0; k < p->k; k++)
                acc += (int32_t)w[k] * ((int32_t)x[k] - p->input_zp);
            if (p->bias) acc += p->bias[n];
            if (p->scale) {   /* ONNX flavour */
                dst[(size_t)m * p->n + n] = (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp,
                                                                        p->act_min, p->act_max);
                continue;
            }
            acc = (p->real_scale ? hhbc_fp_mul_by_real(acc, p->real_scale[q])
                                 : hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]))
                  + p->output_zp;
            dst[(size_t)m * p->n + n] = (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
        }
    }
}

/* The same loops for weights with a zero point: sum (x - input_zp) over each input row once, and
 * weight_zp[n] times it taken out of every output of the row (hhbc_i8_weight_zp_fix). */
HHBC_I8_OUT_OF_LINE static void dense_i8_asym(const hhbc_tensor *in, const hhbc_tensor *out,
                                              const hhbc_dense_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;

    for (int32_t m = 0; m < p->m; m++) {
        const int8_t *x = src + (size_t)m * p->k;
        int32_t xsum = 0;
        for (int32_t k = 0; k < p->k; k++) xsum += (int32_t)x[k] - p->input_zp;
        for (int32_t n = 0; n < p->n; n++) {
            const int8_t *w = p->weight + (size_t)n * p->k;
            const int32_t q = p->per_channel ? n : 0;
            int32_t acc = 0;
            for (int32_t k = 0; k < p->k; k++)
                acc += (int32_t)w[k] * ((int32_t)x[k] - p->input_zp);
            acc = hhbc_i8_weight_zp_fix(acc, p->weight_zp[n], xsum);
            if (p->bias) acc += p->bias[n];
            int8_t *o = dst + (size_t)m * p->n + n;
            if (p->scale) {   /* ONNX flavour */
                *o = (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp, p->act_min, p->act_max);
                continue;
            }
            acc = (p->real_scale ? hhbc_fp_mul_by_real(acc, p->real_scale[q])
                                 : hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]))
                  + p->output_zp;
            *o = (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
        }
    }
}
