/*
 * hhbc C906 kernel: depthwise 2-D convolution (multiplier 1), NHWC, float32 and float16,
 * RVV 0.7.1, VLEN 128. Any kernel size, stride, padding and dilation.
 *
 * Weight layout: the reference one, [KH][KW][C] (channels contiguous), no packing. bias [C]
 * float32 or NULL. in [N][H][W][C], out [N][OH][OW][C].
 *
 * Channels are the vector axis: strips of 32 (e32,m8 accumulator v8; float16: e16,m4 inputs
 * and weights in v16/v24 widened by vfwmacc.vv). Per output pixel and strip: one input and
 * one weight vector load and one vfmacc per tap. Interior pixels of a 3x3 kernel (any stride
 * and dilation, so the s1 and s2 layers) go two at a time through an unrolled path with no
 * bounds checks, one weight load feeding both; border pixels and other kernel sizes take the
 * valid kh, kw ranges once per pixel and loop over them without per-tap checks.
 */
#include "hhbc_c906_conv.h"

#define HHBC_DW_TAP(f16, xp, wp)                      \
    do {                                              \
        if (f16) {                                    \
            HV_VLE_RO(v16, xp);                       \
            HV_VLE_RO(v24, wp);                       \
            HV_VFWMACC_VV(v8, v16, v24);              \
        } else {                                      \
            HV_VLE_RO(v16, xp);                       \
            HV_VLE_RO(v24, wp);                       \
            HV_VFMACC_VV(v8, v16, v24);               \
        }                                             \
    } while (0)

/* two pixels (accumulators v8, v16) share one weight load (v24); inputs through v0 */
#define HHBC_DW_TAP2(f16, xp, xs, wp)                 \
    do {                                              \
        HV_VLE_RO(v24, wp);                           \
        HV_VLE_RO(v0, xp);                            \
        if (f16) HV_VFWMACC_VV(v8, v0, v24);          \
        else HV_VFMACC_VV(v8, v0, v24);               \
        HV_VLE_RO(v0, (xp) + (xs));                   \
        if (f16) HV_VFWMACC_VV(v16, v0, v24);         \
        else HV_VFMACC_VV(v16, v0, v24);              \
    } while (0)

/* the 9 taps of one (two: pixels x, x + xs) interior output pixel(s), running pointers */
HHBC_C906_INLINE void hhbc_c906_dw3x3(const char *x, ptrdiff_t xs, ptrdiff_t dcol, ptrdiff_t drow, const char *w,
                                      ptrdiff_t wcol, int two, int f16)
{
    const ptrdiff_t rowskip = drow - 3 * dcol;
    for (int kh = 0; kh < 3; kh++) {
        for (int kw = 0; kw < 3; kw++) {
            if (two) HHBC_DW_TAP2(f16, x, xs, w);
            else HHBC_DW_TAP(f16, x, w);
            x += dcol;
            w += wcol;
        }
        x += rowskip;
    }
}

