/*
 * hhbc C906 int8 helpers (RVV 0.7.1 through hhbc_rvv071.h): the requantization of int32
 * accumulators in vector registers, bit-exact with TFLite's MultiplyByQuantizedMultiplier
 * (hhbc_fp_mul_by_qm in hhbc_fixedpoint.h), and the declarations of the C906 int8 kernels.
 *
 * Requantization, per lane: y = clamp(rdbpot(srdhm(x << left, m), right) + zp, lo, hi).
 *  - srdhm (SaturatingRoundingDoublingHighMul) is (x*m + 2^30) >> 31 floored, i.e. round
 *    half up: (x*m + 1 - 2^30) / 2^31 truncated toward zero is the same value for x*m < 0.
 *    That is vsmul with vxrm = round-to-nearest-up (0); its saturation (INT32_MIN squared)
 *    cannot happen with a multiplier in [0, 2^31).
 *  - rdbpot (RoundingDivideByPOT) rounds half away from zero; vssra under rnu rounds half
 *    up, so a negative x goes in as x - 1 when right > 0 (x - 1 never wraps: srdhm by a
 *    multiplier below 2^31 stays above INT32_MIN). The "- 1" is (x & sw) >> 31 (arithmetic)
 *    with sw the channel's shift word below, whose bit 31 is set exactly where right > 0,
 *    so per-channel shifts of 0 stay exact.
 *  - The result is clamped in int32 and stored with vsb.v (the low byte of each element).
 * Every kernel sets vxrm to rnu first (HC8_VXRM_RNU).
 *
 * The per-channel requantization block (conv2d and depthwise): the kernel's `multiplier`
 * constant, packed at compile time by hhbc/codegen/packing_c906.py:
 *   rq[0] = OC, rq[1] = 1 if any left shift is nonzero, rq[2..3] = 0, then three rows of OC
 *   int32 each: multiplier, folded bias (bias - input_zp * sum of the channel's weights),
 *   shift word sw = right | left << 5 | (right > 0) << 31 (right, left in 0..31; at most one
 *   of them nonzero). Per-tensor quantization is expanded to OC entries.
 * The shift word is used as it is: vssra.vv, like every vector shift, reads only the low
 * lg2(SEW) = 5 bits of each shift amount, which are `right`; the rdbpot fix reads only its
 * sign bit; vsll.vv by sw >> 5 is the left shift (one vsrl.vi, in blocks with any).
 * The folded bias initializes the accumulators; taps in the padding read input_zp (so the
 * fold stays exact at the borders) and the MAC loops never subtract the zero point.
 */
#ifndef HHBC_C906_I8_H
#define HHBC_C906_I8_H

#include <stddef.h>
#include <stdint.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"
#include "hhbc_rvv071.h"

#ifndef HHBC_C906_INLINE
#define HHBC_C906_INLINE static inline __attribute__((always_inline))
#endif

void hhbc_conv2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p);
void hhbc_depthwise_conv2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out,
                                   const hhbc_conv2d_i8_params *p);
void hhbc_dense_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p);
void hhbc_pool2d_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_i8_params *p);
void hhbc_add_i8_c906(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                      const hhbc_add_i8_params *p);

/* vxrm (CSR 0x00a) = 0: round-to-nearest-up for vsmul / vssra */
#define HC8_VXRM_RNU() __asm__ volatile("csrwi 0x00a, 0")

/* rows of the requantization block */
#define HC8_RQ_MULT 0
#define HC8_RQ_BIAS 1
#define HC8_RQ_SHIFT 2
#define HC8_RQ_HEAD 4

HHBC_C906_INLINE const int32_t *hc8_rq_row(const int32_t *rq, int row, int32_t oc0)
{
    return rq + HC8_RQ_HEAD + (size_t)row * (size_t)rq[0] + (size_t)oc0;
}

/* Requantize and store the accumulators v0, v8, v16 (output pixels 0..r-1, r = 1..3, ostride
 * bytes apart) of output channels oc0 .. oc0 + vl - 1; vtype e32,m8 set; one scratch group,
 * v24. The rdbpot fix enters as (x & sw) >> 31: -1 where x < 0 and right > 0. */
HHBC_C906_INLINE void hc8_requant_store3(const int32_t *rq, int32_t oc0, int r, int8_t *o0, size_t ostride,
                                         int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t *sw = hc8_rq_row(rq, HC8_RQ_SHIFT, oc0);
    if (rq[1]) {
        HV_VLE_RO(v24, sw);
        HV_VSRL_VI(v24, v24, 5);
        HV_VSLL_VV(v0, v0, v24);
        HV_VSLL_VV(v8, v8, v24);
        HV_VSLL_VV(v16, v16, v24);
    }
    HV_VLE_RO(v24, hc8_rq_row(rq, HC8_RQ_MULT, oc0));
    HV_VSMUL_VV(v0, v0, v24);
    HV_VSMUL_VV(v8, v8, v24);
    HV_VSMUL_VV(v16, v16, v24);
    HV_VLE_RO(v24, sw);
    HV_VAND_VV(v24, v24, v0);
    HV_VSRA_VI(v24, v24, 31);
    HV_VADD_VV(v0, v0, v24);
    HV_VLE_RO(v24, sw);
    HV_VAND_VV(v24, v24, v8);
    HV_VSRA_VI(v24, v24, 31);
    HV_VADD_VV(v8, v8, v24);
    HV_VLE_RO(v24, sw);
    HV_VAND_VV(v24, v24, v16);
    HV_VSRA_VI(v24, v24, 31);
    HV_VADD_VV(v16, v16, v24);
    HV_VLE_RO(v24, sw);
    HV_VSSRA_VV(v0, v0, v24);
    HV_VADD_VX(v0, v0, zp);
    HV_VMAX_VX(v0, v0, lo);
    HV_VMIN_VX(v0, v0, hi);
    HV_VSB(v0, o0);
    if (r > 1) {
        HV_VSSRA_VV(v8, v8, v24);
        HV_VADD_VX(v8, v8, zp);
        HV_VMAX_VX(v8, v8, lo);
        HV_VMIN_VX(v8, v8, hi);
        HV_VSB(v8, o0 + ostride);
    }
    if (r > 2) {
        HV_VSSRA_VV(v16, v16, v24);
        HV_VADD_VX(v16, v16, zp);
        HV_VMAX_VX(v16, v16, lo);
        HV_VMIN_VX(v16, v16, hi);
        HV_VSB(v16, o0 + 2 * ostride);
    }
}

/* x * m * 2^(shift - 31) with one (multiplier, shift) for all lanes, in place on the e32
 * register group VX; scratch VT (same vtype). hhbc_fp_mul_by_qm lane by lane. */
#define HC8_MUL_BY_QM(VX, VT, m, shift)                 \
    do {                                                \
        const int32_t s_ = (shift);                     \
        if (s_ > 0) HV_VSLL_VX(VX, VX, (long)s_);       \
        HV_VSMUL_VX(VX, VX, (long)(m));                 \
        if (s_ < 0) {                                   \
            HV_VSRA_VI(VT, VX, 31);                     \
            HV_VADD_VV(VX, VX, VT);                     \
            HV_VSSRA_VX(VX, VX, (long)-s_);             \
        }                                               \
    } while (0)

#endif /* HHBC_C906_I8_H */
