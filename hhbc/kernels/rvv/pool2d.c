/*
 * hhbc rvv kernel: 2-D max / average pooling, NHWC, float32 and float16 (zvfh). RVV 1.0
 * C intrinsics, VLEN-agnostic. Same signature, params and semantics as ref/pool2d.c (no
 * packed layout): any kernel, stride, dilation, padding, count_include_pad; global pools.
 *
 * Channels are the vector axis, strip-mined with vsetvl at e32 m8 (float16: e16 m4 taps).
 * Per output pixel the valid tap range [kh0, kh1) x [kw0, kw1) and the divisor are
 * computed once (no per-tap branches); the accumulator starts at -INFINITY / 0 like ref's,
 * every tap is one load + one vfadd / vfmax (unrolled by 4). A window row whose taps are back to
 * back in memory (dilation_w 1) is one run of taps, so a full-width window (the Alibaba
 * KWS 24x5 average pool, global pools) is a single loop of rows * cols taps.
 * float16: max in e16 (exact); avg widens each tap into float32 accumulators
 * (vfwadd.wv), divides in float32 and narrows once. Empty windows: -INFINITY (max) or 0
 * (avg), like ref.
 */
#include <math.h>
#include <stddef.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_math.h"

/* taps k in [*k0, *k1) of start + k * dil inside [0, n) */
static inline void hhbc_rvv_pool_range(int32_t start, int32_t dil, int32_t k, int32_t n,
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

/* acc = OP(acc, load(q)) for q = q0, q0 + ts, ... (n taps), unrolled by 4 with one load
 * register (the accumulation order stays the ref's row-major tap order). */
#define HHBC_RVV_POOL_TAPS(acc, OP, LOAD, q0, ts, n, vl)                                      \
    do {                                                                                      \
        const ptrdiff_t ts4_ = 4 * (ts);                                                      \
        const ptrdiff_t n4_ = (n) >> 2;                                                       \
        for (ptrdiff_t k_ = 0; k_ < n4_; k_++) {                                              \
            acc = OP(acc, LOAD(q0, vl), vl);                                                  \
            acc = OP(acc, LOAD(q0 + (ts), vl), vl);                                           \
            acc = OP(acc, LOAD(q0 + 2 * (ts), vl), vl);                                       \
            acc = OP(acc, LOAD(q0 + 3 * (ts), vl), vl);                                       \
            q0 += ts4_;                                                                       \
        }                                                                                     \
        for (int32_t k_ = (n) & 3; k_ > 0; k_--, q0 += (ts)) acc = OP(acc, LOAD(q0, vl), vl); \
    } while (0)

/* One run of n taps folded into acc; kept out of line so that the compiler walks the taps
 * with one pointer (inlined, its loop strength reduction keeps a pointer per unrolled tap
 * plus the channel offset: 5 instructions a tap instead of ~2.5). */
#define HHBC_RVV_DEFINE_POOL_RUN(FN, VT, T, OP, LOAD)                                          \
static __attribute__((noinline)) VT FN(VT acc, const T *q, ptrdiff_t ts, int32_t n, size_t vl) \
{                                                                                             \
    HHBC_RVV_POOL_TAPS(acc, OP, LOAD, q, ts, n, vl);                                          \
    return acc;                                                                               \
}
HHBC_RVV_DEFINE_POOL_RUN(hhbc_rvv_pool_run_max_f32, vfloat32m8_t, float, __riscv_vfmax_vv_f32m8, __riscv_vle32_v_f32m8)
HHBC_RVV_DEFINE_POOL_RUN(hhbc_rvv_pool_run_sum_f32, vfloat32m8_t, float, __riscv_vfadd_vv_f32m8, __riscv_vle32_v_f32m8)
HHBC_RVV_DEFINE_POOL_RUN(hhbc_rvv_pool_run_max_f16, vfloat16m8_t, _Float16, __riscv_vfmax_vv_f16m8, __riscv_vle16_v_f16m8)
HHBC_RVV_DEFINE_POOL_RUN(hhbc_rvv_pool_run_sum_f16, vfloat32m8_t, _Float16, __riscv_vfwadd_wv_f32m8, __riscv_vle16_v_f16m4)

/* One output pixel: x points at the first valid tap (channel 0), taps at
 * x + r * rs + k * ts for r < rows, k < cols (element strides); rows, cols >= 1. */
static void hhbc_rvv_pool_px_f32(const float *x, float *y, int32_t c_n, ptrdiff_t rs, ptrdiff_t ts,
                                 int32_t rows, int32_t cols, int is_max, float div)
{
    const int32_t run = rs == (ptrdiff_t)cols * ts ? rows * cols : cols;
    const int32_t nrun = run == cols ? rows : 1;
    size_t vl;
    for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m8((size_t)(c_n - c));
        const float *xr = x + c;
        vfloat32m8_t acc = __riscv_vfmv_v_f_f32m8(is_max ? -INFINITY : 0.0f, vl);
        for (int32_t r = 0; r < nrun; r++, xr += rs) {
            const float *q = xr;
            const int32_t nt = run;
            if (is_max) acc = hhbc_rvv_pool_run_max_f32(acc, q, ts, nt, vl);
            else acc = hhbc_rvv_pool_run_sum_f32(acc, q, ts, nt, vl);
        }
        if (!is_max) acc = __riscv_vfdiv_vf_f32m8(acc, div, vl);
        __riscv_vse32_v_f32m8(y + c, acc, vl);
    }
}

