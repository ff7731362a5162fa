/*
 * hhbc C906 kernels of the float16_w_int8 scheme: pointwise convolution, depthwise
 * convolution (multiplier 1) and dense on float16 activations with int8 weights. RVV 0.7.1
 * through hhbc_rvv071.h, VLEN 128. Same params as the reference _f16w8 kernels
 * (hhbc_kernels_w8.h), same results: bit for bit under NONE, RELU and CLIP.
 *
 * Packed weight layouts (int8): conv [KH][KW][IC][OC] (packing.conv_gkkio, one group; a 1x1
 * conv is [IC][OC]), dense [K][N]
 * (packing.dense_kn), depthwise [KH][KW][C] as the reference has them.
 *
 * Scheme: per strip of 32 output channels, the strip's int8 weights are widened to half once
 * into a slab on the stack, [rows][32]: the 0.7.1 byte load vlb.v sign-extends each weight to
 * e16, vfcvt.f.x.v makes it a half (exact, |w| <= 127). The MAC loops are the float16
 * kernels' tile engine (hhbc_c906_conv.h: accumulators v8/v16/v24 start at 0, one half weight
 * vector feeds 3 vfwmacc.vf). The epilogue multiplies by the channels' float32 scales, adds the
 * bias (two roundings, as the reference), then the engine's activation, narrowing and store.
 * A reduction longer than the slab holds is widened in chunks, per tile, in the same order.
 */
#include "hhbc_kernels_w8.h"
#include "hhbc_c906_conv.h"

#define HHBC_F16W8_SLAB 4096   /* halves (8 KiB): widened weights of one strip */

void hhbc_conv2d_1x1_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);
void hhbc_conv2d_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);
void hhbc_depthwise_conv2d_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out,
                                      const hhbc_conv2d_w8_params *p);
void hhbc_dense_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p);

/* dst[r][0..vl) = (half)src[r * stride + 0..vl) for r < rows; leaves vtype e16,m4 (uses v0) */
HHBC_C906_INLINE void hhbc_c906_f16w8_widen(_Float16 *dst, const int8_t *src, ptrdiff_t stride, int32_t rows,
                                            size_t vl)
{
    size_t t;
    HV_VSETVLI(t, vl, HV_E16M4);
    for (int32_t r = 0; r < rows; r++, src += stride, dst += vl) {
        HV_VLB(v0, src);
        HV_VFCVT_F_X_V(v0, v0);
        HV_VSE(v0, dst);
    }
    (void)t;
}

/* accumulators v8 (v16, v24) of R pixels: * scale, + bias, act, narrow, store at y + r * ps */
HHBC_C906_INLINE void hhbc_c906_f16w8_finish(_Float16 *y, ptrdiff_t ps, int R, size_t vl, const float *s,
                                             const float *b, const hhbc_act *act)
{
    size_t t;
    HV_VSETVLI(t, vl, HV_E32M8);
    HV_VLE_RO(v0, s);
    HV_VFMUL_VV(v8, v8, v0);
    if (R > 1) HV_VFMUL_VV(v16, v16, v0);
    if (R > 2) HV_VFMUL_VV(v24, v24, v0);
    if (b) {
        HV_VLE_RO(v0, b);
        HV_VFADD_VV(v8, v8, v0);
        if (R > 1) HV_VFADD_VV(v16, v16, v0);
        if (R > 2) HV_VFADD_VV(v24, v24, v0);
    }
    (void)t;
    hhbc_c906_cv_store(y, ps, R, vl, act->kind, act->lo, act->hi, act->alpha, 1);
}

/* out[M][N] = half(act(scale[N] * (x[M][K] . w[K][N]) + bias[N])), w int8. The loops are in a
 * function of their own, with the caller's slab: a frame holding the 8 KiB slab puts every
 * spilled variable beyond a 12-bit offset (3 instructions per access in the MAC loops). */
