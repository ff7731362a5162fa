/*
 * hhbc rvv variant: the register-blocked micro-kernel shared by the convolution and dense
 * kernels (conv2d_1x1.c, conv2d.c, dense.c). RVV 1.0 C intrinsics, VLEN-agnostic.
 *
 * Output channels are the vector axis: float32 weights are e32 m8 vectors, float16 weights
 * e16 m4 vectors widened by vfwmacc into e32 m8 accumulators (same VLMAX, so one vl serves
 * both). A strip is vl = vsetvl(remaining channels) wide: it grows with VLEN.
 * HHBC_RVV_RUN3 accumulates a run of n contiguous input elements of 3 pixels against n
 * weight vectors (stride ws elements): per element one weight-vector load feeds 3
 * vfmacc.vf/vfwmacc.vf, each with one scalar load; unrolled by 4 (immediate offsets).
 *
 * HHBC_RVV_DEP3: an empty asm that makes the weight pointer depend on the accumulators, so the compiler cannot hoist the next m8 weight load above the FMAs of the
 * current one (LLVM otherwise hoists all loads of the unrolled body and spills m8 groups).
 */
#ifndef HHBC_RVV_CONV_H
#define HHBC_RVV_CONV_H

#include "hhbc_rvv.h"

#define HHBC_RVV_DEP(ptr, v) __asm__("" : "+r"(ptr) : "vr"(v))
#define HHBC_RVV_DEP3(ptr, u, v, w) __asm__("" : "+r"(ptr) : "vr"(u), "vr"(v), "vr"(w))

/*
 * Epilogue: activation (+ narrowing for f16) and store of one m8 accumulator. NONE, RELU
 * and CLIP are done in place; the others (which need several temporaries at m8) go
 * through a call, so their register pressure cannot make the compiler spill the tile's
 * accumulators inside the hot loop.
 */
static inline __attribute__((noinline)) void hhbc_rvv_store_act_f32m8(
    float *y, vfloat32m8_t v, const hhbc_act *act, size_t vl)
{
    __riscv_vse32_v_f32m8(y, hhbc_rvv_act_f32m8(v, act, vl), vl);
}

static inline __attribute__((noinline)) void hhbc_rvv_store_act_f16m4(
    _Float16 *y, vfloat32m8_t v, const hhbc_act *act, size_t vl)
{
    __riscv_vse16_v_f16m4(y, __riscv_vfncvt_f_f_w_f16m4(hhbc_rvv_act_f32m8(v, act, vl), vl), vl);
}

/* The activation, decoded once per kernel call: NONE, RELU and CLIP are "cheap" (a clamp,
 * or nothing, in place before the store); the others call the store functions above. */
typedef struct hhbc_rvv_epi {
    int cheap, clamp;
    float lo, hi;
    _Float16 lo16, hi16;   /* the bounds in half, for clamping after narrowing */
    const hhbc_act *act;
} hhbc_rvv_epi;

static inline hhbc_rvv_epi hhbc_rvv_epi_make(const hhbc_act *a)
{
    hhbc_rvv_epi e;
    e.cheap = a->kind == HHBC_ACT_NONE || a->kind == HHBC_ACT_RELU || a->kind == HHBC_ACT_CLIP;
    e.clamp = a->kind == HHBC_ACT_RELU || a->kind == HHBC_ACT_CLIP;
    e.lo = a->kind == HHBC_ACT_RELU ? 0.0f : a->lo;
    e.hi = a->kind == HHBC_ACT_RELU ? __builtin_inff() : a->hi;
    e.lo16 = (_Float16)e.lo;
    e.hi16 = (_Float16)e.hi;
    e.act = a;
    return e;
}

#define HHBC_RVV_CLAMP(v, e, vl)                                                              \
    __riscv_vfmin_vf_f32m8(__riscv_vfmax_vf_f32m8((v), (e).lo, (vl)), (e).hi, (vl))

/* per-dtype element ops; D is F32 or F16 */
#define HHBC_F32_T float
#define HHBC_F32_W vfloat32m8_t
#define HHBC_F32_SETVL(n) __riscv_vsetvl_e32m8(n)
#define HHBC_F32_WLOAD(p, vl) __riscv_vle32_v_f32m8((p), (vl))
#define HHBC_F32_FMA(acc, s, w, vl) __riscv_vfmacc_vf_f32m8((acc), (s), (w), (vl))
#define HHBC_F32_ST(p, v, vl) __riscv_vse32_v_f32m8((p), (v), (vl))
#define HHBC_F32_ST_ACT(p, v, act, vl) hhbc_rvv_store_act_f32m8((p), (v), (act), (vl))
#define HHBC_F32_ST_CLAMP(p, v, e, vl) __riscv_vse32_v_f32m8((p), HHBC_RVV_CLAMP(v, e, vl), (vl))