static void hhbc_rvv_pool_px_f16(const _Float16 *x, _Float16 *y, int32_t c_n, ptrdiff_t rs, ptrdiff_t ts,
                                 int32_t rows, int32_t cols, int is_max, float div)
{
    const int32_t run = rs == (ptrdiff_t)cols * ts ? rows * cols : cols;
    const int32_t nrun = run == cols ? rows : 1;
    size_t vl;
    for (int32_t c = 0; c < c_n; c += (int32_t)vl) {
        const _Float16 *xr = x + c;
        if (is_max) {
            vl = __riscv_vsetvl_e16m8((size_t)(c_n - c));
            vfloat16m8_t acc = __riscv_vfmv_v_f_f16m8((_Float16)-INFINITY, vl);
            for (int32_t r = 0; r < nrun; r++, xr += rs) {
                const _Float16 *q = xr;
                const int32_t nt = run;
                acc = hhbc_rvv_pool_run_max_f16(acc, q, ts, nt, vl);
            }
            __riscv_vse16_v_f16m8(y + c, acc, vl);
        } else {
            vl = __riscv_vsetvl_e16m4((size_t)(c_n - c));
            vfloat32m8_t acc = __riscv_vfmv_v_f_f32m8(0.0f, vl);
            for (int32_t r = 0; r < nrun; r++, xr += rs) {
                const _Float16 *q = xr;
                const int32_t nt = run;
                acc = hhbc_rvv_pool_run_sum_f16(acc, q, ts, nt, vl);
            }
            acc = __riscv_vfdiv_vf_f32m8(acc, div, vl);
            __riscv_vse16_v_f16m4(y + c, __riscv_vfncvt_f_f_w_f16m4(acc, vl), vl);
        }
    }
}

#define HHBC_RVV_DEFINE_POOL(NAME, T, PX, FILL)                                               \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p)         \
{                                                                                             \
    const T *src = (const T *)in->data;                                                       \
    T *dst = (T *)out->data;                                                                  \
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3]; \
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];                                     \
    const int is_max = p->kind == HHBC_POOL_MAX;                                              \
    const ptrdiff_t rs = (ptrdiff_t)p->dilation_h * iw_n * c_n;                               \
    const ptrdiff_t ts = (ptrdiff_t)p->dilation_w * c_n;                                      \
    for (int32_t n = 0; n < batch; n++) {                                                     \
        const T *src_n = src + (size_t)n * ih_n * iw_n * c_n;                                 \
        for (int32_t oh = 0; oh < oh_n; oh++) {                                               \
            const int32_t ih0 = oh * p->stride_h - p->pad_top;                                \
            int32_t kh0, kh1, ph0, ph1;                                                       \
            hhbc_rvv_pool_range(ih0, p->dilation_h, p->kernel_h, ih_n, &kh0, &kh1);           \
            hhbc_rvv_pool_range(ih0 + p->pad_top, p->dilation_h, p->kernel_h,                 \
                                ih_n + p->pad_top + p->pad_bottom, &ph0, &ph1);               \
            for (int32_t ow = 0; ow < ow_n; ow++) {                                           \
                const int32_t iw0 = ow * p->stride_w - p->pad_left;                           \
                T *y = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;                     \
                int32_t kw0, kw1, pw0, pw1;                                                   \
                hhbc_rvv_pool_range(iw0, p->dilation_w, p->kernel_w, iw_n, &kw0, &kw1);       \
                if (kh1 <= kh0 || kw1 <= kw0) {                                               \
                    FILL(y, is_max ? -INFINITY : 0.0f, c_n);                                  \
                    continue;                                                                 \
                }                                                                             \
                float div = (float)((kh1 - kh0) * (kw1 - kw0));                               \
                if (p->count_include_pad) {                                                   \
                    hhbc_rvv_pool_range(iw0 + p->pad_left, p->dilation_w, p->kernel_w,        \
                                        iw_n + p->pad_left + p->pad_right, &pw0, &pw1);       \
                    div = (float)((ph1 - ph0) * (pw1 - pw0));                                 \
                }                                                                             \
                const T *x = src_n + ((size_t)(ih0 + kh0 * p->dilation_h) * iw_n              \
                                      + (iw0 + kw0 * p->dilation_w)) * c_n;                   \
                PX(x, y, c_n, rs, ts, kh1 - kh0, kw1 - kw0, is_max, div);                     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_POOL(hhbc_pool2d_f32_rvv, float, hhbc_rvv_pool_px_f32, hhbc_rvv_fill_f32)
HHBC_RVV_DEFINE_POOL(hhbc_pool2d_f16_rvv, _Float16, hhbc_rvv_pool_px_f16, hhbc_rvv_fill_f16)
