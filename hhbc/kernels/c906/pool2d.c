/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): 2-D max / average pooling, NHWC,
 * float32 and float16. Same signature, params and semantics as ref/pool2d.c (no packing).
 *
 * Channels are the vector axis (f32: e32,m8 = 32 lanes; f16: e16,m4 = 32 lanes). For each
 * output pixel the valid tap range [kh0,kh1) x [kw0,kw1) is computed once (no per-tap
 * branches); the first valid tap initialises the accumulator, the others are folded in with
 * one load + one vfadd/vfmax each (a full-width window is one run of taps, unrolled by 4).
 * A window with no valid tap
 * gives -INFINITY (max) or 0 (avg), as ref.
 * float16: max runs in e16 (exact); avg accumulates in float32 with the widening
 * vfwadd.wv, divides in float32 and narrows once (vfncvt) before the store.
 * Vector registers: v8 (accumulator group), v16, v24 (tap loads).
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

/* Taps kept along one axis: k in [k0, k1) has 0 <= start + k*dil < n. */
static inline void hhbc_c906_pool_range(int32_t start, int32_t dil, int32_t k, int32_t n,
                                        int32_t *k0, int32_t *k1)
{
    int32_t lo = 0, hi = k;
    if (start < 0) lo = (-start + dil - 1) / dil;
    if (start + (k - 1) * dil >= n) hi = n - start <= 0 ? 0 : (n - start + dil - 1) / dil;
    if (hi > k) hi = k;
    if (hi < lo) hi = lo;
    *k0 = lo;
    *k1 = hi;
}

/* Number of taps inside [lo_b, hi_b) of start + k*dil, k < kn (count_include_pad). */
static inline int32_t hhbc_c906_pool_count(int32_t start, int32_t dil, int32_t kn, int32_t lo_b, int32_t hi_b)
{
    int32_t k0, k1;
    hhbc_c906_pool_range(start - lo_b, dil, kn, hi_b - lo_b, &k0, &k1);
    return k1 - k0;
}

/* NAME(p, row_step, tap_step, rows, cols): fold every tap of the window but the first
 * (already in v8) into v8 with OP; TA/TB are the load registers. The taps are rows runs of
 * cols taps; rows back to back in memory (full-width window) make one run, unrolled by 4. */
#define HHBC_C906_POOL_WINDOW(NAME, OP, TA, TB)                                          \
    static inline __attribute__((always_inline)) void NAME(const char *p, ptrdiff_t row_step, \
                                                           ptrdiff_t s, int32_t rows, int32_t cols) \
    {                                                                                    \
        if (rows == 1 || row_step == (ptrdiff_t)cols * s) {                              \
            const int32_t n = rows * cols - 1;                                           \
            const ptrdiff_t s4 = 4 * s;                                                  \
            const char *q0 = p + s, *q1 = q0 + s, *q2 = q1 + s, *q3 = q2 + s;            \
            const char *const e4 = q0 + (ptrdiff_t)(n >> 2) * s4;                        \
            const char *const e = q0 + (ptrdiff_t)n * s;                                 \
            for (; q0 != e4; q0 += s4, q1 += s4, q2 += s4, q3 += s4) {                   \
                HV_VLE(TA, q0); HV_VLE(TB, q1); OP(v8, v8, TA); OP(v8, v8, TB);           \
                HV_VLE(TA, q2); HV_VLE(TB, q3); OP(v8, v8, TA); OP(v8, v8, TB);           \
            }                                                                            \
            for (; q0 != e; q0 += s) { HV_VLE(TA, q0); OP(v8, v8, TA); }                 \
            return;                                                                      \
        }                                                                                \
        {                                                                                \
            const ptrdiff_t run = (ptrdiff_t)cols * s;                                   \
            const char *const r_end = p + (ptrdiff_t)rows * row_step;                    \
            const char *q = p + s, *e = p + run;                                         \
            const char *r = p;                                                           \
            if (cols == 3) {   /* 3x3 windows: the other rows unrolled */                \
                HV_VLE(TA, q); HV_VLE(TB, q + s); OP(v8, v8, TA); OP(v8, v8, TB);         \
                for (r += row_step; r != r_end; r += row_step) {                         \
                    HV_VLE(TA, r); HV_VLE(TB, r + s); OP(v8, v8, TA); OP(v8, v8, TB);     \
                    HV_VLE(TA, r + 2 * s); OP(v8, v8, TA);                               \
                }                                                                        \
                return;                                                                  \
            }                                                                            \
            if (cols == 2) {                                                             \
                HV_VLE(TA, q); OP(v8, v8, TA);                                           \
                for (r += row_step; r != r_end; r += row_step) {                         \
                    HV_VLE(TA, r); HV_VLE(TB, r + s); OP(v8, v8, TA); OP(v8, v8, TB);     \
                }                                                                        \
                return;                                                                  \
            }                                                                            \
            for (; r != r_end; r += row_step, q = r, e = r + run)                        \
                for (; q != e; q += s) { HV_VLE(TA, q); OP(v8, v8, TA); }                \
        }                                                                                \
    }

