/*
 * hhbc rvv kernels: depthwise 2-D convolution (multiplier 1: OC == C), NHWC, float32 and
 * float16 (zvfh). RVV 1.0 C intrinsics, VLEN-agnostic.
 *
 * Weight layout: the reference one, [KH][KW][C] (channels contiguous), no packing.
 * in [N][H][W][C], out [N][OH][OW][C]; bias [C] float32 or NULL. Any kernel size, stride,
 * padding and dilation.
 *
 * Scheme: channels are the vector axis, strip-mined with vsetvl (e32 m8 for float32;
 * e16 m4 inputs/weights widened by vfwmacc.vv into e32 m8 accumulators for float16), so
 * a strip widens with VLEN. Per output pixel and strip: bias initialises the accumulator,
 * each tap is one input-vector load, one weight-vector load and one vfmacc.vv, then the
 * epilogue (activation, narrowing for f16) and one store. 3x3 (any stride, dilation):
 * the input rows are copied once into a zero-padded band on the stack (when 4 rows fit in
 * HHBC_RVV_DW_BAND elements), so every pixel takes the unrolled 9-tap asm path, no borders;
 * larger 3x3 layers use that path for interior pixels; other kernel sizes and border
 * pixels loop over their clipped kernel window.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_conv.h"

/* per-dtype tap ops: XLOAD (input or weight vector), FMA_VV(acc, x, w) */
#define HHBC_DW_F32_V vfloat32m8_t
#define HHBC_DW_F32_LOAD(p, vl) __riscv_vle32_v_f32m8((p), (vl))
#define HHBC_DW_F32_FMA(acc, x, w, vl) __riscv_vfmacc_vv_f32m8((acc), (x), (w), (vl))
#define HHBC_DW_F16_V vfloat16m4_t
#define HHBC_DW_F16_LOAD(p, vl) __riscv_vle16_v_f16m4((p), (vl))
#define HHBC_DW_F16_FMA(acc, x, w, vl) __riscv_vfwmacc_vv_f32m8((acc), (x), (w), (vl))

#define HHBC_DW_TAP(D, acc, xp, wp, vl)                                                       \
    do {                                                                                      \
        HHBC_DW_##D##_V x_ = HHBC_DW_##D##_LOAD((xp), vl);                                    \
        HHBC_DW_##D##_V w_ = HHBC_DW_##D##_LOAD((wp), vl);                                    \
        acc = HHBC_DW_##D##_FMA(acc, x_, w_, vl);                                             \
    } while (0)

/*
 * The 9 taps of an interior 3x3 window in one asm block: bias-initialised acc += x * w
 * per tap (LLVM would otherwise hoist all 18 m8 loads and spill). x0/x1/x2: the three
 * input rows at the window's first column, xcol: bytes between tap columns, w: the 9
 * weight vectors cs bytes apart. Uses v16..v31 as scratch; sets vtype itself.
 */
#define HHBC_DW_ASM_TAPS(VSET, LD, FMA, WOFF)                                                 \
    VSET                                                                                      \
    LD " v16, (%[x0])\n\t" LD " v24, (%[w])\n\t" FMA " %[acc], v16, v24\n\t"                    \
    "add %[tx], %[x0], %[xc]\n\tadd %[tw], %[w], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tx], %[tx], %[xc]\n\tadd %[tw], %[tw], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tw], %[tw], %[cs]\n\t"                                                            \
    LD " v16, (%[x1])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tx], %[x1], %[xc]\n\tadd %[tw], %[tw], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tx], %[tx], %[xc]\n\tadd %[tw], %[tw], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tw], %[tw], %[cs]\n\t"                                                            \
    LD " v16, (%[x2])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tx], %[x2], %[xc]\n\tadd %[tw], %[tw], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24\n\t"                  \
    "add %[tx], %[tx], %[xc]\n\tadd %[tw], %[tw], %[cs]\n\t"                                  \
    LD " v16, (%[tx])\n\t" LD " v24, (%[tw])\n\t" FMA " %[acc], v16, v24"

