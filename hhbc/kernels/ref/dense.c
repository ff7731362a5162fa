/* hhbc reference kernel: fully connected layer, float32. */
#include "hhbc_kernels.h"
#include "hhbc_act.h"

/* out[m][n] = act(sum_k in[m][k] * weight[n][k] + bias[n]); weight [N][K], bias [N] or NULL. */
void hhbc_dense_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;

    for (int32_t m = 0; m < m_n; m++) {
        const float *x = src + (size_t)m * k_n;
        float *y = dst + (size_t)m * n_n;
        for (int32_t n = 0; n < n_n; n++) {
            const float *w = (const float *)p->weight + (size_t)n * k_n;
            float acc = p->bias ? p->bias[n] : 0.0f;
            for (int32_t k = 0; k < k_n; k++) acc += x[k] * w[k];
            y[n] = hhbc_act_apply(acc, &p->act);
        }
    }
}
