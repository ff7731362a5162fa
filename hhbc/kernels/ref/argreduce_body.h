/*
 * hhbc reference kernel body: ArgMax / ArgMin along one axis (ONNX ArgMax/ArgMin, TFLite
 * ARG_MAX/ARG_MIN). Type-generic in the input (see conv2d_body.h); values compared as read.
 *
 * in is [outer][axis_dim][inner], out is [outer][inner] of int32 (out_bytes 4) or int64
 * (out_bytes 8): the index along the axis of the first extreme value, or of the last one
 * when select_last is set. NaNs are never selected (unless every value is NaN: index 0).
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_argreduce_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    const int32_t want_max = p->op == HHBC_ARG_MAX;

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t i = 0; i < p->inner; i++) {
            const HHBC_T *x = src + (int64_t)o * p->axis_dim * p->inner + i;
            int32_t best = 0;
            float best_v = HHBC_LD(x[0]);
            for (int32_t k = 1; k < p->axis_dim; k++) {
                const float v = HHBC_LD(x[(int64_t)k * p->inner]);
                const int32_t better = want_max ? (p->select_last ? v >= best_v : v > best_v)
                                                : (p->select_last ? v <= best_v : v < best_v);
                if (better || (best_v != best_v && v == v)) {
                    best = k;
                    best_v = v;
                }
            }
            const int64_t at = (int64_t)o * p->inner + i;
            if (p->out_bytes == 8)
                ((int64_t *)out->data)[at] = best;
            else
                ((int32_t *)out->data)[at] = best;
        }
    }
}
