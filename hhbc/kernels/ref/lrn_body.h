/*
 * hhbc reference kernel body: local response normalization across channels.
 * Type-generic (see conv2d_body.h): computed in float, rounded once.
 *
 * in, out viewed as [outer][channels][inner] (NHWC: inner = 1).
 * out = in * (k + alpha_over_size * s)^(-beta), s the sum of in^2 over channels
 * [c - pre_pad, c - pre_pad + size) clipped to [0, channels), summed in channel order.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_lrn_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t c_n = p->channels, inner = p->inner;

    for (int32_t o = 0; o < p->outer; o++) {
        const HHBC_T *x = src + (size_t)o * c_n * inner;
        HHBC_T *y = dst + (size_t)o * c_n * inner;
        for (int32_t c = 0; c < c_n; c++) {
            int32_t lo = c - p->pre_pad, hi = c - p->pre_pad + p->size;
            if (lo < 0) lo = 0;
            if (hi > c_n) hi = c_n;
            for (int32_t i = 0; i < inner; i++) {
                float sum = 0.0f;
                for (int32_t j = lo; j < hi; j++) {
                    const float v = HHBC_LD(x[(size_t)j * inner + i]);
                    sum += v * v;
                }
                const float v = HHBC_LD(x[(size_t)c * inner + i]);
                y[(size_t)c * inner + i] = HHBC_ST(v * powf(p->k + p->alpha_over_size * sum, -p->beta));
            }
        }
    }
}
