/*
 * hhbc reference kernel body: reduction over any set of axes. Type-generic (see
 * conv2d_body.h); HHBC_T_F32 is 1 when HHBC_T is float.
 *
 * Every input element at index idx folds into out[sum idx[i] * out_stride[i]]
 * (out_stride is 0 on reduced axes). MEAN divides each sum by reduce_count.
 * The last input axis is the inner loop; the outer axes advance as an odometer.
 * Accumulators are float32: for float the output itself, in one pass; otherwise a
 * fixed float buffer that covers HHBC_ACC_CHUNK outputs per pass over the input,
 * rounded once on the store.
 */
#ifndef HHBC_ACC_CHUNK
#define HHBC_ACC_CHUNK 128
#endif

void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p)
{
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t last = p->ndim - 1;
    const int32_t inner = p->in_dim[last];
    const int32_t os = p->out_stride[last];
    int32_t outer = 1;
    float init;
#if HHBC_T_F32
    const int32_t chunk = p->out_size > 0 ? p->out_size : 1;
#define HHBC_RED_HIT(k) 1
#else
    const int32_t chunk = HHBC_ACC_CHUNK;
    float accbuf[HHBC_ACC_CHUNK];
#define HHBC_RED_HIT(k) ((uint32_t)(k) < (uint32_t)on)
#endif

    switch (p->op) {
    case HHBC_RED_MAX: init = -INFINITY; break;
    case HHBC_RED_MIN: init = INFINITY; break;
    case HHBC_RED_MEAN:
    case HHBC_RED_SUM:
    default: init = 0.0f; break;
    }

    for (int32_t i = 0; i < last; i++) outer *= p->in_dim[i];

    for (int32_t o0 = 0; o0 < p->out_size; o0 += chunk) {
        const int32_t on = p->out_size - o0 < chunk ? p->out_size - o0 : chunk;
        const HHBC_T *src = (const HHBC_T *)in->data;
        int32_t idx[HHBC_MAX_DIMS] = {0};
        int32_t ob = -o0;   /* output element of the current row, relative to o0 */
#if HHBC_T_F32
        float *acc = dst + o0;
#else
        float *acc = accbuf;
#endif
        (void)on;
        for (int32_t i = 0; i < on; i++) acc[i] = init;

        for (int32_t o = 0; o < outer; o++) {
            switch (p->op) {
            case HHBC_RED_MAX:
                for (int32_t j = 0; j < inner; j++) {
                    const int32_t k = ob + j * os;
                    if (HHBC_RED_HIT(k)) acc[k] = fmaxf(acc[k], HHBC_LD(src[j]));
                }
                break;
            case HHBC_RED_MIN:
                for (int32_t j = 0; j < inner; j++) {
                    const int32_t k = ob + j * os;
                    if (HHBC_RED_HIT(k)) acc[k] = fminf(acc[k], HHBC_LD(src[j]));
                }
                break;
            case HHBC_RED_MEAN:
            case HHBC_RED_SUM:
            default:
                for (int32_t j = 0; j < inner; j++) {
                    const int32_t k = ob + j * os;
                    if (HHBC_RED_HIT(k)) acc[k] += HHBC_LD(src[j]);
                }
                break;
            }
            src += inner;
            /* advance the outer input index (axes last-1 .. 0) */
            for (int32_t ax = last - 1; ax >= 0; ax--) {
                idx[ax]++;
                ob += p->out_stride[ax];
                if (idx[ax] < p->in_dim[ax]) break;
                ob -= p->out_stride[ax] * p->in_dim[ax];
                idx[ax] = 0;
            }
        }

        if (p->op == HHBC_RED_MEAN) {
            const float count = (float)p->reduce_count;
            for (int32_t i = 0; i < on; i++) dst[o0 + i] = HHBC_ST(acc[i] / count);
        } else {
#if !HHBC_T_F32
            for (int32_t i = 0; i < on; i++) dst[o0 + i] = HHBC_ST(acc[i]);
#endif
        }
    }
#undef HHBC_RED_HIT
}
