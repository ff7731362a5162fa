/*
 * hhbc c908 kernel: int8 depthwise convolution (channel multiplier 1) on XTheadVdot
 * (th.vmaqa.vv), NHWC, bit-exact with ref/depthwise_conv2d_i8.c. Epilogue: hhbc_c908_i8.h.
 *
 * Packed constants (hhbc/codegen/table_c908.py, pack_vmaqa_depthwise), T = ceil(KH*KW / 4):
 *   weight [T][C][4] int8: element [g][c][j] = w[tap 4 g + j][c] (taps in [KH][KW] order),
 *     zero for the taps past KH * KW;
 *   bias [C] int32 = bias - input_zp * sum_taps w[tap][c] (the zero point folded in).
 * Bands of output rows have their input rows copied inside a zero-point border on the stack
 * (at most HHBC_C908_DW_PADDED bytes; the kernel table sends layers where one output row's
 * input rows do not fit to the rvv kernel), so every tap reads in bounds and the border taps
 * contribute w * zero_point, which the folded bias cancels, as padding does in ref.
 * Channels are the vector axis (e32 strips of up to 32 at VLEN 128, LMUL m2/m4/m8 by the
 * channel count). Per output pixel and group of 4 taps: 4 e8 loads of the taps' channel
 * strips, one segment store that interleaves them into [C][4] (a 32-bit lane per channel
 * holding its 4 taps), one e32 load of that and one of the packed weights, and one
 * th.vmaqa.vv: at m8, 128 MACs in 8 vector instructions, where widening multiply-adds
 * need 2 per tap and channel strip.
 */
#include "hhbc_c908_i8.h"

#define HHBC_C908_DW_PADDED 8192

/*
 * Per accumulator LMUL M (int8 LMUL B = M / 4): c908_vmaqa_vv_M, acc += dot4 lane by lane
 * (th.vmaqa.vv vd, vs1, vs2), and c908_dw_strip_M: one strip of channels [c0, c0 + vl) of
 * every output pixel of a band of OH output rows (its own small stack frame: the padded rows
 * live in the caller's). The caller takes the smallest LMUL that holds all C channels
 * (m2: 8, m4: 16, m8: 32 at VLEN 128), so the LMUL-weighted cost follows the channels used.
 */
#define C908_DEFINE_DW(M, B)                                                                  \
static inline vint32##M##_t c908_vmaqa_vv_##M(vint32##M##_t acc, vint32##M##_t x, vint32##M##_t w, size_t vl) \
{                                                                                             \
    __asm__ volatile("vsetvli zero, %[vl], e32, " #M ", ta, ma\n\t"                           \
                     ".insn r 0x0b, 6, " HHBC_C908_XS(HHBC_C908_VMAQA_VV) ", %[a], %[x], %[w]" \
                     : [a] "+vr"(acc) : [x] "vr"(x), [w] "vr"(w), [vl] "r"(vl));              \
    return acc;                                                                               \
}                                                                                             \
                                                                                              \
