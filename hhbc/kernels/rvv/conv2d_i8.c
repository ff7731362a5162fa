/*
 * hhbc rvv variant: int8 convolution (one group, any kernel, stride, padding, dilation) and
 * dense, RVV 1.0 intrinsics, VLEN-agnostic. Same params and results as the reference kernels
 * (ref/conv2d_i8.c, ref/dense_i8.c), bit for bit.
 *
 * Constants (hhbc/codegen/packing_i8.py):
 *   conv2d: weight [KH][KW][IC][OC] (pack_conv_i8_kkio), dense: weight [K][N] (pack_dense_i8_kn),
 *   each weight sign-extended to int16 at compile time and stored as its two little-endian bytes
 *   in the int8 array (16-byte aligned like every constant), read back as int16_t;
 *   bias with the input zero point folded in (bias - input_zp * sum w; NULL only when input_zp is 0).
 * GEMM scheme: output channels are the vector axis, strips of e32/m8 lanes (32 at VLEN 128);
 * a tile is 3 output pixels (dense: 3 rows of M) x one strip, in three m8 accumulators.
 * Per reduction index: one e16 weight load, and per pixel one scalar input load and one
 * vwmacc.vx (e16 x int16 scalar -> e32): 96 MACs in 7 instructions at VLEN 128.
 * The MAC loop reads raw inputs; a tap in the padding must read the zero point: an image whose
 * padded span fits 3 * HHBC_RVV_I8_PATCH bytes is copied once into a zero-point padded stack
 * buffer (every window then interior); otherwise a border pixel's window is gathered into a
 * stack patch [KH][KW][IC] filled with input_zp.
 * Requantization: hhbc_rvv_requant_i8m8 (hhbc_rvv_i8.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

#define HHBC_RVV_I8_PATCH 4096   /* CONV_PATCH_BYTES in packing_i8.py */

/* Where one output pixel's window is: tap (kh, kw) channel ic at base + kh * rs + kw * cs + ic. */
typedef struct {
    const int8_t *base;
    ptrdiff_t rs, cs;
} hhbc_rvv_px;

/*
 * a_r += sum_{j < len} w[j] (vl int16 lanes, rows ws bytes apart) * x_r[j], r = 0, 1, 2. Inline asm
 * so that the loop is exactly this (clang otherwise spills the unrolled loop's weight vectors):
 * per reduction index one vle16, three lb and three vwmacc.vx (e16 x int16 scalar -> e32);
 * 8 indices per trip (then 4, then 1).
 */
#define HHBC_RVV_I8_MAC3(OFF)                                                                    \
    "vle16.v %[wv], (%[w])\n\t"                                                                  \
    "add %[w], %[w], %[ws]\n\t"                                                                  \
    "lb %[t0], " #OFF "(%[x0])\n\t"                                                              \
    "lb %[t1], " #OFF "(%[x1])\n\t"                                                              \
    "lb %[t2], " #OFF "(%[x2])\n\t"                                                              \
    "vwmacc.vx %[a0], %[t0], %[wv]\n\t"                                                         \
    "vwmacc.vx %[a1], %[t1], %[wv]\n\t"                                                         \
    "vwmacc.vx %[a2], %[t2], %[wv]\n\t"

#define HHBC_RVV_I8_DOT3_ASM(BODY, STEP)                                                         \
    __asm__ volatile("vsetvli zero, %[vl], e16, m4, ta, ma\n\t"                                  \
                     "1:\n\t" BODY                                                               \
                     "addi %[x0], %[x0], " #STEP "\n\t"                                          \
                     "addi %[x1], %[x1], " #STEP "\n\t"                                          \
                     "addi %[x2], %[x2], " #STEP "\n\t"                                          \
                     "addi %[n], %[n], -1\n\t"                                                   \
                     "bnez %[n], 1b\n\t"                                                         \
                     : [a0] "+vr"(a0), [a1] "+vr"(a1), [a2] "+vr"(a2), [wv] "=&vr"(wv),          \
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),                           \
                       [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w), [n] "+r"(n)     \
                     : [ws] "r"(ws), [vl] "r"(vl)                                                \
                     : "memory")

