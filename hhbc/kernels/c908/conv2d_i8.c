/*
 * hhbc c908 kernels: int8 convolution and dense on XTheadVdot (th.vmaqa.vx), NHWC,
 * bit-exact with ref/conv2d_i8.c and ref/dense_i8.c (TFLite fixed point, TFLite's
 * double-precision FULLY_CONNECTED scale, or the ONNX float flavour). Scheme, encoding and
 * epilogue: hhbc_c908_i8.h.
 *
 * Packed constants (hhbc/codegen/table_c908.py, pack_vmaqa), G = ceil(KW * C / 4):
 *   weight [KH][G][OC][4] int8: element [r][g][oc][j] = w[oc][r][kw][c] with
 *     kw * C + c = 4 g + j, zero where 4 g + j >= KW * C (1x1: [G][OC][4], G = ceil(C / 4);
 *     dense: [G][N][4], G = ceil(K / 4));
 *   bias [OC] int32 = bias - input_zp * sum_{r,kw,c} w[oc][r][kw][c] (the zero point
 *     folded in; the MAC loop multiplies raw inputs).
 * 1x1 and dense are one GEMM over pixels x[P][K]. k x k (dilation_w 1: one kernel row of
 * one output pixel is KW * C contiguous input bytes) first copies the windows of a chunk of
 * pixels into a stack buffer, each as KH rows of 4 G bytes (im2col), the taps in the padding
 * set to the input zero point (which the folded bias cancels, as padding reads the zero
 * point in ref); then the same GEMM runs over the chunk with K = KH * 4 G.
 */
#include <string.h>

#include "hhbc_c908_i8.h"

/* The k x k kernel's im2col buffer: windows of KH * 4 G <= HHBC_C908_PATCH bytes
 * (table_c908.PATCH_BYTES), so a chunk holds at least 3 pixels. */
#define HHBC_C908_PATCH 2048
#define HHBC_C908_CHUNK (3 * HHBC_C908_PATCH)

/* Requantization parameters of one layer (the fields the epilogue needs). */
typedef struct c908_quant {
    const int32_t *multiplier, *shift;
    const float *scale;
    const double *real_scale;
    int32_t per_channel, zp, lo, hi;
} c908_quant;

/*
 * out[P][N] = requant(x[P][K] . w + bias), w packed [G][N][4]. Output channel strips
 * outside, tiles of 3 pixels inside. A row whose last group would read past x[P * K]
 * (K not a multiple of 4, the last rows) gets that group from a zero-padded word.
 * c908_gemm_m2 / _m4 / _m8: strips of e32/m2, m4 or m8 (8, 16 or 32 channels at VLEN 128);
 * c908_gemm takes the smallest that holds all N channels (at most m8).
 */
