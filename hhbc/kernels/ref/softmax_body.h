/*
 * hhbc reference kernel body: softmax / log-softmax along one axis. Type-generic (see
 * conv2d_body.h); HHBC_T_F32 is 1 when HHBC_T is float.
 *
 * in/out viewed as [outer][axis_size][inner]; for every (outer, inner) pair the
 * axis_size values (stride inner) are normalised:
 *   softmax:     exp(x - max) / sum exp(x - max)
 *   log-softmax: x - max - log(sum exp(x - max))
 * A float output holds exp(x - max) until the division; any other type recomputes it
 * (same value) so that each output is rounded once.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p)
{
    const int32_t axis_n = p->axis_size, inner = p->inner;

    for (int32_t o = 0; o < p->outer; o++) {
        const size_t base = (size_t)o * axis_n * inner;
        for (int32_t i = 0; i < inner; i++) {
            const HHBC_T *x = (const HHBC_T *)in->data + base + i;
            HHBC_T *y = (HHBC_T *)out->data + base + i;
            float max = HHBC_LD(x[0]);
            float sum = 0.0f;

            for (int32_t a = 1; a < axis_n; a++) max = fmaxf(max, HHBC_LD(x[(size_t)a * inner]));
            if (p->log) {
                for (int32_t a = 0; a < axis_n; a++) sum += expf(HHBC_LD(x[(size_t)a * inner]) - max);
                const float log_sum = logf(sum);
                for (int32_t a = 0; a < axis_n; a++)
                    y[(size_t)a * inner] = HHBC_ST((HHBC_LD(x[(size_t)a * inner]) - max) - log_sum);
            } else {
                for (int32_t a = 0; a < axis_n; a++) {
                    const float e = expf(HHBC_LD(x[(size_t)a * inner]) - max);
#if HHBC_T_F32
                    y[(size_t)a * inner] = e;
#endif
                    sum += e;
                }
#if HHBC_T_F32
                for (int32_t a = 0; a < axis_n; a++) y[(size_t)a * inner] /= sum;
#else
                for (int32_t a = 0; a < axis_n; a++)
                    y[(size_t)a * inner] = HHBC_ST(expf(HHBC_LD(x[(size_t)a * inner]) - max) / sum);
#endif
            }
        }
    }
}