HHBC_C906_INLINE void hhbc_c906_dw(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p,
                                   int f16)
{
    const size_t esz = f16 ? 2 : 4;
    const char *src = (const char *)in->data;
    char *dst = (char *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t dh = p->dilation_h, dw = p->dilation_w, pt = p->pad_top, pl = p->pad_left;
    const hhbc_act_kind kind = p->act.kind;
    const float lo = p->act.lo, hi = p->act.hi, alpha = p->act.alpha;
    const float *bias = p->bias;
    const ptrdiff_t row = (ptrdiff_t)iw_n * c_n * esz;   /* bytes per input row */
    const ptrdiff_t col = (ptrdiff_t)c_n * esz;          /* bytes per input pixel */
    const ptrdiff_t wcol = (ptrdiff_t)c_n * esz;         /* bytes per weight tap */
    const int k3 = kh_n == 3 && kw_n == 3;

    for (int32_t c0 = 0; c0 < c_n; c0 += HHBC_C906_STRIP) {
        const size_t vl = (size_t)(c_n - c0 < HHBC_C906_STRIP ? c_n - c0 : HHBC_C906_STRIP);
        const float *b = bias ? bias + c0 : NULL;
        const char *w0 = (const char *)p->weight + (size_t)c0 * esz;
        const ptrdiff_t dcol = (ptrdiff_t)dw * col, drow = (ptrdiff_t)dh * row;
        for (int32_t n = 0; n < batch; n++) {
            const char *src_n = src + (size_t)n * ih_n * row + (size_t)c0 * esz;
            for (int32_t oh = 0; oh < oh_n; oh++) {
                const int32_t ih0 = oh * sh - pt;
                const int row_in = ih0 >= 0 && ih0 + (kh_n - 1) * dh < ih_n;
                char *d = dst + (((size_t)n * oh_n + oh) * ow_n * c_n + (size_t)c0) * esz;
                for (int32_t ow = 0; ow < ow_n; ow++, d += (size_t)c_n * esz) {
                    const int32_t iw0 = ow * sw - pl;
                    if (k3 && row_in && ow + 1 < ow_n && iw0 >= 0 && iw0 + sw + 2 * dw < iw_n) {
                        /* two interior pixels of a 3x3 kernel */
                        const char *x0 = src_n + (ptrdiff_t)ih0 * row + (ptrdiff_t)iw0 * col;
                        hhbc_c906_cv_init(b, vl, 2, f16);
                        hhbc_c906_dw3x3(x0, (ptrdiff_t)sw * col, dcol, drow, w0, wcol, 1, f16);
                        hhbc_c906_cv_store(d, c_n, 2, vl, kind, lo, hi, alpha, f16);
                        ow++;
                        d += (size_t)c_n * esz;
                        continue;
                    }
                    hhbc_c906_cv_init(b, vl, 1, f16);
                    if (k3 && row_in && iw0 >= 0 && iw0 + 2 * dw < iw_n) {
                        const char *x0 = src_n + (ptrdiff_t)ih0 * row + (ptrdiff_t)iw0 * col;
                        hhbc_c906_dw3x3(x0, 0, dcol, drow, w0, wcol, 0, f16);
                    } else {
                        /* border pixels and other kernels: the valid kh, kw ranges once per pixel */
                        int32_t kh_lo = ih0 < 0 ? (-ih0 + dh - 1) / dh : 0;
                        int32_t kh_hi = ih_n - 1 - ih0 < 0 ? 0 : (ih_n - 1 - ih0) / dh + 1;
                        int32_t kw_lo = iw0 < 0 ? (-iw0 + dw - 1) / dw : 0;
                        int32_t kw_hi = iw_n - 1 - iw0 < 0 ? 0 : (iw_n - 1 - iw0) / dw + 1;
                        if (kh_hi > kh_n) kh_hi = kh_n;
                        if (kw_hi > kw_n) kw_hi = kw_n;
                        if (kw_lo < kw_hi) {
                            const char *xrow = src_n + ((ptrdiff_t)ih0 + (ptrdiff_t)kh_lo * dh) * row +
                                               ((ptrdiff_t)iw0 + (ptrdiff_t)kw_lo * dw) * col;
                            const char *wrow = w0 + ((ptrdiff_t)kh_lo * kw_n + kw_lo) * wcol;
                            for (int32_t kh = kh_lo; kh < kh_hi; kh++, xrow += drow, wrow += (ptrdiff_t)kw_n * wcol) {
                                const char *xp = xrow, *wp = wrow;
                                for (int32_t kw = kw_lo; kw < kw_hi; kw++, xp += dcol, wp += wcol)
                                    HHBC_DW_TAP(f16, xp, wp);
                            }
                        }
                    }
                    hhbc_c906_cv_store(d, 0, 1, vl, kind, lo, hi, alpha, f16);
                }
            }
        }
    }
}

void hhbc_depthwise_conv2d_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_dw(in, out, p, 0);
}

void hhbc_depthwise_conv2d_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)
{
    hhbc_c906_dw(in, out, p, 1);
}
