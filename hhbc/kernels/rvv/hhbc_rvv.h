/*
 * hhbc rvv variant: shared static inline helpers for RVV 1.0 kernels (C intrinsics,
 * <riscv_vector.h>, __riscv_ names; VLEN-agnostic).
 *
 *  - hhbc_rvv_exp_f32mN(x, vl): vector expf.
 *  - hhbc_rvv_act_f32mN(v, act, vl): the fused activation (hhbc_act) on an f32 vector,
 *    applied in the epilogue before the one store. For float16 kernels the accumulators
 *    are float32; the activation is applied to them and the result is narrowed once
 *    (so the f16 result is the float32 activation rounded once, like the ref kernels).
 *
 * provided for LMUL m1, m2, m4, m8.
 */
#ifndef HHBC_RVV_H
#define HHBC_RVV_H

#include <riscv_vector.h>
#include <stdint.h>

#include "hhbc_kernels.h"

/*
 * Vector expf: x clamped to [-87.33, 88.72]; n = round(x * log2(e)) (vfcvt with the
 * default round-to-nearest-even mode), r = x - n * ln2 (ln2 split into hi + lo, Cody-Waite),
 * |r| <= ln2/2; exp(r) ~= 1 + r + r^2 * P(r), P of degree 5 (Cephes expf minimax
 * coefficients; a degree-7 polynomial in r whose two leading terms are exact);
 * result = exp(r) * 2^n, 2^n built in the exponent field ((n + 127) << 23).
 * Measured max relative error vs double-precision exp over [-87, 88] (2^22 evenly spaced
 * samples, QEMU rv64 VLEN 128, m2): 8.3e-8 (under 1 ulp). Sigmoid = 1 / (1 + exp(-x))
 * built on it: max relative error 1.5e-7 over the same samples.
 */
#define HHBC_RVV_EXP_LO  (-87.3365478515625f)
#define HHBC_RVV_EXP_HI  (88.72283172607421875f)
#define HHBC_RVV_LOG2E   (1.44269504088896341f)
#define HHBC_RVV_LN2_HI  (0.693359375f)
#define HHBC_RVV_LN2_LO  (-2.12194440e-4f)
#define HHBC_RVV_EXP_P0  (1.9875691500e-4f)
#define HHBC_RVV_EXP_P1  (1.3981999507e-3f)
#define HHBC_RVV_EXP_P2  (8.3334519073e-3f)
#define HHBC_RVV_EXP_P3  (4.1665795894e-2f)
#define HHBC_RVV_EXP_P4  (1.6666665459e-1f)
#define HHBC_RVV_EXP_P5  (5.0000001201e-1f)

#define HHBC_RVV_DEFINE_EXP(M, IM)                                                            \
static inline vfloat32##M##_t hhbc_rvv_exp_f32##M(vfloat32##M##_t x, size_t vl)               \
{                                                                                             \
    x = __riscv_vfmin_vf_f32##M(__riscv_vfmax_vf_f32##M(x, HHBC_RVV_EXP_LO, vl),              \
                                HHBC_RVV_EXP_HI, vl);                                         \
    vint32##M##_t n = __riscv_vfcvt_x_f_v_i32##M(                                             \
        __riscv_vfmul_vf_f32##M(x, HHBC_RVV_LOG2E, vl), vl);                                  \
    vfloat32##M##_t fn = __riscv_vfcvt_f_x_v_f32##M(n, vl);                                   \
    vfloat32##M##_t r = __riscv_vfnmsac_vf_f32##M(x, HHBC_RVV_LN2_HI, fn, vl);                \
    r = __riscv_vfnmsac_vf_f32##M(r, HHBC_RVV_LN2_LO, fn, vl);                                \
    vfloat32##M##_t p = __riscv_vfmv_v_f_f32##M(HHBC_RVV_EXP_P1, vl);                         \
    p = __riscv_vfmacc_vf_f32##M(p, HHBC_RVV_EXP_P0, r, vl);                                  \
    p = __riscv_vfmadd_vv_f32##M(p, r, __riscv_vfmv_v_f_f32##M(HHBC_RVV_EXP_P2, vl), vl);     \
    p = __riscv_vfmadd_vv_f32##M(p, r, __riscv_vfmv_v_f_f32##M(HHBC_RVV_EXP_P3, vl), vl);     \
    p = __riscv_vfmadd_vv_f32##M(p, r, __riscv_vfmv_v_f_f32##M(HHBC_RVV_EXP_P4, vl), vl);     \
    p = __riscv_vfmadd_vv_f32##M(p, r, __riscv_vfmv_v_f_f32##M(HHBC_RVV_EXP_P5, vl), vl);     \
    vfloat32##M##_t r2 = __riscv_vfmul_vv_f32##M(r, r, vl);                                   \
    vfloat32##M##_t y = __riscv_vfmadd_vv_f32##M(p, r2, r, vl);  /* r + r^2 P(r) */           \
    y = __riscv_vfadd_vf_f32##M(y, 1.0f, vl);                                                 \
    /* 2^n: n in [-126, 128]; split into two factors so n = 128 and n = -126 both work */     \
    vint32##M##_t n1 = __riscv_vsra_vx_i32##M(n, 1, vl);                                      \
    vint32##M##_t n2 = __riscv_vsub_vv_i32##M(n, n1, vl);                                     \
    vfloat32##M##_t s1 = __riscv_vreinterpret_v_i32##M##_f32##M(                              \
        __riscv_vsll_vx_i32##M(__riscv_vadd_vx_i32##M(n1, 127, vl), 23, vl));                 \
    vfloat32##M##_t s2 = __riscv_vreinterpret_v_i32##M##_f32##M(                              \
        __riscv_vsll_vx_i32##M(__riscv_vadd_vx_i32##M(n2, 127, vl), 23, vl));                 \
    return __riscv_vfmul_vv_f32##M(__riscv_vfmul_vv_f32##M(y, s1, vl), s2, vl);               \
}

