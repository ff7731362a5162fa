/*
 * hhbc rvv kernels of the float16_w_int8 scheme: pointwise convolution, depthwise
 * convolution (multiplier 1) and dense on float16 activations with int8 weights.
 * RVV 1.0 C intrinsics (zvfh), VLEN-agnostic. Same params as the reference _f16w8 kernels
 * (hhbc_kernels_w8.h), same results: bit for bit under NONE, RELU and CLIP.
 *
 * Packed weight layouts (int8): conv [KH][KW][IC][OC] (packing.conv_gkkio, one group; a 1x1
 * conv is [IC][OC]), dense [K][N]
 * (packing.dense_kn), depthwise [KH][KW][C] as the reference has them; output channels are
 * the vector axis.
 *
 * Scheme: per strip of output channels, the strip's int8 weights are widened to half once
 * (vle8, vsext.vf2, vfcvt.f.x.v: exact, |w| <= 127) into a slab on the stack, [rows][vl];
 * the MAC loops are then the float16 kernels' (hhbc_rvv_conv.h: 3 pixels per half weight
 * vector, vfwmacc into float32 accumulators that start at 0). The epilogue multiplies by the
 * channels' float32 scales, adds the bias (two roundings, as the reference), applies the
 * activation and narrows once. A reduction longer than the slab holds is widened in chunks,
 * per tile, in the same order.
 */
#include "hhbc_kernels_w8.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

#define HHBC_F16W8_SLAB 4096   /* halves (8 KiB): widened weights of one strip */

void hhbc_conv2d_1x1_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);
void hhbc_conv2d_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);
void hhbc_depthwise_conv2d_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out,
                                     const hhbc_conv2d_w8_params *p);
void hhbc_dense_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p);

/* dst[r][0..vl) = (half)src[r * stride + 0..vl) for r < rows */
static inline void hhbc_rvv_f16w8_widen(_Float16 *dst, const int8_t *src, ptrdiff_t stride, int32_t rows,
                                        size_t vl)
{
    for (int32_t r = 0; r < rows; r++, src += stride, dst += vl) {
        const vint16m4_t w = __riscv_vsext_vf2_i16m4(__riscv_vle8_v_i8m2(src, vl), vl);
        __riscv_vse16_v_f16m4(dst, __riscv_vfcvt_f_x_v_f16m4(w, vl), vl);
    }
    /* the MAC loops read the slab from inline asm, which declares no memory inputs: keep the
     * stores (the compiler sees no C read of the slab) */
    __asm__ volatile("" ::: "memory");
}

/* acc * scale (+ bias), activation, narrow, store vl channels at y */
#define HHBC_F16W8_FINISH(y, a, scale, bias, epi, vl)                                         \
    do {                                                                                      \
        vfloat32m8_t t_ = __riscv_vfmul_vv_f32m8((a), __riscv_vle32_v_f32m8((scale), (vl)), (vl)); \
        if (bias) t_ = __riscv_vfadd_vv_f32m8(t_, __riscv_vle32_v_f32m8((bias), (vl)), (vl));  \
        HHBC_RVV_STORE1(F16, (y), t_, (epi), (vl));                                           \
    } while (0)

/* out[M][N] = half(act(scale[N] * (x[M][K] . w[K][N]) + bias[N])), w int8. The loops are in a
 * function of their own, with the caller's slab: a frame holding the 8 KiB slab puts every
 * spilled variable beyond a 12-bit offset (3 instructions per access). */
