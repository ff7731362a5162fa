/*
 * hhbc C906 kernel: dense (fully connected), float32 and float16, RVV 0.7.1, VLEN 128.
 *
 * Packed weight layout (packing.dense_kn): [K][N], output features contiguous. bias [N]
 * float32 or NULL. in [M][K], out [M][N]. Tiles of 3 rows x 32 outputs (e32,m8), one weight
 * vector load per k feeding 3 vfmacc.vf (float16: vfwmacc.vf into float32 accumulators).
 */
#include "hhbc_c906_conv.h"

HHBC_C906_INLINE void hhbc_c906_dense(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p,
                                      int f16)
{
    const hhbc_act_kind kind = p->act.kind;
    const float lo = p->act.lo, hi = p->act.hi, alpha = p->act.alpha;
    const int32_t m = p->m, n = p->n, k = p->k;
    const size_t esz = f16 ? 2 : 4;
    const float *bias = p->bias;
    for (int32_t oc0 = 0; oc0 < n; oc0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(n - oc0 < HHBC_C906_STRIP ? n - oc0 : HHBC_C906_STRIP);
        const float *b = bias ? bias + oc0 : NULL;
        const char *w = (const char *)p->weight + (size_t)oc0 * esz;
        for (int32_t r0 = 0; r0 < m; r0 += 3) {
            const int R = m - r0 < 3 ? m - r0 : 3;
            hhbc_c906_cv_init(b, vl, R, f16);
            hhbc_c906_cv_run(R, f16, (const char *)in->data + (size_t)r0 * k * esz, k, 0, w, n, 0, 1, k);
            hhbc_c906_cv_store((char *)out->data + ((size_t)r0 * n + oc0) * esz, n, R, vl, kind, lo, hi, alpha, f16);
        }
    }
}

void hhbc_dense_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    hhbc_c906_dense(in, out, p, 0);
}

void hhbc_dense_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)
{
    hhbc_c906_dense(in, out, p, 1);
}
