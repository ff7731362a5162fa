/*
 * hhbc rvv kernel: PReLU, x >= 0 ? x : slope[c] * x over in viewed as
 * [outer][channels][inner], float32 and float16 (slopes float32). RVV 1.0 intrinsics,
 * VLEN-agnostic, e32 m4 (float16: e16 m2 loads widened, narrowed once on the store).
 * inner == 1 (NHWC, channels last): vector over channels with a slope vector; otherwise
 * vector over inner with the scalar slope of the channel. Same signature as ref/prelu.c.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

#define HHBC_RVV_DEFINE_PRELU(NAME, T, LD, ST)                                                \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p)          \
{                                                                                             \
    const T *x = (const T *)in->data;                                                         \
    T *y = (T *)out->data;                                                                    \
    const int32_t ch = p->channels, inner = p->inner;                                         \
    size_t vl;                                                                                \
    if (inner == 1) {                                                                         \
        for (int32_t o = 0; o < p->outer; o++, x += ch, y += ch) {                            \
            for (int32_t c = 0; c < ch; c += (int32_t)vl) {                                   \
                vl = __riscv_vsetvl_e32m4((size_t)(ch - c));                                  \
                vfloat32m4_t v = LD(x + c, vl);                                               \
                vbool8_t neg = __riscv_vmflt_vf_f32m4_b8(v, 0.0f, vl);                        \
                v = __riscv_vfmul_vv_f32m4_mu(neg, v, v, __riscv_vle32_v_f32m4(p->slope + c, vl), vl); \
                ST(y + c, v, vl);                                                             \
            }                                                                                 \
        }                                                                                     \
        return;                                                                               \
    }                                                                                         \
    for (int32_t o = 0; o < p->outer; o++) {                                                  \
        for (int32_t c = 0; c < ch; c++, x += inner, y += inner) {                            \
            const float s = p->slope[c];                                                      \
            for (int32_t i = 0; i < inner; i += (int32_t)vl) {                                \
                vl = __riscv_vsetvl_e32m4((size_t)(inner - i));                               \
                vfloat32m4_t v = LD(x + i, vl);                                               \
                vbool8_t neg = __riscv_vmflt_vf_f32m4_b8(v, 0.0f, vl);                        \
                ST(y + i, __riscv_vfmul_vf_f32m4_mu(neg, v, v, s, vl), vl);                   \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_PRELU(hhbc_prelu_f32_rvv, float, hhbc_rvv_ld_f32m4, hhbc_rvv_st_f32m4)
HHBC_RVV_DEFINE_PRELU(hhbc_prelu_f16_rvv, _Float16, hhbc_rvv_ld_f16m4, hhbc_rvv_st_f16m4)
