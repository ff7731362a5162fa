/*
 * hhbc rvv variant: helpers of the pooling / elementwise / data-movement kernels
 * (RVV 1.0 C intrinsics, VLEN-agnostic).
 *
 * Kernels compute in float32 vectors (e32 m2/m4/m8); float16 tensors are loaded
 * at half the LMUL and widened (vfwcvt, exact), and narrowed once on the store (vfncvt, round to
 * nearest even), so an f16 kernel rounds like the ref f16 kernels (float32 math, one
 * rounding). vsetvl_e32mK(n) and vsetvl_e16mK/2(n) give the same vl.
 *
 * hhbc_rvv_tanh_f32m2/m4: |x| < 0.625: Cephes tanhf odd polynomial x + x^3 P(x^2);
 * otherwise sign(x) (1 - 2 / (exp(2|x|) + 1)) on hhbc_rvv_exp_f32mN (hhbc_rvv.h).
 * Max error vs libm tanhf measured in tests/kernels/test_rvv_eltwise_kernels.py
 * (elementwise relative, 20000 samples on [-10, 10] and [-0.7, 0.7]): within 1e-6.
 */
#ifndef HHBC_RVV_MATH_H
#define HHBC_RVV_MATH_H

#include <stddef.h>
#include <stdint.h>
#include <riscv_vector.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv.h"

/* Per LMUL (float32 m2/m4/m8, float16 half that): vl, load (+ widen), store (+ narrow),
 * strided load (stride in elements). */
#define HHBC_RVV_DEFINE_LDST(M, H)                                                            \
static inline size_t hhbc_rvv_vl_##M(int32_t n) { return __riscv_vsetvl_e32##M((size_t)n); }  \
static inline vfloat32##M##_t hhbc_rvv_ld_f32##M(const float *p, size_t vl)                   \
{ return __riscv_vle32_v_f32##M(p, vl); }                                                     \
static inline vfloat32##M##_t hhbc_rvv_ld_f16##M(const _Float16 *p, size_t vl)                \
{ return __riscv_vfwcvt_f_f_v_f32##M(__riscv_vle16_v_f16##H(p, vl), vl); }                    \
static inline void hhbc_rvv_st_f32##M(float *p, vfloat32##M##_t v, size_t vl)                 \
{ __riscv_vse32_v_f32##M(p, v, vl); }                                                         \
static inline void hhbc_rvv_st_f16##M(_Float16 *p, vfloat32##M##_t v, size_t vl)              \
{ __riscv_vse16_v_f16##H(p, __riscv_vfncvt_f_f_w_f16##H(v, vl), vl); }                        \
static inline vfloat32##M##_t hhbc_rvv_lds_f32##M(const float *p, ptrdiff_t s, size_t vl)     \
{ return __riscv_vlse32_v_f32##M(p, s * (ptrdiff_t)sizeof(float), vl); }                      \
static inline vfloat32##M##_t hhbc_rvv_lds_f16##M(const _Float16 *p, ptrdiff_t s, size_t vl)  \
{ return __riscv_vfwcvt_f_f_v_f32##M(                                                         \
      __riscv_vlse16_v_f16##H(p, s * (ptrdiff_t)sizeof(_Float16), vl), vl); }

HHBC_RVV_DEFINE_LDST(m2, m1)
HHBC_RVV_DEFINE_LDST(m4, m2)
HHBC_RVV_DEFINE_LDST(m8, m4)

/* memcpy of n bytes with e8m8 strips */
static inline void hhbc_rvv_copy_bytes(void *dst, const void *src, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    size_t vl;
    for (; n > 0; n -= vl, s += vl, d += vl) {
        vl = __riscv_vsetvl_e8m8(n);
        __riscv_vse8_v_u8m8(d, __riscv_vle8_v_u8m8(s, vl), vl);
    }
}

static inline void hhbc_rvv_fill_f32(float *d, float v, int32_t n)
{
    size_t vl;
    for (; n > 0; n -= (int32_t)vl, d += vl) {
        vl = __riscv_vsetvl_e32m8((size_t)n);
        __riscv_vse32_v_f32m8(d, __riscv_vfmv_v_f_f32m8(v, vl), vl);
    }
}
static inline void hhbc_rvv_fill_f16(_Float16 *d, float v, int32_t n)
{
    const _Float16 h = (_Float16)v;
    size_t vl;
    for (; n > 0; n -= (int32_t)vl, d += vl) {
        vl = __riscv_vsetvl_e16m8((size_t)n);
        __riscv_vse16_v_f16m8(d, __riscv_vfmv_v_f_f16m8(h, vl), vl);
    }
}

#define HHBC_RVV_TANH_P0 (-5.70498872745e-3f)
#define HHBC_RVV_TANH_P1 (2.06390887954e-2f)
#define HHBC_RVV_TANH_P2 (-5.37397155531e-2f)
#define HHBC_RVV_TANH_P3 (1.33314422036e-1f)
#define HHBC_RVV_TANH_P4 (-3.33332819422e-1f)

#define HHBC_RVV_DEFINE_TANH(M, B)                                                            \
static inline vfloat32##M##_t hhbc_rvv_tanh_f32##M(vfloat32##M##_t x, size_t vl)              \
{                                                                                             \
    vfloat32##M##_t ax = __riscv_vfabs_v_f32##M(x, vl);                                       \
    /* large: 1 - 2 / (exp(2|x|) + 1), sign restored below */                                 \
    vfloat32##M##_t e = hhbc_rvv_exp_f32##M(__riscv_vfadd_vv_f32##M(ax, ax, vl), vl);         \
    vfloat32##M##_t big = __riscv_vfrsub_vf_f32##M(                                           \
        __riscv_vfrdiv_vf_f32##M(__riscv_vfadd_vf_f32##M(e, 1.0f, vl), 2.0f, vl), 1.0f, vl);  \
    big = __riscv_vfsgnj_vv_f32##M(big, x, vl);                                               \
    /* small: x + x^3 P(x^2) */                                                               \
    vfloat32##M##_t z = __riscv_vfmul_vv_f32##M(x, x, vl);                                    \
    vfloat32##M##_t q = __riscv_vfmv_v_f_f32##M(HHBC_RVV_TANH_P1, vl);                        \
    q = __riscv_vfmacc_vf_f32##M(q, HHBC_RVV_TANH_P0, z, vl);                                 \
    q = __riscv_vfmadd_vv_f32##M(q, z, __riscv_vfmv_v_f_f32##M(HHBC_RVV_TANH_P2, vl), vl);    \
    q = __riscv_vfmadd_vv_f32##M(q, z, __riscv_vfmv_v_f_f32##M(HHBC_RVV_TANH_P3, vl), vl);    \
    q = __riscv_vfmadd_vv_f32##M(q, z, __riscv_vfmv_v_f_f32##M(HHBC_RVV_TANH_P4, vl), vl);    \
    q = __riscv_vfmul_vv_f32##M(q, z, vl);                                                    \
    vfloat32##M##_t small = __riscv_vfmacc_vv_f32##M(x, q, x, vl);                            \
    vbool##B##_t is_small = __riscv_vmflt_vf_f32##M##_b##B(ax, 0.625f, vl);                   \
    return __riscv_vmerge_vvm_f32##M(big, small, is_small, vl);                               \
}

HHBC_RVV_DEFINE_TANH(m2, 16)
HHBC_RVV_DEFINE_TANH(m4, 8)

#endif /* HHBC_RVV_MATH_H */
