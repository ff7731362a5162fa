/*
 * hhbc rvv variant: int8 helpers shared by the RVV 1.0 int8 kernels (C intrinsics,
 * VLEN-agnostic). Every int8 vector kernel (rvv/<op>_i8.c, and the c908 kernels that build on
 * them) requantizes through this file, so the arithmetic that must match TFLite and ONNX
 * Runtime bit for bit lives in one place. Provided for int32 LMUL m1, m2, m4, m8 (the int8
 * result has LMUL / 4: mf4, mf2, m1, m2).
 *
 * TFLite (MultiplyByQuantizedMultiplier, hhbc_fp_mul_by_qm):
 *   out = rdbpot(srdhm(x << left, multiplier), right), left = max(shift, 0), right = max(-shift, 0)
 *  - x << left wraps modulo 2^32 as in TFLite: vsll.
 *  - srdhm(a, b) = (a * b + nudge) / 2^31 truncated, nudge 2^30 or 1 - 2^30 by the sign of a * b.
 *    For a * b = k * 2^31 + r (0 <= r < 2^31) both signs give k + (r >= 2^30), i.e.
 *    floor((a * b + 2^30) / 2^31): exactly vsmul with vxrm = rnu, whose only saturation
 *    (INT32_MIN * INT32_MIN -> INT32_MAX) is srdhm's too.
 *  - rdbpot(x, e) rounds ties away from zero; vssra with rnu rounds them up. For e >= 1 and
 *    x < 0, rdbpot(x, e) = vssra_rnu(x - 1, e): only a negative tie moves (down, away from 0);
 *    the "- 1" is a saturating add of (x >> 31) & negm with negm = -1 where e >= 1
 *    (x = INT32_MIN stays INT32_MIN, whose remainder is 0: no tie, same result). For e = 0
 *    (negm = 0) vssra is the identity.
 * ONNX flavour (p->scale non-NULL, hhbc_fp_requant_f32): v = float(acc) * scale (one vfmul,
 * no fused multiply-add), clamped in float to [lo - zp, hi - zp], converted with
 * round-to-nearest-even (vfcvt with a static rm), + zp.
 * Narrowing: vnclip (shift 0, so no rounding) saturates int32 -> int16 -> int8, then the clamp
 * to [act_min, act_max] (within [-128, 127]) runs on e8: the same as clamping in int32 first.
 * When the rescaled value is known to be within 2^30 (right_only), the output zero point is
 * added after the first narrowing, saturating in e16 (hhbc_rvv_narrow_zp).
 * hhbc_rvv_rq_conv_n / _dense_n also note whether every shift is <= -1 (right_only), which
 * takes the short path hhbc_rvv_mul_by_qm_right_vv (no left shift, the tie fix on every lane).
 * tests/kernels/test_rvv_int8_kernels.py checks these against the scalar hhbc_fixedpoint.h
 * on ties, saturation and random values.
 */
#ifndef HHBC_RVV_I8_H
#define HHBC_RVV_I8_H

#include <riscv_vector.h>
#include <stdint.h>

#include "hhbc_fixedpoint.h"
#include "hhbc_kernels_i8.h"

/* The output rescaling of one conv/dense node, as its params give it. */
typedef struct hhbc_rvv_rq {
    const int32_t *multiplier;   /* TFLite: [C] if per_channel, else [1] */
    const int32_t *shift;
    const float *scale;          /* ONNX: non-NULL selects the float flavour */
    const double *real_scale;    /* dense: TFLite reference FULLY_CONNECTED (double, ties away) */
    int32_t per_channel;
    int32_t zp, lo, hi;
    int32_t right_only;          /* TFLite: every shift <= -1 (a right shift of >= 1, no left shift) */
} hhbc_rvv_rq;

/* right_only of a multiplier/shift set: the common case of real multipliers < 1/2, whose
 * requantization skips the left shift and the per-lane tie mask. */
static inline int32_t hhbc_rvv_rq_right_only(const int32_t *shift, int32_t n)
{
    int32_t ok = shift != NULL;
    for (int32_t i = 0; ok && i < n; i++) ok = shift[i] <= -1;
    return ok;
}

static inline hhbc_rvv_rq hhbc_rvv_rq_conv(const hhbc_conv2d_i8_params *p)
{
    hhbc_rvv_rq rq = {p->multiplier, p->shift, p->scale, NULL, p->per_channel, p->output_zp, p->act_min, p->act_max, 0};
    return rq;
}

static inline hhbc_rvv_rq hhbc_rvv_rq_dense(const hhbc_dense_i8_params *p)
{
    hhbc_rvv_rq rq = {p->multiplier, p->shift, p->scale, p->scale ? NULL : p->real_scale, p->per_channel,
                      p->output_zp, p->act_min, p->act_max, 0};
    return rq;
}

