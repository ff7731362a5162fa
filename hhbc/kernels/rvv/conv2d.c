/*
 * hhbc rvv kernels: general 2-D convolution, NHWC, float32 and float16 (zvfh): any kernel
 * size, stride, padding, dilation and groups. RVV 1.0 C intrinsics, VLEN-agnostic.
 *
 * Packed weight layout (conv_gkkio): [G][KH][KW][ICg][OCg], output channels of a group
 * contiguous. in [N][H][W][C], out [N][OH][OW][OC]; bias [OC] float32 or NULL.
 *
 * Scheme (hhbc_rvv_conv.h): output channels of a group are the vector axis (e32 m8 for
 * float32; e16 m4 weights -> e32 m8 accumulators for float16), strip-mined with vsetvl.
 * Rows: the valid kernel rows of an output row are computed once (no per-tap test).
 * Columns: interior output pixels (every kernel column inside the input) go in tiles of
 * 3 pixels: each weight-vector load feeds 3 vfmacc.vf, one scalar input load each. Border
 * pixels go one at a time with their kernel columns clipped. When the taps of one kernel
 * row are contiguous in the input (dilation_w 1, one group) a row is one run of KW * C
 * elements (e.g. the one-channel first layer: 10x4 taps -> 10 runs of 4).
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

static inline int32_t hhbc_rvv_cdiv(int32_t a, int32_t b)   /* ceil(a / b), a >= 0, b > 0 */
{
    return (a + b - 1) / b;
}

/*
 * Band path, for convolutions whose kernel rows are short contiguous runs (one group,
 * dilation_w 1, KW * C < HHBC_RVV_BAND_RUN: e.g. the one-channel first layer, 10x4 taps):
 * the valid input rows of an output row are copied into a zero-padded band on the stack
 * (at most HHBC_RVV_BAND elements; pads zeroed once), so every output pixel is interior:
 * tiles of 3 pixels (the last one overlapping when OW % 3 != 0) each run all their kernel
 * rows in one asm loop (HHBC_RVV_RUN3R), with no border cases and no per-row overhead.
 */
#define HHBC_RVV_BAND 2048
#define HHBC_RVV_BAND_RUN 16


