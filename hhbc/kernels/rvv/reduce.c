/*
 * hhbc rvv kernel: reduction (mean / sum / max / min), float32 and float16 (zvfh; float32
 * accumulators, rounded once). RVV 1.0 intrinsics, VLEN-agnostic, e32 m4 strips. Same
 * signature and params as ref/reduce.c, for reductions whose reduced axes (extent > 1)
 * form one block, in = [A][R][C] -> out [A][C] (global pools, mean over H*W, innermost
 * or outer axes); anything else is refused by the table's supports predicate.
 *  C == 1: R is the vector axis, folded lane-wise (tail-undisturbed) then one vfred*.
 *  C > 1: C is the vector axis, R a loop of one load + one op per row.
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_math.h"

static void hhbc_rvv_reduce_shape(const hhbc_reduce_params *p, int32_t *A, int32_t *R, int32_t *C)
{
    int32_t i0 = -1, i1 = -1;
    for (int32_t i = 0; i < p->ndim; i++)
        if (p->in_dim[i] > 1 && p->out_stride[i] == 0) { if (i0 < 0) i0 = i; i1 = i; }
    *A = *R = *C = 1;
    for (int32_t i = 0; i < p->ndim; i++) {
        if (i0 >= 0 && i < i0) *A *= p->in_dim[i];
        else if (i0 >= 0 && i <= i1) *R *= p->in_dim[i];
        else *C *= p->in_dim[i];
    }
}

static inline vfloat32m4_t hhbc_rvv_red_op(hhbc_reduce_op op, vfloat32m4_t acc, vfloat32m4_t v, size_t vl)
{
    switch (op) {
    case HHBC_RED_MAX: return __riscv_vfmax_vv_f32m4_tu(acc, acc, v, vl);
    case HHBC_RED_MIN: return __riscv_vfmin_vv_f32m4_tu(acc, acc, v, vl);
    case HHBC_RED_MEAN:
    case HHBC_RED_SUM:
    default: return __riscv_vfadd_vv_f32m4_tu(acc, acc, v, vl);
    }
}

#define HHBC_RVV_DEFINE_REDUCE(NAME, T, LD, ST)                                               \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p)         \
{                                                                                             \
    const T *x = (const T *)in->data;                                                         \
    T *y = (T *)out->data;                                                                    \
    int32_t A, R, C;                                                                          \
    hhbc_rvv_reduce_shape(p, &A, &R, &C);                                                     \
    const hhbc_reduce_op op = p->op;                                                          \
    const float cnt = (float)p->reduce_count;                                                 \
    const float init = op == HHBC_RED_MAX ? -INFINITY : op == HHBC_RED_MIN ? INFINITY : 0.0f; \
    size_t vl;                                                                                \
    if (C == 1) {                                                                             \
        const size_t vl0 = __riscv_vsetvl_e32m4((size_t)R);                                   \
        for (int32_t a = 0; a < A; a++, x += R) {                                             \
            vfloat32m4_t acc = __riscv_vfmv_v_f_f32m4(init, vl0);                             \
            for (int32_t r = 0; r < R; r += (int32_t)vl) {                                    \
                vl = __riscv_vsetvl_e32m4((size_t)(R - r));                                   \
                acc = hhbc_rvv_red_op(op, acc, LD(x + r, vl), vl);                            \
            }                                                                                 \
            vfloat32m1_t s = __riscv_vfmv_v_f_f32m1(init, 1);                                 \
            if (op == HHBC_RED_MAX) s = __riscv_vfredmax_vs_f32m4_f32m1(acc, s, vl0);         \
            else if (op == HHBC_RED_MIN) s = __riscv_vfredmin_vs_f32m4_f32m1(acc, s, vl0);    \
            else s = __riscv_vfredusum_vs_f32m4_f32m1(acc, s, vl0);                           \
            float v = __riscv_vfmv_f_s_f32m1_f32(s);                                          \
            if (op == HHBC_RED_MEAN) v = v / cnt;                                             \
            y[a] = (T)v;                                                                      \
        }                                                                                     \
        return;                                                                               \
    }                                                                                         \
    for (int32_t a = 0; a < A; a++, x += (size_t)R * C, y += C) {                             \
        for (int32_t c = 0; c < C; c += (int32_t)vl) {                                        \
            vl = __riscv_vsetvl_e32m4((size_t)(C - c));                                       \
            const T *q = x + c;                                                               \
            vfloat32m4_t acc = LD(q, vl);                                                     \
            for (int32_t r = 1; r < R; r++) {                                                 \
                q += C;                                                                       \
                acc = hhbc_rvv_red_op(op, acc, LD(q, vl), vl);                                \
            }                                                                                 \
            if (op == HHBC_RED_MEAN) acc = __riscv_vfdiv_vf_f32m4(acc, cnt, vl);              \
            ST(y + c, acc, vl);                                                               \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_REDUCE(hhbc_reduce_f32_rvv, float, hhbc_rvv_ld_f32m4, hhbc_rvv_st_f32m4)
HHBC_RVV_DEFINE_REDUCE(hhbc_reduce_f16_rvv, _Float16, hhbc_rvv_ld_f16m4, hhbc_rvv_st_f16m4)
