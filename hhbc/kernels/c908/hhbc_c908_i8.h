/*
 * hhbc c908 variant: int8 kernels on the XuanTie C908's dot-product unit (XTheadVdot),
 * shared helpers. RVV 1.0 C intrinsics plus the vendor instruction written as `.insn`
 * (any assembler takes it; no -mcpu feature needed). Only the `c908` target, whose
 * registry entry lists "xtheadvdot" in vector_extensions, selects these kernels; the
 * generic `rvv` target never compiles them.
 *
 * th.vmaqa.vx vd, rs1, vs2 (SEW = 32): for every 32-bit element i,
 *     vd[i] += sum_{j<4} int8(rs1 byte j) * int8(vs2[i] byte j)
 * i.e. 4 int8 MACs per 32-bit lane, 32 per instruction at e32/m2, 128 at e32/m8.
 * Encoding (T-Head extension spec, XTheadVdot): opcode custom-0 0001011, funct3 110,
 * funct6 [31:26] 100000 vmaqa.vv, 100001 vmaqa.vx, 100010 vmaqau.vv, 100011 vmaqau.vx,
 * 100100 vmaqasu.vv, 100101 vmaqasu.vx, 100111 vmaqaus.vx; vm [25]; vs2 [24:20];
 * vs1/rs1 [19:15]; vd [11:7]. tests/kernels/test_c908_int8_kernels.py checks every
 * funct7 below against clang's own `th.vmaqa*` bytes and runs each form on QEMU c908v.
 *
 * The GEMM scheme (conv2d 1x1, conv2d k x k, dense): output channels are the vector axis
 * (e32 strips of up to HHBC_C908_STRIP channels, LMUL m2, m4 or m8 by the channel count);
 * a tile is 3 output pixels x one strip, held in three accumulators. Weights are packed at
 * compile time as [rows][groups][OC][4] (hhbc/codegen/table_c908.py, pack_vmaqa): each
 * 32-bit weight element holds the int8 weights of 4 consecutive reduction indices for one
 * output channel, zero padded to a multiple of 4. Per group of 4 reduction indices: one
 * weight load, three 32-bit input loads (4 int8 inputs of each pixel) and three
 * th.vmaqa.vx = 384 MACs in 7 instructions at m8. The input zero point is folded into the
 * bias at compile time (bias - input_zp * sum w), so the MAC loop reads raw inputs;
 * int32 wrap-around makes the fold exact (the sums agree modulo 2^32).
 * Input words are read with `lw` at any byte offset: the C908 (and QEMU) handle
 * misaligned scalar loads.
 * The requantization identities are those of rvv/hhbc_rvv_i8.h; this file keeps its own
 * epilogue because it prepares each strip's shift vectors and flags once instead of per
 * pixel (about half the vector work per output vector; on the KWS model's pointwise layers
 * the difference is ~15k LMUL-weighted instructions each).
 */
#ifndef HHBC_C908_I8_H
#define HHBC_C908_I8_H

#include <riscv_vector.h>
#include <stdint.h>

#include "hhbc_fixedpoint.h"
#include "hhbc_kernels_i8.h"

/* funct7 = funct6 << 1 | vm (1: unmasked) of the XTheadVdot forms */
#define HHBC_C908_VMAQA_VV   0x41
#define HHBC_C908_VMAQA_VX   0x43
#define HHBC_C908_VMAQAU_VV  0x45
#define HHBC_C908_VMAQAU_VX  0x47
#define HHBC_C908_VMAQASU_VV 0x49
#define HHBC_C908_VMAQASU_VX 0x4b
#define HHBC_C908_VMAQAUS_VX 0x4f
#define HHBC_C908_S(x) #x
#define HHBC_C908_XS(x) HHBC_C908_S(x)
/* asm text of one signed th.vmaqa.vx: vd += dot4(rs1, vs2) */
#define HHBC_C908_MAQA_VX(vd, rs1, vs2) \
    ".insn r 0x0b, 6, " HHBC_C908_XS(HHBC_C908_VMAQA_VX) ", " vd ", " rs1 ", " vs2 "\n\t"

