/*
 * hhbc reference kernel body: fully connected layer. Type-generic (see conv2d_body.h).
 * out[m][n] = act(sum_k in[m][k] * weight[n][k] + bias[n]); weight [N][K], bias [N] or NULL.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;

    for (int32_t m = 0; m < m_n; m++) {
        const HHBC_T *x = src + (size_t)m * k_n;
        HHBC_T *y = dst + (size_t)m * n_n;
        for (int32_t n = 0; n < n_n; n++) {
            const HHBC_T *w = (const HHBC_T *)p->weight + (size_t)n * k_n;
            float acc = p->bias ? p->bias[n] : 0.0f;
            for (int32_t k = 0; k < k_n; k++) acc += HHBC_LD(x[k]) * HHBC_LD(w[k]);
            y[n] = HHBC_ST(hhbc_act_apply(acc, &p->act));
        }
    }
}
