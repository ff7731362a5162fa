/*
 * hhbc C906 shared helpers (RVV 0.7.1 through hhbc_rvv071.h, VLEN 128): the GEMM-tile engine
 * of the convolution and dense kernels, and the fused-activation epilogue.
 *
 * Register plan of the tile engine (vtype e32,m8: 32 float32 lanes = one strip of output
 * channels): accumulators v8, v16, v24 for up to R = 3 output pixels; the weight vector of
 * one (tap, input channel) in v0 (float32: e32,m8 v0-v7; float16: e16,m4 v0-v3, widened by
 * vfwmacc.vf into the float32 accumulators). One weight load feeds R vfmacc.vf, the input
 * scalars come from flw/flh. Epilogue: act on the accumulators (NONE/RELU/CLIP/LEAKY_RELU in
 * registers; SIGMOID/HARDSWISH through a 32x3 float stack buffer in e32,m4 halves), float16
 * outputs narrowed (vfncvt) into v4 first.
 *
 * SIGMOID uses the elementwise kernels' sigmoid (hhbc_c906_eltwise.h: Cephes expf scheme,
 * max relative error 1.5e-7 measured on c906fdv), well inside 1e-4.
 */
#ifndef HHBC_C906_CONV_H
#define HHBC_C906_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

#ifndef HHBC_C906_INLINE
#define HHBC_C906_INLINE static inline __attribute__((always_inline))
#endif

/* ---- the C906 convolution / dense kernels (ref signatures) ------------------------------- */
#define HHBC_C906_CONV_DECL(T)                                                                        \
    void hhbc_conv2d_1x1_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out,                    \
                                    const hhbc_conv2d_params *p);                                     \
    void hhbc_conv2d_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p); \
    void hhbc_depthwise_conv2d_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out,              \
                                          const hhbc_conv2d_params *p);                               \
    void hhbc_dense_##T##_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p);
HHBC_C906_CONV_DECL(f32)
HHBC_C906_CONV_DECL(f16)
#undef HHBC_C906_CONV_DECL

#define HHBC_C906_STRIP 32   /* float32 lanes of e32,m8 at VLEN 128 */

/* SIGMOID or HARDSWISH on v8 (e32,m4); scratch v12, v16 */
HHBC_C906_INLINE void hhbc_c906_cv_act_slow_v8(hhbc_act_kind kind)
{
    if (kind == HHBC_ACT_SIGMOID) {
        hhbc_c906_sigmoid_v8();   /* the elementwise kernels' exp polynomial */
    } else {
        HV_VFADD_VF(v12, v8, 3.0f);
        HV_VFMAX_VF(v12, v12, 0.0f);
        HV_VFMIN_VF(v12, v12, 6.0f);
        HV_VFMUL_VV(v8, v8, v12);
        HV_VFMUL_VF(v8, v8, 0.16666667163372040f);
    }
}

HHBC_C906_INLINE int hhbc_c906_cv_act_fast(hhbc_act_kind kind)
{
    return kind == HHBC_ACT_NONE || kind == HHBC_ACT_RELU || kind == HHBC_ACT_CLIP || kind == HHBC_ACT_LEAKY_RELU;
}

/* in-register act on one accumulator group (any vtype whose SEW matches the scalars) */
#define HHBC_C906_ACT_FAST(VR, kind, lo, hi, alpha)          \
    do {                                                    \
        if ((kind) == HHBC_ACT_RELU) {                      \
            HV_VFMAX_VF(VR, VR, (zero));                    \
        } else if ((kind) == HHBC_ACT_CLIP) {               \
            HV_VFMAX_VF(VR, VR, (lo));                      \
            HV_VFMIN_VF(VR, VR, (hi));                      \
        } else if ((kind) == HHBC_ACT_LEAKY_RELU) {         \
            HV_VMFLT_VF(v0, VR, (zero));                    \
            HV_VFMUL_VF_M(VR, VR, (alpha));                 \
        }                                                   \
    } while (0)