static inline void hhbc_rvv_i8_dot3(vint32m8_t *acc0, vint32m8_t *acc1, vint32m8_t *acc2, const int8_t *x0,
                                    const int8_t *x1, const int8_t *x2, const int16_t *w, ptrdiff_t ws,
                                    int32_t len, size_t vl)
{
    vint32m8_t a0 = *acc0, a1 = *acc1, a2 = *acc2;
    vint16m4_t wv;
    long t0, t1, t2, n = len >> 3;
    if (n > 0)
        HHBC_RVV_I8_DOT3_ASM(HHBC_RVV_I8_MAC3(0) HHBC_RVV_I8_MAC3(1) HHBC_RVV_I8_MAC3(2) HHBC_RVV_I8_MAC3(3)
                             HHBC_RVV_I8_MAC3(4) HHBC_RVV_I8_MAC3(5) HHBC_RVV_I8_MAC3(6) HHBC_RVV_I8_MAC3(7), 8);
    n = (len >> 2) & 1;
    if (n > 0) HHBC_RVV_I8_DOT3_ASM(HHBC_RVV_I8_MAC3(0) HHBC_RVV_I8_MAC3(1) HHBC_RVV_I8_MAC3(2) HHBC_RVV_I8_MAC3(3), 4);
    n = len & 3;
    if (n > 0) HHBC_RVV_I8_DOT3_ASM(HHBC_RVV_I8_MAC3(0), 1);
    *acc0 = a0;
    *acc1 = a1;
    *acc2 = a2;
}

/*
 * The same over `rows` rows of len indices: after each row the input pointers move radv bytes
 * further (to the next kernel row); the weights continue contiguously. One asm block for the
 * whole window (rows >= 1, len >= 1).
 */
static inline void hhbc_rvv_i8_dot3_rows(vint32m8_t *acc0, vint32m8_t *acc1, vint32m8_t *acc2, const int8_t *x0,
                                         const int8_t *x1, const int8_t *x2, const int16_t *w, ptrdiff_t ws,
                                         long len, long rows, ptrdiff_t radv, size_t vl)
{
    vint32m8_t a0 = *acc0, a1 = *acc1, a2 = *acc2;
    vint16m4_t wv;
    long t0, t1, t2, c;
    const long n8 = len >> 3, n4 = (len >> 2) & 1, n1 = len & 3;
    __asm__ volatile("vsetvli zero, %[vl], e16, m4, ta, ma\n\t"
                     "0:\n\t"
                     "mv %[c], %[n8]\n\t"
                     "beqz %[c], 2f\n\t"
                     "1:\n\t"
                     HHBC_RVV_I8_MAC3(0) HHBC_RVV_I8_MAC3(1) HHBC_RVV_I8_MAC3(2) HHBC_RVV_I8_MAC3(3)
                     HHBC_RVV_I8_MAC3(4) HHBC_RVV_I8_MAC3(5) HHBC_RVV_I8_MAC3(6) HHBC_RVV_I8_MAC3(7)
                     "addi %[x0], %[x0], 8\n\t"
                     "addi %[x1], %[x1], 8\n\t"
                     "addi %[x2], %[x2], 8\n\t"
                     "addi %[c], %[c], -1\n\t"
                     "bnez %[c], 1b\n\t"
                     "2:\n\t"
                     "beqz %[n4], 3f\n\t"
                     HHBC_RVV_I8_MAC3(0) HHBC_RVV_I8_MAC3(1) HHBC_RVV_I8_MAC3(2) HHBC_RVV_I8_MAC3(3)
                     "addi %[x0], %[x0], 4\n\t"
                     "addi %[x1], %[x1], 4\n\t"
                     "addi %[x2], %[x2], 4\n\t"
                     "3:\n\t"
                     "mv %[c], %[n1]\n\t"
                     "beqz %[c], 5f\n\t"
                     "4:\n\t"
                     HHBC_RVV_I8_MAC3(0)
                     "addi %[x0], %[x0], 1\n\t"
                     "addi %[x1], %[x1], 1\n\t"
                     "addi %[x2], %[x2], 1\n\t"
                     "addi %[c], %[c], -1\n\t"
                     "bnez %[c], 4b\n\t"
                     "5:\n\t"
                     "add %[x0], %[x0], %[radv]\n\t"
                     "add %[x1], %[x1], %[radv]\n\t"
                     "add %[x2], %[x2], %[radv]\n\t"
                     "addi %[rows], %[rows], -1\n\t"
                     "bnez %[rows], 0b\n\t"
                     : [a0] "+vr"(a0), [a1] "+vr"(a1), [a2] "+vr"(a2), [wv] "=&vr"(wv),
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [c] "=&r"(c),
                       [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w), [rows] "+r"(rows)
                     : [ws] "r"(ws), [vl] "r"(vl), [n8] "r"(n8), [n4] "r"(n4), [n1] "r"(n1), [radv] "r"(radv)
                     : "memory");
    *acc0 = a0;
    *acc1 = a1;
    *acc2 = a2;
}