#define HHBC_F16_T _Float16
#define HHBC_F16_W vfloat16m4_t
#define HHBC_F16_SETVL(n) __riscv_vsetvl_e16m4(n)
#define HHBC_F16_WLOAD(p, vl) __riscv_vle16_v_f16m4((p), (vl))
#define HHBC_F16_FMA(acc, s, w, vl) __riscv_vfwmacc_vf_f32m8((acc), (s), (w), (vl))
#define HHBC_F16_ST(p, v, vl) __riscv_vse16_v_f16m4((p), __riscv_vfncvt_f_f_w_f16m4((v), (vl)), (vl))
#define HHBC_F16_ST_ACT(p, v, act, vl) hhbc_rvv_store_act_f16m4((p), (v), (act), (vl))
/* RELU/CLIP on the narrowed value: rounding is monotonic, so clamping to the half-rounded
 * bounds after rounding equals rounding the float32 clamp, at half the LMUL */
#define HHBC_F16_ST_CLAMP(p, v, e, vl)                                                        \
    __riscv_vse16_v_f16m4((p), __riscv_vfmin_vf_f16m4(__riscv_vfmax_vf_f16m4(                 \
        __riscv_vfncvt_f_f_w_f16m4((v), (vl)), (e).lo16, (vl)), (e).hi16, (vl)), (vl))

/* epilogue of one accumulator / of three (e: hhbc_rvv_epi) */
#define HHBC_RVV_STORE1(D, y, a, e, vl)                                                       \
    do {                                                                                      \
        if ((e).cheap) {                                                                      \
            if ((e).clamp) HHBC_##D##_ST_CLAMP(y, a, e, vl);                                  \
            else HHBC_##D##_ST(y, a, vl);                                                     \
        } else {                                                                              \
            HHBC_##D##_ST_ACT(y, a, (e).act, vl);                                             \
        }                                                                                     \
    } while (0)

#define HHBC_RVV_STORE3(D, y0, y1, y2, a0, a1, a2, e, vl)                                     \
    do {                                                                                      \
        if ((e).cheap) {                                                                      \
            if ((e).clamp) {                                                                  \
                HHBC_##D##_ST_CLAMP(y0, a0, e, vl);                                           \
                HHBC_##D##_ST_CLAMP(y1, a1, e, vl);                                           \
                HHBC_##D##_ST_CLAMP(y2, a2, e, vl);                                           \
            } else {                                                                          \
                HHBC_##D##_ST(y0, a0, vl);                                                    \
                HHBC_##D##_ST(y1, a1, vl);                                                    \
                HHBC_##D##_ST(y2, a2, vl);                                                    \
            }                                                                                 \
        } else {                                                                              \
            HHBC_##D##_ST_ACT(y0, a0, (e).act, vl);                                           \
            HHBC_##D##_ST_ACT(y1, a1, (e).act, vl);                                           \
            HHBC_##D##_ST_ACT(y2, a2, (e).act, vl);                                           \
        }                                                                                     \
    } while (0)

/* accumulator initialised from the bias strip (or zero) */
#define HHBC_RVV_BIAS(bias, oc0, vl)                                                          \
    ((bias) ? __riscv_vle32_v_f32m8((bias) + (oc0), (vl)) : __riscv_vfmv_v_f_f32m8(0.0f, (vl)))

/*
 * a0..a2 += sum_{j<n} x_r[j] * w[j * ws .. + vl) for 3 pixels; x0..x2, w are advanced.
 * One asm block (the loop unrolled by 4 with immediate input offsets, then a remainder
 * loop): one vsetvli per call, and per input element one weight-vector load, one pointer
 * add, 3 scalar loads and 3 vfmacc.vf / vfwmacc.vf. (Written with intrinsics, LLVM hoists
 * the m8/m4 weight loads of the unrolled body above the FMAs and spills accumulators.)
 * The asm sets vtype itself; the compiler re-establishes vtype after any inline asm.
 * It only reads memory (inputs, weights) that no kernel writes: no "memory" clobber, so
 * params stay in registers across it.
 */
#define HHBC_RVV_G3(LD, FMA, FL, OFF)                                                         \
    LD " %[wt], (%[w])\n\t"                                                                   \
    "add %[w], %[w], %[ws]\n\t"                                                               \
    FL " %[f0], " OFF "(%[x0])\n\t"                                                           \
    FL " %[f1], " OFF "(%[x1])\n\t"                                                           \
    FL " %[f2], " OFF "(%[x2])\n\t"                                                           \
    FMA " %[a0], %[f0], %[wt]\n\t"                                                            \
    FMA " %[a1], %[f1], %[wt]\n\t"                                                            \
    FMA " %[a2], %[f2], %[wt]\n\t"