/* rq of a conv/dense node with `channels` output channels, right_only computed (one scan). */
static inline hhbc_rvv_rq hhbc_rvv_rq_conv_n(const hhbc_conv2d_i8_params *p, int32_t channels)
{
    hhbc_rvv_rq rq = hhbc_rvv_rq_conv(p);
    rq.right_only = !rq.scale && hhbc_rvv_rq_right_only(rq.shift, rq.per_channel ? channels : 1);
    return rq;
}

static inline hhbc_rvv_rq hhbc_rvv_rq_dense_n(const hhbc_dense_i8_params *p)
{
    hhbc_rvv_rq rq = hhbc_rvv_rq_dense(p);
    rq.right_only = !rq.scale && !rq.real_scale && hhbc_rvv_rq_right_only(rq.shift, rq.per_channel ? p->n : 1);
    return rq;
}

/* widest strip (lanes) of the scalar real_scale epilogue */
#define HHBC_RVV_RQ_REAL_STRIP 64

/*
 * Per LMUL M (int32) with int8 LMUL B and int16 LMUL H:
 *  hhbc_rvv_mul_by_qm_vx_i32M(x, multiplier, shift, vl)   one multiplier/shift for all lanes
 *  hhbc_rvv_mul_by_qm_vv_i32M(x, multiplier, shift, vl)   one per lane (vectors)
 *  hhbc_rvv_mul_by_qm_right_vv_i32M(x, multiplier, shift, vl)  the same when every shift <= -1
 *  hhbc_rvv_requant_f32_vv_i32M(acc, scale, zp, lo, hi, vl)  ONNX, per-lane scale; result clamped
 *  hhbc_rvv_narrow_i8M(v, lo, hi, vl)                     clamp, then int32 -> int8
 *  hhbc_rvv_requant_i8M(acc, rq, c0, vl)                  acc (bias included) of channels
 *      c0 .. c0 + vl - 1 (lanes) -> int8 outputs; every flavour
 *  hhbc_rvv_requant_1ch_i8M(acc, rq, c, vl)               every lane of channel c
 */
#define HHBC_RVV_DEFINE_RQ(M, H, B)                                                              \
static inline vint32##M##_t hhbc_rvv_mul_by_qm_vx_i32##M(vint32##M##_t x, int32_t multiplier,    \
                                                         int32_t shift, size_t vl)               \
{                                                                                                \
    if (shift > 0) x = __riscv_vsll_vx_i32##M(x, (size_t)shift, vl);                             \
    x = __riscv_vsmul_vx_i32##M(x, multiplier, __RISCV_VXRM_RNU, vl);                            \
    if (shift < 0) {                                                                             \
        x = __riscv_vsadd_vv_i32##M(x, __riscv_vsra_vx_i32##M(x, 31, vl), vl);                   \
        x = __riscv_vssra_vx_i32##M(x, (size_t)-shift, __RISCV_VXRM_RNU, vl);                    \
    }                                                                                            \
    return x;                                                                                    \
}                                                                                                \
                                                                                                 \
static inline vint32##M##_t hhbc_rvv_mul_by_qm_vv_i32##M(vint32##M##_t x, vint32##M##_t mult,    \
                                                         vint32##M##_t shift, size_t vl)         \
{                                                                                                \
    vint32##M##_t left = __riscv_vmax_vx_i32##M(shift, 0, vl);                                   \
    vint32##M##_t right = __riscv_vmax_vx_i32##M(__riscv_vneg_v_i32##M(shift, vl), 0, vl);       \
    vint32##M##_t negm = __riscv_vsra_vx_i32##M(shift, 31, vl);   /* -1 where right >= 1 */      \
    x = __riscv_vsll_vv_i32##M(x, __riscv_vreinterpret_v_i32##M##_u32##M(left), vl);             \
    x = __riscv_vsmul_vv_i32##M(x, mult, __RISCV_VXRM_RNU, vl);                                  \
    x = __riscv_vsadd_vv_i32##M(x, __riscv_vand_vv_i32##M(__riscv_vsra_vx_i32##M(x, 31, vl),     \
                                                          negm, vl), vl);                        \
    return __riscv_vssra_vv_i32##M(x, __riscv_vreinterpret_v_i32##M##_u32##M(right),             \
                                   __RISCV_VXRM_RNU, vl);                                        \
}                                                                                                \
                                                                                                 \
/* mul_by_qm when every lane's shift is <= -1: right = -shift >= 1, no left shift, every lane's  \
 * tie fix applies. */                                                                           \