/*
 * out_r[oc] for the (up to) 3 pixels px[0..np), every output channel:
 * acc = bias + sum_{kh, kw, ic} w[kh][kw][ic][oc] * x_r(kh, kw, ic), requantized.
 * Pixels beyond np repeat pixel 0 (computed, not stored). When every pixel's taps of a row are
 * contiguous (cs == IC), a kernel row is one reduction of KW * IC; when the three rows also have
 * the same stride, the whole window is one asm block.
 */
static void hhbc_rvv_i8_tile3(const hhbc_rvv_px *px, int np, int8_t *const *dst, const int16_t *weight,
                              const int32_t *bias, int32_t kh_n, int32_t kw_n, int32_t ic_n, int32_t oc_n,
                              const hhbc_rvv_rq *rq)
{
    const hhbc_rvv_px p0 = px[0], p1 = np > 1 ? px[1] : px[0], p2 = np > 2 ? px[2] : px[0];
    const int rows = p0.cs == ic_n && p1.cs == ic_n && p2.cs == ic_n;
    const int32_t seg_n = rows ? 1 : kw_n, seg_len = rows ? kw_n * ic_n : ic_n;
    const int same_rows = rows && p0.rs == p1.rs && p0.rs == p2.rs;
    size_t vl;
    for (int32_t oc0 = 0; oc0 < oc_n; oc0 += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m8((size_t)(oc_n - oc0));
        vint32m8_t a0 = bias ? __riscv_vle32_v_i32m8(bias + oc0, vl) : __riscv_vmv_v_x_i32m8(0, vl);
        vint32m8_t a1 = a0, a2 = a0;
        const int16_t *w = weight + oc0;
        if (same_rows) {   /* the whole window in one asm block */
            hhbc_rvv_i8_dot3_rows(&a0, &a1, &a2, p0.base, p1.base, p2.base, w, (ptrdiff_t)oc_n * 2, seg_len, kh_n,
                                  p0.rs - seg_len, vl);
        } else for (int32_t kh = 0; kh < kh_n; kh++) {
            for (int32_t s = 0; s < seg_n; s++) {
                hhbc_rvv_i8_dot3(&a0, &a1, &a2, p0.base + kh * p0.rs + s * p0.cs, p1.base + kh * p1.rs + s * p1.cs,
                                 p2.base + kh * p2.rs + s * p2.cs, w, (ptrdiff_t)oc_n * 2, seg_len, vl);
                w += (ptrdiff_t)seg_len * oc_n;
            }
        }
        __riscv_vse8_v_i8m2(dst[0] + oc0, hhbc_rvv_requant_i8m8(a0, rq, oc0, vl), vl);
        if (np > 1) __riscv_vse8_v_i8m2(dst[1] + oc0, hhbc_rvv_requant_i8m8(a1, rq, oc0, vl), vl);
        if (np > 2) __riscv_vse8_v_i8m2(dst[2] + oc0, hhbc_rvv_requant_i8m8(a2, rq, oc0, vl), vl);
    }
}