__attribute__((noinline)) static void c908_dw_strip_##M(const int8_t *padded, int8_t *dst, const long *toff, \
                                                        int32_t T, int32_t OH, int32_t OW, int32_t C, int32_t WP, \
                                                        const hhbc_conv2d_i8_params *p, int32_t c0, size_t vl) \
{                                                                                             \
    int32_t lanes[4 * HHBC_C908_STRIP];   /* one group's taps, interleaved [c][4] */          \
    hhbc_c908_rq rq;                                                                          \
    hhbc_c908_rq_strip(&rq, p->multiplier, p->shift, p->scale, NULL, p->per_channel, c0, vl,  \
                       p->output_zp, p->act_min, p->act_max);                                 \
    const long xstep = (long)p->stride_w * C;                                                 \
    for (int32_t oh = 0; oh < OH; oh++) {                                                     \
        const int8_t *px = padded + (long)oh * p->stride_h * WP * C + c0;                     \
        int8_t *o = dst + (long)oh * OW * C + c0;                                             \
        for (int32_t ow = 0; ow < OW; ow++, o += C, px += xstep) {                            \
            vint32##M##_t acc = hhbc_c908_bias_##M(p->bias, c0, vl);                          \
            const int8_t *wg = p->weight + 4L * c0;                                           \
            const long *to = toff;                                                            \
            for (int32_t g = 0; g < T; g++, wg += 4L * C, to += 4) {                          \
                vint8##B##x4_t quad = __riscv_vcreate_v_i8##B##x4(                            \
                    __riscv_vle8_v_i8##B(px + to[0], vl), __riscv_vle8_v_i8##B(px + to[1], vl), \
                    __riscv_vle8_v_i8##B(px + to[2], vl), __riscv_vle8_v_i8##B(px + to[3], vl)); \
                __riscv_vsseg4e8_v_i8##B##x4((int8_t *)lanes, quad, vl);                      \
                acc = c908_vmaqa_vv_##M(acc, __riscv_vle32_v_i32##M(lanes, vl),               \
                                        __riscv_vle32_v_i32##M((const int32_t *)(const void *)wg, vl), vl); \
            }                                                                                 \
            hhbc_c908_rq_store_##M(acc, o, &rq, vl);                                          \
        }                                                                                     \
    }                                                                                         \
}
C908_DEFINE_DW(m2, mf2)
C908_DEFINE_DW(m4, m1)
C908_DEFINE_DW(m8, m2)

void hhbc_depthwise_conv2d_i8_c908(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t H = in->dim[1], W = in->dim[2], C = in->dim[3];
    const int32_t OH = out->dim[1], OW = out->dim[2];
    const int32_t KH = p->kernel_h, KW = p->kernel_w, taps = KH * KW, T = (taps + 3) / 4;
    const int32_t WP = (OW - 1) * p->stride_w + (KW - 1) * p->dilation_w + 1;
    const int32_t span = (KH - 1) * p->dilation_h + 1;   /* input rows of one output row */
    const long prow = (long)WP * C;
    /* output rows per band: (bh - 1) * stride_h + span padded rows fit the buffer (the kernel
     * table guarantees span * prow <= HHBC_C908_DW_PADDED) */
    const int32_t bh = (int32_t)((HHBC_C908_DW_PADDED / prow - span) / p->stride_h + 1);
    int8_t padded[HHBC_C908_DW_PADDED];
    long toff[64];   /* byte offset of each tap in the padded rows */

    for (int32_t t = 0; t < 4 * T; t++)   /* taps past KH * KW meet zero weights */
        toff[t] = t < taps ? ((long)(t / KW) * p->dilation_h * WP + (long)(t % KW) * p->dilation_w) * C : 0;
    for (int32_t b = 0; b < in->dim[0]; b++) {
        for (int32_t oh0 = 0; oh0 < OH; oh0 += bh) {
            const int32_t nb = OH - oh0 < bh ? OH - oh0 : bh;
            hhbc_c908_pad_rows(padded, src + (long)b * H * W * C, H, W, C, oh0 * p->stride_h - p->pad_top,
                               (nb - 1) * p->stride_h + span, WP, p->pad_left, p->input_zp);
            int8_t *d = dst + ((long)b * OH + oh0) * OW * C;
            const int32_t n = C < HHBC_C908_STRIP ? C : HHBC_C908_STRIP;
            for (int32_t c0 = 0; c0 < C;) {
                size_t vl;
                if ((size_t)n <= __riscv_vsetvlmax_e32m2()) {
                    vl = __riscv_vsetvl_e32m2((size_t)(C - c0 < n ? C - c0 : n));
                    c908_dw_strip_m2(padded, d, toff, T, nb, OW, C, WP, p, c0, vl);
                } else if ((size_t)n <= __riscv_vsetvlmax_e32m4()) {
                    vl = __riscv_vsetvl_e32m4((size_t)(C - c0 < n ? C - c0 : n));
                    c908_dw_strip_m4(padded, d, toff, T, nb, OW, C, WP, p, c0, vl);
                } else {
                    vl = __riscv_vsetvl_e32m8((size_t)(C - c0 < n ? C - c0 : n));
                    c908_dw_strip_m8(padded, d, toff, T, nb, OW, C, WP, p, c0, vl);
                }
                c0 += (int32_t)vl;
            }
        }
    }
}
