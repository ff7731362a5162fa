/*
 * hhbc reference kernel body: gather (ONNX Gather, TFLite GATHER, Relax take).
 * Type-generic (see conv2d_body.h); elements are copied as they are.
 *
 * in is [outer][axis_dim][inner], out is [outer][num_indices][inner]:
 *   out[o][j][i] = in[o][index[j]][i].
 * Indices are int32 (index_bytes 4) or int64 (index_bytes 8); a negative index counts from
 * the end (ONNX), and an index still outside [0, axis_dim) is clamped to it, so the
 * kernel never reads outside `in` whatever the indices (ONNX and TFLite leave it undefined).
 */
static inline int32_t hhbc_gather_index(const void *indices, int32_t index_bytes, int32_t j,
                                        int32_t axis_dim)
{
    int64_t k = index_bytes == 8 ? ((const int64_t *)indices)[j] : (int64_t)((const int32_t *)indices)[j];
    if (k < 0) k += axis_dim;
    if (k < 0) k = 0;
    if (k >= axis_dim) k = axis_dim - 1;
    return (int32_t)k;
}

void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *indices, const hhbc_tensor *out,
                 const hhbc_gather_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;

    for (int32_t o = 0; o < p->outer; o++) {
        const HHBC_T *plane = src + (int64_t)o * p->axis_dim * p->inner;
        for (int32_t j = 0; j < p->num_indices; j++) {
            const HHBC_T *row = plane + (int64_t)hhbc_gather_index(indices->data, p->index_bytes, j,
                                                                   p->axis_dim) * p->inner;
            for (int32_t i = 0; i < p->inner; i++) dst[i] = row[i];
            dst += p->inner;
        }
    }
}