#define HHBC_RVV_RUN3_ASM(VSET, LD, FMA, FL, O1, O2, O3, ESZ, WT, FT,                         \
                          A0_, A1_, A2_, X0_, X1_, X2_, W_, WS_, N_, VL_)                     \
    do {                                                                                      \
        WT wt_;                                                                               \
        FT f0_, f1_, f2_;                                                                     \
        long n4_ = (long)(N_) >> 2, nr_ = (long)(N_) & 3;                                     \
        long wsb_ = (long)(WS_) * ESZ;                                                        \
        __asm__ volatile(                                                                     \
            VSET                                                                              \
            "beqz %[n4], 2f\n\t"                                                              \
            "1:\n\t"                                                                          \
            HHBC_RVV_G3(LD, FMA, FL, "0")                                                     \
            HHBC_RVV_G3(LD, FMA, FL, O1)                                                      \
            HHBC_RVV_G3(LD, FMA, FL, O2)                                                      \
            HHBC_RVV_G3(LD, FMA, FL, O3)                                                      \
            "addi %[x0], %[x0], 4*" #ESZ "\n\t"                                               \
            "addi %[x1], %[x1], 4*" #ESZ "\n\t"                                               \
            "addi %[x2], %[x2], 4*" #ESZ "\n\t"                                               \
            "addi %[n4], %[n4], -1\n\t"                                                       \
            "bnez %[n4], 1b\n\t"                                                              \
            "2:\n\t"                                                                          \
            "beqz %[nr], 4f\n\t"                                                              \
            "3:\n\t"                                                                          \
            HHBC_RVV_G3(LD, FMA, FL, "0")                                                     \
            "addi %[x0], %[x0], " #ESZ "\n\t"                                                 \
            "addi %[x1], %[x1], " #ESZ "\n\t"                                                 \
            "addi %[x2], %[x2], " #ESZ "\n\t"                                                 \
            "addi %[nr], %[nr], -1\n\t"                                                       \
            "bnez %[nr], 3b\n\t"                                                              \
            "4:\n\t"                                                                          \
            : [a0] "+vr"(A0_), [a1] "+vr"(A1_), [a2] "+vr"(A2_), [wt] "=&vr"(wt_),            \
              [f0] "=&f"(f0_), [f1] "=&f"(f1_), [f2] "=&f"(f2_),                              \
              [x0] "+r"(X0_), [x1] "+r"(X1_), [x2] "+r"(X2_), [w] "+r"(W_),                   \
              [n4] "+r"(n4_), [nr] "+r"(nr_)                                                  \
            : [ws] "r"(wsb_), [vl] "r"(VL_));                                                 \
    } while (0)

/*
 * The same over `rows` rows of `n` contiguous elements each: after a row the input
 * pointers advance by xadv elements more (to the next row of a padded band); the weight
 * pointer just continues (the rows' weights are contiguous). rows >= 1.
 */