static inline vint32##M##_t hhbc_rvv_mul_by_qm_right_vv_i32##M(vint32##M##_t x, vint32##M##_t mult, \
                                                               vint32##M##_t shift, size_t vl)   \
{                                                                                                \
    x = __riscv_vsmul_vv_i32##M(x, mult, __RISCV_VXRM_RNU, vl);                                  \
    x = __riscv_vsadd_vv_i32##M(x, __riscv_vsra_vx_i32##M(x, 31, vl), vl);                       \
    return __riscv_vssra_vv_i32##M(x, __riscv_vreinterpret_v_i32##M##_u32##M(                    \
                                          __riscv_vneg_v_i32##M(shift, vl)), __RISCV_VXRM_RNU, vl); \
}                                                                                                \
                                                                                                 \
static inline vint32##M##_t hhbc_rvv_requant_f32_vv_i32##M(vint32##M##_t acc, vfloat32##M##_t sc, \
                                                           int32_t zp, int32_t lo, int32_t hi,   \
                                                           size_t vl)                            \
{                                                                                                \
    vfloat32##M##_t v = __riscv_vfmul_vv_f32##M(__riscv_vfcvt_f_x_v_f32##M(acc, vl), sc, vl);    \
    v = __riscv_vfmax_vf_f32##M(v, (float)(lo - zp), vl);                                        \
    v = __riscv_vfmin_vf_f32##M(v, (float)(hi - zp), vl);                                        \
    return __riscv_vadd_vx_i32##M(__riscv_vfcvt_x_f_v_i32##M##_rm(v, __RISCV_FRM_RNE, vl), zp, vl); \
}                                                                                                \
                                                                                                 \
static inline vint8##B##_t hhbc_rvv_narrow_i8##M(vint32##M##_t v, int32_t lo, int32_t hi,        \
                                                 size_t vl)                                      \
{                                                                                                \
    /* saturate to int8 (vnclip by 0 does not round), then clamp in e8: the same as clamping  \
     * in int32 since [lo, hi] lies within [-128, 127] */                                        \
    vint8##B##_t b = __riscv_vnclip_wx_i8##B(__riscv_vnclip_wx_i16##H(v, 0, __RISCV_VXRM_RNU, vl), 0, \
                                            __RISCV_VXRM_RNU, vl);                               \
    if (lo > INT8_MIN) b = __riscv_vmax_vx_i8##B(b, (int8_t)lo, vl);                              \
    if (hi < INT8_MAX) b = __riscv_vmin_vx_i8##B(b, (int8_t)hi, vl);                              \
    return b;                                                                                    \
}                                                                                                \
                                                                                                 \
/* clamp(v + zp) -> int8 for |v| <= 2^30 (no int32 overflow to mirror): v saturated to int16,   \
 * + zp saturating in e16 (a saturated value stays beyond [-128, 127] on its side), then as     \
 * narrow: one e32 operation fewer. */                                                           \
static inline vint8##B##_t hhbc_rvv_narrow_zp_i8##M(vint32##M##_t v, int32_t zp, int32_t lo,      \
                                                    int32_t hi, size_t vl)                       \
{                                                                                                \
    vint16##H##_t h = __riscv_vsadd_vx_i16##H(__riscv_vnclip_wx_i16##H(v, 0, __RISCV_VXRM_RNU, vl), \
                                             (int16_t)zp, vl);                                   \
    vint8##B##_t b = __riscv_vnclip_wx_i8##B(h, 0, __RISCV_VXRM_RNU, vl);                         \
    if (lo > INT8_MIN) b = __riscv_vmax_vx_i8##B(b, (int8_t)lo, vl);                              \
    if (hi < INT8_MAX) b = __riscv_vmin_vx_i8##B(b, (int8_t)hi, vl);                              \
    return b;                                                                                    \
}                                                                                                \
                                                                                                 \
/* dense's real_scale (scalar, lane by lane): round(acc * real_scale) ties away from zero,          \
 * saturated, + zp wrapping like the reference's int32 add; one channel (c0) or lanes c0 + j. */   \
