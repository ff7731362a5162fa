/* hhbc reference kernel: batched matrix multiply of two activations, float32. */
#include "hhbc_kernels.h"

/*
 * For each batch b: out[b] (M x N) = a[b] (M x K) x b[b] (K x N), with
 * a[b] at a + b * a_batch_stride and b[b] at b + b * b_batch_stride (elements;
 * 0 broadcasts one matrix). out is dense [batch][M][N].
 * The output row is the accumulator so that the innermost loop runs over N,
 * the contiguous axis of both b and out.
 */
void hhbc_matmul_f32(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_matmul_params *p)
{
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;

    for (int32_t bt = 0; bt < p->batch; bt++) {
        const float *ab = (const float *)a->data + (size_t)bt * p->a_batch_stride;
        const float *bb = (const float *)b->data + (size_t)bt * p->b_batch_stride;
        float *ob = (float *)out->data + (size_t)bt * m_n * n_n;
        for (int32_t m = 0; m < m_n; m++) {
            const float *arow = ab + (size_t)m * k_n;
            float *orow = ob + (size_t)m * n_n;
            for (int32_t n = 0; n < n_n; n++) orow[n] = 0.0f;
            for (int32_t k = 0; k < k_n; k++) {
                const float av = arow[k];
                const float *brow = bb + (size_t)k * n_n;
                for (int32_t n = 0; n < n_n; n++) orow[n] += av * brow[n];
            }
        }
    }
}