#define HHBC_RVV_RUN3R_ASM(VSET, LD, FMA, FL, O1, O2, O3, ESZ, WT, FT,                        \
                           A0_, A1_, A2_, X0_, X1_, X2_, W_, WS_, N_, ROWS_, XADV_, VL_)     \
    do {                                                                                      \
        WT wt_;                                                                               \
        FT f0_, f1_, f2_;                                                                     \
        long n4_ = (long)(N_) >> 2, nr_ = (long)(N_) & 3, rows_ = (long)(ROWS_);              \
        long c4_, cr_;                                                                        \
        long wsb_ = (long)(WS_) * ESZ, xadvb_ = (long)(XADV_) * ESZ;                          \
        __asm__ volatile(                                                                     \
            VSET                                                                              \
            "0:\n\t"                                                                          \
            "mv %[c4], %[n4]\n\t"                                                             \
            "mv %[cr], %[nr]\n\t"                                                             \
            "beqz %[c4], 2f\n\t"                                                              \
            "1:\n\t"                                                                          \
            HHBC_RVV_G3(LD, FMA, FL, "0")                                                     \
            HHBC_RVV_G3(LD, FMA, FL, O1)                                                      \
            HHBC_RVV_G3(LD, FMA, FL, O2)                                                      \
            HHBC_RVV_G3(LD, FMA, FL, O3)                                                      \
            "addi %[x0], %[x0], 4*" #ESZ "\n\t"                                               \
            "addi %[x1], %[x1], 4*" #ESZ "\n\t"                                               \
            "addi %[x2], %[x2], 4*" #ESZ "\n\t"                                               \
            "addi %[c4], %[c4], -1\n\t"                                                       \
            "bnez %[c4], 1b\n\t"                                                              \
            "2:\n\t"                                                                          \
            "beqz %[cr], 4f\n\t"                                                              \
            "3:\n\t"                                                                          \
            HHBC_RVV_G3(LD, FMA, FL, "0")                                                     \
            "addi %[x0], %[x0], " #ESZ "\n\t"                                                 \
            "addi %[x1], %[x1], " #ESZ "\n\t"                                                 \
            "addi %[x2], %[x2], " #ESZ "\n\t"                                                 \
            "addi %[cr], %[cr], -1\n\t"                                                       \
            "bnez %[cr], 3b\n\t"                                                              \
            "4:\n\t"                                                                          \
            "add %[x0], %[x0], %[xadv]\n\t"                                                   \
            "add %[x1], %[x1], %[xadv]\n\t"                                                   \
            "add %[x2], %[x2], %[xadv]\n\t"                                                   \
            "addi %[rows], %[rows], -1\n\t"                                                   \
            "bnez %[rows], 0b\n\t"                                                            \
            : [a0] "+vr"(A0_), [a1] "+vr"(A1_), [a2] "+vr"(A2_), [wt] "=&vr"(wt_),            \
              [f0] "=&f"(f0_), [f1] "=&f"(f1_), [f2] "=&f"(f2_),                              \
              [x0] "+r"(X0_), [x1] "+r"(X1_), [x2] "+r"(X2_), [w] "+r"(W_),                   \
              [c4] "=&r"(c4_), [cr] "=&r"(cr_), [rows] "+r"(rows_)                            \
            : [ws] "r"(wsb_), [vl] "r"(VL_), [n4] "r"(n4_), [nr] "r"(nr_), [xadv] "r"(xadvb_)); \
    } while (0)

#define HHBC_F32_RUN3R(a0, a1, a2, x0, x1, x2, w, ws, n, rows, xadv, vl)                      \
    HHBC_RVV_RUN3R_ASM("vsetvli zero, %[vl], e32, m8, ta, ma\n\t", "vle32.v", "vfmacc.vf",    \
                       "flw", "4", "8", "12", 4, vfloat32m8_t, float,                         \
                       a0, a1, a2, x0, x1, x2, w, ws, n, rows, xadv, vl)
#define HHBC_F16_RUN3R(a0, a1, a2, x0, x1, x2, w, ws, n, rows, xadv, vl)                      \
    HHBC_RVV_RUN3R_ASM("vsetvli zero, %[vl], e16, m4, ta, ma\n\t", "vle16.v", "vfwmacc.vf",   \
                       "flh", "2", "4", "6", 2, vfloat16m4_t, _Float16,                       \
                       a0, a1, a2, x0, x1, x2, w, ws, n, rows, xadv, vl)

#define HHBC_F32_RUN3(a0, a1, a2, x0, x1, x2, w, ws, n, vl)                                   \
    HHBC_RVV_RUN3_ASM("vsetvli zero, %[vl], e32, m8, ta, ma\n\t", "vle32.v", "vfmacc.vf",     \
                      "flw", "4", "8", "12", 4, vfloat32m8_t, float,                          \
                      a0, a1, a2, x0, x1, x2, w, ws, n, vl)
#define HHBC_F16_RUN3(a0, a1, a2, x0, x1, x2, w, ws, n, vl)                                   \
    HHBC_RVV_RUN3_ASM("vsetvli zero, %[vl], e16, m4, ta, ma\n\t", "vle16.v", "vfwmacc.vf",    \
                      "flh", "2", "4", "6", 2, vfloat16m4_t, _Float16,                        \
                      a0, a1, a2, x0, x1, x2, w, ws, n, vl)
#define HHBC_RVV_RUN3(D, a0, a1, a2, x0, x1, x2, w, ws, n, vl)                               \
    HHBC_##D##_RUN3(a0, a1, a2, x0, x1, x2, w, ws, n, vl)

