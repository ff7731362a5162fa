/*
 * hhbc C906 kernel: 2-D convolution, NHWC, int8 (TFLite CONV_2D), RVV 0.7.1 through
 * hhbc_rvv071.h. Any kernel size, stride, padding, dilation and groups; the 1x1 GEMM is the
 * one-tap case. Bit-exact with ref/conv2d_i8.c (TFLite flavour; the ONNX float flavour stays
 * on the reference kernel).
 *
 * Constants (hhbc/codegen/packing_c906.py, conv_i8_c906):
 *   weight [G][KH][KW][ICg][OCg] int8 (packing.conv_gkkio: output channels contiguous);
 *   multiplier: the requantization block of hhbc_c906_i8.h (multipliers, folded bias,
 *   shifts); bias and shift are unused (their content is in the block).
 * A GEMM over the patches: an output pixel's patch (taps x input channels of its group,
 * K = KH*KW*ICg bytes, the order of the packed weights' rows) is its input pointer when the
 * patch is one contiguous run (one kernel row inside the input, e.g. 1x1), else it is
 * gathered once per pixel into a stack buffer, the padding filled with input_zp (so the
 * folded bias stays exact). Tiles: 3 output pixels x one strip of output channels (e16,m4
 * weights, e32,m8 int32 accumulators v0 / v8 / v16, 32 lanes at VLEN 128): per patch byte
 * one vlb.v of the weight strip (bytes sign-extended to 16 bits), three lb and three
 * vwmacc.vx.
 * Patches longer than the buffer take the same tiles tap by tap.
 */
#include "hhbc_c906_i8.h"

#define HC8_PATCH_MAX 2048   /* bytes of one gathered patch (three on the stack) */

/* input pointer and step of one pixel's tap: inside the input, or the zero point */
HHBC_C906_INLINE const int8_t *tap_ptr(const int8_t *src_n, int32_t ih, int32_t iw, int32_t ih_n, int32_t iw_n,
                                       int32_t c_n, int32_t ic0, const int8_t *zp, int32_t *step)
{
    if (ih < 0 || ih >= ih_n || iw < 0 || iw >= iw_n) {
        *step = 0;
        return zp;
    }
    *step = 1;
    return src_n + ((size_t)ih * iw_n + iw) * c_n + ic0;
}

/* len MACs of three pixels: v0 += x0[j] * w[j][..], v8 (x1), v16 (x2), j < len, the inputs
 * contiguous (one run of taps and input channels), w rows ocg apart; returns w past the
 * run. vtype e16,m4; weights in v24 / v28. */
__attribute__((noinline)) static const int8_t *mac_run(const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                                       const int8_t *w, size_t ocg, int32_t len)
{
    int32_t j = 0;
    /* four at a time through two weight registers (the asm statements keep their order) */
    for (; j + 4 <= len; j += 4, x0 += 4, x1 += 4, x2 += 4) {
        const long a0 = x0[0], b0 = x1[0], c0 = x2[0];
        HV_VLB_RO(v24, w);
        HV_VLB_RO(v28, w + ocg);
        const long a1 = x0[1], b1 = x1[1], c1 = x2[1];
        HV_VWMACC_VX(v0, a0, v24);
        HV_VWMACC_VX(v8, b0, v24);
        HV_VWMACC_VX(v16, c0, v24);
        const long a2 = x0[2], b2 = x1[2], c2 = x2[2];
        HV_VLB_RO(v24, w + 2 * ocg);
        HV_VWMACC_VX(v0, a1, v28);
        HV_VWMACC_VX(v8, b1, v28);
        HV_VWMACC_VX(v16, c1, v28);
        const long a3 = x0[3], b3 = x1[3], c3 = x2[3];
        HV_VLB_RO(v28, w + 3 * ocg);
        w += 4 * ocg;
        HV_VWMACC_VX(v0, a2, v24);
        HV_VWMACC_VX(v8, b2, v24);
        HV_VWMACC_VX(v16, c2, v24);
        HV_VWMACC_VX(v0, a3, v28);
        HV_VWMACC_VX(v8, b3, v28);
        HV_VWMACC_VX(v16, c3, v28);
    }
    for (; j + 2 <= len; j += 2, x0 += 2, x1 += 2, x2 += 2) {
        const long a0 = x0[0], b0 = x1[0], c0 = x2[0];
        HV_VLB_RO(v24, w);
        HV_VLB_RO(v28, w + ocg);
        w += 2 * ocg;
        const long a1 = x0[1], b1 = x1[1], c1 = x2[1];
        HV_VWMACC_VX(v0, a0, v24);
        HV_VWMACC_VX(v8, b0, v24);
        HV_VWMACC_VX(v16, c0, v24);
        HV_VWMACC_VX(v0, a1, v28);
        HV_VWMACC_VX(v8, b1, v28);
        HV_VWMACC_VX(v16, c1, v28);
    }
    if (j < len) {
        const long a0 = x0[0], b0 = x1[0], c0 = x2[0];
        HV_VLB_RO(v24, w);
        w += ocg;
        HV_VWMACC_VX(v0, a0, v24);
        HV_VWMACC_VX(v8, b0, v24);
        HV_VWMACC_VX(v16, c0, v24);
    }
    return w;
}