#define C908_DEFINE_GEMM(M)                                                                   \
__attribute__((noinline)) static void c908_gemm_##M(const int8_t *x, int8_t *out, int32_t P, int32_t N, \
                                                    int32_t K, const int8_t *w, const int32_t *bias, \
                                                    const c908_quant *qp)                     \
{                                                                                             \
    const long G = (K + 3) / 4;                                                               \
    const long ws = 4L * N;                                                                   \
    /* pixels [0, psafe) read 4 G bytes inside x */                                           \
    const int32_t psafe = K % 4 == 0 ? P                                                      \
                        : ((long)P * K < 4 * G ? 0 : (int32_t)(((long)P * K - 4 * G) / K + 1)); \
    hhbc_c908_rq rq;                                                                          \
    for (int32_t oc = 0; oc < N;) {                                                           \
        const size_t vl = __riscv_vsetvl_e32##M((size_t)(N - oc < HHBC_C908_STRIP ? N - oc : HHBC_C908_STRIP)); \
        hhbc_c908_rq_strip(&rq, qp->multiplier, qp->shift, qp->scale, qp->real_scale, qp->per_channel, oc, \
                           vl, qp->zp, qp->lo, qp->hi);                                       \
        const int8_t *wstrip = w + 4L * oc;                                                   \
        const int8_t *x0 = x;                                                                 \
        int8_t *d0 = out + oc;                                                                \
        int32_t p0 = 0;                                                                       \
        for (; p0 + 3 <= psafe; p0 += 3, x0 += 3L * K, d0 += 3L * N) {                        \
            vint32##M##_t a0 = hhbc_c908_bias_##M(bias, oc, vl), a1 = a0, a2 = a0;            \
            hhbc_c908_dot3_##M(&a0, &a1, &a2, x0, x0 + K, x0 + 2L * K, wstrip, ws, G, vl);    \
            hhbc_c908_rq_store_##M(a0, d0, &rq, vl);                                          \
            hhbc_c908_rq_store_##M(a1, d0 + N, &rq, vl);                                      \
            hhbc_c908_rq_store_##M(a2, d0 + 2L * N, &rq, vl);                                 \
        }                                                                                     \
        for (; p0 < P; p0 += 3) {   /* the last (partial or unsafe) tiles */                  \
            const int32_t count = P - p0 < 3 ? P - p0 : 3;                                    \
            const int8_t *xs[3];                                                              \
            int8_t tail[3][4];                                                                \
            for (int32_t i = 0; i < 3; i++) {                                                 \
                xs[i] = x + (long)(p0 + (i < count ? i : count - 1)) * K;                     \
                memset(tail[i], 0, 4);                                                        \
                memcpy(tail[i], xs[i] + 4 * (G - 1), (size_t)(K - 4 * (G - 1)));              \
            }                                                                                 \
            vint32##M##_t a0 = hhbc_c908_bias_##M(bias, oc, vl), a1 = a0, a2 = a0;            \
            if (G > 1) hhbc_c908_dot3_##M(&a0, &a1, &a2, xs[0], xs[1], xs[2], wstrip, ws, G - 1, vl); \
            hhbc_c908_dot3_##M(&a0, &a1, &a2, tail[0], tail[1], tail[2], wstrip + (G - 1) * ws, ws, 1, vl); \
            int8_t *d = out + (long)p0 * N + oc;                                              \
            hhbc_c908_rq_store_##M(a0, d, &rq, vl);                                           \
            if (count > 1) hhbc_c908_rq_store_##M(a1, d + N, &rq, vl);                        \
            if (count > 2) hhbc_c908_rq_store_##M(a2, d + 2L * N, &rq, vl);                   \
        }                                                                                     \
        oc += (int32_t)vl;                                                                    \
    }                                                                                         \
}
C908_DEFINE_GEMM(m2)
C908_DEFINE_GEMM(m4)
C908_DEFINE_GEMM(m8)

static void c908_gemm(const int8_t *x, int8_t *out, int32_t P, int32_t N, int32_t K, const int8_t *w,
                      const int32_t *bias, const c908_quant *qp)
{
    if ((size_t)N <= __riscv_vsetvlmax_e32m2())
        c908_gemm_m2(x, out, P, N, K, w, bias, qp);
    else if ((size_t)N <= __riscv_vsetvlmax_e32m4())
        c908_gemm_m4(x, out, P, N, K, w, bias, qp);
    else
        c908_gemm_m8(x, out, P, N, K, w, bias, qp);
}

/* 1x1, stride 1, no padding, one group: the GEMM over N * H * W pixels */
void hhbc_conv2d_1x1_i8_c908(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const c908_quant q = {p->multiplier, p->shift, p->scale, NULL, p->per_channel,
                          p->output_zp, p->act_min, p->act_max};
    c908_gemm((const int8_t *)in->data, (int8_t *)out->data, out->dim[0] * out->dim[1] * out->dim[2],
              out->dim[3], in->dim[3], p->weight, p->bias, &q);
}

/* The im2col of one window whose KH rows start at `first` (row stride rstride bytes), each
 * L = rowbytes bytes with L = 4 or 8: one strided segment load and one unit-stride segment
 * store of all rows at once. KH <= 16 (the e8/m1 lanes at VLEN 128). */
static inline void c908_window_seg(int8_t *win, const int8_t *first, long rstride, long L, int32_t KH)
{
    const size_t vl = __riscv_vsetvl_e8m1((size_t)KH);
    if (L == 4)
        __riscv_vsseg4e8_v_i8m1x4(win, __riscv_vlsseg4e8_v_i8m1x4(first, rstride, vl), vl);
    else
        __riscv_vsseg8e8_v_i8m1x8(win, __riscv_vlsseg8e8_v_i8m1x8(first, rstride, vl), vl);
}

/* Any kernel size, stride, padding and dilation_h; dilation_w 1, one group.
 * Bands of output rows whose input rows, inside a zero-point border, fit HHBC_C908_PADDED
 * bytes are first copied to the stack; every window of the band is then copied from there
 * without bounds checks (kernel rows of 4 or 8 bytes with one strided segment load per
 * window). When not even one output row's input rows fit, border windows are filled with
 * the zero point and their valid parts copied row by row. */
