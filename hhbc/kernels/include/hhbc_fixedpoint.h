/*
 * hhbc int8 fixed-point arithmetic: the one place where the requantization and
 * fixed-point math of every int8 kernel lives (every variant includes this file).
 *
 * The semantics are those of TFLite's reference kernels, bit for bit: gemmlowp's
 * fixed-point primitives and MultiplyByQuantizedMultiplier in TFLite's default
 * ("double rounding") form. Everything is well defined C99: no signed overflow (wrapping
 * steps go through uint32_t), no right shift of negative values, no heap.
 *
 * A Qm.n value is an int32_t whose real value is raw / 2^n, with m integer bits and
 * n = 31 - m fractional bits. The compile-time counterparts (multipliers, shifts,
 * tables) are computed in Python: hhbc/quantize/fixedpoint.py.
 */
#ifndef HHBC_FIXEDPOINT_H
#define HHBC_FIXEDPOINT_H

#include <math.h>
#include <stdint.h>

/* ---- two's complement helpers ------------------------------------------------------ */

/* The int32_t with the bit pattern of u (what a cast does on every target we build for,
 * spelled out because C99 leaves the out-of-range conversion implementation-defined). */
static inline int32_t hhbc_fp_from_u32(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* a + b modulo 2^32 (gemmlowp's Add: the fixed-point algorithms rely on it). */
static inline int32_t hhbc_fp_add(int32_t a, int32_t b)
{
    return hhbc_fp_from_u32((uint32_t)a + (uint32_t)b);
}

static inline int32_t hhbc_fp_sub(int32_t a, int32_t b)
{
    return hhbc_fp_from_u32((uint32_t)a - (uint32_t)b);
}

/* x * 2^n modulo 2^32, 0 <= n <= 31 (TFLite's `x * (1 << left_shift)`). */
static inline int32_t hhbc_fp_shl(int32_t x, int32_t n)
{
    return hhbc_fp_from_u32((uint32_t)x << n);
}

/* Arithmetic right shift, 0 <= n <= 31: floor(x / 2^n). */
static inline int32_t hhbc_fp_asr(int32_t x, int32_t n)
{
    return x < 0 ? ~(~x >> n) : x >> n;
}

/* Leading zero bits of x (32 for 0). */
static inline int32_t hhbc_fp_clz(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

static inline int32_t hhbc_fp_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* ---- gemmlowp primitives, int32 ----------------------------------------------------- */

/* round(a * b / 2^31), ties away from zero; INT32_MIN * INT32_MIN saturates to INT32_MAX.
 * (SaturatingRoundingDoublingHighMul, ARM VQRDMULH.) */
static inline int32_t hhbc_fp_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));   /* C99 division truncates */
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent >= 0.
 * (RoundingDivideByPOT.) gemmlowp shifts the int32 by the exponent, which C leaves undefined
 * past 31; softmax over a long, flat row asks for up to 35. There |x| / 2^exponent <= 1/2:
 * the quotient is 0, or -1 for the one tie, INT32_MIN / 2^32. */
static inline int32_t hhbc_fp_rdbpot(int32_t x, int32_t exponent)
{
    if (exponent > 31) return exponent == 32 && x == INT32_MIN ? -1 : 0;
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return hhbc_fp_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent, saturating to [INT32_MIN, INT32_MAX]; 0 <= exponent <= 30.
 * (SaturatingRoundingMultiplyByPOT with a non-negative exponent.) */
static inline int32_t hhbc_fp_sat_shl(int32_t x, int32_t exponent)
{
    if (exponent == 0) return x;
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return x * ((int32_t)1 << exponent);
}

/* (a + b) / 2 rounded to nearest, ties away from zero. (RoundingHalfSum.) */
static inline int32_t hhbc_fp_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* ---- requantization ----------------------------------------------------------------- */

/* x * multiplier * 2^(shift - 31), the result of compile-time QuantizeMultiplier(real):
 * a wrapping left shift by max(shift, 0), srdhm by the multiplier, then a rounding
 * right shift by max(-shift, 0). (MultiplyByQuantizedMultiplier, double rounding.) */
static inline int32_t hhbc_fp_mul_by_qm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return hhbc_fp_rdbpot(hhbc_fp_srdhm(hhbc_fp_shl(x, left), multiplier), right);
}

/* round(x * scale), ties away from zero, saturated to int32: the double-precision
 * rescaling TFLite's reference FULLY_CONNECTED uses instead of a fixed-point multiplier. */
static inline int32_t hhbc_fp_mul_by_real(int32_t x, double scale)
{
    const double r = round((double)x * scale);
    if (r >= 2147483647.0) return INT32_MAX;
    if (r <= -2147483648.0) return INT32_MIN;
    return (int32_t)r;
}

/* ---- the ONNX flavour: float32 rescaling, rounded half to even -------------------------
 * ONNX Runtime's int8 kernels (QLinearConv, QGemm, the whole-image QLinearAveragePool)
 * rescale an int32 accumulator as float(acc) * scale, scale a float32 computed at compile
 * time, and round half to even; QuantizeLinear divides by its float32 scale and rounds the
 * same way. Each float step below is one IEEE single operation in its own statement, so
 * no compiler may contract it into a fused multiply-add (a different rounding). */

/* v rounded to the nearest integer, ties to even, for |v| <= 2^22: adding and removing
 * 1.5 * 2^23 leaves no fraction bits in round-to-nearest-even (the default mode). */
static inline int32_t hhbc_fp_round_even_f32(float v)
{
    const float magic = 12582912.0f;
    const float shifted = v + magic;
    const float rounded = shifted - magic;
    return (int32_t)rounded;
}

/* round_half_even(v) + zp, clamped to [lo, hi]; the clamp happens in float first (NaN
 * gives lo), which keeps the rounding in range and equals clamping afterwards. */
static inline int32_t hhbc_fp_quantize_f32(float v, int32_t zp, int32_t lo, int32_t hi)
{
    const float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    if (!(v >= flo)) v = flo;
    if (v > fhi) v = fhi;
    return hhbc_fp_round_even_f32(v) + zp;
}

/* QLinearConv / QGemm requantization: round_half_even(float(acc) * scale) + zp, clamped. */
static inline int32_t hhbc_fp_requant_f32(int32_t acc, float scale, int32_t zp, int32_t lo, int32_t hi)
{
    const float v = (float)acc * scale;
    return hhbc_fp_quantize_f32(v, zp, lo, hi);
}

/* ---- fixed-point exp and reciprocal (softmax) --------------------------------------- */

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31. Taylor expansion around -1/8. */
static inline int32_t hhbc_fp_exp_on_interval_m025_0(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;   /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;               /* 1/3 in Q0.31 */
    const int32_t x = hhbc_fp_add(a, (int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = hhbc_fp_srdhm(x, x);
    const int32_t x3 = hhbc_fp_srdhm(x2, x);
    const int32_t x4 = hhbc_fp_srdhm(x2, x2);
    const int32_t x4_over_4 = hhbc_fp_rdbpot(x4, 2);
    const int32_t poly = hhbc_fp_rdbpot(
        hhbc_fp_add(hhbc_fp_srdhm(hhbc_fp_add(x4_over_4, x3), one_third), x2), 1);
    return hhbc_fp_add(exp_minus_one_eighth,
                       hhbc_fp_srdhm(exp_minus_one_eighth, hhbc_fp_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q(integer_bits).(31 - integer_bits), 0 <= integer_bits <= 30;
 * the result is in Q0.31 (exp(0) is INT32_MAX). gemmlowp's exp_on_negative_values: exp of
 * the value modulo 1/4 by polynomial, then one multiplication per set bit above 1/4. */
static inline int32_t hhbc_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    /* exp(-2^e) in Q0.31 for e = -2 .. 4 */
    static const int32_t exp_of_minus_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
    };
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = hhbc_fp_sub(a & (one_quarter - 1), one_quarter);
    int32_t result = hhbc_fp_exp_on_interval_m025_0(
        hhbc_fp_sat_shl(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = hhbc_fp_sub(a_mod_quarter_minus_quarter, a);
    for (int32_t e = -2; e <= 4; e++) {
        if (integer_bits > e && (remainder & ((int32_t)1 << (frac_bits + e))))
            result = hhbc_fp_srdhm(result, exp_of_minus_pot[e + 2]);
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits)))   /* below -32 */
        result = 0;
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), a and the result in Q0.31: three Newton-Raphson steps
 * in Q2.29 from the 48/17 - 32/17 * d initial guess. */
static inline int32_t hhbc_fp_one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = hhbc_fp_rounding_half_sum(a, INT32_MAX);
    const int32_t c48_over_17 = 1515870810;        /* Q2.29 */
    const int32_t c_minus_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = hhbc_fp_add(c48_over_17, hhbc_fp_srdhm(half_denominator, c_minus_32_over_17));
    for (int32_t i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = hhbc_fp_srdhm(half_denominator, x);
        const int32_t one_minus = hhbc_fp_sub(one_q2, half_denominator_times_x);
        x = hhbc_fp_add(x, hhbc_fp_sat_shl(hhbc_fp_srdhm(x, one_minus), 2));
    }
    return hhbc_fp_sat_shl(x, 1);   /* x / 2, from Q2.29 to Q0.31 */
}

/* ---- gemmlowp primitives, int16 (hard-swish) ----------------------------------------- */

/* x modulo 2^16 as int16_t (the implicit narrowing TFLite's int16 arithmetic does). */
static inline int16_t hhbc_fp_wrap16(int32_t x)
{
    const int32_t u = (int32_t)((uint32_t)x & 0xffffu);
    return (int16_t)(u <= INT16_MAX ? u : u - 65536);
}

/* round(a * b / 2^15), ties away from zero; INT16_MIN * INT16_MIN saturates. */
static inline int16_t hhbc_fp_srdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : 1 - (1 << 14);
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* trunc(a * b / 2^15); INT16_MIN * INT16_MIN saturates. (SaturatingDoublingHighMul.) */
static inline int16_t hhbc_fp_sdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 15. */
static inline int16_t hhbc_fp_rdbpot16(int16_t x, int32_t exponent)
{
    const int32_t mask = (1 << exponent) - 1;
    const int32_t remainder = (int32_t)x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int16_t)(hhbc_fp_asr(x, exponent) + (remainder > threshold ? 1 : 0));
}

/* x * 2^amount saturated to int16, 0 <= amount <= 30. */
static inline int16_t hhbc_fp_sat_shl16(int16_t x, int32_t amount)
{
    const int64_t r = (int64_t)x * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

#endif /* HHBC_FIXEDPOINT_H */