static __attribute__((noinline)) vint32##M##_t hhbc_rvv_mul_by_real_i32##M(vint32##M##_t acc,    \
        const hhbc_rvv_rq *rq, int32_t c0, int one_channel, size_t vl)                           \
{                                                                                                \
    int32_t a[HHBC_RVV_RQ_REAL_STRIP];                                                           \
    vint32##M##_t r = acc;                                                                       \
    for (size_t j0 = 0; j0 < vl; j0 += HHBC_RVV_RQ_REAL_STRIP) {                                 \
        const size_t n = vl - j0 < HHBC_RVV_RQ_REAL_STRIP ? vl - j0 : HHBC_RVV_RQ_REAL_STRIP;    \
        __riscv_vse32_v_i32##M(a, __riscv_vslidedown_vx_i32##M(acc, j0, vl), n);                 \
        for (size_t j = 0; j < n; j++) {                                                         \
            const int32_t q = !rq->per_channel ? 0 : (one_channel ? c0 : c0 + (int32_t)(j0 + j)); \
            a[j] = hhbc_fp_mul_by_real(a[j], rq->real_scale[q]);                                 \
        }                                                                                        \
        r = __riscv_vslideup_vx_i32##M(r, __riscv_vle32_v_i32##M(a, n), j0, j0 + n);             \
    }                                                                                            \
    return __riscv_vadd_vx_i32##M(r, rq->zp, vl);                                               \
}                                                                                                \
                                                                                                 \
static inline vint8##B##_t hhbc_rvv_requant_i8##M(vint32##M##_t acc, const hhbc_rvv_rq *rq,      \
                                                  int32_t c0, size_t vl)                         \
{                                                                                                \
    if (rq->scale) {                                                                             \
        vfloat32##M##_t sc = rq->per_channel ? __riscv_vle32_v_f32##M(rq->scale + c0, vl)        \
                                             : __riscv_vfmv_v_f_f32##M(rq->scale[0], vl);        \
        return hhbc_rvv_narrow_i8##M(hhbc_rvv_requant_f32_vv_i32##M(acc, sc, rq->zp, rq->lo,     \
                                                                    rq->hi, vl), rq->lo, rq->hi, vl); \
    }                                                                                            \
    if (rq->real_scale)                                                                          \
        return hhbc_rvv_narrow_i8##M(hhbc_rvv_mul_by_real_i32##M(acc, rq, c0, 0, vl), rq->lo, rq->hi, vl); \
    if (rq->per_channel && rq->right_only)   /* |result| <= 2^30 */                              \
        return hhbc_rvv_narrow_zp_i8##M(hhbc_rvv_mul_by_qm_right_vv_i32##M(                      \
                   acc, __riscv_vle32_v_i32##M(rq->multiplier + c0, vl),                         \
                   __riscv_vle32_v_i32##M(rq->shift + c0, vl), vl), rq->zp, rq->lo, rq->hi, vl); \
    if (rq->per_channel)                                                                         \
        acc = hhbc_rvv_mul_by_qm_vv_i32##M(acc, __riscv_vle32_v_i32##M(rq->multiplier + c0, vl), \
                                           __riscv_vle32_v_i32##M(rq->shift + c0, vl), vl);      \
    else                                                                                         \
        acc = hhbc_rvv_mul_by_qm_vx_i32##M(acc, rq->multiplier[0], rq->shift[0], vl);            \
    return hhbc_rvv_narrow_i8##M(__riscv_vadd_vx_i32##M(acc, rq->zp, vl), rq->lo, rq->hi, vl);   \
}                                                                                                \
                                                                                                 \
static inline vint8##B##_t hhbc_rvv_requant_1ch_i8##M(vint32##M##_t acc, const hhbc_rvv_rq *rq,  \
                                                      int32_t c, size_t vl)                      \
{                                                                                                \
    const int32_t q = rq->per_channel ? c : 0;                                                   \
    if (rq->scale)                                                                               \
        return hhbc_rvv_narrow_i8##M(hhbc_rvv_requant_f32_vv_i32##M(                             \
            acc, __riscv_vfmv_v_f_f32##M(rq->scale[q], vl), rq->zp, rq->lo, rq->hi, vl),         \
            rq->lo, rq->hi, vl);                                                                 \
    if (rq->real_scale)                                                                          \
        return hhbc_rvv_narrow_i8##M(hhbc_rvv_mul_by_real_i32##M(acc, rq, c, 1, vl), rq->lo, rq->hi, vl); \
    acc = hhbc_rvv_mul_by_qm_vx_i32##M(acc, rq->multiplier[q], rq->shift[q], vl);                \
    return hhbc_rvv_narrow_i8##M(__riscv_vadd_vx_i32##M(acc, rq->zp, vl), rq->lo, rq->hi, vl);   \
}

HHBC_RVV_DEFINE_RQ(m1, mf2, mf4)
HHBC_RVV_DEFINE_RQ(m2, m1, mf2)
HHBC_RVV_DEFINE_RQ(m4, m2, m1)
HHBC_RVV_DEFINE_RQ(m8, m4, m2)

#endif /* HHBC_RVV_I8_H */