static __attribute__((noinline)) void hhbc_rvv_gemm_f16w8_in(const _Float16 *src, _Float16 *dst, const int8_t *wgt,
                                                             const float *scale, const float *bias, int32_t m_n,
                                                             int32_t n_n, int32_t k_n, const hhbc_act *act,
                                                             _Float16 *slab)
{
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(act);
    size_t vl;
    for (int32_t n0 = 0; n0 < n_n; n0 += (int32_t)vl) {
        const int32_t left = n_n - n0;
        vl = __riscv_vsetvl_e16m4((size_t)(left < HHBC_F16W8_SLAB ? left : HHBC_F16W8_SLAB));
        const int32_t kc = (int32_t)(HHBC_F16W8_SLAB / vl);   /* slab rows */
        const int whole = k_n <= kc;
        const float *s = scale + n0, *b = bias ? bias + n0 : NULL;
        if (whole) hhbc_rvv_f16w8_widen(slab, wgt + n0, n_n, k_n, vl);
        int32_t m = 0;
        for (; m + 3 <= m_n; m += 3) {
            const _Float16 *x0 = src + (size_t)m * k_n;
            const _Float16 *x1 = x0 + k_n, *x2 = x1 + k_n;
            vfloat32m8_t a0 = __riscv_vfmv_v_f_f32m8(0.0f, vl);
            vfloat32m8_t a1 = a0, a2 = a0;
            for (int32_t k0 = 0; k0 < k_n; k0 += kc) {
                const int32_t kn = k_n - k0 < kc ? k_n - k0 : kc;
                if (!whole) hhbc_rvv_f16w8_widen(slab, wgt + (size_t)k0 * n_n + n0, n_n, kn, vl);
                const _Float16 *w = slab;
                HHBC_RVV_RUN3(F16, a0, a1, a2, x0, x1, x2, w, vl, kn, vl);
            }
            _Float16 *y = dst + (size_t)m * n_n + n0;
            HHBC_F16W8_FINISH(y, a0, s, b, epi, vl);
            HHBC_F16W8_FINISH(y + n_n, a1, s, b, epi, vl);
            HHBC_F16W8_FINISH(y + 2 * n_n, a2, s, b, epi, vl);
        }
        for (; m < m_n; m++) {
            const _Float16 *x0 = src + (size_t)m * k_n;
            vfloat32m8_t a0 = __riscv_vfmv_v_f_f32m8(0.0f, vl);
            for (int32_t k0 = 0; k0 < k_n; k0 += kc) {
                const int32_t kn = k_n - k0 < kc ? k_n - k0 : kc;
                if (!whole) hhbc_rvv_f16w8_widen(slab, wgt + (size_t)k0 * n_n + n0, n_n, kn, vl);
                const _Float16 *w = slab;
                HHBC_RVV_RUN1(F16, a0, x0, w, vl, kn, vl);
            }
            HHBC_F16W8_FINISH(dst + (size_t)m * n_n + n0, a0, s, b, epi, vl);
        }
    }
}

static void hhbc_rvv_gemm_f16w8(const _Float16 *src, _Float16 *dst, const int8_t *wgt, const float *scale,
                                const float *bias, int32_t m_n, int32_t n_n, int32_t k_n, const hhbc_act *act)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_rvv_gemm_f16w8_in(src, dst, wgt, scale, bias, m_n, n_n, k_n, act, slab);
}

void hhbc_conv2d_1x1_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    hhbc_rvv_gemm_f16w8((const _Float16 *)in->data, (_Float16 *)out->data, p->weight, p->w_scale, p->bias,
                        out->dim[0] * out->dim[1] * out->dim[2], out->dim[3], in->dim[3], &p->act);
}

void hhbc_dense_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p)
{
    hhbc_rvv_gemm_f16w8((const _Float16 *)in->data, (_Float16 *)out->data, p->weight, p->w_scale, p->bias,
                        p->m, p->n, p->k, &p->act);
}

/*
 * Depthwise, 3 pixels (inputs X, X + XS, X + 2 XS; elements), N taps XSTEP elements apart
 * with their weight vectors one after another in the slab (W): per tap one weight load
 * feeds 3 vfwmacc.vv. One asm block: as HHBC_RVV_RUN3_ASM, written with intrinsics LLVM
 * spills the three m8 accumulators. Reads memory no kernel writes: no "memory" clobber.
 */