/* the same with a step per pixel (0: the pixel's tap is padding, x points at input_zp) */
HHBC_C906_INLINE const int8_t *mac_run_step(const int8_t *const *x, const int32_t *st, const int8_t *w,
                                            size_t ocg, int32_t len)
{
    const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2];
    for (int32_t j = 0; j < len; j++, x0 += st[0], x1 += st[1], x2 += st[2]) {
        const long a0 = x0[0], b0 = x1[0], c0 = x2[0];
        HV_VLB_RO(v24, w);
        w += ocg;
        HV_VWMACC_VX(v0, a0, v24);
        HV_VWMACC_VX(v8, b0, v24);
        HV_VWMACC_VX(v16, c0, v24);
    }
    return w;
}

/* copy n bytes (vector, e8), scratch v16 */
HHBC_C906_INLINE void copy8(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n <= 16) {   /* short runs (one-channel layers): LMUL 1 */
        size_t vl;
        HV_VSETVLI(vl, (size_t)n, HV_E8M1);
        HV_VLE_RO(v16, src);
        HV_VSE(v16, dst);
        return;
    }
    while (n > 0) {
        size_t vl;
        HV_VSETVLI(vl, (size_t)n, HV_E8M8);
        HV_VLE_RO(v16, src);
        HV_VSE(v16, dst);
        src += vl;
        dst += vl;
        n -= (int32_t)vl;
    }
}

/* fill n bytes with v */
HHBC_C906_INLINE void fill8(int8_t *dst, int8_t v, int32_t n)
{
    if (n <= 16) {
        size_t vl;
        HV_VSETVLI(vl, (size_t)n, HV_E8M1);
        HV_VMV_V_X(v16, (long)v);
        HV_VSE(v16, dst);
        return;
    }
    while (n > 0) {
        size_t vl;
        HV_VSETVLI(vl, (size_t)n, HV_E8M8);
        HV_VMV_V_X(v16, (long)v);
        HV_VSE(v16, dst);
        dst += vl;
        n -= (int32_t)vl;
    }
}

/* The patch of the output pixel whose window starts at (ih0, iw0), gathered into buf. */
__attribute__((noinline)) static const int8_t *patch(int8_t *buf, const int8_t *src_n, int32_t ih0, int32_t iw0,
                                                     int32_t ic0, const hhbc_tensor *in, int32_t icg,
                                                     const hhbc_conv2d_i8_params *p)
{
    const int32_t ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, dw = p->dilation_w;
    const int8_t zp = (int8_t)p->input_zp;
    const int32_t row = kw_n * icg;
    /* one group, no horizontal dilation: a kernel row is zero points, one run of the input,
     * zero points */
    const int runs = dw == 1 && icg == ic_n;
    const int32_t kw_lo = iw0 < 0 ? -iw0 : 0;
    const int32_t kw_hi = iw0 + kw_n > iw_n ? iw_n - iw0 : kw_n;
    int8_t *b = buf;
    if (runs && kw_lo == 0 && kw_hi == kw_n && ih0 >= 0 && ih0 + (kh_n - 1) * p->dilation_h < ih_n) {
        /* the whole window inside the input: kernel rows copied as they are */
        const int8_t *s = src_n + ((size_t)ih0 * iw_n + iw0) * ic_n;
        const size_t step = (size_t)p->dilation_h * iw_n * ic_n;
        if (row <= 16) {
            size_t vl;
            HV_VSETVLI(vl, (size_t)row, HV_E8M1);
            for (int32_t kh = 0; kh < kh_n; kh++, b += row, s += step) {
                HV_VLE_RO(v16, s);
                HV_VSE(v16, b);
            }
        } else {
            for (int32_t kh = 0; kh < kh_n; kh++, b += row, s += step) copy8(b, s, row);
        }
        return buf;
    }
    for (int32_t kh = 0; kh < kh_n; kh++, b += row) {
        const int32_t ih = ih0 + kh * p->dilation_h;
        if (ih < 0 || ih >= ih_n || (runs && kw_hi <= kw_lo)) {
            fill8(b, zp, row);
        } else if (runs) {
            if (kw_lo > 0) fill8(b, zp, kw_lo * ic_n);
            copy8(b + kw_lo * ic_n, src_n + ((size_t)ih * iw_n + iw0 + kw_lo) * ic_n, (kw_hi - kw_lo) * ic_n);
            if (kw_hi < kw_n) fill8(b + kw_hi * ic_n, zp, (kw_n - kw_hi) * ic_n);
        } else {
            const int8_t *srow = src_n + (size_t)ih * iw_n * ic_n + ic0;
            for (int32_t kw = 0; kw < kw_n; kw++) {
                const int32_t iw = iw0 + kw * dw;
                if (iw >= 0 && iw < iw_n) copy8(b + kw * icg, srow + (size_t)iw * ic_n, icg);
                else fill8(b + kw * icg, zp, icg);
            }
        }
    }
    return buf;
}