HHBC_C906_POOL_WINDOW(hhbc_c906_pool_max_f32, HV_VFMAX_VV, v16, v24)
HHBC_C906_POOL_WINDOW(hhbc_c906_pool_sum_f32, HV_VFADD_VV, v16, v24)
HHBC_C906_POOL_WINDOW(hhbc_c906_pool_max_f16, HV_VFMAX_VV, v16, v20)
HHBC_C906_POOL_WINDOW(hhbc_c906_pool_sum_f16, HV_VFWADD_WV, v16, v20)   /* e16 taps into e32 v8 */

/* Empty window (no valid tap): -INFINITY (max) or 0 (avg) on every channel. */
static inline void hhbc_c906_pool_empty(char *y, int32_t c_n, int is_max, int is16)
{
    size_t vl;
    for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
        if (is16) {
            const _Float16 v = is_max ? (_Float16)-INFINITY : (_Float16)0.0f;
            HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
            HV_VFMV_V_F(v8, v);
            HV_VSE(v8, y + (size_t)c * 2);
        } else {
            const float v = is_max ? -INFINITY : 0.0f;
            HV_VSETVLI(vl, (size_t)(c_n - c), HV_E32M8);
            HV_VFMV_V_F(v8, v);
            HV_VSE(v8, y + (size_t)c * 4);
        }
    }
}

/* One output pixel whose window lies inside the input (a global pool, or the Alibaba KWS
 * 24x5 average pool): kept out of the general loop nest so that none of its setup runs. */
static __attribute__((noinline)) void hhbc_c906_pool_single(const char *x, char *y, int32_t c_n, ptrdiff_t row_step,
                                                            ptrdiff_t tap_step, int32_t rows, int32_t cols,
                                                            int is16, int is_max)
{
    const float divisor = (float)(rows * cols);
    size_t vl, t;
    for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
        const size_t off = (size_t)c * (is16 ? 2 : 4);
        if (!is16) {
            HV_VSETVLI(vl, (size_t)(c_n - c), HV_E32M8);
            HV_VLE(v8, x + off);
            if (is_max) {
                hhbc_c906_pool_max_f32(x + off, row_step, tap_step, rows, cols);
            } else {
                hhbc_c906_pool_sum_f32(x + off, row_step, tap_step, rows, cols);
                HV_VFDIV_VF(v8, v8, divisor);
            }
            HV_VSE(v8, y + off);
        } else if (is_max) {
            HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
            HV_VLE(v8, x + off);
            hhbc_c906_pool_max_f16(x + off, row_step, tap_step, rows, cols);
            HV_VSE(v8, y + off);
        } else {
            HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
            HV_VLE(v16, x + off);
            HV_VFWCVT_F_F_V(v8, v16);
            hhbc_c906_pool_sum_f16(x + off, row_step, tap_step, rows, cols);
            HV_VSETVLI(t, vl, HV_E32M8);
            HV_VFDIV_VF(v8, v8, divisor);
            HV_VSETVLI(t, vl, HV_E16M4);
            HV_VFNCVT_F_F_V(v16, v8);
            HV_VSE(v16, y + off);
        }
    }
    (void)t;
}