#define HHBC_RVV_DEFINE_CONV2D(NAME, D)                                                       \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)         \
{                                                                                             \
    typedef HHBC_##D##_T elem_t;                                                              \
    const elem_t *src = (const elem_t *)in->data;                                             \
    elem_t *dst = (elem_t *)out->data;                                                        \
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3]; \
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];                 \
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;                                     \
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w; \
    const int32_t groups = p->groups, icg = ic_n / groups, ocg = oc_n / groups;               \
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);                                      \
    /* one run per kernel row when its taps are contiguous in the input */                    \
    const int contig = dw == 1 && icg == ic_n;                                                \
    const int32_t runs = contig ? 1 : kw_n, run_len = contig ? kw_n * icg : icg;              \
    const size_t wrow = (size_t)kw_n * icg * ocg;   /* weight elements per kernel row */      \
    /* interior output columns [ow_lo, ow_hi): every kernel column inside the input */        \
    const int32_t ow_lo = p->pad_left > 0 ? hhbc_rvv_cdiv(p->pad_left, sw) : 0;               \
    const int32_t last = iw_n - 1 + p->pad_left - (kw_n - 1) * dw;                            \
    const int32_t ow_hi = last < 0 ? 0 : (last / sw + 1 < ow_n ? last / sw + 1 : ow_n);       \
    size_t vl;                                                                                \
    const int32_t pad_r0 = (ow_n - 1) * sw + (kw_n - 1) * dw + 1 - p->pad_left - iw_n;        \
    const int32_t band_w = (p->pad_left + iw_n + (pad_r0 > 0 ? pad_r0 : 0)) * ic_n;           \
    if (contig && groups == 1 && ow_n >= 3 && run_len < HHBC_RVV_BAND_RUN &&                  \
        (int64_t)kh_n * band_w <= HHBC_RVV_BAND) {                                            \
        elem_t band[HHBC_RVV_BAND];                                                           \
        hhbc_rvv_zero_##D(band, kh_n * band_w);                                               \
        for (int32_t n = 0; n < batch; n++) {                                                 \
            const elem_t *src_n = src + (size_t)n * ih_n * iw_n * ic_n;                       \
            for (int32_t oh = 0; oh < oh_n; oh++) {                                           \
                const int32_t ih0 = oh * sh - p->pad_top;                                     \
                const int32_t kh_lo = ih0 < 0 ? hhbc_rvv_cdiv(-ih0, dh) : 0;                  \
                int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_rvv_cdiv(ih_n - ih0, dh) : 0;           \
                if (kh_hi > kh_n) kh_hi = kh_n;                                               \
                const int32_t rows = kh_hi - kh_lo;                                           \
                for (int32_t r = 0; r < rows; r++)                                            \
                    hhbc_rvv_copy_##D(band + (size_t)r * band_w + (size_t)p->pad_left * ic_n, \
                                      src_n + (size_t)(ih0 + (kh_lo + r) * dh) * iw_n * ic_n, \
                                      iw_n * ic_n);                                           \
                elem_t *y = dst + ((size_t)n * oh_n + oh) * ow_n * oc_n;                      \
                for (int32_t oc0 = 0; oc0 < oc_n; oc0 += (int32_t)vl) {                       \
                    vl = HHBC_##D##_SETVL((size_t)(oc_n - oc0));                              \
                    for (int32_t ow = 0; ow < ow_n; ow += 3) {                                \
                        const int32_t o0 = ow + 3 <= ow_n ? ow : ow_n - 3;                    \
                        vfloat32m8_t a0 = HHBC_RVV_BIAS(p->bias, oc0, vl);                    \
                        vfloat32m8_t a1 = a0, a2 = a0;                                        \
                        if (rows > 0) {                                                       \
                            const elem_t *x0 = band + (size_t)o0 * sw * ic_n;                 \
                            const elem_t *x1 = x0 + (size_t)sw * ic_n;                        \
                            const elem_t *x2 = x1 + (size_t)sw * ic_n;                        \
                            const elem_t *w = (const elem_t *)p->weight + (size_t)kh_lo * wrow + oc0; \
                            HHBC_##D##_RUN3R(a0, a1, a2, x0, x1, x2, w, oc_n, run_len, rows,  \
                                             band_w - run_len, vl);                           \
                        }                                                                     \
                        elem_t *yo = y + (size_t)o0 * oc_n + oc0;                             \
                        HHBC_RVV_STORE3(D, yo, yo + oc_n, yo + 2 * oc_n, a0, a1, a2, epi, vl); \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
        return;                                                                               \
    }                                                                                         \
    for (int32_t g = 0; g < groups; g++) {                                                    \
        const elem_t *wg = (const elem_t *)p->weight + (size_t)g * kh_n * wrow;               \
        const float *bg = p->bias ? p->bias + (size_t)g * ocg : NULL;                         \
        for (int32_t oc0 = 0; oc0 < ocg; oc0 += (int32_t)vl) {                                \
            vl = HHBC_##D##_SETVL((size_t)(ocg - oc0));                                       \
            for (int32_t n = 0; n < batch; n++) {                                             \
                const elem_t *src_n = src + (size_t)n * ih_n * iw_n * ic_n + (size_t)g * icg; \
                for (int32_t oh = 0; oh < oh_n; oh++) {                                       \
                    const int32_t ih0 = oh * sh - p->pad_top;                                 \
                    const int32_t kh_lo = ih0 < 0 ? hhbc_rvv_cdiv(-ih0, dh) : 0;              \
                    int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_rvv_cdiv(ih_n - ih0, dh) : 0;       \
                    if (kh_hi > kh_n) kh_hi = kh_n;                                           \
                    if (kh_hi < kh_lo) kh_hi = kh_lo;                                         \
                    elem_t *y = dst + ((size_t)n * oh_n + oh) * ow_n * oc_n + (size_t)g * ocg + oc0; \
                    int32_t ow = 0;                                                           \
                    while (ow < ow_n) {                                                       \
                        const int32_t iw0 = ow * sw - p->pad_left;                            \
                        vfloat32m8_t a0 = HHBC_RVV_BIAS(bg, oc0, vl);                         \
                        if (ow >= ow_lo && ow + 3 <= ow_hi) {                                 \
                            vfloat32m8_t a1 = a0, a2 = a0;                                    \
                            for (int32_t kh = kh_lo; kh < kh_hi; kh++) {                      \
                                const elem_t *xr = src_n +                                    \
                                    ((size_t)(ih0 + kh * dh) * iw_n + iw0) * ic_n;            \
                                const elem_t *wr = wg + (size_t)kh * wrow + oc0;              \
                                for (int32_t r = 0; r < runs; r++) {                          \
                                    const elem_t *x0 = xr + (size_t)r * dw * ic_n;            \
                                    const elem_t *x1 = x0 + (size_t)sw * ic_n;                \
                                    const elem_t *x2 = x1 + (size_t)sw * ic_n;                \
                                    const elem_t *w = wr + (size_t)r * icg * ocg;             \
                                    HHBC_RVV_RUN3(D, a0, a1, a2, x0, x1, x2, w, ocg, run_len, vl); \
                                }                                                             \
                            }                                                                 \
                            HHBC_RVV_STORE3(D, y + (size_t)ow * oc_n, y + (size_t)(ow + 1) * oc_n, \
                                            y + (size_t)(ow + 2) * oc_n, a0, a1, a2, epi, vl); \
                            ow += 3;                                                          \
                        } else {                                                              \
                            const int32_t kw_lo = iw0 < 0 ? hhbc_rvv_cdiv(-iw0, dw) : 0;      \
                            int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_rvv_cdiv(iw_n - iw0, dw) : 0; \
                            if (kw_hi > kw_n) kw_hi = kw_n;                                   \
                            for (int32_t kh = kh_lo; kh < kh_hi && kw_lo < kw_hi; kh++) {     \
                                /* xr: the first valid tap (kw_lo) of kernel row kh */        \
                                const elem_t *xr = src_n + ((size_t)(ih0 + kh * dh) * iw_n +  \
                                                            (size_t)(iw0 + kw_lo * dw)) * ic_n; \
                                const elem_t *wr = wg + (size_t)kh * wrow + oc0;              \
                                if (contig) {                                                 \
                                    const elem_t *x0 = xr;                                    \
                                    const elem_t *w = wr + (size_t)kw_lo * icg * ocg;         \
                                    HHBC_RVV_RUN1(D, a0, x0, w, ocg, (kw_hi - kw_lo) * icg, vl); \
                                } else {                                                      \
                                    for (int32_t kw = kw_lo; kw < kw_hi; kw++) {              \
                                        const elem_t *x0 = xr + (size_t)(kw - kw_lo) * dw * ic_n; \
                                        const elem_t *w = wr + (size_t)kw * icg * ocg;        \
                                        HHBC_RVV_RUN1(D, a0, x0, w, ocg, icg, vl);            \
                                    }                                                         \
                                }                                                             \
                            }                                                                 \
                            HHBC_RVV_STORE1(D, y + (size_t)ow * oc_n, a0, epi, vl);           \
                            ow += 1;                                                          \
                        }                                                                     \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_CONV2D(hhbc_conv2d_f32_rvv, F32)
HHBC_RVV_DEFINE_CONV2D(hhbc_conv2d_f16_rvv, F16)