/* a0 += sum_{j<n} x0[j] * w[j * ws .. + vl) for one pixel; x0, w are advanced */
#define HHBC_RVV_RUN1(D, a0, x0, w, ws, n, vl)                                                \
    do {                                                                                      \
        int32_t j_ = 0;                                                                       \
        for (; j_ + 2 <= (n); j_ += 2) {                                                      \
            HHBC_##D##_W w0_ = HHBC_##D##_WLOAD(w, vl);                                       \
            a0 = HHBC_##D##_FMA(a0, x0[0], w0_, vl);                                          \
            w += (ws);                                                                        \
            w0_ = HHBC_##D##_WLOAD(w, vl);                                                    \
            a0 = HHBC_##D##_FMA(a0, x0[1], w0_, vl);                                          \
            w += (ws);                                                                        \
            x0 += 2;                                                                          \
        }                                                                                     \
        if (j_ < (n)) {                                                                       \
            HHBC_##D##_W w0_ = HHBC_##D##_WLOAD(w, vl);                                       \
            a0 = HHBC_##D##_FMA(a0, *x0++, w0_, vl);                                          \
            w += (ws);                                                                        \
        }                                                                                     \
    } while (0)

/* vector copy / zero fill of n elements (padded bands on the stack) */
#define HHBC_RVV_DEFINE_COPY(SUF, T, E)                                                       \
static inline void hhbc_rvv_copy_##SUF(T *dst, const T *src, int32_t n)                       \
{                                                                                             \
    for (size_t vl; n > 0; n -= (int32_t)vl, src += vl, dst += vl) {                          \
        vl = __riscv_vsetvl_e##E##m8((size_t)n);                                              \
        __riscv_vse##E##_v_f##E##m8(dst, __riscv_vle##E##_v_f##E##m8(src, vl), vl);           \
    }                                                                                         \
}                                                                                             \
static inline void hhbc_rvv_zero_##SUF(T *dst, int32_t n)                                     \
{                                                                                             \
    for (size_t vl; n > 0; n -= (int32_t)vl, dst += vl) {                                     \
        vl = __riscv_vsetvl_e##E##m8((size_t)n);                                              \
        __riscv_vse##E##_v_f##E##m8(dst, __riscv_vfmv_v_f_f##E##m8(0, vl), vl);               \
    }                                                                                         \
}
HHBC_RVV_DEFINE_COPY(F32, float, 32)
HHBC_RVV_DEFINE_COPY(F16, _Float16, 16)

/* out[M][N] = act(x[M][K] . w[K][N] + bias[N]): the pointwise convolution (M pixels) and the
 * dense layer share it. Output columns are the vector axis; rows go in tiles of 3 sharing
 * each weight-vector load, the remainder one at a time. */
#define HHBC_RVV_DEFINE_GEMM(D)                                                               \
static inline void hhbc_rvv_gemm_##D(const HHBC_##D##_T *src, HHBC_##D##_T *dst,               \
                                     const HHBC_##D##_T *wgt, const float *bias, int32_t m_n,  \
                                     int32_t n_n, int32_t k_n, const hhbc_act *act)            \
{                                                                                             \
    typedef HHBC_##D##_T elem_t;                                                              \
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(act);                                          \
    size_t vl;                                                                                \
    for (int32_t n0 = 0; n0 < n_n; n0 += (int32_t)vl) {                                       \
        vl = HHBC_##D##_SETVL((size_t)(n_n - n0));                                            \
        int32_t m = 0;                                                                        \
        for (; m + 3 <= m_n; m += 3) {                                                        \
            const elem_t *x0 = src + (size_t)m * k_n;                                         \
            const elem_t *x1 = x0 + k_n, *x2 = x1 + k_n;                                      \
            const elem_t *w = wgt + n0;                                                       \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(bias, n0, vl);                                    \
            vfloat32m8_t a1 = a0, a2 = a0;                                                    \
            HHBC_RVV_RUN3(D, a0, a1, a2, x0, x1, x2, w, n_n, k_n, vl);                        \
            elem_t *y = dst + (size_t)m * n_n + n0;                                           \
            HHBC_RVV_STORE3(D, y, y + n_n, y + 2 * n_n, a0, a1, a2, epi, vl);                 \
        }                                                                                     \
        for (; m < m_n; m++) {                                                                \
            const elem_t *x0 = src + (size_t)m * k_n;                                         \
            const elem_t *w = wgt + n0;                                                       \
            vfloat32m8_t a0 = HHBC_RVV_BIAS(bias, n0, vl);                                    \
            HHBC_RVV_RUN1(D, a0, x0, w, n_n, k_n, vl);                                        \
            HHBC_RVV_STORE1(D, dst + (size_t)m * n_n + n0, a0, epi, vl);                      \
        }                                                                                     \
    }                                                                                         \
}
HHBC_RVV_DEFINE_GEMM(F32)
HHBC_RVV_DEFINE_GEMM(F16)
#undef HHBC_RVV_DEFINE_GEMM

#endif /* HHBC_RVV_CONV_H */