/* ---- tile engine ------------------------------------------------------------------------ */

/* accumulators of R pixels = bias strip (or 0); leaves vtype e32,m8 (f16: e16,m4), vl lanes */
HHBC_C906_INLINE void hhbc_c906_cv_init(const float *bias, size_t vl, int R, int f16)
{
    size_t t;
    HV_VSETVLI(t, vl, HV_E32M8);
    if (bias) {
        HV_VLE_RO(v8, bias);
        if (R > 1) HV_VMV_V_V(v16, v8);
        if (R > 2) HV_VMV_V_V(v24, v8);
    } else {
        HV_VMV_V_I(v8, 0);
        if (R > 1) HV_VMV_V_I(v16, 0);
        if (R > 2) HV_VMV_V_I(v24, 0);
    }
    if (f16) HV_VSETVLI(t, vl, HV_E16M4);
    (void)t;
}

/* acc_r += sum_{j < rows} sum_{i < len} x_r[j * xr + i] * w[(j * wr) + i * ws .. + vl), with
 * x_r = x + r * xs, for r < R (element strides). rows = kernel rows of a tile; len = the
 * contiguous run of (kw, ic) taps of one row. */
/* one input channel of a 3-pixel run: the weight vector at w (then w += ws) times the
 * scalars x[K], x1[K], x2[K] */
#define HHBC_C906_STEP3(T, FMA, K)                                                                    \
    do {                                                                                            \
        T a_ = x[K], b_ = x1[K], c_ = x2[K];                                                        \
        HV_VLE_RO(v0, w);                                                                           \
        FMA(v8, a_, v0); FMA(v16, b_, v0); FMA(v24, c_, v0);                                        \
        w += ws;                                                                                    \
    } while (0)