#define HHBC_C908_PADDED 4096
void hhbc_conv2d_i8_c908(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t H = in->dim[1], W = in->dim[2], C = in->dim[3];
    const int32_t OH = out->dim[1], OW = out->dim[2], OC = out->dim[3];
    const int32_t KH = p->kernel_h, KW = p->kernel_w;
    const long L = (long)KW * C;              /* bytes of one kernel row */
    const long rowbytes = 4 * ((L + 3) / 4);  /* the row padded to groups of 4 */
    const long K = KH * rowbytes;             /* bytes of one window in the buffer */
    const int32_t chunk = (int32_t)(HHBC_C908_CHUNK / K);
    const int32_t WP = (OW - 1) * p->stride_w + KW;   /* padded columns some window reads */
    const int32_t span = (KH - 1) * p->dilation_h + 1; /* input rows of one output row */
    const long prow = (long)WP * C;
    /* output rows per band: (bh - 1) * stride_h + span padded rows fit the buffer */
    const int32_t bh = span * prow > HHBC_C908_PADDED ? 0
                     : (int32_t)((HHBC_C908_PADDED / prow - span) / p->stride_h + 1);
    const int seg = bh > 0 && rowbytes == L && (L == 4 || L == 8) && KH <= 16;
    const c908_quant q = {p->multiplier, p->shift, p->scale, NULL, p->per_channel,
                          p->output_zp, p->act_min, p->act_max};
    int8_t buf[HHBC_C908_CHUNK];
    int8_t padded[HHBC_C908_PADDED];

    if (rowbytes != L) memset(buf, 0, sizeof buf);   /* the row padding meets zero weights */
    for (int32_t b = 0; b < in->dim[0]; b++) {
        const int8_t *img = src + (long)b * H * W * C;
        int8_t *dimg = dst + (long)b * OH * OW * OC;
        if (bh > 0) {
            const long rstride = (long)p->dilation_h * prow;
            for (int32_t oh0 = 0; oh0 < OH; oh0 += bh) {
                const int32_t nb = OH - oh0 < bh ? OH - oh0 : bh;
                hhbc_c908_pad_rows(padded, img, H, W, C, oh0 * p->stride_h - p->pad_top,
                                   (nb - 1) * p->stride_h + span, WP, p->pad_left, p->input_zp);
                for (int32_t q0 = 0; q0 < nb * OW; q0 += chunk) {
                    const int32_t np = nb * OW - q0 < chunk ? nb * OW - q0 : chunk;
                    int8_t *win = buf;
                    for (int32_t k = q0; k < q0 + np; k++, win += K) {
                        const int8_t *first = padded + (long)(k / OW) * p->stride_h * prow
                                              + (long)(k % OW) * p->stride_w * C;
                        if (seg) {
                            c908_window_seg(win, first, rstride, L, KH);
                        } else {
                            for (int32_t r = 0; r < KH; r++)
                                hhbc_c908_copy(win + r * rowbytes, first + r * rstride, L);
                        }
                    }
                    c908_gemm(buf, dimg + ((long)oh0 * OW + q0) * OC, np, OC, (int32_t)K, p->weight, p->bias, &q);
                }
            }
            continue;
        }
        for (int32_t q0 = 0; q0 < OH * OW; q0 += chunk) {
            const int32_t np = OH * OW - q0 < chunk ? OH * OW - q0 : chunk;
            int8_t *win = buf;
            for (int32_t k = q0; k < q0 + np; k++, win += K) {
                const int32_t ih0 = k / OW * p->stride_h - p->pad_top;
                const int32_t iw0 = k % OW * p->stride_w - p->pad_left;
                const int32_t kw0 = iw0 < 0 ? -iw0 : 0;
                const int32_t kw1 = iw0 + KW > W ? W - iw0 : KW;
                if (ih0 < 0 || ih0 + (KH - 1) * p->dilation_h >= H || kw0 > 0 || kw1 < KW)
                    hhbc_c908_fill(win, (int8_t)p->input_zp, K);
                for (int32_t r = 0; r < KH && kw1 > kw0; r++) {
                    const int32_t ih = ih0 + r * p->dilation_h;
                    if (ih < 0 || ih >= H) continue;
                    hhbc_c908_copy(win + r * rowbytes + (long)kw0 * C, img + ((long)ih * W + iw0 + kw0) * C,
                                   (long)(kw1 - kw0) * C);
                }
            }
            c908_gemm(buf, dimg + (long)q0 * OC, np, OC, (int32_t)K, p->weight, p->bias, &q);
        }
    }
}

/* dense: the GEMM over M rows */
void hhbc_dense_i8_c908(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p)
{
    const c908_quant q = {p->multiplier, p->shift, p->scale, p->real_scale, p->per_channel,
                          p->output_zp, p->act_min, p->act_max};
    c908_gemm((const int8_t *)in->data, (int8_t *)out->data, p->m, p->n, p->k, p->weight, p->bias, &q);
}