/* widest strip of output channels: the e32/m8 lanes of the C908 (VLEN 128); a wider
 * vector would also work with this strip, half used */
#define HHBC_C908_STRIP 32

/*
 * One group: weight load, 3 input words at byte offset OFF, 3 vmaqa.
 */
#define HHBC_C908_G3(OFF)                                                                     \
    "vle32.v %[wt], (%[w])\n\t"                                                               \
    "add %[w], %[w], %[ws]\n\t"                                                               \
    "lw %[t0], " OFF "(%[x0])\n\t"                                                            \
    "lw %[t1], " OFF "(%[x1])\n\t"                                                            \
    "lw %[t2], " OFF "(%[x2])\n\t"                                                            \
    HHBC_C908_MAQA_VX("%[a0]", "%[t0]", "%[wt]")                                              \
    HHBC_C908_MAQA_VX("%[a1]", "%[t1]", "%[wt]")                                              \
    HHBC_C908_MAQA_VX("%[a2]", "%[t2]", "%[wt]")

/*
 * a_r += sum_{g < groups} dot4(x_r[4g .. 4g + 3], w[g]) for three pixels r = 0, 1, 2, with
 * vl lanes of e32; the weight pointer steps ws bytes per group. groups >= 1. One asm block
 * (unrolled by 4 with immediate input offsets, then a remainder loop): the compiler can
 * neither hoist the weight loads nor spill accumulators inside it. It sets vtype itself
 * (the compiler re-establishes vtype after inline asm) and reads only constant memory.
 * hhbc_c908_dot3_m2 / _m4 / _m8: the LMUL of the accumulators (a strip of 8, 16 or 32
 * channels at VLEN 128; the LMUL-weighted cost follows the channels actually used).
 */
#define HHBC_C908_DEFINE_DOT3(M)                                                              \
static inline void hhbc_c908_dot3_##M(vint32##M##_t *a0, vint32##M##_t *a1, vint32##M##_t *a2,  \
                                      const int8_t *x0, const int8_t *x1, const int8_t *x2,    \
                                      const int8_t *w, long ws, long groups, size_t vl)        \
{                                                                                             \
    vint32##M##_t acc0 = *a0, acc1 = *a1, acc2 = *a2, wt;                                     \
    long t0, t1, t2;                                                                          \
    long n4 = groups >> 2, nr = groups & 3;                                                   \
    __asm__ volatile(                                                                         \
        "vsetvli zero, %[vl], e32, " #M ", ta, ma\n\t"                                         \
        "beqz %[n4], 2f\n\t"                                                                  \
        "1:\n\t"                                                                              \
        HHBC_C908_G3("0")                                                                     \
        HHBC_C908_G3("4")                                                                     \
        HHBC_C908_G3("8")                                                                     \
        HHBC_C908_G3("12")                                                                    \
        "addi %[x0], %[x0], 16\n\t"                                                           \
        "addi %[x1], %[x1], 16\n\t"                                                           \
        "addi %[x2], %[x2], 16\n\t"                                                           \
        "addi %[n4], %[n4], -1\n\t"                                                           \
        "bnez %[n4], 1b\n\t"                                                                  \
        "2:\n\t"                                                                              \
        "beqz %[nr], 4f\n\t"                                                                  \
        "3:\n\t"                                                                              \
        HHBC_C908_G3("0")                                                                     \
        "addi %[x0], %[x0], 4\n\t"                                                            \
        "addi %[x1], %[x1], 4\n\t"                                                            \
        "addi %[x2], %[x2], 4\n\t"                                                            \
        "addi %[nr], %[nr], -1\n\t"                                                           \
        "bnez %[nr], 3b\n\t"                                                                  \
        "4:\n\t"                                                                              \
        : [a0] "+vr"(acc0), [a1] "+vr"(acc1), [a2] "+vr"(acc2), [wt] "=&vr"(wt),              \
          [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),                                     \
          [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w), [n4] "+r"(n4), [nr] "+r"(nr) \
        : [ws] "r"(ws), [vl] "r"(vl));                                                        \
    *a0 = acc0;                                                                               \
    *a1 = acc1;                                                                               \
    *a2 = acc2;                                                                               \
}
HHBC_C908_DEFINE_DOT3(m2)
HHBC_C908_DEFINE_DOT3(m4)
HHBC_C908_DEFINE_DOT3(m8)