static __attribute__((noinline)) void hhbc_c906_gemm_f16w8_in(const _Float16 *src, _Float16 *dst, const int8_t *wgt,
                                                              const float *scale, const float *bias, int32_t m_n,
                                                              int32_t n_n, int32_t k_n, const hhbc_act *act,
                                                              _Float16 *slab)
{
    for (int32_t n0 = 0; n0 < n_n; n0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(n_n - n0 < HHBC_C906_STRIP ? n_n - n0 : HHBC_C906_STRIP);
        const int32_t kc = (int32_t)(HHBC_F16W8_SLAB / vl);   /* slab rows */
        const int whole = k_n <= kc;
        const float *s = scale + n0, *b = bias ? bias + n0 : NULL;
        if (whole) hhbc_c906_f16w8_widen(slab, wgt + n0, n_n, k_n, vl);
        for (int32_t m = 0; m < m_n;) {
            const int R = m_n - m < 3 ? m_n - m : 3;
            const _Float16 *x = src + (size_t)m * k_n;
            hhbc_c906_cv_init(NULL, vl, R, 1);
            for (int32_t k0 = 0; k0 < k_n; k0 += kc) {
                const int32_t kn = k_n - k0 < kc ? k_n - k0 : kc;
                if (!whole) hhbc_c906_f16w8_widen(slab, wgt + (size_t)k0 * n_n + n0, n_n, kn, vl);
                hhbc_c906_cv_run(R, 1, x + k0, k_n, 0, slab, (ptrdiff_t)vl, 0, 1, kn);
            }
            hhbc_c906_f16w8_finish(dst + (size_t)m * n_n + n0, n_n, R, vl, s, b, act);
            m += R;
        }
    }
}

static void hhbc_c906_gemm_f16w8(const _Float16 *src, _Float16 *dst, const int8_t *wgt, const float *scale,
                                 const float *bias, int32_t m_n, int32_t n_n, int32_t k_n, const hhbc_act *act)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_c906_gemm_f16w8_in(src, dst, wgt, scale, bias, m_n, n_n, k_n, act, slab);
}

void hhbc_conv2d_1x1_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    hhbc_c906_gemm_f16w8((const _Float16 *)in->data, (_Float16 *)out->data, p->weight, p->w_scale, p->bias,
                         in->dim[0] * in->dim[1] * in->dim[2], out->dim[3], in->dim[3], &p->act);
}

void hhbc_dense_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p)
{
    hhbc_c906_gemm_f16w8((const _Float16 *)in->data, (_Float16 *)out->data, p->weight, p->w_scale, p->bias,
                         p->m, p->n, p->k, &p->act);
}

static inline int32_t hhbc_c906_f16w8_cdiv(int32_t a, int32_t b)   /* ceil(a / b), a >= 0, b > 0 */
{
    return (a + b - 1) / b;
}

/*
 * Depthwise, multiplier 1 (OC == C), any kernel of at most 128 taps, stride, padding,
 * dilation. Per strip of 32 channels: the taps' weights widened into the slab [KH * KW][32];
 * per output pixel, each valid tap (in kh, kw order, as the reference) is one vfwmacc.vv of
 * an input vector (v0) and a weight vector (v4) into v8; three pixels whose kernel columns are
 * all inside the input share each weight load (v8, v16, v24).
 */
