/*
 * hhbc rvv variant: int8 depthwise convolution, multiplier 1 (OC = C), any kernel, stride,
 * padding and dilation; RVV 1.0 intrinsics, VLEN-agnostic. Same params and results as
 * ref/depthwise_conv2d_i8.c, bit for bit.
 *
 * Constants (hhbc/codegen/packing_i8.py, pack_depthwise_i8): weight [KH][KW][C] sign-extended to
 * int16 at compile time (stored as little-endian byte pairs in the int8 array, read as int16_t),
 * bias with the input zero point folded in (bias - input_zp * sum over taps of w).
 * Channels are the vector axis, strips of e32/m8 lanes. Per tap: the pixel's e8 inputs
 * sign-extended to e16 (vle8 + vsext), the tap's e16 weights, vwmacc.vv e16 x e16 -> e32.
 * A tap in the padding reads the zero point, which cancels the folded term as the reference's
 * skipped tap does. Requantization: hhbc_rvv_requant_i8m8 (hhbc_rvv_i8.h).
 * Band path (when it fits HHBC_RVV_DW_BAND bytes of stack): per output row, the KH input rows it
 * reads are copied into a band [KH][BW][C] padded with the zero point (BW = the columns the row's
 * windows span), so every tap is a plain load; two output pixels share each weight load, and
 * the tap loop runs at e16/m4 throughout (no vtype change).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

#define HHBC_RVV_DW_BAND 16384   /* bytes of stack for the zero-point padded input rows of one output row */

/* any shape: per pixel, border taps read a splat of the zero point */
static void hhbc_rvv_dw_i8_general(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, dh = p->dilation_h, dw = p->dilation_w;
    const hhbc_rvv_rq rq = hhbc_rvv_rq_conv_n(p, out->dim[3]);

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                size_t vl;
                for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {
                    vl = __riscv_vsetvl_e32m8((size_t)(c_n - c0));
                    vint32m8_t acc = p->bias ? __riscv_vle32_v_i32m8(p->bias + c0, vl)
                                             : __riscv_vmv_v_x_i32m8(0, vl);
                    const int16_t *w = (const int16_t *)(const void *)p->weight + c0;
                    const vint16m4_t zp = __riscv_vmv_v_x_i16m4((int16_t)p->input_zp, vl);
                    for (int32_t kh = 0; kh < kh_n; kh++) {
                        const int32_t ih = ih0 + kh * dh;
                        const int row_in = ih >= 0 && ih < ih_n;
                        const int8_t *x_row = row_in ? src_n + ((size_t)ih * iw_n) * c_n + c0 : src_n;
                        for (int32_t kw = 0; kw < kw_n; kw++, w += c_n) {
                            const int32_t iw = iw0 + kw * dw;
                            const vint16m4_t xv = row_in && iw >= 0 && iw < iw_n
                                ? __riscv_vsext_vf2_i16m4(__riscv_vle8_v_i8m2(x_row + (ptrdiff_t)iw * c_n, vl), vl)
                                : zp;
                            acc = __riscv_vwmacc_vv_i32m8(acc, xv, __riscv_vle16_v_i16m4(w, vl), vl);
                        }
                    }
                    __riscv_vse8_v_i8m2(dst_px + c0, hhbc_rvv_requant_i8m8(acc, &rq, c0, vl), vl);
                }
            }
        }
    }
}


/* dst[0 .. n) = src[0 .. n) (src NULL: the byte v) */
static inline void hhbc_rvv_dw_fill(int8_t *dst, const int8_t *src, int8_t v, int32_t n)
{
    size_t vl;
    if ((size_t)n <= __riscv_vsetvlmax_e8m1()) {   /* short runs: m1 */
        vl = (size_t)n;
        __riscv_vse8_v_i8m1(dst, src ? __riscv_vle8_v_i8m1(src, vl) : __riscv_vmv_v_x_i8m1(v, vl), vl);
        return;
    }
    for (int32_t i = 0; i < n; i += (int32_t)vl) {
        vl = __riscv_vsetvl_e8m8((size_t)(n - i));
        __riscv_vse8_v_i8m8(dst + i, src ? __riscv_vle8_v_i8m8(src + i, vl) : __riscv_vmv_v_x_i8m8(v, vl), vl);
    }
}

/* The band of one output row: KH rows of columns [-pad_left, bw - pad_left), the zero point outside. */
static __attribute__((noinline)) void hhbc_rvv_dw_band(int8_t *band, const int8_t *src_n, int32_t ih0,
                                                       int32_t bw, const hhbc_conv2d_i8_params *p,
                                                       int32_t ih_n, int32_t iw_n, int32_t c_n)
{
    const int8_t zp = (int8_t)p->input_zp;
    const int32_t pl = p->pad_left;
    const int32_t col0 = pl > 0 ? (pl < bw ? pl : bw) : 0;   /* band columns [col0, col1) exist */
    const int32_t col1 = iw_n + pl < bw ? iw_n + pl : bw;
    for (int32_t kh = 0; kh < p->kernel_h; kh++, band += (ptrdiff_t)bw * c_n) {
        const int32_t ih = ih0 + kh * p->dilation_h;
        if (ih < 0 || ih >= ih_n || col1 <= col0) {
            hhbc_rvv_dw_fill(band, NULL, zp, bw * c_n);
            continue;
        }
        if (col0 > 0) hhbc_rvv_dw_fill(band, NULL, zp, col0 * c_n);
        hhbc_rvv_dw_fill(band + (ptrdiff_t)col0 * c_n, src_n + ((size_t)ih * iw_n + (col0 - pl)) * c_n, 0,
                         (col1 - col0) * c_n);
        if (col1 < bw) hhbc_rvv_dw_fill(band + (ptrdiff_t)col1 * c_n, NULL, zp, (bw - col1) * c_n);
    }
}