#define HHBC_DW_F32_TAPS9(A_, X0_, X1_, X2_, XC_, W_, CS_, VL_)                                    \
    do {                                                                                      \
        uintptr_t tx_, tw_;                                                                   \
        __asm__ volatile(HHBC_DW_ASM_TAPS("vsetvli zero, %[vl], e32, m8, ta, ma\n\t",          \
                                          "vle32.v", "vfmacc.vv", 0)                          \
                         : [acc] "+vr"(A_), [tx] "=&r"(tx_), [tw] "=&r"(tw_)                  \
                         : [x0] "r"(X0_), [x1] "r"(X1_), [x2] "r"(X2_), [xc] "r"(XC_),        \
                           [w] "r"(W_), [cs] "r"(CS_), [vl] "r"(VL_)                          \
                         : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",  \
                           "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");           \
    } while (0)

/* f16: e16 m4 loads into v16..v19 / v24..v27, widening FMA into the e32 m8 acc */
#define HHBC_DW_F16_TAPS9(A_, X0_, X1_, X2_, XC_, W_, CS_, VL_)                                    \
    do {                                                                                      \
        uintptr_t tx_, tw_;                                                                   \
        __asm__ volatile(HHBC_DW_ASM_TAPS("vsetvli zero, %[vl], e16, m4, ta, ma\n\t",          \
                                          "vle16.v", "vfwmacc.vv", 0)                         \
                         : [acc] "+vr"(A_), [tx] "=&r"(tx_), [tw] "=&r"(tw_)                  \
                         : [x0] "r"(X0_), [x1] "r"(X1_), [x2] "r"(X2_), [xc] "r"(XC_),        \
                           [w] "r"(W_), [cs] "r"(CS_), [vl] "r"(VL_)                          \
                         : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",  \
                           "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");           \
    } while (0)

static inline int32_t hhbc_rvv_dw_cdiv(int32_t a, int32_t b)   /* ceil(a / b), a >= 0, b > 0 */
{
    return (a + b - 1) / b;
}

/* Band path (3x3): the 3 input rows of an output row, zero-padded, in a stack buffer of at
 * most HHBC_RVV_DW_BAND elements; larger layers take the direct path below. */
#define HHBC_RVV_DW_BAND 2048

/* A run of `count` interior 3x3 output pixels (r0..r2: the window's three row starts for
 * the first, xstep elements to the next; y: the first output pixel, c_n elements apart). A function
 * of its own so the hot loop keeps its few variables in registers. */
#define HHBC_RVV_DEFINE_DW_RUN(D)                                                             \
static void hhbc_rvv_dw3x3_run_##D(const HHBC_##D##_T *r0, const HHBC_##D##_T *r1,          \
                                   const HHBC_##D##_T *r2, HHBC_##D##_T *y, int32_t count,    \
                                   size_t xstep, int32_t c_n, const HHBC_##D##_T *wgt,        \
                                   const float *bias, size_t xcb, size_t csb,                 \
                                   const hhbc_rvv_epi *epip)                                  \
{                                                                                             \
    const hhbc_rvv_epi epi = *epip;                                                           \
    size_t vl;                                                                                \
    for (; count > 0; count--, r0 += xstep, r1 += xstep, r2 += xstep, y += c_n) {            \
        for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {                                   \
            vl = HHBC_##D##_SETVL((size_t)(c_n - c0));                                        \
            const HHBC_##D##_T *x0 = r0 + c0, *x1 = r1 + c0, *x2 = r2 + c0;                   \
            const HHBC_##D##_T *w = wgt + c0;                                                 \
            vfloat32m8_t acc = HHBC_RVV_BIAS(bias, c0, vl);                                   \
            HHBC_DW_##D##_TAPS9(acc, x0, x1, x2, xcb, w, csb, vl);                            \
            HHBC_RVV_STORE1(D, y + c0, acc, epi, vl);                                         \
        }                                                                                     \
    }                                                                                         \
}
HHBC_RVV_DEFINE_DW_RUN(F32)
HHBC_RVV_DEFINE_DW_RUN(F16)

#define HHBC_RVV_DEFINE_DW(NAME, D)                                                           \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p)         \
{                                                                                             \
    typedef HHBC_##D##_T elem_t;                                                              \
    const elem_t *src = (const elem_t *)in->data;                                             \
    elem_t *dst = (elem_t *)out->data;                                                        \
    const elem_t *wgt = (const elem_t *)p->weight;                                            \
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3]; \
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];                                     \
    const int32_t kh_n = p->kernel_h, kw_n = p->kernel_w;                                     \
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w; \
    const hhbc_rvv_epi epi = hhbc_rvv_epi_make(&p->act);                                      \
    const int is3x3 = kh_n == 3 && kw_n == 3;                                                 \
    /* input offsets (elements) of the 9 taps of a 3x3 window */                              \
    const size_t xrow = (size_t)dh * iw_n * c_n, xcol = (size_t)dw * c_n;                     \
    const size_t cs = (size_t)c_n;                                                            \
    const size_t xcb = xcol * sizeof(elem_t), csb = cs * sizeof(elem_t);   /* bytes */        \
    const size_t xstep = (size_t)sw * c_n;                                                    \
    /* interior output columns [ow_lo, ow_hi): every kernel column inside the input */        \
    const int32_t ow_lo = p->pad_left > 0 ? hhbc_rvv_dw_cdiv(p->pad_left, sw) : 0;            \
    const int32_t last = iw_n - 1 + p->pad_left - (kw_n - 1) * dw;                            \
    const int32_t ow_hi = last < 0 ? 0 : (last / sw + 1 < ow_n ? last / sw + 1 : ow_n);       \
    const int32_t pad_r0 = (ow_n - 1) * sw + (kw_n - 1) * dw + 1 - p->pad_left - iw_n;        \
    const int32_t band_w = (p->pad_left + iw_n + (pad_r0 > 0 ? pad_r0 : 0)) * c_n;            \
    if (is3x3 && ow_n > 0 && (int64_t)4 * band_w <= HHBC_RVV_DW_BAND) {                       \
        /* zero-padded copies of the input rows (slots 0..2) and a zero row (slot 3): every  \
         * pixel is interior. dilation_h 1: row ih lives in slot ih % 3 and is copied once   \
         * (consecutive output rows share rows); otherwise tap row kh goes to slot kh. */     \
        elem_t band[HHBC_RVV_DW_BAND];                                                        \
        const size_t pl = (size_t)p->pad_left * c_n;                                          \
        hhbc_rvv_zero_##D(band, 4 * band_w);                                                  \
        for (int32_t n = 0; n < batch; n++) {                                                 \
            const elem_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;                        \
            int32_t slot_ih[3] = {-1, -1, -1};                                                \
            for (int32_t oh = 0; oh < oh_n; oh++) {                                           \
                const int32_t ih0 = oh * sh - p->pad_top;                                     \
                const elem_t *rows[3];                                                        \
                for (int32_t kh = 0; kh < 3; kh++) {                                          \
                    const int32_t ih = ih0 + kh * dh;                                         \
                    if (ih < 0 || ih >= ih_n) {                                               \
                        rows[kh] = band + (size_t)3 * band_w;                                 \
                        continue;                                                             \
                    }                                                                         \
                    const int32_t slot = dh == 1 ? ih % 3 : kh;                               \
                    elem_t *row = band + (size_t)slot * band_w;                               \
                    if (slot_ih[slot] != ih) {                                                \
                        hhbc_rvv_copy_##D(row + pl, src_n + (size_t)ih * iw_n * c_n, iw_n * c_n); \
                        slot_ih[slot] = ih;                                                   \
                    }                                                                         \
                    rows[kh] = row;                                                           \
                }                                                                             \
                hhbc_rvv_dw3x3_run_##D(rows[0], rows[1], rows[2],                             \
                                       dst + ((size_t)n * oh_n + oh) * ow_n * c_n, ow_n,      \
                                       xstep, c_n, wgt, p->bias, xcb, csb, &epi);             \
            }                                                                                 \
        }                                                                                     \
        return;                                                                               \
    }                                                                                         \
    for (int32_t n = 0; n < batch; n++) {                                                     \
        const elem_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;                            \
        for (int32_t oh = 0; oh < oh_n; oh++) {                                               \
            const int32_t ih0 = oh * sh - p->pad_top;                                         \
            const int32_t kh_lo = ih0 < 0 ? hhbc_rvv_dw_cdiv(-ih0, dh) : 0;                   \
            int32_t kh_hi = ih_n - ih0 > 0 ? hhbc_rvv_dw_cdiv(ih_n - ih0, dh) : 0;            \
            if (kh_hi > kh_n) kh_hi = kh_n;                                                   \
            elem_t *y = dst + ((size_t)n * oh_n + oh) * ow_n * c_n;                           \
            const int full_rows = is3x3 && kh_lo == 0 && kh_hi == 3;                          \
            int32_t ow = 0;                                                                   \
            while (ow < ow_n) {                                                               \
                size_t vl;                                                                    \
                if (full_rows && ow >= ow_lo && ow < ow_hi) {                                 \
                    /* a run of interior pixels: every tap inside the input */                \
                    const elem_t *x = src_n + ((size_t)ih0 * iw_n + (size_t)(ow * sw - p->pad_left)) * c_n; \
                    hhbc_rvv_dw3x3_run_##D(x, x + xrow, x + 2 * xrow, y + (size_t)ow * c_n,   \
                                           ow_hi - ow, xstep, c_n, wgt, p->bias, xcb, csb, &epi); \
                    ow = ow_hi;                                                               \
                } else {                                                                      \
                    /* a border pixel: its kernel window clipped to the input */              \
                    const int32_t iw0 = ow * sw - p->pad_left;                                \
                    const int32_t kw_lo = iw0 < 0 ? hhbc_rvv_dw_cdiv(-iw0, dw) : 0;           \
                    int32_t kw_hi = iw_n - iw0 > 0 ? hhbc_rvv_dw_cdiv(iw_n - iw0, dw) : 0;    \
                    if (kw_hi > kw_n) kw_hi = kw_n;                                           \
                    elem_t *yp = y + (size_t)ow * c_n;                                        \
                    for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {                       \
                        vl = HHBC_##D##_SETVL((size_t)(c_n - c0));                            \
                        vfloat32m8_t acc = HHBC_RVV_BIAS(p->bias, c0, vl);                    \
                        for (int32_t kh = kh_lo; kh < kh_hi; kh++) {                          \
                            const elem_t *xr = src_n + ((size_t)(ih0 + kh * dh) * iw_n +      \
                                                        (size_t)(iw0 + kw_lo * dw)) * c_n + c0; \
                            const elem_t *wr = wgt + ((size_t)kh * kw_n + kw_lo) * c_n + c0;  \
                            for (int32_t kw = kw_lo; kw < kw_hi; kw++, xr += xcol, wr += cs)  \
                                HHBC_DW_TAP(D, acc, xr, wr, vl);                              \
                        }                                                                     \
                        HHBC_RVV_STORE1(D, yp + c0, acc, epi, vl);                            \
                    }                                                                         \
                    ow++;                                                                     \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_DW(hhbc_depthwise_conv2d_f32_rvv, F32)
HHBC_RVV_DEFINE_DW(hhbc_depthwise_conv2d_f16_rvv, F16)