static __attribute__((noinline)) void hhbc_c906_depthwise_conv2d_f16w8_in(
    const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p, _Float16 *slab)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, taps = kh_n * kw_n;
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w;
    for (int32_t c0 = 0; c0 < c_n; c0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(c_n - c0 < HHBC_C906_STRIP ? c_n - c0 : HHBC_C906_STRIP);
        const float *s = p->w_scale + c0, *b = p->bias ? p->bias + c0 : NULL;
        hhbc_c906_f16w8_widen(slab, p->weight + c0, c_n, taps, vl);
        for (int32_t n = 0; n < batch; n++) {
            const _Float16 *src_n = src + (size_t)n * ih_n * iw_n * c_n + c0;
            for (int32_t oh = 0; oh < oh_n; oh++) {
                const int32_t ih0 = oh * sh - p->pad_top;
                const int32_t kh_lo = ih0 < 0 ? hhbc_c906_f16w8_cdiv(-ih0, dh) : 0;
                int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_c906_f16w8_cdiv(ih_n - ih0, dh) : 0;
                if (kh_hi > kh_n) kh_hi = kh_n;
                _Float16 *y = dst + ((size_t)(n * oh_n + oh) * ow_n) * c_n + c0;
                for (int32_t ow = 0; ow < ow_n; ow++, y += c_n) {
                    const int32_t iw0 = ow * sw - p->pad_left;
                    const int32_t kw_lo = iw0 < 0 ? hhbc_c906_f16w8_cdiv(-iw0, dw) : 0;
                    int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_c906_f16w8_cdiv(iw_n - iw0, dw) : 0;
                    if (kw_hi > kw_n) kw_hi = kw_n;
                    if (kw_lo == 0 && ow + 2 < ow_n && iw0 + 2 * sw + (kw_n - 1) * dw < iw_n) {
                        /* 3 pixels whose kernel columns are all inside: one weight load per tap
                         * feeds 3 vfwmacc.vv (v8, v16, v24) */
                        const ptrdiff_t xs = (ptrdiff_t)sw * c_n;
                        hhbc_c906_cv_init(NULL, vl, 3, 1);
                        for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
                            const _Float16 *x = src_n + ((ptrdiff_t)(ih0 + kh * dh) * iw_n + iw0) * c_n;
                            const _Float16 *w = slab + (size_t)kh * kw_n * vl;
                            for (int32_t kw = 0; kw < kw_n; kw++, x += (ptrdiff_t)dw * c_n, w += vl) {
                                HV_VLE_RO(v4, w);
                                HV_VLE_RO(v0, x);
                                HV_VFWMACC_VV(v8, v0, v4);
                                HV_VLE_RO(v0, x + xs);
                                HV_VFWMACC_VV(v16, v0, v4);
                                HV_VLE_RO(v0, x + 2 * xs);
                                HV_VFWMACC_VV(v24, v0, v4);
                            }
                        }
                        hhbc_c906_f16w8_finish(y, c_n, 3, vl, s, b, &p->act);
                        ow += 2;
                        y += 2 * c_n;
                        continue;
                    }
                    hhbc_c906_cv_init(NULL, vl, 1, 1);
                    for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
                        const _Float16 *x = src_n + ((ptrdiff_t)(ih0 + kh * dh) * iw_n + iw0) * c_n;
                        const _Float16 *w = slab + (size_t)kh * kw_n * vl;
                        for (int32_t kw = kw_lo; kw < kw_hi; kw++) {
                            HV_VLE_RO(v0, x + (ptrdiff_t)kw * dw * c_n);
                            HV_VLE_RO(v4, w + (size_t)kw * vl);
                            HV_VFWMACC_VV(v8, v0, v4);
                        }
                    }
                    hhbc_c906_f16w8_finish(y, 0, 1, vl, s, b, &p->act);
                }
            }
        }
    }
}

/* the valid taps [kh_lo, kh_hi) x [kw_lo, kw_hi) of R pixels (the first at input (ih0, iw0),
 * the others xs elements apart) into v8 (v16, v24), in kh, kw, ic order as the reference */
HHBC_C906_INLINE void hhbc_c906_f16w8_taps(int R, const _Float16 *src_n, const _Float16 *slab, int32_t ih0,
                                           int32_t iw0, ptrdiff_t xs, int32_t kh_lo, int32_t kh_hi, int32_t kw_lo,
                                           int32_t kw_hi, int32_t iw_n, int32_t c_n, int32_t dh, int32_t dw,
                                           ptrdiff_t wr, size_t vl)
{
    if (kw_lo >= kw_hi || kh_lo >= kh_hi) return;
    const _Float16 *x = src_n + ((ptrdiff_t)(ih0 + kh_lo * dh) * iw_n + iw0 + (ptrdiff_t)kw_lo * dw) * c_n;
    const _Float16 *w = slab + kh_lo * wr + (ptrdiff_t)kw_lo * c_n * (ptrdiff_t)vl;
    const ptrdiff_t xr = (ptrdiff_t)dh * iw_n * c_n;
    if (dw == 1) {   /* a kernel row is one run of (KW x IC) inputs and weights: one call */
        hhbc_c906_cv_run(R, 1, x, xs, xr, w, (ptrdiff_t)vl, wr, kh_hi - kh_lo, (kw_hi - kw_lo) * c_n);
        return;
    }
    for (int32_t kh = kh_lo; kh < kh_hi; kh++, x += xr, w += wr) {
        const _Float16 *xk = x, *wk = w;
        for (int32_t kw = kw_lo; kw < kw_hi; kw++, xk += (ptrdiff_t)dw * c_n, wk += (ptrdiff_t)c_n * vl)
            hhbc_c906_cv_run(R, 1, xk, xs, 0, wk, (ptrdiff_t)vl, 0, 1, c_n);
    }
}

/*
 * Any kernel size, stride, padding and dilation, one group, KH * KW * IC <= 128 (the slab
 * holds a strip's [KH][KW][IC][32] weights). Pixels go in tiles of 3 whose taps are all
 * valid along one axis, along the rows or, when that leaves fewer single border pixels (the
 * KWS first layer: 25 rows of 5 columns), down the columns; the valid kernel rows and columns
 * of a tile are found once, and each valid kernel row adds one run of KW * IC contiguous taps
 * (dilation_w 1) or KW runs of IC.
 */