/* ---- requantization epilogue ----------------------------------------------------------
 * The per-channel constants of one strip, prepared once per strip with vector code:
 *  TFLite: out = clamp(rdbpot(srdhm(acc << left, mult), right) + zp, lo, hi) with
 *    left = max(shift, 0), right = max(-shift, 0) (hhbc_fp_mul_by_qm);
 *    - srdhm is exactly vsmul with vxrm = round-to-nearest-up: both compute
 *      floor((a * b + 2^30) / 2^31) (gemmlowp's negative nudge 1 - 2^30 with truncation
 *      is the same floor), and both saturate only INT32_MIN * INT32_MIN;
 *    - rdbpot(x, e) rounds ties away from zero, vssra (rnu) rounds them up; for e >= 1
 *      rdbpot(x, e) = vssra_rnu(x - 1, e) when x < 0 (a negative tie then lands below;
 *      every other x rounds the same), and the saturating add keeps INT32_MIN exact.
 *      negm = -1 where right >= 1, else 0: the "- 1" is (x >> 31) & negm, or a masked
 *      saturating subtract when every channel of the strip shifts right.
 *  dense with real_scale (TFLite's reference FULLY_CONNECTED): scalar, as ref.
 *  ONNX: out = round_half_even(clamp(float(acc) * scale, lo - zp, hi - zp)) + zp, with
 *    vfcvt in round-to-nearest-even (hhbc_fp_requant_f32, clamped first as there).
 * After + zp, two saturating narrowings (vnclip by 0) clamp to [-128, 127]; vmax/vmin
 * only when the activation range [lo, hi] is narrower. */
typedef struct hhbc_c908_rq {
    int32_t mult[HHBC_C908_STRIP], left[HHBC_C908_STRIP], right[HHBC_C908_STRIP], negm[HHBC_C908_STRIP];
    float scale[HHBC_C908_STRIP];
    const double *real;   /* real_scale + oc0, or real_scale (per tensor) */
    int32_t real_step;    /* 1 per channel, 0 per tensor */
    int32_t any_left, all_right, clamp, onnx, use_real, zp, lo, hi;
    float flo, fhi;
} hhbc_c908_rq;

/* The constants of channels [oc0, oc0 + vl): multiplier/shift (TFLite), scale (ONNX,
 * non-NULL) or real_scale (dense, non-NULL) per channel or broadcast from element 0. */
static inline void hhbc_c908_rq_strip(hhbc_c908_rq *rq, const int32_t *multiplier, const int32_t *shift,
                                      const float *scale, const double *real_scale, int32_t per_channel,
                                      int32_t oc0, size_t vl, int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t q = per_channel ? oc0 : 0;
    rq->onnx = scale != NULL;
    rq->use_real = scale == NULL && real_scale != NULL;
    rq->zp = zp;
    rq->lo = lo;
    rq->hi = hi;
    rq->clamp = lo > -128 || hi < 127;
    rq->flo = (float)(lo - zp);
    rq->fhi = (float)(hi - zp);
    rq->any_left = 0;
    rq->all_right = 1;
    if (rq->onnx) {
        __riscv_vse32_v_f32m8(rq->scale, per_channel ? __riscv_vle32_v_f32m8(scale + q, vl)
                                                     : __riscv_vfmv_v_f_f32m8(scale[0], vl), vl);
        return;
    }
    if (rq->use_real) {
        rq->real = real_scale + q;
        rq->real_step = per_channel != 0;
        return;
    }
    vint32m8_t m = per_channel ? __riscv_vle32_v_i32m8(multiplier + q, vl) : __riscv_vmv_v_x_i32m8(multiplier[0], vl);
    vint32m8_t s = per_channel ? __riscv_vle32_v_i32m8(shift + q, vl) : __riscv_vmv_v_x_i32m8(shift[0], vl);
    __riscv_vse32_v_i32m8(rq->mult, m, vl);
    vint32m8_t left = __riscv_vmax_vx_i32m8(s, 0, vl);
    __riscv_vse32_v_i32m8(rq->left, left, vl);
    __riscv_vse32_v_i32m8(rq->right, __riscv_vmax_vx_i32m8(__riscv_vneg_v_i32m8(s, vl), 0, vl), vl);
    __riscv_vse32_v_i32m8(rq->negm, __riscv_vsra_vx_i32m8(s, 31, vl), vl);
    rq->any_left = __riscv_vcpop_m_b4(__riscv_vmsgt_vx_i32m8_b4(s, 0, vl), vl) != 0;
    rq->all_right = __riscv_vcpop_m_b4(__riscv_vmslt_vx_i32m8_b4(s, 0, vl), vl) == vl;
}

