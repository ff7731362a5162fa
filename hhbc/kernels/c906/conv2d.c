/*
 * hhbc C906 kernel: general 2-D convolution, NHWC, float32 and float16, RVV 0.7.1, VLEN 128.
 * Any kernel size, stride, padding, dilation and groups (the first layer with one input
 * channel included).
 *
 * Packed weight layout (packing.conv_gkkio): [G][KH][KW][ICg][OCg], output channels of a
 * group contiguous. bias [OC] float32 or NULL. in [N][H][W][C], out [N][OH][OW][OC].
 *
 * Per (group, strip of 32 output channels, output row): the columns whose taps all fall
 * inside the input (interior) go in tiles of 3 pixels (accumulators v8/v16/v24, one weight
 * vector load per (tap, input channel) feeding 3 vfmacc.vf); when dilation_w is 1 and there
 * is one group, the KW x ICg taps of a kernel row are one contiguous run of input and weights.
 * Border columns go one pixel at a time with the valid kw range computed once per row of taps;
 * rows of taps outside the input are skipped once per tile. No per-tap branch in the interior.
 */
#include "hhbc_c906_conv.h"

static inline int32_t hhbc_c906_cdiv(int32_t a, int32_t b)   /* ceil(a / b), b > 0 */
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static inline int32_t hhbc_c906_fdiv(int32_t a, int32_t b)   /* floor(a / b), b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

typedef struct hhbc_c906_geo {
    int32_t ih_n, iw_n, c_n, oh_n, ow_n, oc_n, kh_n, kw_n, sh, sw, dh, dw, pt, pl, icg, ocg;
    int32_t oh_a, oh_b;   /* interior output rows: every kernel row inside the input */
    int contig;
} hhbc_c906_geo;

/* Tiles of 3 pixels down a column (used when the columns have more border pixels than the
 * rows, e.g. the KWS first layer: 5 columns, 25 rows): the pixels of a tile share the valid
 * kw range, so a border column costs nothing extra; rows near the top and bottom go one
 * pixel at a time. dst points at pixel (0, 0) of the strip. */
HHBC_C906_INLINE void hhbc_c906_conv_cols(const char *src_g, const char *w_s, const float *b, char *dst,
                                          const hhbc_c906_geo *gp, size_t vl, hhbc_act_kind kind, float lo,
                                          float hi, float alpha, int f16)
{
    const size_t esz = f16 ? 2 : 4;
    const int32_t ih_n = gp->ih_n, iw_n = gp->iw_n, c_n = gp->c_n, oh_n = gp->oh_n, ow_n = gp->ow_n;
    const int32_t oc_n = gp->oc_n, kh_n = gp->kh_n, kw_n = gp->kw_n, sh = gp->sh, sw = gp->sw, dh = gp->dh;
    const int32_t dw = gp->dw, pt = gp->pt, pl = gp->pl, icg = gp->icg, ocg = gp->ocg;
    const int32_t oh_a = gp->oh_a, oh_b = gp->oh_b;
    const int contig = gp->contig;
    const ptrdiff_t wtap = (ptrdiff_t)icg * ocg, wr = (ptrdiff_t)kw_n * wtap;
    const ptrdiff_t xr = (ptrdiff_t)dh * iw_n * c_n, xs = (ptrdiff_t)sh * iw_n * c_n;
    const ptrdiff_t ps = (ptrdiff_t)ow_n * oc_n;   /* output elements between rows */
    for (int32_t ow = 0; ow < ow_n; ow++) {
        const int32_t iw0 = ow * sw - pl;
        int32_t kw_lo = iw0 < 0 ? hhbc_c906_cdiv(-iw0, dw) : 0;
        int32_t kw_hi = hhbc_c906_fdiv(iw_n - 1 - iw0, dw) + 1;
        if (kw_hi > kw_n) kw_hi = kw_n;
        const int32_t nkw = kw_hi > kw_lo ? kw_hi - kw_lo : 0;
        const char *x_col = src_g + ((ptrdiff_t)iw0 + (ptrdiff_t)kw_lo * dw) * c_n * (ptrdiff_t)esz;
        const char *w_col = w_s + (ptrdiff_t)kw_lo * wtap * (ptrdiff_t)esz;
        char *d_col = dst + (size_t)ow * oc_n * esz;
        for (int32_t oh = 0; oh < oh_n;) {
            const int32_t ih0 = oh * sh - pt;
            int R = 1;
            int32_t kh_lo = 0, kh_hi = kh_n;
            if (oh >= oh_a && oh < oh_b) {
                R = oh_b - oh < 3 ? oh_b - oh : 3;
            } else {
                kh_lo = ih0 < 0 ? hhbc_c906_cdiv(-ih0, dh) : 0;
                kh_hi = hhbc_c906_fdiv(ih_n - 1 - ih0, dh) + 1;
                if (kh_hi > kh_n) kh_hi = kh_n;
            }
            const int32_t rows = kh_hi > kh_lo ? kh_hi - kh_lo : 0;
            const char *x = x_col + ((ptrdiff_t)ih0 + (ptrdiff_t)kh_lo * dh) * iw_n * c_n * (ptrdiff_t)esz;
            const char *w = w_col + (ptrdiff_t)kh_lo * wr * (ptrdiff_t)esz;
            hhbc_c906_cv_init(b, vl, R, f16);
            if (nkw > 0 && rows > 0) {
                if (contig) {
                    hhbc_c906_cv_run(R, f16, x, xs, xr, w, ocg, wr, rows, nkw * icg);
                } else {
                    for (int32_t k = 0; k < nkw; k++)
                        hhbc_c906_cv_run(R, f16, x + (ptrdiff_t)k * dw * c_n * (ptrdiff_t)esz, xs, xr,
                                         w + (ptrdiff_t)k * wtap * (ptrdiff_t)esz, ocg, wr, rows, icg);
                }
            }
            hhbc_c906_cv_store(d_col + (size_t)oh * ps * esz, ps, R, vl, kind, lo, hi, alpha, f16);
            oh += R;
        }
    }
}