static __attribute__((noinline)) void hhbc_c906_conv2d_f16w8_in(
    const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p, _Float16 *slab)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, rows_n = kh_n * kw_n * c_n;
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t pt = p->pad_top, pl = p->pad_left;
    /* pixels whose kernel rows (columns) all fall inside the input */
    int32_t rows_in = 0, cols_in = 0;
    for (int32_t oh = 0; oh < oh_n; oh++) rows_in += oh * sh - pt >= 0 && oh * sh - pt + (kh_n - 1) * dh < ih_n;
    for (int32_t ow = 0; ow < ow_n; ow++) cols_in += ow * sw - pl >= 0 && ow * sw - pl + (kw_n - 1) * dw < iw_n;
    const int vertical = (int64_t)(ow_n - cols_in) * oh_n > (int64_t)(oh_n - rows_in) * ow_n;
    /* the tile axis: a = the pixel index along it, b = across; (a, b) -> (oh, ow) or (ow, oh) */
    const int32_t a_n = vertical ? oh_n : ow_n, b_n = vertical ? ow_n : oh_n;
    const ptrdiff_t xs = vertical ? (ptrdiff_t)sh * iw_n * c_n : (ptrdiff_t)sw * c_n;
    const ptrdiff_t ps = vertical ? (ptrdiff_t)ow_n * oc_n : oc_n;
    for (int32_t oc0 = 0; oc0 < oc_n; oc0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(oc_n - oc0 < HHBC_C906_STRIP ? oc_n - oc0 : HHBC_C906_STRIP);
        const float *s = p->w_scale + oc0, *b = p->bias ? p->bias + oc0 : NULL;
        const ptrdiff_t wr = (ptrdiff_t)kw_n * c_n * (ptrdiff_t)vl;   /* slab halves per kernel row */
        hhbc_c906_f16w8_widen(slab, p->weight + oc0, oc_n, rows_n, vl);
        for (int32_t n = 0; n < batch; n++) {
            const _Float16 *src_n = src + (size_t)n * ih_n * iw_n * c_n;
            for (int32_t bi = 0; bi < b_n; bi++) {
                for (int32_t ai = 0; ai < a_n;) {
                    const int32_t oh = vertical ? ai : bi, ow = vertical ? bi : ai;
                    const int32_t ih0 = oh * sh - pt, iw0 = ow * sw - pl;
                    const int32_t kh_lo = ih0 < 0 ? hhbc_c906_f16w8_cdiv(-ih0, dh) : 0;
                    int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_c906_f16w8_cdiv(ih_n - ih0, dh) : 0;
                    const int32_t kw_lo = iw0 < 0 ? hhbc_c906_f16w8_cdiv(-iw0, dw) : 0;
                    int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_c906_f16w8_cdiv(iw_n - iw0, dw) : 0;
                    if (kh_hi > kh_n) kh_hi = kh_n;
                    if (kw_hi > kw_n) kw_hi = kw_n;
                    int R = 1;
                    if (vertical ? kh_lo == 0 && kh_hi == kh_n : kw_lo == 0 && kw_hi == kw_n) {
                        /* the next pixels along the axis are inside too */
                        while (R < 3 && ai + R < a_n
                               && (vertical ? (oh + R) * sh - pt + (kh_n - 1) * dh < ih_n
                                            : (ow + R) * sw - pl + (kw_n - 1) * dw < iw_n))
                            R++;
                    }
                    hhbc_c906_cv_init(NULL, vl, R, 1);
                    hhbc_c906_f16w8_taps(R, src_n, slab, ih0, iw0, xs, kh_lo, kh_hi, kw_lo, kw_hi, iw_n, c_n, dh, dw,
                                         wr, vl);
                    hhbc_c906_f16w8_finish(dst + (((size_t)n * oh_n + oh) * ow_n + ow) * oc_n + oc0, ps, R, vl, s, b,
                                           &p->act);
                    ai += R;
                }
            }
        }
    }
}

/* the 8 KiB slab in this frame, the loops in hhbc_c906_conv2d_f16w8_in's (small offsets for its spills) */
void hhbc_conv2d_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_c906_conv2d_f16w8_in(in, out, p, slab);
}

/* the 8 KiB slab in this frame, the loops in hhbc_c906_depthwise_conv2d_f16w8_in's (small offsets for its spills) */
void hhbc_depthwise_conv2d_f16w8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p)
{
    _Float16 slab[HHBC_F16W8_SLAB];
    hhbc_c906_depthwise_conv2d_f16w8_in(in, out, p, slab);
}