#define HHBC_F16W8_DW3(A0_, A1_, A2_, X_, XS_, XSTEP_, W_, N_, VL_)                           \
    do {                                                                                      \
        vfloat16m4_t wt_, xt_;                                                                \
        const _Float16 *x_ = (X_), *w_ = (W_), *t_;                                           \
        long n_ = (long)(N_);                                                                 \
        const long xsb_ = (long)(XS_) * 2, xstepb_ = (long)(XSTEP_) * 2, wsb_ = (long)(VL_) * 2; \
        if (n_ > 0)                                                                           \
            __asm__ volatile(                                                                 \
                "vsetvli zero, %[vl], e16, m4, ta, ma\n\t"                                     \
                "1:\n\t"                                                                      \
                "vle16.v %[wt], (%[w])\n\t"                                                   \
                "add %[w], %[w], %[ws]\n\t"                                                   \
                "vle16.v %[xt], (%[x])\n\t"                                                   \
                "add %[t], %[x], %[xs]\n\t"                                                   \
                "vfwmacc.vv %[a0], %[xt], %[wt]\n\t"                                          \
                "vle16.v %[xt], (%[t])\n\t"                                                   \
                "add %[t], %[t], %[xs]\n\t"                                                   \
                "vfwmacc.vv %[a1], %[xt], %[wt]\n\t"                                          \
                "vle16.v %[xt], (%[t])\n\t"                                                   \
                "add %[x], %[x], %[xstep]\n\t"                                                \
                "vfwmacc.vv %[a2], %[xt], %[wt]\n\t"                                          \
                "addi %[n], %[n], -1\n\t"                                                     \
                "bnez %[n], 1b\n\t"                                                           \
                : [a0] "+vr"(A0_), [a1] "+vr"(A1_), [a2] "+vr"(A2_), [wt] "=&vr"(wt_),        \
                  [xt] "=&vr"(xt_), [x] "+r"(x_), [w] "+r"(w_), [n] "+r"(n_), [t] "=&r"(t_)   \
                : [xs] "r"(xsb_), [xstep] "r"(xstepb_), [ws] "r"(wsb_), [vl] "r"(VL_));       \
    } while (0)

static inline int32_t hhbc_rvv_f16w8_cdiv(int32_t a, int32_t b)   /* ceil(a / b), a >= 0, b > 0 */
{
    return (a + b - 1) / b;
}

/*
 * Depthwise, multiplier 1 (OC == C), any kernel (KH * KW <= 512), stride, padding, dilation.
 * Per strip of channels: the taps' weights widened into the slab [KH * KW][vl]; per output
 * pixel, the valid kernel rows and columns (computed once per row / per pixel) each add one
 * vfwmacc.vv of an input and a weight vector, in kh, kw order as the reference; three pixels
 * whose kernel columns are all inside the input share each weight load (HHBC_F16W8_DW3).
 */
static __attribute__((noinline)) void hhbc_rvv_depthwise_conv2d_f16w8_in(
    const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p, _Float16 *slab)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, taps = kh_n * kw_n;
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w;
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);
    if (taps <= 0) return;
    size_t vl;
    for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {
        const int32_t left = c_n - c0, cap = HHBC_F16W8_SLAB / taps;
        vl = __riscv_vsetvl_e16m4((size_t)(left < cap ? left : cap));
        hhbc_rvv_f16w8_widen(slab, p->weight + c0, c_n, taps, vl);
        const float *s = p->w_scale + c0, *b = p->bias ? p->bias + c0 : NULL;
        for (int32_t n = 0; n < batch; n++) {
            const _Float16 *src_n = src + (size_t)n * ih_n * iw_n * c_n + c0;
            for (int32_t oh = 0; oh < oh_n; oh++) {
                const int32_t ih0 = oh * sh - p->pad_top;
                const int32_t kh_lo = ih0 < 0 ? hhbc_rvv_f16w8_cdiv(-ih0, dh) : 0;
                int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_rvv_f16w8_cdiv(ih_n - ih0, dh) : 0;
                if (kh_hi > kh_n) kh_hi = kh_n;
                _Float16 *y = dst + ((size_t)(n * oh_n + oh) * ow_n) * c_n + c0;
                for (int32_t ow = 0; ow < ow_n; ow++, y += c_n) {
                    const int32_t iw0 = ow * sw - p->pad_left;
                    const int32_t kw_lo = iw0 < 0 ? hhbc_rvv_f16w8_cdiv(-iw0, dw) : 0;
                    int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_rvv_f16w8_cdiv(iw_n - iw0, dw) : 0;
                    if (kw_hi > kw_n) kw_hi = kw_n;
                    vfloat32m8_t a = __riscv_vfmv_v_f_f32m8(0.0f, vl);
                    if (kw_lo == 0 && kw_hi == kw_n && ow + 2 < ow_n && iw0 + 2 * sw + (kw_n - 1) * dw < iw_n) {
                        /* 3 pixels whose kernel columns are all inside: one weight load per tap
                         * feeds 3 vfwmacc.vv */
                        vfloat32m8_t a1 = a, a2 = a;
                        for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
                            const _Float16 *x = src_n + ((ptrdiff_t)(ih0 + kh * dh) * iw_n + iw0) * c_n;
                            const _Float16 *w = slab + (size_t)kh * kw_n * vl;
                            HHBC_F16W8_DW3(a, a1, a2, x, (ptrdiff_t)sw * c_n, (ptrdiff_t)dw * c_n, w, kw_n, vl);
                        }
                        HHBC_F16W8_FINISH(y, a, s, b, epi, vl);
                        HHBC_F16W8_FINISH(y + c_n, a1, s, b, epi, vl);
                        HHBC_F16W8_FINISH(y + 2 * c_n, a2, s, b, epi, vl);
                        ow += 2;
                        y += 2 * c_n;
                        continue;
                    }
                    for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
                        const _Float16 *x = src_n + ((ptrdiff_t)(ih0 + kh * dh) * iw_n + iw0) * c_n;
                        const _Float16 *w = slab + (size_t)kh * kw_n * vl;
                        for (int32_t kw = kw_lo; kw < kw_hi; kw++)
                            a = __riscv_vfwmacc_vv_f32m8(a, __riscv_vle16_v_f16m4(x + (ptrdiff_t)kw * dw * c_n, vl),
                                                         __riscv_vle16_v_f16m4(w + (size_t)kw * vl, vl), vl);
                    }
                    HHBC_F16W8_FINISH(y, a, s, b, epi, vl);
                }
            }
        }
    }
}