/*
 * a_r += sum over the KH x KW taps of w (e16, ws bytes per tap) * y_r (e8, sign-extended), r = 0, 1;
 * y_r advance by tcs per tap and by radv more after each kernel row. Inline asm so that the loop
 * is exactly this (12 instructions per tap for both pixels; kh_n, kw_n >= 1).
 */
static inline void hhbc_rvv_dw_taps2(vint32m8_t *acc0, vint32m8_t *acc1, const int8_t *y0, const int8_t *y1,
                                     const int16_t *w, ptrdiff_t ws, ptrdiff_t tcs, ptrdiff_t radv, long kh_n,
                                     long kw_n, size_t vl)
{
    vint32m8_t a0 = *acc0, a1 = *acc1;
    vint16m4_t wv, xw;
    vint8m2_t xv;
    long cnt;
    __asm__ volatile("vsetvli zero, %[vl], e16, m4, ta, ma\n\t"
                     "0:\n\t"
                     "mv %[cnt], %[kw]\n\t"
                     "1:\n\t"
                     "vle16.v %[wv], (%[w])\n\t"
                     "add %[w], %[w], %[ws]\n\t"
                     "vle8.v %[xv], (%[y0])\n\t"
                     "add %[y0], %[y0], %[tcs]\n\t"
                     "vsext.vf2 %[xw], %[xv]\n\t"
                     "vwmacc.vv %[a0], %[xw], %[wv]\n\t"
                     "vle8.v %[xv], (%[y1])\n\t"
                     "add %[y1], %[y1], %[tcs]\n\t"
                     "vsext.vf2 %[xw], %[xv]\n\t"
                     "vwmacc.vv %[a1], %[xw], %[wv]\n\t"
                     "addi %[cnt], %[cnt], -1\n\t"
                     "bnez %[cnt], 1b\n\t"
                     "add %[y0], %[y0], %[radv]\n\t"
                     "add %[y1], %[y1], %[radv]\n\t"
                     "addi %[kh], %[kh], -1\n\t"
                     "bnez %[kh], 0b\n\t"
                     : [a0] "+vr"(a0), [a1] "+vr"(a1), [wv] "=&vr"(wv), [xw] "=&vr"(xw), [xv] "=&vr"(xv),
                       [cnt] "=&r"(cnt), [y0] "+r"(y0), [y1] "+r"(y1), [w] "+r"(w), [kh] "+r"(kh_n)
                     : [kw] "r"(kw_n), [ws] "r"(ws), [tcs] "r"(tcs), [radv] "r"(radv), [vl] "r"(vl)
                     : "memory");
    *acc0 = a0;
    *acc1 = a1;
}

/* One output row from its band: two pixels per weight load, e16/m4 throughout the taps. */
static __attribute__((noinline)) void hhbc_rvv_dw_row(const int8_t *band, int8_t *dst_row, int32_t bw, int32_t ow_n,
                                                      int32_t c_n, const hhbc_conv2d_i8_params *p,
                                                      const hhbc_rvv_rq *rqp)
{
    const hhbc_rvv_rq rq = *rqp;
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;
    const ptrdiff_t brow = (ptrdiff_t)bw * c_n, tcs = (ptrdiff_t)p->dilation_w * c_n, pcs = (ptrdiff_t)p->stride_w * c_n;
    for (int32_t ow = 0; ow < ow_n; ow += 2) {
        const int two = ow + 1 < ow_n;
        const int8_t *x0 = band + ow * pcs, *x1 = two ? x0 + pcs : x0;
        size_t vl;
        for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {
            vl = __riscv_vsetvl_e32m8((size_t)(c_n - c0));
            vint32m8_t a0 = p->bias ? __riscv_vle32_v_i32m8(p->bias + c0, vl) : __riscv_vmv_v_x_i32m8(0, vl);
            vint32m8_t a1 = a0;
            const int16_t *w = (const int16_t *)(const void *)p->weight + c0;
            hhbc_rvv_dw_taps2(&a0, &a1, x0 + c0, x1 + c0, w, (ptrdiff_t)c_n * 2, tcs, brow - kw_n * tcs, kh_n,
                              kw_n, vl);
            __riscv_vse8_v_i8m2(dst_row + (ptrdiff_t)ow * c_n + c0, hhbc_rvv_requant_i8m8(a0, &rq, c0, vl), vl);
            if (two)
                __riscv_vse8_v_i8m2(dst_row + (ptrdiff_t)(ow + 1) * c_n + c0, hhbc_rvv_requant_i8m8(a1, &rq, c0, vl), vl);
        }
    }
}

void hhbc_depthwise_conv2d_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int32_t bw = (ow_n - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;   /* band columns */
    if (ow_n < 1 || oh_n < 1 || (int64_t)p->kernel_h * bw * c_n > HHBC_RVV_DW_BAND) {
        hhbc_rvv_dw_i8_general(in, out, p);
        return;
    }
    const hhbc_rvv_rq rq = hhbc_rvv_rq_conv_n(p, c_n);
    int8_t band[HHBC_RVV_DW_BAND];
    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            hhbc_rvv_dw_band(band, src_n, oh * p->stride_h - p->pad_top, bw, p, ih_n, iw_n, c_n);
            hhbc_rvv_dw_row(band, dst + ((size_t)n * oh_n + oh) * ow_n * c_n, bw, ow_n, c_n, p, &rq);
        }
    }
}
