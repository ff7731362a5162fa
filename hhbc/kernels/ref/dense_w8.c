/* hhbc reference kernel: fully connected layer, float32 activations, int8 weights. */
#include "hhbc_kernels_w8.h"
#include "hhbc_act.h"

/* out[m][n] = act(w_scale[n] * sum_k in[m][k] * weight[n][k] + bias[n]);
 * weight [N][K] int8, w_scale [N], bias [N] or NULL. */
void hhbc_dense_w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;

    for (int32_t m = 0; m < m_n; m++) {
        const float *x = src + (size_t)m * k_n;
        float *y = dst + (size_t)m * n_n;
        for (int32_t n = 0; n < n_n; n++) {
            const int8_t *w = p->weight + (size_t)n * k_n;
            float acc = 0.0f;
            for (int32_t k = 0; k < k_n; k++) acc += x[k] * (float)w[k];
            acc *= p->w_scale[n];
            if (p->bias) acc += p->bias[n];
            y[n] = hhbc_act_apply(acc, &p->act);
        }
    }
}
