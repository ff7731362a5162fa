/*
 * hhbc reference kernel body: PReLU with a per-channel float32 slope. Type-generic
 * (see conv2d_body.h). in/out viewed as [outer][channels][inner]: x >= 0 ? x : slope[c] * x.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t c_n = p->channels, inner = p->inner;

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t c = 0; c < c_n; c++) {
            const float s = p->slope[c];
            const size_t base = ((size_t)o * c_n + c) * inner;
            const HHBC_T *x = src + base;
            HHBC_T *y = dst + base;
            for (int32_t i = 0; i < inner; i++) {
                const float v = HHBC_LD(x[i]);
                y[i] = HHBC_ST(v >= 0.0f ? v : s * v);
            }
        }
    }
}
