/*
 * hhbc C906 elementwise helpers (RVV 0.7.1 through .insn, VLEN 128), shared by the
 * unary, binary, softmax and prelu kernels of kernels/c906/.
 *
 * Register convention: the caller has set vtype to e32,m4 (16 float32 lanes) and holds the
 * values in the group v8; v12, v16, v20, v24 are scratch, v0 is the mask.
 *
 * exp: Cephes expf scheme. x is clamped to [-87.3, 88.0], n = round(x * log2(e)) (vfcvt
 * with the default round-to-nearest-even), r = x - n*ln2 (ln2 split in two: r exact),
 * e^r = 1 + r + r^2 * P5(r), times 2^n built in the exponent field ((n + 127) << 23).
 * Max relative error against double exp, measured on c906fdv over [-87, 88] (5M points):
 * 9.9e-8; inputs below -87.3 give e^-87.3 ~ 1.2e-38 instead of smaller values.
 * sigmoid = 1 / (1 + exp(-x)): max relative error 1.5e-7 (x in [-87, 87], 5M points).
 * tanh: |x| < 0.625: odd polynomial x + x^3 P4(x^2) (Cephes tanhf); otherwise
 * sign(x) (1 - 2 / (exp(2|x|) + 1)). Max relative error 1.4e-7 (x in [-10, 10]).
 */
#ifndef HHBC_C906_ELTWISE_H
#define HHBC_C906_ELTWISE_H

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"

/* the vector helpers are inlined into their loops: a call would spill the strip state */
#define HHBC_C906_INLINE static inline __attribute__((always_inline))

/* ---- the C906 pooling / elementwise / data-movement kernels (ref signatures) ------------ */
#define HHBC_C906_ELTWISE_DECL(T)                                                                            \
    void hhbc_pool2d_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p);   \
    void hhbc_binary_##T##_c906(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,           \
                                const hhbc_binary_params *p);                                              \
    void hhbc_unary_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p);     \
    void hhbc_softmax_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p); \
    void hhbc_prelu_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p);     \
    void hhbc_reduce_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p);   \
    void hhbc_pad_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p);         \
    void hhbc_concat_##T##_c906(const hhbc_tensor *const *in, const hhbc_tensor *out,                        \
                                const hhbc_concat_params *p);                                              \
    void hhbc_copy_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out);
HHBC_C906_ELTWISE_DECL(f32)
HHBC_C906_ELTWISE_DECL(f16)
#undef HHBC_C906_ELTWISE_DECL
void hhbc_cast_f32_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p);
void hhbc_cast_f16_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p);

/* v8 = exp(v8); scratch v12, v16. */
HHBC_C906_INLINE void hhbc_c906_exp_v8(void)
{
    HV_VFMIN_VF(v8, v8, 88.0f);
    HV_VFMAX_VF(v8, v8, -87.3f);
    HV_VFMUL_VF(v12, v8, 1.44269504088896341f);
    HV_VFCVT_X_F_V(v12, v12);                       /* n (int32) */
    HV_VFCVT_F_X_V(v16, v12);                       /* n (float) */
    HV_VFNMSAC_VF(v8, 0.693359375f, v16);           /* r = x - n * C1 */
    HV_VFNMSAC_VF(v8, -2.12194440e-4f, v16);        /* r -= n * C2 */
    HV_VFMUL_VF(v16, v8, 1.9875691500E-4f);
    HV_VFADD_VF(v16, v16, 1.3981999507E-3f);
    HV_VFMUL_VV(v16, v16, v8);
    HV_VFADD_VF(v16, v16, 8.3334519073E-3f);
    HV_VFMUL_VV(v16, v16, v8);
    HV_VFADD_VF(v16, v16, 4.1665795894E-2f);
    HV_VFMUL_VV(v16, v16, v8);
    HV_VFADD_VF(v16, v16, 1.6666665459E-1f);
    HV_VFMUL_VV(v16, v16, v8);
    HV_VFADD_VF(v16, v16, 5.0000001201E-1f);
    HV_VFMUL_VV(v16, v16, v8);                      /* P * r */
    HV_VFADD_VF(v16, v16, 1.0f);
    HV_VFMUL_VV(v16, v16, v8);                      /* (P r + 1) r = P r^2 + r */
    HV_VFADD_VF(v16, v16, 1.0f);
    HV_VADD_VX(v12, v12, (long)127);
    HV_VSLL_VI(v12, v12, 23);                       /* 2^n */
    HV_VFMUL_VV(v8, v16, v12);
}

/* v8 = 1 / (1 + exp(-v8)); scratch v12, v16. */
HHBC_C906_INLINE void hhbc_c906_sigmoid_v8(void)
{
    HV_VFSGNJN_VV(v8, v8, v8);
    hhbc_c906_exp_v8();
    HV_VFADD_VF(v8, v8, 1.0f);
    HV_VFRDIV_VF(v8, v8, 1.0f);
}