/* dst[0 .. n) = src[0 .. n) (src NULL: the byte v) */
static inline void hhbc_rvv_i8_fill(int8_t *dst, const int8_t *src, int8_t v, int32_t n)
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

/* The convolution with its border patches in the caller's frame (this frame stays small, so
 * its spill slots are short offsets). */
static __attribute__((noinline)) void hhbc_rvv_conv_i8_run(const hhbc_tensor *in, const hhbc_tensor *out,
                                                           const hhbc_conv2d_i8_params *p,
                                                           int8_t *patch)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], ic_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2], oc_n = out->dim[3];
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w, dh = p->dilation_h, dw = p->dilation_w;
    const hhbc_rvv_rq rq = hhbc_rvv_rq_conv_n(p, oc_n);
    const int16_t *weight = (const int16_t *)(const void *)p->weight;
    const int8_t zp = (int8_t)p->input_zp;
    /* the input span the windows cover, from (-pad_top, -pad_left) */
    const int32_t hp = (oh_n - 1) * p->stride_h + (kh_n - 1) * dh + 1;
    const int32_t wp = (ow_n - 1) * p->stride_w + (kw_n - 1) * dw + 1;
    const int pads = p->pad_top > 0 || p->pad_left > 0 || hp - p->pad_top > ih_n || wp - p->pad_left > iw_n;
    /* small images with padding: one zero-point padded copy per image in the patch storage, so
     * that every window is interior (no per-pixel patch) */
    const int padded = pads && (int64_t)hp * wp * ic_n <= 3 * HHBC_RVV_I8_PATCH;
    int8_t *const pad_img = patch;
    const int pointwise = kh_n == 1 && kw_n == 1 && p->stride_h == 1 && p->stride_w == 1 && !pads
                          && oh_n == ih_n && ow_n == iw_n;
    hhbc_rvv_px px[3];
    int8_t *dp[3];

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *img = src + (size_t)n * ih_n * iw_n * ic_n;
        int32_t img_h = ih_n, img_w = iw_n, top = p->pad_top, left = p->pad_left;
        if (padded) {
            const int32_t row = wp * ic_n;
            const int32_t c0 = left < wp ? left : wp;                        /* columns [c0, c1) exist */
            const int32_t c1 = iw_n + left < wp ? iw_n + left : wp;
            for (int32_t y = 0; y < hp; y++) {
                int8_t *q = pad_img + (ptrdiff_t)y * row;
                const int32_t ih = y - top;
                if (ih < 0 || ih >= ih_n || c1 <= c0) {
                    hhbc_rvv_i8_fill(q, NULL, zp, row);
                    continue;
                }
                if (c0 > 0) hhbc_rvv_i8_fill(q, NULL, zp, c0 * ic_n);
                hhbc_rvv_i8_fill(q + (ptrdiff_t)c0 * ic_n, img + ((size_t)ih * iw_n + (c0 - left)) * ic_n, 0,
                                 (c1 - c0) * ic_n);
                if (c1 < wp) hhbc_rvv_i8_fill(q + (ptrdiff_t)c1 * ic_n, NULL, zp, (wp - c1) * ic_n);
            }
            img = pad_img;
            img_h = hp;
            img_w = wp;
            top = left = 0;
        }
        const int32_t total = oh_n * ow_n;
        int32_t oh = 0, ow = 0;   /* the next pixel */
        if (pointwise) {          /* pixel t reads input pixel t */
            for (int32_t t0 = 0; t0 < total; t0 += 3) {
                const int np = total - t0 < 3 ? (int)(total - t0) : 3;
                for (int r = 0; r < np; r++) {
                    px[r].base = img + (size_t)(t0 + r) * ic_n;
                    px[r].rs = px[r].cs = ic_n;
                    dp[r] = dst + ((size_t)n * total + t0 + r) * oc_n;
                }
                hhbc_rvv_i8_tile3(px, np, dp, weight, p->bias, 1, 1, ic_n, oc_n, &rq);
            }
            continue;
        }
        for (int32_t t0 = 0; t0 < total; t0 += 3) {
            const int np = total - t0 < 3 ? (int)(total - t0) : 3;
            for (int r = 0; r < np; r++) {
                const int32_t ih0 = oh * p->stride_h - top, iw0 = ow * p->stride_w - left;
                dp[r] = dst + ((size_t)n * total + t0 + r) * oc_n;
                if (++ow == ow_n) {
                    ow = 0;
                    oh++;
                }
                if (ih0 >= 0 && iw0 >= 0 && ih0 + (kh_n - 1) * dh < img_h && iw0 + (kw_n - 1) * dw < img_w) {
                    px[r].base = img + ((size_t)ih0 * img_w + iw0) * ic_n;
                    px[r].rs = (ptrdiff_t)dh * img_w * ic_n;
                    px[r].cs = (ptrdiff_t)dw * ic_n;
                    continue;
                }
                /* border (not padded): the window with the zero point in the padding */
                int8_t *q = patch + r * HHBC_RVV_I8_PATCH;
                for (int32_t kh = 0; kh < kh_n; kh++, q += (ptrdiff_t)kw_n * ic_n) {
                    const int32_t ih = ih0 + kh * dh;
                    if (ih < 0 || ih >= img_h) {
                        hhbc_rvv_i8_fill(q, NULL, zp, kw_n * ic_n);
                        continue;
                    }
                    const int8_t *x_row = img + (size_t)ih * img_w * ic_n;
                    for (int32_t kw = 0; kw < kw_n; kw++) {
                        const int32_t iw = iw0 + kw * dw;
                        hhbc_rvv_i8_fill(q + (ptrdiff_t)kw * ic_n,
                                         iw >= 0 && iw < img_w ? x_row + (ptrdiff_t)iw * ic_n : NULL, zp, ic_n);
                    }
                }
                px[r].base = patch + r * HHBC_RVV_I8_PATCH;
                px[r].rs = (ptrdiff_t)kw_n * ic_n;
                px[r].cs = ic_n;
            }
            hhbc_rvv_i8_tile3(px, np, dp, weight, p->bias, kh_n, kw_n, ic_n, oc_n, &rq);
        }
    }
}

/* in [N][H][W][IC], out [N][OH][OW][OC], groups 1, KH * KW * IC <= HHBC_RVV_I8_PATCH. */
void hhbc_conv2d_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p)
{
    int8_t patch[3 * HHBC_RVV_I8_PATCH];
    hhbc_rvv_conv_i8_run(in, out, p, patch);
}

/* in [M][K], out [M][N]; weight [K][N]. */
void hhbc_dense_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const hhbc_rvv_rq rq = hhbc_rvv_rq_dense_n(p);
    hhbc_rvv_px px[3];
    int8_t *dp[3];

    for (int32_t m0 = 0; m0 < p->m; m0 += 3) {
        const int np = p->m - m0 < 3 ? (int)(p->m - m0) : 3;
        for (int r = 0; r < np; r++) {
            px[r].base = src + (size_t)(m0 + r) * p->k;
            px[r].rs = 0;
            px[r].cs = 0;
            dp[r] = dst + (size_t)(m0 + r) * p->n;
        }
        hhbc_rvv_i8_tile3(px, np, dp, (const int16_t *)(const void *)p->weight, p->bias, 1, 1, p->k, p->n, &rq);
    }
}