static void hhbc_c906_pool2d(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p,
                             int is16)
{
    const size_t esz = is16 ? 2 : 4;
    const char *src = (const char *)in->data;
    char *dst = (char *)out->data;
    /* everything the loops need in locals: the asm memory clobbers would reload *p */
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t dh = p->dilation_h, dw = p->dilation_w, pt = p->pad_top, pl = p->pad_left;
    const int32_t pb = p->pad_bottom, pr = p->pad_right, cip = p->count_include_pad;
    const int is_max = p->kind == HHBC_POOL_MAX;
    const ptrdiff_t tap_step = (ptrdiff_t)dw * c_n * (ptrdiff_t)esz;
    const ptrdiff_t row_step = (ptrdiff_t)dh * iw_n * c_n * (ptrdiff_t)esz;
    const size_t pix = (size_t)c_n * esz;

    if (batch == 1 && oh_n == 1 && ow_n == 1 && pt == 0 && pl == 0 && (kh_n - 1) * dh < ih_n
        && (kw_n - 1) * dw < iw_n) {
        hhbc_c906_pool_single(src, dst, c_n, row_step, tap_step, kh_n, kw_n, is16, is_max);
        return;
    }
    for (int32_t n = 0; n < batch; n++) {
        const char *src_n = src + (size_t)n * ih_n * iw_n * pix;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * sh - pt;
            int32_t kh0, kh1;
            hhbc_c906_pool_range(ih0, dh, kh_n, ih_n, &kh0, &kh1);
            const int32_t rows = kh1 - kh0;
            const int32_t rows_pad = hhbc_c906_pool_count(ih0, dh, kh_n, -pt, ih_n + pb);
            const char *src_row = src_n + (size_t)(ih0 + kh0 * dh) * iw_n * pix;
            char *y = dst + ((size_t)n * oh_n + oh) * ow_n * pix;
            /* interior columns [ow_a, ow_b): the whole window row inside the input; they run
               strip by strip so that the window setup is hoisted out of the pixel loop */
            int32_t ow_a = pl > 0 ? (pl + sw - 1) / sw : 0, ow_b = ow_n;
            if (iw_n - (kw_n - 1) * dw + pl <= 0) ow_b = 0;
            else if ((ow_n - 1) * sw - pl + (kw_n - 1) * dw >= iw_n)
                ow_b = (iw_n - (kw_n - 1) * dw + pl - 1) / sw + 1;
            if (ow_b < ow_a || rows == 0) ow_b = ow_a;
            if (ow_b > ow_a) {
                const float divisor = (float)(cip ? rows_pad * kw_n : rows * kw_n);
                const ptrdiff_t px_step = (ptrdiff_t)sw * (ptrdiff_t)pix;
                size_t vl;
                for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
                    const size_t off = (size_t)c * esz;
                    const char *w = src_row + (size_t)(ow_a * sw - pl) * pix + off;
                    char *yy = y + (size_t)ow_a * pix + off;
                    if (!is16) {
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E32M8);
                        if (is_max) {
                            for (int32_t ow = ow_a; ow < ow_b; ow++, w += px_step, yy += pix) {
                                HV_VLE(v8, w);
                                hhbc_c906_pool_max_f32(w, row_step, tap_step, rows, kw_n);
                                HV_VSE(v8, yy);
                            }
                        } else {
                            for (int32_t ow = ow_a; ow < ow_b; ow++, w += px_step, yy += pix) {
                                HV_VLE(v8, w);
                                hhbc_c906_pool_sum_f32(w, row_step, tap_step, rows, kw_n);
                                HV_VFDIV_VF(v8, v8, divisor);
                                HV_VSE(v8, yy);
                            }
                        }
                    } else if (is_max) {
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
                        for (int32_t ow = ow_a; ow < ow_b; ow++, w += px_step, yy += pix) {
                            HV_VLE(v8, w);
                            hhbc_c906_pool_max_f16(w, row_step, tap_step, rows, kw_n);
                            HV_VSE(v8, yy);
                        }
                    } else {
                        size_t t;
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
                        for (int32_t ow = ow_a; ow < ow_b; ow++, w += px_step, yy += pix) {
                            HV_VLE(v16, w);
                            HV_VFWCVT_F_F_V(v8, v16);
                            hhbc_c906_pool_sum_f16(w, row_step, tap_step, rows, kw_n);
                            HV_VSETVLI(t, vl, HV_E32M8);
                            HV_VFDIV_VF(v8, v8, divisor);
                            HV_VSETVLI(t, vl, HV_E16M4);
                            HV_VFNCVT_F_F_V(v16, v8);
                            HV_VSE(v16, yy);
                        }
                        (void)t;
                    }
                }
            }
            for (int32_t ow = 0; ow < ow_n; ow++, y += pix) {
                if (ow == ow_a && ow_b > ow_a) {
                    ow = ow_b - 1;
                    y += (size_t)(ow_b - ow_a - 1) * pix;
                    continue;
                }
                const int32_t iw0 = ow * sw - pl;
                int32_t kw0, kw1;
                hhbc_c906_pool_range(iw0, dw, kw_n, iw_n, &kw0, &kw1);
                const int32_t cols = kw1 - kw0;
                size_t vl;
                if (rows == 0 || cols == 0) {
                    hhbc_c906_pool_empty(y, c_n, is_max, is16);
                    continue;
                }
                float divisor = 1.0f;
                if (!is_max)
                    divisor = (float)(cip ? rows_pad * hhbc_c906_pool_count(iw0, dw, kw_n, -pl, iw_n + pr)
                                          : rows * cols);
                const char *first = src_row + (size_t)(iw0 + kw0 * dw) * pix;
                for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
                    const size_t off = (size_t)c * esz;
                    const char *w = first + off;
                    if (!is16) {
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E32M8);
                        HV_VLE(v8, w);
                        if (is_max) {
                            hhbc_c906_pool_max_f32(w, row_step, tap_step, rows, cols);
                        } else {
                            hhbc_c906_pool_sum_f32(w, row_step, tap_step, rows, cols);
                            HV_VFDIV_VF(v8, v8, divisor);
                        }
                        HV_VSE(v8, y + off);
                    } else if (is_max) {
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
                        HV_VLE(v8, w);
                        hhbc_c906_pool_max_f16(w, row_step, tap_step, rows, cols);
                        HV_VSE(v8, y + off);
                    } else {
                        size_t t;
                        HV_VSETVLI(vl, (size_t)(c_n - c), HV_E16M4);
                        HV_VLE(v16, w);
                        HV_VFWCVT_F_F_V(v8, v16);
                        hhbc_c906_pool_sum_f16(w, row_step, tap_step, rows, cols);
                        HV_VSETVLI(t, vl, HV_E32M8);
                        HV_VFDIV_VF(v8, v8, divisor);
                        HV_VSETVLI(t, vl, HV_E16M4);
                        (void)t;
                        HV_VFNCVT_F_F_V(v16, v8);
                        HV_VSE(v16, y + off);
                    }
                }
            }
        }
    }
}

void hhbc_pool2d_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p)
{
    hhbc_c906_pool2d(in, out, p, 0);
}

void hhbc_pool2d_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p)
{
    hhbc_c906_pool2d(in, out, p, 1);
}