/* v8 = tanh(v8); scratch v12, v16, v20, v24, v0. */
HHBC_C906_INLINE void hhbc_c906_tanh_v8(void)
{
    HV_VFSGNJ_VV(v24, v8, v8);                      /* x */
    HV_VFSGNJX_VV(v20, v8, v8);                     /* |x| */
    HV_VMFLT_VF(v0, v20, 0.625f);
    HV_VFADD_VV(v8, v20, v20);
    hhbc_c906_exp_v8();                             /* exp(2|x|) */
    HV_VFADD_VF(v8, v8, 1.0f);
    HV_VFRDIV_VF(v8, v8, 2.0f);
    HV_VFRSUB_VF(v8, v8, 1.0f);                     /* tanh(|x|) */
    HV_VFSGNJ_VV(v8, v8, v24);
    HV_VFMUL_VV(v12, v24, v24);                     /* z = x^2 */
    HV_VFMUL_VF(v16, v12, -5.70498872745E-3f);
    HV_VFADD_VF(v16, v16, 2.06390887954E-2f);
    HV_VFMUL_VV(v16, v16, v12);
    HV_VFADD_VF(v16, v16, -5.37397155531E-2f);
    HV_VFMUL_VV(v16, v16, v12);
    HV_VFADD_VF(v16, v16, 1.33314422036E-1f);
    HV_VFMUL_VV(v16, v16, v12);
    HV_VFADD_VF(v16, v16, -3.33332819422E-1f);
    HV_VFMUL_VV(v16, v16, v12);
    HV_VFMUL_VV(v16, v16, v24);
    HV_VFADD_VV(v16, v16, v24);
    HV_VMERGE_VVM(v8, v8, v16);                     /* |x| < 0.625 ? poly : exp form */
}

/* v8 = act(v8); scratch v12, v16, v0. The act is passed by value: the caller keeps it in
 * registers across the asm statements (their memory clobbers would reload a pointer). */
HHBC_C906_INLINE void hhbc_c906_act_v8(hhbc_act_kind kind, float lo, float hi, float alpha)
{
    switch (kind) {
    case HHBC_ACT_RELU:
        HV_VFMAX_VF(v8, v8, 0.0f);
        break;
    case HHBC_ACT_CLIP:
        HV_VFMAX_VF(v8, v8, lo);
        HV_VFMIN_VF(v8, v8, hi);
        break;
    case HHBC_ACT_LEAKY_RELU:
        HV_VMFLT_VF(v0, v8, 0.0f);
        HV_VFMUL_VF_M(v8, v8, alpha);
        break;
    case HHBC_ACT_HARDSWISH:
        HV_VFADD_VF(v12, v8, 3.0f);
        HV_VFMAX_VF(v12, v12, 0.0f);
        HV_VFMIN_VF(v12, v12, 6.0f);
        HV_VFMUL_VV(v8, v8, v12);
        HV_VFDIV_VF(v8, v8, 6.0f);
        break;
    case HHBC_ACT_SIGMOID:
        hhbc_c906_sigmoid_v8();
        break;
    case HHBC_ACT_NONE:
    default:
        break;
    }
}

/* The acts that need no scratch register (NONE, RELU, CLIP, LEAKY_RELU) directly on float16
 * lanes of v8 (any e16 LMUL; bounds and slope rounded to half, as a half result would be). */
HHBC_C906_INLINE int hhbc_c906_act_simple(hhbc_act_kind kind)
{
    return kind == HHBC_ACT_NONE || kind == HHBC_ACT_RELU || kind == HHBC_ACT_CLIP || kind == HHBC_ACT_LEAKY_RELU;
}

HHBC_C906_INLINE void hhbc_c906_act16_v8(hhbc_act_kind kind, _Float16 lo, _Float16 hi, _Float16 alpha)
{
    const _Float16 zero = (_Float16)0.0f;
    switch (kind) {
    case HHBC_ACT_RELU:
        HV_VFMAX_VF(v8, v8, zero);
        break;
    case HHBC_ACT_CLIP:
        HV_VFMAX_VF(v8, v8, lo);
        HV_VFMIN_VF(v8, v8, hi);
        break;
    case HHBC_ACT_LEAKY_RELU:
        HV_VMFLT_VF(v0, v8, zero);
        HV_VFMUL_VF_M(v8, v8, alpha);
        break;
    default:
        break;
    }
}

/* e16,m2 <-> e32,m4 around a float32 computation on v8 (16 lanes each way): load n
 * halves at p widened into v8 (via v4), and narrow v8 into halves stored at p. The vtype
 * is e32,m4 on return of both. */
HHBC_C906_INLINE void hhbc_c906_load_f16_v8(const _Float16 *p, size_t vl)
{
    size_t t;
    HV_VSETVLI(t, vl, HV_E16M2);
    HV_VLE(v4, p);
    HV_VFWCVT_F_F_V(v8, v4);
    HV_VSETVLI(t, vl, HV_E32M4);
    (void)t;
}

HHBC_C906_INLINE void hhbc_c906_store_f16_v8(_Float16 *p, size_t vl)
{
    size_t t;
    HV_VSETVLI(t, vl, HV_E16M2);
    HV_VFNCVT_F_F_V(v4, v8);
    HV_VSE(v4, p);
    HV_VSETVLI(t, vl, HV_E32M4);
    (void)t;
}

#endif /* HHBC_C906_ELTWISE_H */