/* The int32 accumulators of one pixel's strip, requantized and stored as vl int8
 * (hhbc_c908_rq_store_m2 / _m4 / _m8; int16 LMUL H and int8 LMUL B = M / 2 and M / 4); and
 * accumulators initialised from the (folded) bias, or zero (hhbc_c908_bias_M). */
#define HHBC_C908_DEFINE_RQ(M, H, B, MB)                                                       \
static inline void hhbc_c908_rq_store_##M(vint32##M##_t acc, int8_t *dst, const hhbc_c908_rq *rq, size_t vl) \
{                                                                                             \
    if (rq->use_real) {   /* round(acc * real_scale), ties away from zero (hhbc_fp_mul_by_real) */ \
        int32_t a[HHBC_C908_STRIP];                                                           \
        __riscv_vse32_v_i32##M(a, acc, vl);                                                   \
        for (size_t j = 0; j < vl; j++)                                                       \
            dst[j] = (int8_t)hhbc_fp_clamp(hhbc_fp_mul_by_real(a[j], rq->real[j * (size_t)rq->real_step]) \
                                           + rq->zp, rq->lo, rq->hi);                         \
        return;                                                                               \
    }                                                                                         \
    if (rq->onnx) {                                                                           \
        vfloat32##M##_t v = __riscv_vfmul_vv_f32##M(__riscv_vfcvt_f_x_v_f32##M(acc, vl),      \
                                                    __riscv_vle32_v_f32##M(rq->scale, vl), vl); \
        v = __riscv_vfmin_vf_f32##M(__riscv_vfmax_vf_f32##M(v, rq->flo, vl), rq->fhi, vl);    \
        acc = __riscv_vfcvt_x_f_v_i32##M##_rm(v, __RISCV_FRM_RNE, vl);                        \
    } else {                                                                                  \
        if (rq->any_left)                                                                     \
            acc = __riscv_vsll_vv_i32##M(acc, __riscv_vreinterpret_v_i32##M##_u32##M(          \
                                                  __riscv_vle32_v_i32##M(rq->left, vl)), vl);  \
        acc = __riscv_vsmul_vv_i32##M(acc, __riscv_vle32_v_i32##M(rq->mult, vl), __RISCV_VXRM_RNU, vl); \
        if (rq->all_right) {   /* x - 1 where x < 0: a mask, no temporary vector */           \
            acc = __riscv_vssub_vx_i32##M##_mu(__riscv_vmslt_vx_i32##M##_##MB(acc, 0, vl), acc, acc, 1, vl); \
        } else {                                                                              \
            vint32##M##_t m1 = __riscv_vand_vv_i32##M(__riscv_vsra_vx_i32##M(acc, 31, vl),     \
                                                      __riscv_vle32_v_i32##M(rq->negm, vl), vl); \
            acc = __riscv_vsadd_vv_i32##M(acc, m1, vl);                                       \
        }                                                                                     \
        acc = __riscv_vssra_vv_i32##M(acc, __riscv_vreinterpret_v_i32##M##_u32##M(             \
                                               __riscv_vle32_v_i32##M(rq->right, vl)),         \
                                      __RISCV_VXRM_RNU, vl);                                  \
        if (rq->clamp)                                                                        \
            acc = __riscv_vmin_vx_i32##M(__riscv_vmax_vx_i32##M(acc, rq->lo - rq->zp, vl),    \
                                         rq->hi - rq->zp, vl);                                \
    }                                                                                         \
    acc = __riscv_vadd_vx_i32##M(acc, rq->zp, vl);                                            \
    vint16##H##_t h = __riscv_vnclip_wx_i16##H(acc, 0, __RISCV_VXRM_RNU, vl);                  \
    __riscv_vse8_v_i8##B(dst, __riscv_vnclip_wx_i8##B(h, 0, __RISCV_VXRM_RNU, vl), vl);        \
}                                                                                             \
                                                                                              \
