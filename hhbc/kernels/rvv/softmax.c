/*
 * hhbc rvv kernel: softmax / log-softmax along one axis, in viewed as
 * [outer][axis_size][inner], float32 and float16 (zvfh; float32 math, rounded once).
 * RVV 1.0 intrinsics, VLEN-agnostic, e32 m4 strips. Same signature and params as
 * ref/softmax.c; log-softmax with inner > 1 is refused by the table's supports predicate.
 *
 * inner == 1 (channels last, the usual case): the axis is the vector axis; max by
 * vfredmax, exp(x - max) (vector expf of hhbc_rvv.h, max rel. error 8.3e-8) summed by
 * vfredusum (float32: kept in the output), then one vfdiv by the sum per strip
 * (float16 recomputes the exp instead of keeping it in half); log-softmax is
 * x - max - logf(sum). inner > 1: inner is the vector axis, the softmax axis a loop.
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_math.h"

#define HHBC_RVV_DEFINE_SOFTMAX(NAME, T, LD, ST, KEEP)                                        \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p)        \
{                                                                                             \
    const T *src = (const T *)in->data;                                                       \
    T *dst = (T *)out->data;                                                                  \
    const int32_t an = p->axis_size, inner = p->inner;                                        \
    size_t vl;                                                                                \
    if (inner == 1) {                                                                         \
        for (int32_t o = 0; o < p->outer; o++, src += an, dst += an) {                        \
            vfloat32m1_t red = __riscv_vfmv_v_f_f32m1(-INFINITY, 1);                          \
            for (int32_t a = 0; a < an; a += (int32_t)vl) {                                   \
                vl = __riscv_vsetvl_e32m4((size_t)(an - a));                                  \
                red = __riscv_vfredmax_vs_f32m4_f32m1(LD(src + a, vl), red, vl);              \
            }                                                                                 \
            const float mx = __riscv_vfmv_f_s_f32m1_f32(red);                                 \
            red = __riscv_vfmv_v_f_f32m1(0.0f, 1);                                            \
            for (int32_t a = 0; a < an; a += (int32_t)vl) {                                   \
                vl = __riscv_vsetvl_e32m4((size_t)(an - a));                                  \
                vfloat32m4_t e = hhbc_rvv_exp_f32m4(                                          \
                    __riscv_vfsub_vf_f32m4(LD(src + a, vl), mx, vl), vl);                     \
                red = __riscv_vfredusum_vs_f32m4_f32m1(e, red, vl);                           \
                if (KEEP && !p->log) hhbc_rvv_st_f32m4((float *)(void *)(dst + a), e, vl);    \
            }                                                                                 \
            const float sum = __riscv_vfmv_f_s_f32m1_f32(red);                                \
            if (p->log) {                                                                     \
                const float ls = logf(sum);                                                   \
                for (int32_t a = 0; a < an; a += (int32_t)vl) {                               \
                    vl = __riscv_vsetvl_e32m4((size_t)(an - a));                              \
                    vfloat32m4_t v = LD(src + a, vl);                                         \
                    v = __riscv_vfsub_vf_f32m4(__riscv_vfsub_vf_f32m4(v, mx, vl), ls, vl);  \
                    ST(dst + a, v, vl);                                                       \
                }                                                                             \
                continue;                                                                     \
            }                                                                                 \
            for (int32_t a = 0; a < an; a += (int32_t)vl) {                                   \
                vl = __riscv_vsetvl_e32m4((size_t)(an - a));                                  \
                vfloat32m4_t e;                                                               \
                if (KEEP) e = hhbc_rvv_ld_f32m4((const float *)(const void *)(dst + a), vl);  \
                else e = hhbc_rvv_exp_f32m4(__riscv_vfsub_vf_f32m4(LD(src + a, vl), mx, vl), vl); \
                ST(dst + a, __riscv_vfdiv_vf_f32m4(e, sum, vl), vl);                          \
            }                                                                                 \
        }                                                                                     \
        return;                                                                               \
    }                                                                                         \
    for (int32_t o = 0; o < p->outer; o++, src += (size_t)an * inner, dst += (size_t)an * inner) { \
        for (int32_t i = 0; i < inner; i += (int32_t)vl) {                                    \
            vl = __riscv_vsetvl_e32m4((size_t)(inner - i));                                   \
            const T *x = src + i;                                                             \
            T *y = dst + i;                                                                   \
            vfloat32m4_t mx = LD(x, vl);                                                      \
            for (int32_t a = 1; a < an; a++)                                                  \
                mx = __riscv_vfmax_vv_f32m4(mx, LD(x + (size_t)a * inner, vl), vl);           \
            vfloat32m4_t sum = __riscv_vfmv_v_f_f32m4(0.0f, vl);                              \
            for (int32_t a = 0; a < an; a++)                                                  \
                sum = __riscv_vfadd_vv_f32m4(sum, hhbc_rvv_exp_f32m4(                         \
                    __riscv_vfsub_vv_f32m4(LD(x + (size_t)a * inner, vl), mx, vl), vl), vl);  \
            for (int32_t a = 0; a < an; a++) {                                                \
                vfloat32m4_t e = hhbc_rvv_exp_f32m4(                                          \
                    __riscv_vfsub_vv_f32m4(LD(x + (size_t)a * inner, vl), mx, vl), vl);       \
                ST(y + (size_t)a * inner, __riscv_vfdiv_vv_f32m4(e, sum, vl), vl);            \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_SOFTMAX(hhbc_softmax_f32_rvv, float, hhbc_rvv_ld_f32m4, hhbc_rvv_st_f32m4, 1)
HHBC_RVV_DEFINE_SOFTMAX(hhbc_softmax_f16_rvv, _Float16, hhbc_rvv_ld_f16m4, hhbc_rvv_st_f16m4, 0)