#define HHBC_C906_RUNS(SUF, T, FMA)                                                                   \
    HHBC_C906_INLINE void hhbc_c906_cv_run3_##SUF(const T *x0, ptrdiff_t xs, ptrdiff_t xr, const T *w0,  \
                                                   ptrdiff_t ws, ptrdiff_t wr, int32_t rows, int32_t len) \
    {                                                                                               \
        for (int32_t j = 0; j < rows; j++, x0 += xr, w0 += wr) {                                    \
            const T *x = x0, *x1 = x0 + xs, *x2 = x0 + 2 * xs, *w = w0;                             \
            int32_t i = 0;                                                                          \
            for (; i + 8 <= len; i += 8) {                                                          \
                HHBC_C906_STEP3(T, FMA, 0); HHBC_C906_STEP3(T, FMA, 1);                             \
                HHBC_C906_STEP3(T, FMA, 2); HHBC_C906_STEP3(T, FMA, 3);                             \
                HHBC_C906_STEP3(T, FMA, 4); HHBC_C906_STEP3(T, FMA, 5);                             \
                HHBC_C906_STEP3(T, FMA, 6); HHBC_C906_STEP3(T, FMA, 7);                             \
                x += 8; x1 += 8; x2 += 8;                                                           \
            }                                                                                       \
            for (; i + 4 <= len; i += 4) {                                                          \
                HHBC_C906_STEP3(T, FMA, 0); HHBC_C906_STEP3(T, FMA, 1);                             \
                HHBC_C906_STEP3(T, FMA, 2); HHBC_C906_STEP3(T, FMA, 3);                             \
                x += 4; x1 += 4; x2 += 4;                                                           \
            }                                                                                       \
            for (; i < len; i++) {                                                                  \
                T a0 = x[0], b0 = x1[0], c0 = x2[0];                                                \
                HV_VLE_RO(v0, w);                                                                   \
                FMA(v8, a0, v0); FMA(v16, b0, v0); FMA(v24, c0, v0);                                \
                x++; x1++; x2++; w += ws;                                                           \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    HHBC_C906_INLINE void hhbc_c906_cv_run2_##SUF(const T *x0, ptrdiff_t xs, ptrdiff_t xr, const T *w0,  \
                                                   ptrdiff_t ws, ptrdiff_t wr, int32_t rows, int32_t len) \
    {                                                                                               \
        for (int32_t j = 0; j < rows; j++, x0 += xr, w0 += wr) {                                    \
            const T *x = x0, *x1 = x0 + xs, *w = w0;                                                \
            int32_t i = 0;                                                                          \
            for (; i + 2 <= len; i += 2) {                                                          \
                const T *w1 = w + ws;                                                               \
                T a0 = x[0], b0 = x1[0];                                                            \
                HV_VLE_RO(v0, w);                                                                   \
                FMA(v8, a0, v0); FMA(v16, b0, v0);                                                  \
                T a1 = x[1], b1 = x1[1];                                                            \
                HV_VLE_RO(v0, w1);                                                                  \
                FMA(v8, a1, v0); FMA(v16, b1, v0);                                                  \
                x += 2; x1 += 2; w += 2 * ws;                                                       \
            }                                                                                       \
            if (i < len) {                                                                          \
                T a0 = x[0], b0 = x1[0];                                                            \
                HV_VLE_RO(v0, w);                                                                   \
                FMA(v8, a0, v0); FMA(v16, b0, v0);                                                  \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    HHBC_C906_INLINE void hhbc_c906_cv_run1_##SUF(const T *x0, ptrdiff_t xr, const T *w0, ptrdiff_t ws,  \
                                                   ptrdiff_t wr, int32_t rows, int32_t len)         \
    {                                                                                               \
        for (int32_t j = 0; j < rows; j++, x0 += xr, w0 += wr) {                                    \
            const T *x = x0, *w = w0;                                                               \
            int32_t i = 0;                                                                          \
            for (; i + 2 <= len; i += 2) {                                                          \
                const T *w1 = w + ws;                                                               \
                T a0 = x[0];                                                                        \
                HV_VLE_RO(v0, w);                                                                   \
                FMA(v8, a0, v0);                                                                    \
                T a1 = x[1];                                                                        \
                HV_VLE_RO(v0, w1);                                                                  \
                FMA(v8, a1, v0);                                                                    \
                x += 2; w += 2 * ws;                                                                \
            }                                                                                       \
            if (i < len) {                                                                          \
                T a0 = x[0];                                                                        \
                HV_VLE_RO(v0, w);                                                                   \
                FMA(v8, a0, v0);                                                                    \
            }                                                                                       \
        }                                                                                           \
    }

HHBC_C906_RUNS(f32, float, HV_VFMACC_VF)
HHBC_C906_RUNS(f16, _Float16, HV_VFWMACC_VF)
#undef HHBC_C906_RUNS

/* R pixels x rows kernel rows x len taps; x, w point at elements of 4 (f16: 2) bytes,
 * strides in elements */
HHBC_C906_INLINE void hhbc_c906_cv_run(int R, int f16, const void *x, ptrdiff_t xs, ptrdiff_t xr, const void *w,
                                       ptrdiff_t ws, ptrdiff_t wr, int32_t rows, int32_t len)
{
    /* short runs (the first layer's kernel rows: KW taps of one channel) get a copy with
     * the run length known, fully unrolled: no loop overhead per kernel row */
#define HHBC_C906_RUN_LEN(L)                                                                              \
    do {                                                                                                  \
        if (f16) {                                                                                        \
            const _Float16 *xh = (const _Float16 *)x, *wh = (const _Float16 *)w;                         \
            if (R == 3) hhbc_c906_cv_run3_f16(xh, xs, xr, wh, ws, wr, rows, L);                          \
            else if (R == 2) hhbc_c906_cv_run2_f16(xh, xs, xr, wh, ws, wr, rows, L);                     \
            else hhbc_c906_cv_run1_f16(xh, xr, wh, ws, wr, rows, L);                                     \
        } else {                                                                                          \
            const float *xf = (const float *)x, *wf = (const float *)w;                                   \
            if (R == 3) hhbc_c906_cv_run3_f32(xf, xs, xr, wf, ws, wr, rows, L);                          \
            else if (R == 2) hhbc_c906_cv_run2_f32(xf, xs, xr, wf, ws, wr, rows, L);                     \
            else hhbc_c906_cv_run1_f32(xf, xr, wf, ws, wr, rows, L);                                     \
        }                                                                                                 \
    } while (0)
    if (rows > 1 && len == 4) HHBC_C906_RUN_LEN(4);
    else if (rows > 1 && len == 3) HHBC_C906_RUN_LEN(3);
    else HHBC_C906_RUN_LEN(len);
#undef HHBC_C906_RUN_LEN
}

/* epilogue of R accumulators (v8, v16, v24): act, (narrow,) store vl lanes of pixel r at
 * out + r * ps elements. Expects vtype e32,m8 (f32) or e16,m4 (f16) with vl lanes. */
HHBC_C906_INLINE void hhbc_c906_cv_store(void *out, ptrdiff_t ps, int R, size_t vl, hhbc_act_kind kind,
                                         float lo, float hi, float alpha, int f16)
{
    size_t t;
    if (hhbc_c906_cv_act_fast(kind)) {
        if (!f16) {
            float *o = (float *)out;
            const float zero = 0.0f;
            HV_VSETVLI(t, vl, HV_E32M8);
            HHBC_C906_ACT_FAST(v8, kind, lo, hi, alpha);
            HV_VSE(v8, o);
            if (R > 1) {
                HHBC_C906_ACT_FAST(v16, kind, lo, hi, alpha);
                HV_VSE(v16, o + ps);
            }
            if (R > 2) {
                HHBC_C906_ACT_FAST(v24, kind, lo, hi, alpha);
                HV_VSE(v24, o + 2 * ps);
            }
        } else {
            _Float16 *o = (_Float16 *)out;
            const _Float16 zero = (_Float16)0.0f, lo16 = (_Float16)lo, hi16 = (_Float16)hi;
            const _Float16 al16 = (_Float16)alpha;
            HV_VSETVLI(t, vl, HV_E16M4);
            HV_VFNCVT_F_F_V(v4, v8);
            HHBC_C906_ACT_FAST(v4, kind, lo16, hi16, al16);
            HV_VSE(v4, o);
            if (R > 1) {
                HV_VFNCVT_F_F_V(v4, v16);
                HHBC_C906_ACT_FAST(v4, kind, lo16, hi16, al16);
                HV_VSE(v4, o + ps);
            }
            if (R > 2) {
                HV_VFNCVT_F_F_V(v4, v24);
                HHBC_C906_ACT_FAST(v4, kind, lo16, hi16, al16);
                HV_VSE(v4, o + 2 * ps);
            }
        }
    } else {
        float tmp[3 * HHBC_C906_STRIP];
        HV_VSETVLI(t, vl, HV_E32M8);
        HV_VSE(v8, tmp);
        if (R > 1) HV_VSE(v16, tmp + HHBC_C906_STRIP);
        if (R > 2) HV_VSE(v24, tmp + 2 * HHBC_C906_STRIP);
        for (int r = 0; r < R; r++) {
            for (size_t h = 0; h < vl; h += 16) {
                const size_t n = vl - h < 16 ? vl - h : 16;
                HV_VSETVLI(t, n, HV_E32M4);
                HV_VLE(v8, tmp + r * HHBC_C906_STRIP + h);
                hhbc_c906_cv_act_slow_v8(kind);
                if (!f16) {
                    HV_VSE(v8, (float *)out + r * ps + h);
                } else {
                    HV_VSETVLI(t, n, HV_E16M2);
                    HV_VFNCVT_F_F_V(v4, v8);
                    HV_VSE(v4, (_Float16 *)out + r * ps + h);
                }
            }
        }
    }
    (void)t;
}

#endif /* HHBC_C906_CONV_H */