static inline vint32##M##_t hhbc_c908_bias_##M(const int32_t *bias, int32_t oc0, size_t vl)    \
{                                                                                             \
    return bias ? __riscv_vle32_v_i32##M(bias + oc0, vl) : __riscv_vmv_v_x_i32##M(0, vl);     \
}
HHBC_C908_DEFINE_RQ(m2, m1, mf2, b16)
HHBC_C908_DEFINE_RQ(m4, m2, m1, b8)
HHBC_C908_DEFINE_RQ(m8, m4, m2, b4)

/* n bytes from src to dst (vector copy; a short run at m1, so it weighs LMUL 1) */
static inline void hhbc_c908_copy(int8_t *dst, const int8_t *src, long n)
{
    if (n <= (long)__riscv_vsetvlmax_e8m1()) {
        const size_t vl = __riscv_vsetvl_e8m1((size_t)n);
        __riscv_vse8_v_i8m1(dst, __riscv_vle8_v_i8m1(src, vl), vl);
        return;
    }
    while (n > 0) {
        const size_t vl = __riscv_vsetvl_e8m8((size_t)n);
        __riscv_vse8_v_i8m8(dst, __riscv_vle8_v_i8m8(src, vl), vl);
        dst += vl;
        src += vl;
        n -= (long)vl;
    }
}

/* n bytes of value v at dst (vector fill; a short run at m1) */
static inline void hhbc_c908_fill(int8_t *dst, int8_t v, long n)
{
    if (n <= (long)__riscv_vsetvlmax_e8m1()) {
        const size_t vl = __riscv_vsetvl_e8m1((size_t)n);
        __riscv_vse8_v_i8m1(dst, __riscv_vmv_v_x_i8m1(v, vl), vl);
        return;
    }
    while (n > 0) {
        const size_t vl = __riscv_vsetvl_e8m8((size_t)n);
        __riscv_vse8_v_i8m8(dst, __riscv_vmv_v_x_i8m8(v, vl), vl);
        dst += vl;
        n -= (long)vl;
    }
}

/* Rows row0 .. row0 + HB - 1 of the input image img [H][W][C] inside a zero-point border:
 * padded [HB][WP][C] holds those rows (the zero point where they fall outside the image) and
 * columns -pad_left .. WP - pad_left - 1, so the windows of a band of output rows read in
 * bounds. */
static inline void hhbc_c908_pad_rows(int8_t *padded, const int8_t *img, int32_t H, int32_t W, int32_t C,
                                      int32_t row0, int32_t HB, int32_t WP, int32_t pad_left, int32_t zp)
{
    const int32_t c0 = pad_left < WP ? pad_left : WP;                  /* first column inside */
    const int32_t c1 = W + pad_left < WP ? W + pad_left : WP;          /* end of the inside */
    if (row0 < 0 || row0 + HB > H || pad_left > 0 || c1 < WP)
        hhbc_c908_fill(padded, (int8_t)zp, (long)HB * WP * C);
    for (int32_t y = 0; y < HB && c1 > c0; y++) {
        const int32_t ih = row0 + y;
        if (ih < 0 || ih >= H) continue;
        hhbc_c908_copy(padded + ((long)y * WP + c0) * C, img + ((long)ih * W + (c0 - pad_left)) * C,
                       (long)(c1 - c0) * C);
    }
}

#endif /* HHBC_C908_I8_H */
