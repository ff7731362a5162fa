/*
 * hhbc reference kernel body: batched matrix multiply of two activations. Type-generic
 * (see conv2d_body.h); HHBC_T_F32 is 1 when HHBC_T is float.
 *
 * For each batch b: out[b] (M x N) = a[b] (M x K) x b[b] (K x N), with
 * a[b] at a + b * a_batch_stride and b[b] at b + b * b_batch_stride (elements;
 * 0 broadcasts one matrix). out is dense [batch][M][N].
 * The output row is the accumulator so that the innermost loop runs over N, the
 * contiguous axis of both b and out; for a non-float HHBC_T the row goes through a
 * fixed float buffer, HHBC_ACC_CHUNK columns at a time, rounded once on the store.
 */
#ifndef HHBC_ACC_CHUNK
#define HHBC_ACC_CHUNK 128
#endif

void HHBC_KERNEL(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_matmul_params *p)
{
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;
#if HHBC_T_F32
    const int32_t chunk = n_n > 0 ? n_n : 1;
#else
    const int32_t chunk = HHBC_ACC_CHUNK;
    float accbuf[HHBC_ACC_CHUNK];
#endif

    for (int32_t bt = 0; bt < p->batch; bt++) {
        const HHBC_T *ab = (const HHBC_T *)a->data + (size_t)bt * p->a_batch_stride;
        const HHBC_T *bb = (const HHBC_T *)b->data + (size_t)bt * p->b_batch_stride;
        HHBC_T *ob = (HHBC_T *)out->data + (size_t)bt * m_n * n_n;
        for (int32_t m = 0; m < m_n; m++) {
            const HHBC_T *arow = ab + (size_t)m * k_n;
            HHBC_T *orow = ob + (size_t)m * n_n;
            for (int32_t n0 = 0; n0 < n_n; n0 += chunk) {
                const int32_t nn = n_n - n0 < chunk ? n_n - n0 : chunk;
#if HHBC_T_F32
                float *acc = orow + n0;
#else
                float *acc = accbuf;
#endif
                for (int32_t n = 0; n < nn; n++) acc[n] = 0.0f;
                for (int32_t k = 0; k < k_n; k++) {
                    const float av = HHBC_LD(arow[k]);
                    const HHBC_T *brow = bb + (size_t)k * n_n + n0;
                    for (int32_t n = 0; n < nn; n++) acc[n] += av * HHBC_LD(brow[n]);
                }
#if !HHBC_T_F32
                for (int32_t n = 0; n < nn; n++) orow[n0 + n] = HHBC_ST(acc[n]);
#endif
            }
        }
    }
}