HHBC_C906_INLINE void hhbc_c906_conv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p,
                                     int f16)
{
    const size_t esz = f16 ? 2 : 4;
    const char *src = (const char *)in->data;
    char *dst = (char *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t dh = p->dilation_h, dw = p->dilation_w, pt = p->pad_top, pl = p->pad_left;
    const int32_t groups = p->groups, icg = c_n / groups, ocg = oc_n / groups;
    const hhbc_act_kind kind = p->act.kind;
    const float lo = p->act.lo, hi = p->act.hi, alpha = p->act.alpha;
    const float *bias = p->bias;
    const int contig = dw == 1 && groups == 1;   /* a kernel row is one run of KW*ICg */
    const ptrdiff_t wtap = (ptrdiff_t)icg * ocg;  /* weight elements per tap */
    /* interior output columns: iw0 >= 0 and iw0 + (KW-1)*dw <= IW-1 */
    int32_t ow_a = hhbc_c906_cdiv(pl, sw);
    int32_t ow_b = hhbc_c906_fdiv(iw_n - 1 - (kw_n - 1) * dw + pl, sw) + 1;
    if (ow_a > ow_n) ow_a = ow_n;
    if (ow_b > ow_n) ow_b = ow_n;
    if (ow_b < ow_a) ow_b = ow_a;
    int32_t oh_a = hhbc_c906_cdiv(pt, sh);
    int32_t oh_b = hhbc_c906_fdiv(ih_n - 1 - (kh_n - 1) * dh + pt, sh) + 1;
    if (oh_a > oh_n) oh_a = oh_n;
    if (oh_b > oh_n) oh_b = oh_n;
    if (oh_b < oh_a) oh_b = oh_a;
    /* tile down the columns when that leaves fewer single (border) pixels */
    const int vertical = (int64_t)(ow_n - (ow_b - ow_a)) * oh_n > (int64_t)(oh_n - (oh_b - oh_a)) * ow_n;
    const hhbc_c906_geo geo = {ih_n, iw_n, c_n, oh_n, ow_n, oc_n, kh_n, kw_n, sh, sw, dh, dw, pt, pl, icg, ocg,
                               oh_a, oh_b, contig};

    for (int32_t n = 0; n < batch; n++) {
        const char *src_n = src + (size_t)n * ih_n * iw_n * c_n * esz;
        for (int32_t g = 0; g < groups; g++) {
            const char *src_g = src_n + (size_t)g * icg * esz;
            const char *w_g = (const char *)p->weight + (size_t)g * kh_n * kw_n * wtap * esz;
            for (int32_t oc0 = 0; oc0 < ocg; oc0 += HHBC_C906_STRIP) {
                const size_t vl = (size_t)(ocg - oc0 < HHBC_C906_STRIP ? ocg - oc0 : HHBC_C906_STRIP);
                const float *b = bias ? bias + g * ocg + oc0 : NULL;
                const char *w_s = w_g + (size_t)oc0 * esz;
                if (vertical) {
                    hhbc_c906_conv_cols(src_g, w_s, b, dst + ((size_t)n * oh_n * ow_n * oc_n + (size_t)g * ocg + oc0) * esz,
                                        &geo, vl, kind, lo, hi, alpha, f16);
                    continue;
                }
                for (int32_t oh = 0; oh < oh_n; oh++) {
                    const int32_t ih0 = oh * sh - pt;
                    int32_t kh_lo = ih0 < 0 ? hhbc_c906_cdiv(-ih0, dh) : 0;
                    int32_t kh_hi = hhbc_c906_fdiv(ih_n - 1 - ih0, dh) + 1;
                    if (kh_hi > kh_n) kh_hi = kh_n;
                    char *dst_row = dst + ((((size_t)n * oh_n + oh) * ow_n) * oc_n + (size_t)g * ocg + oc0) * esz;
                    const int32_t rows = kh_hi > kh_lo ? kh_hi - kh_lo : 0;
                    const ptrdiff_t xr = (ptrdiff_t)dh * iw_n * c_n;   /* elements between kernel rows */
                    const ptrdiff_t wr = (ptrdiff_t)kw_n * wtap;
                    const char *x_row = src_g + (size_t)(ih0 + kh_lo * dh) * iw_n * c_n * esz;
                    const char *w_row = w_s + (size_t)kh_lo * wr * esz;
                    for (int32_t ow = 0; ow < ow_n;) {
                        const int32_t iw0 = ow * sw - pl;
                        if (ow >= ow_a && ow < ow_b) {
                            const int R = ow_b - ow < 3 ? ow_b - ow : 3;
                            const char *x = x_row + (ptrdiff_t)iw0 * c_n * (ptrdiff_t)esz;
                            hhbc_c906_cv_init(b, vl, R, f16);
                            if (contig) {
                                hhbc_c906_cv_run(R, f16, x, (ptrdiff_t)sw * c_n, xr, w_row, ocg, wr, rows, kw_n * icg);
                            } else {
                                for (int32_t kw = 0; kw < kw_n; kw++)
                                    hhbc_c906_cv_run(R, f16, x + (size_t)kw * dw * c_n * esz, (ptrdiff_t)sw * c_n, xr,
                                                     w_row + (size_t)kw * wtap * esz, ocg, wr, rows, icg);
                            }
                            hhbc_c906_cv_store(dst_row + (size_t)ow * oc_n * esz, oc_n, R, vl, kind, lo, hi, alpha, f16);
                            ow += R;
                        } else {
                            int32_t kw_lo = iw0 < 0 ? hhbc_c906_cdiv(-iw0, dw) : 0;
                            int32_t kw_hi = hhbc_c906_fdiv(iw_n - 1 - iw0, dw) + 1;
                            if (kw_hi > kw_n) kw_hi = kw_n;
                            const char *x = x_row + (ptrdiff_t)iw0 * c_n * (ptrdiff_t)esz;
                            hhbc_c906_cv_init(b, vl, 1, f16);
                            if (kw_lo < kw_hi) {
                                if (contig) {
                                    hhbc_c906_cv_run(1, f16, x + (ptrdiff_t)kw_lo * c_n * (ptrdiff_t)esz, 0, xr,
                                                     w_row + (size_t)kw_lo * wtap * esz, ocg, wr, rows,
                                                     (kw_hi - kw_lo) * icg);
                                } else {
                                    for (int32_t kw = kw_lo; kw < kw_hi; kw++)
                                        hhbc_c906_cv_run(1, f16, x + (ptrdiff_t)kw * dw * c_n * (ptrdiff_t)esz, 0, xr,
                                                         w_row + (size_t)kw * wtap * esz, ocg, wr, rows, icg);
                                }
                            }
                            hhbc_c906_cv_store(dst_row + (size_t)ow * oc_n * esz, oc_n, 1, vl, kind, lo, hi, alpha, f16);
                            ow += 1;
                        }
                    }
                }
            }
        }
    }
}

void hhbc_conv2d_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_conv(in, out, p, 0);
}

void hhbc_conv2d_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_conv(in, out, p, 1);
}
