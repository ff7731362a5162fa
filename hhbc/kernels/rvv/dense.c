/*
 * hhbc rvv kernels: fully connected layer, float32 and float16 (zvfh). RVV 1.0 C
 * intrinsics, VLEN-agnostic.
 *
 * Packed weight layout (dense_kn): [K][N], output features contiguous.
 * in [M][K] (leading dims flattened), out [M][N]; bias [N] float32 or NULL.
 *
 * Scheme (hhbc_rvv_conv.h): output features are the vector axis, strip-mined with vsetvl
 * (e32 m8 for float32; e16 m4 weights -> e32 m8 accumulators for float16). Rows go in
 * tiles of 3 sharing each weight-vector load (one vfmacc.vf + one scalar load per row and
 * k), the remainder one row at a time. Bias initialises the float32 accumulators; the
 * epilogue applies the activation, narrows (f16) and stores.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

#define HHBC_RVV_DEFINE_DENSE(NAME, D)                                                        \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p)          \
{                                                                                             \
    typedef HHBC_##D##_T elem_t;                                                              \
    const elem_t *src = (const elem_t *)in->data;                                             \
    elem_t *dst = (elem_t *)out->data;                                                        \
    const elem_t *wgt = (const elem_t *)p->weight;                                            \
    const int32_t m_n = p->m, n_n = p->n, k_n = p->k;                                         \
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);                                      \
    size_t vl;                                                                                \
    for (int32_t n0 = 0; n0 < n_n; n0 += (int32_t)vl) {                                       \
        vl = HHBC_##D##_SETVL((size_t)(n_n - n0));                                            \
        int32_t m = 0;                                                                        \
        for (; m + 3 <= m_n; m += 3) {                                                        \
            const elem_t *x0 = src + (size_t)m * k_n;                                         \
            const elem_t *x1 = x0 + k_n, *x2 = x1 + k_n;                                      \
            const elem_t *w = wgt + n0;                                                       \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(p->bias, n0, vl);                                 \
            vfloat32m8_t a1 = a0, a2 = a0;                                                    \
            HHBC_RVV_RUN3(D, a0, a1, a2, x0, x1, x2, w, n_n, k_n, vl);                        \
            elem_t *y = dst + (size_t)m * n_n + n0;                                           \
            HHBC_RVV_STORE3(D, y, y + n_n, y + 2 * n_n, a0, a1, a2, epi, vl);                 \
        }                                                                                     \
        for (; m < m_n; m++) {                                                                \
            const elem_t *x0 = src + (size_t)m * k_n;                                         \
            const elem_t *w = wgt + n0;                                                       \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(p->bias, n0, vl);                                 \
            HHBC_RVV_RUN1(D, a0, x0, w, n_n, k_n, vl);                                        \
            HHBC_RVV_STORE1(D, dst + (size_t)m * n_n + n0, a0, epi, vl);                      \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_DENSE(hhbc_dense_f32_rvv, F32)
HHBC_RVV_DEFINE_DENSE(hhbc_dense_f16_rvv, F16)