/* the kernel, with its three patch buffers from the caller (kept out of this frame, so the
 * spill slots stay within a load's 12-bit offset) */
__attribute__((noinline)) static void conv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                                                const hhbc_conv2d_i8_params *p, int8_t (*buf)[HC8_PATCH_MAX])
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t groups = p->groups, icg = ic_n / groups, ocg = oc_n / groups;
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const int32_t npix = in->dim[0] * oh_n * ow_n;
    const int32_t kk = kh_n * kw_n * icg;   /* patch length */
    const int32_t *rq = p->multiplier;
    const int8_t zp = (int8_t)p->input_zp;
    const size_t gstride = (size_t)kk * ocg;
    const int direct = kh_n == 1 && p->dilation_w == 1 && groups == 1;   /* a patch can be one input run */

    HC8_VXRM_RNU();
    for (int32_t g = 0; g < groups; g++) {
        const int8_t *wg = p->weight + g * gstride;
        for (int32_t px = 0; px < npix; px += 3) {
            const int r_n = npix - px < 3 ? npix - px : 3;   /* real pixels; the others repeat px */
            const int8_t *src_n[3], *x[3];
            int32_t ih0[3], iw0[3];
            for (int r = 0; r < 3; r++) {
                const int32_t pr = r < r_n ? px + r : px;
                const int32_t n = pr / (oh_n * ow_n), rem = pr % (oh_n * ow_n);
                src_n[r] = src + (size_t)n * ih_n * iw_n * ic_n;
                ih0[r] = (rem / ow_n) * p->stride_h - p->pad_top;
                iw0[r] = (rem % ow_n) * p->stride_w - p->pad_left;
                if (r >= r_n)
                    x[r] = x[0];
                else if (direct && ih0[r] >= 0 && ih0[r] < ih_n && iw0[r] >= 0 && iw0[r] + kw_n <= iw_n)
                    x[r] = src_n[r] + ((size_t)ih0[r] * iw_n + iw0[r]) * ic_n;   /* one contiguous run */
                else
                    x[r] = kk <= HC8_PATCH_MAX ? patch(buf[r], src_n[r], ih0[r], iw0[r], g * icg, in, icg, p) : NULL;
            }
            for (int32_t oc0 = 0; oc0 < ocg;) {
                size_t vl;
                HV_VSETVLI(vl, (size_t)(ocg - oc0), HV_E32M8);
                const int32_t occ = g * ocg + oc0;   /* channel in the output and the block */
                HV_VLE_RO(v0, hc8_rq_row(rq, HC8_RQ_BIAS, occ));
                HV_VMV_V_V(v8, v0);
                HV_VMV_V_V(v16, v0);
                HV_VSETVLI(vl, vl, HV_E16M4);
                const int8_t *w = wg + oc0;
                if (x[0]) {
                    mac_run(x[0], x[1], x[2], w, (size_t)ocg, kk);
                } else {   /* long patches: tap by tap, padding through a stride-0 pointer */
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        for (int32_t kw = 0; kw < kw_n; kw++) {
                            const int8_t *xt[3];
                            int32_t st[3];
                            for (int r = 0; r < 3; r++)
                                xt[r] = tap_ptr(src_n[r], ih0[r] + kh * p->dilation_h, iw0[r] + kw * p->dilation_w,
                                                ih_n, iw_n, ic_n, g * icg, &zp, &st[r]);
                            w = st[0] && st[1] && st[2] ? mac_run(xt[0], xt[1], xt[2], w, (size_t)ocg, icg)
                                                        : mac_run_step(xt, st, w, (size_t)ocg, icg);
                        }
                    }
                }
                HV_VSETVLI(vl, vl, HV_E32M8);
                hc8_requant_store3(rq, occ, r_n, dst + (size_t)px * oc_n + occ, (size_t)oc_n, p->output_zp,
                                   p->act_min, p->act_max);
                oc0 += (int32_t)vl;
            }
        }
    }
}

void hhbc_conv2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    int8_t buf[3][HC8_PATCH_MAX];
    conv2d_i8(in, out, p, buf);
}
