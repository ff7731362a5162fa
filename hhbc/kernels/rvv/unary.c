/*
 * hhbc rvv kernel: elementwise unary op followed by the activation, out = act(op(in)),
 * float32 and float16 (zvfh; computed in float32, rounded once). RVV 1.0 intrinsics,
 * VLEN-agnostic, e32 m4 strips (float16: e16 m2 loads widened). Same signature and params
 * as ref/unary.c. Ops: ACT (every hhbc_act kind), TANH (hhbc_rvv_math.h), EXP (vector expf
 * of hhbc_rvv.h, max rel. error 8.3e-8), SQRT, RSQRT, ABS, NEG; LOG and ERF are refused by
 * the table's supports predicate (they run ref).
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_math.h"

static inline vfloat32m4_t hhbc_rvv_unary_op(hhbc_unary_op op, vfloat32m4_t v, size_t vl)
{
    switch (op) {
    case HHBC_UN_TANH: return hhbc_rvv_tanh_f32m4(v, vl);
    case HHBC_UN_EXP: return hhbc_rvv_exp_f32m4(v, vl);
    case HHBC_UN_SQRT: return __riscv_vfsqrt_v_f32m4(v, vl);
    case HHBC_UN_RSQRT: return __riscv_vfrdiv_vf_f32m4(__riscv_vfsqrt_v_f32m4(v, vl), 1.0f, vl);
    case HHBC_UN_ABS: return __riscv_vfabs_v_f32m4(v, vl);
    case HHBC_UN_NEG: return __riscv_vfneg_v_f32m4(v, vl);
    case HHBC_UN_ACT:
    default: return v;
    }
}

/* y = EXPR(v) over the p->size elements, v the loaded strip */
#define HHBC_RVV_UNARY_LOOP(LD, ST, EXPR)                                                     \
    for (int32_t n = p->size; n > 0; n -= (int32_t)vl, x += vl, y += vl) {                    \
        vl = __riscv_vsetvl_e32m4((size_t)n);                                                 \
        const vfloat32m4_t v = LD(x, vl);                                                     \
        ST(y, EXPR, vl);                                                                      \
    }

#define HHBC_RVV_DEFINE_UNARY(NAME, T, LD, ST)                                                \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p)          \
{                                                                                             \
    const T *x = (const T *)in->data;                                                         \
    T *y = (T *)out->data;                                                                    \
    const hhbc_act *act = &p->act;                                                            \
    const hhbc_unary_op op = p->op;                                                           \
    size_t vl;                                                                                \
    if (op == HHBC_UN_ACT) {   /* the act switch hoisted out of the strip loop */            \
        const float lo = act->lo, hi = act->hi;                                               \
        switch (act->kind) {                                                                  \
        case HHBC_ACT_RELU:                                                                   \
            HHBC_RVV_UNARY_LOOP(LD, ST, __riscv_vfmax_vf_f32m4(v, 0.0f, vl));                 \
            return;                                                                           \
        case HHBC_ACT_CLIP:                                                                   \
            HHBC_RVV_UNARY_LOOP(LD, ST, __riscv_vfmin_vf_f32m4(                               \
                __riscv_vfmax_vf_f32m4(v, lo, vl), hi, vl));                                  \
            return;                                                                           \
        case HHBC_ACT_NONE:                                                                   \
            HHBC_RVV_UNARY_LOOP(LD, ST, v);                                                   \
            return;                                                                           \
        default:                                                                              \
            HHBC_RVV_UNARY_LOOP(LD, ST, hhbc_rvv_act_f32m4(v, act, vl));                      \
            return;                                                                           \
        }                                                                                     \
    }                                                                                         \
    for (int32_t n = p->size; n > 0; n -= (int32_t)vl, x += vl, y += vl) {                    \
        vl = __riscv_vsetvl_e32m4((size_t)n);                                                 \
        ST(y, hhbc_rvv_act_f32m4(hhbc_rvv_unary_op(op, LD(x, vl), vl), act, vl), vl);         \
    }                                                                                         \
}

HHBC_RVV_DEFINE_UNARY(hhbc_unary_f32_rvv, float, hhbc_rvv_ld_f32m4, hhbc_rvv_st_f32m4)
HHBC_RVV_DEFINE_UNARY(hhbc_unary_f16_rvv, _Float16, hhbc_rvv_ld_f16m4, hhbc_rvv_st_f16m4)