/* The fused activation on an f32 vector (semantics: hhbc_act_kind in hhbc_kernels.h). */
#define HHBC_RVV_DEFINE_ACT(M, B)                                                             \
static inline vfloat32##M##_t hhbc_rvv_act_f32##M(vfloat32##M##_t v, const hhbc_act *a,       \
                                                  size_t vl)                                  \
{                                                                                             \
    switch (a->kind) {                                                                        \
    case HHBC_ACT_RELU:                                                                       \
        return __riscv_vfmax_vf_f32##M(v, 0.0f, vl);                                          \
    case HHBC_ACT_CLIP:                                                                       \
        return __riscv_vfmin_vf_f32##M(__riscv_vfmax_vf_f32##M(v, a->lo, vl), a->hi, vl);     \
    case HHBC_ACT_LEAKY_RELU: {                                                               \
        vbool##B##_t neg = __riscv_vmflt_vf_f32##M##_b##B(v, 0.0f, vl);                       \
        return __riscv_vfmul_vf_f32##M##_mu(neg, v, v, a->alpha, vl);                         \
    }                                                                                         \
    case HHBC_ACT_HARDSWISH: {                                                                \
        vfloat32##M##_t t = __riscv_vfadd_vf_f32##M(v, 3.0f, vl);                             \
        t = __riscv_vfmin_vf_f32##M(__riscv_vfmax_vf_f32##M(t, 0.0f, vl), 6.0f, vl);          \
        return __riscv_vfdiv_vf_f32##M(__riscv_vfmul_vv_f32##M(v, t, vl), 6.0f, vl);          \
    }                                                                                         \
    case HHBC_ACT_SIGMOID: {                                                                  \
        vfloat32##M##_t e = hhbc_rvv_exp_f32##M(__riscv_vfneg_v_f32##M(v, vl), vl);           \
        return __riscv_vfrdiv_vf_f32##M(__riscv_vfadd_vf_f32##M(e, 1.0f, vl), 1.0f, vl);      \
    }                                                                                         \
    case HHBC_ACT_NONE:                                                                       \
    default:                                                                                  \
        return v;                                                                             \
    }                                                                                         \
}

HHBC_RVV_DEFINE_EXP(m1, 32)
HHBC_RVV_DEFINE_EXP(m2, 16)
HHBC_RVV_DEFINE_EXP(m4, 8)
HHBC_RVV_DEFINE_EXP(m8, 4)
HHBC_RVV_DEFINE_ACT(m1, 32)
HHBC_RVV_DEFINE_ACT(m2, 16)
HHBC_RVV_DEFINE_ACT(m4, 8)
HHBC_RVV_DEFINE_ACT(m8, 4)

/* Is the activation the identity? (lets a kernel skip the epilogue call entirely) */
static inline int hhbc_rvv_act_is_none(const hhbc_act *a)
{
    return a->kind == HHBC_ACT_NONE;
}

/* ---- rvv kernels of the convolution/dense family (same params as the ref kernels) ---- */
void hhbc_conv2d_1x1_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);
void hhbc_conv2d_1x1_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);
void hhbc_conv2d_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);
void hhbc_conv2d_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);
void hhbc_depthwise_conv2d_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out,
                                   const hhbc_conv2d_params *p);
void hhbc_depthwise_conv2d_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out,
                                   const hhbc_conv2d_params *p);
void hhbc_dense_f32_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p);
void hhbc_dense_f16_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p);

#endif /* HHBC_RVV_H */
