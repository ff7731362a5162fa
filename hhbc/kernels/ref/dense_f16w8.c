/* hhbc reference kernel: fully connected layer, float16 activations (_Float16), int8 weights
 * (the float16_w_int8 scheme); products and sums in float32, rounded to half once. */
#include "hhbc_kernels_w8.h"
#include "hhbc_act.h"

/* out[m][n] = half(act(w_scale[n] * sum_k in[m][k] * weight[n][k] + bias[n]));
 * weight [N][K] int8, w_scale [N], bias [N] or NULL. */
void hhbc_dense_f16w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;

    for (int32_t m = 0; m < m_n; m++) {
        const _Float16 *x = src + (size_t)m * k_n;
        _Float16 *y = dst + (size_t)m * n_n;
        for (int32_t n = 0; n < n_n; n++) {
            const int8_t *w = p->weight + (size_t)n * k_n;
            float acc = 0.0f;
            for (int32_t k = 0; k < k_n; k++) acc += (float)x[k] * (float)w[k];
            acc *= p->w_scale[n];
            if (p->bias) acc += p->bias[n];
            y[n] = (_Float16)hhbc_act_apply(acc, &p->act);
        }
    }
}