/*
 * Any kernel size, stride, padding and dilation, one group, KH * KW * IC <= 512 (the slab
 * holds a strip's [KH][KW][IC][vl] weights, vl >= 8). Pixels go in tiles of 3 whose taps are
 * all valid along one axis, along the rows or, when that leaves fewer single border pixels
 * (the KWS first layer: 25 rows of 5 columns), down the columns; the valid kernel rows and
 * columns of a tile are found once. A tile whose kernel rows are whole runs of KW * IC taps
 * (dilation_w 1, every kernel column inside) is one asm block over all its kernel rows
 * (HHBC_F16_RUN3R: the slab rows are contiguous); otherwise each kernel row adds runs of
 * taps. Sums in kh, kw, ic order, as the reference.
 */
static __attribute__((noinline)) void hhbc_rvv_conv2d_f16w8_in(
    const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p, _Float16 *slab)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, rows_n = kh_n * kw_n * c_n;
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t pt = p->pad_top, pl = p->pad_left;
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);
    if (rows_n <= 0) return;
    /* pixels whose kernel rows (columns) all fall inside the input */
    int32_t rows_in = 0, cols_in = 0;
    for (int32_t oh = 0; oh < oh_n; oh++) rows_in += oh * sh - pt >= 0 && oh * sh - pt + (kh_n - 1) * dh < ih_n;
    for (int32_t ow = 0; ow < ow_n; ow++) cols_in += ow * sw - pl >= 0 && ow * sw - pl + (kw_n - 1) * dw < iw_n;
    const int vertical = (int64_t)(ow_n - cols_in) * oh_n > (int64_t)(oh_n - rows_in) * ow_n;
    /* the tile axis: a = the pixel index along it, b = across */
    const int32_t a_n = vertical ? oh_n : ow_n, b_n = vertical ? ow_n : oh_n;
    const ptrdiff_t xs = vertical ? (ptrdiff_t)sh * iw_n * c_n : (ptrdiff_t)sw * c_n;
    const ptrdiff_t ps = vertical ? (ptrdiff_t)ow_n * oc_n : oc_n;
    const ptrdiff_t xr = (ptrdiff_t)dh * iw_n * c_n;
    size_t vl;
    for (int32_t oc0 = 0; oc0 < oc_n; oc0 += (int32_t)vl) {
        const int32_t left = oc_n - oc0, cap = HHBC_F16W8_SLAB / rows_n;
        vl = __riscv_vsetvl_e16m4((size_t)(left < cap ? left : cap));
        const float *s = p->w_scale + oc0, *b = p->bias ? p->bias + oc0 : NULL;
        const ptrdiff_t wr = (ptrdiff_t)kw_n * c_n * (ptrdiff_t)vl;   /* slab halves per kernel row */
        hhbc_rvv_f16w8_widen(slab, p->weight + oc0, oc_n, rows_n, vl);
        for (int32_t n = 0; n < batch; n++) {
            const _Float16 *src_n = src + (size_t)n * ih_n * iw_n * c_n;
            for (int32_t bi = 0; bi < b_n; bi++) {
                for (int32_t ai = 0; ai < a_n;) {
                    const int32_t oh = vertical ? ai : bi, ow = vertical ? bi : ai;
                    const int32_t ih0 = oh * sh - pt, iw0 = ow * sw - pl;
                    const int32_t kh_lo = ih0 < 0 ? hhbc_rvv_f16w8_cdiv(-ih0, dh) : 0;
                    int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_rvv_f16w8_cdiv(ih_n - ih0, dh) : 0;
                    const int32_t kw_lo = iw0 < 0 ? hhbc_rvv_f16w8_cdiv(-iw0, dw) : 0;
                    int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_rvv_f16w8_cdiv(iw_n - iw0, dw) : 0;
                    if (kh_hi > kh_n) kh_hi = kh_n;
                    if (kw_hi > kw_n) kw_hi = kw_n;
                    /* 3 pixels along the axis whose taps along it are all inside */
                    const int three = ai + 2 < a_n
                        && (vertical ? kh_lo == 0 && kh_hi == kh_n && ih0 + 2 * sh + (kh_n - 1) * dh < ih_n
                                     : kw_lo == 0 && kw_hi == kw_n && iw0 + 2 * sw + (kw_n - 1) * dw < iw_n);
                    const int valid = kh_lo < kh_hi && kw_lo < kw_hi;
                    const int32_t run = dw == 1 ? (kw_hi - kw_lo) * c_n : c_n;   /* taps per run */
                    const int32_t runs = dw == 1 ? 1 : kw_hi - kw_lo;           /* runs per kernel row */
                    const _Float16 *xt = src_n + ((ptrdiff_t)(ih0 + kh_lo * dh) * iw_n + iw0 + (ptrdiff_t)kw_lo * dw)
                                                     * c_n;
                    const _Float16 *wt = slab + kh_lo * wr + (ptrdiff_t)kw_lo * c_n * (ptrdiff_t)vl;
                    _Float16 *y = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n + oc0;
                    vfloat32m8_t a0 = __riscv_vfmv_v_f_f32m8(0.0f, vl);
                    if (three) {
                        vfloat32m8_t a1 = a0, a2 = a0;
                        if (valid && dw == 1 && kw_lo == 0 && kw_hi == kw_n) {
                            const _Float16 *x0 = xt, *x1 = xt + xs, *x2 = xt + 2 * xs, *w = wt;
                            HHBC_F16_RUN3R(a0, a1, a2, x0, x1, x2, w, vl, run, kh_hi - kh_lo, xr - run, vl);
                        } else if (valid) {
                            for (int32_t kh = kh_lo; kh < kh_hi; kh++, xt += xr, wt += wr) {
                                const _Float16 *xk = xt, *w = wt;
                                for (int32_t r = 0; r < runs; r++, xk += (ptrdiff_t)dw * c_n) {
                                    const _Float16 *x0 = xk, *x1 = xk + xs, *x2 = xk + 2 * xs;
                                    HHBC_RVV_RUN3(F16, a0, a1, a2, x0, x1, x2, w, vl, run, vl);
                                }
                            }
                        }
                        HHBC_F16W8_FINISH(y, a0, s, b, epi, vl);
                        HHBC_F16W8_FINISH(y + ps, a1, s, b, epi, vl);
                        HHBC_F16W8_FINISH(y + 2 * ps, a2, s, b, epi, vl);
                        ai += 3;
                        continue;
                    }
                    for (int32_t kh = kh_lo; valid && kh < kh_hi; kh++, xt += xr, wt += wr) {
                        const _Float16 *xk = xt, *w = wt;
                        for (int32_t r = 0; r < runs; r++, xk += (ptrdiff_t)dw * c_n) {
                            const _Float16 *x0 = xk;
                            HHBC_RVV_RUN1(F16, a0, x0, w, vl, run, vl);
                        }
                    }
                    HHBC_F16W8_FINISH(y, a0, s, b, epi, vl);
                    ai += 1;
                }
            }
        }
    }
}

/* the 8 KiB slab in this frame, the loops in hhbc_rvv_conv2d_f16w8_in's (small offsets for its spills) */
void hhbc_conv2d_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_rvv_conv2d_f16w8_in(in, out, p, slab);
}

/* the 8 KiB slab in this frame, the loops in hhbc_rvv_depthwise_conv2d_f16w8_in's (small offsets for its spills) */
void hhbc_depthwise_conv2d_f16w8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_rvv_depthwise_conv2d_f16w8_in(in, out, p, slab);
}
