"""Compile-time half of hhbc's int8 arithmetic: multipliers, shifts, clamps and tables.

TFLite splits every int8 kernel into "prepare" (derive fixed-point parameters from the
float scales) and "eval" (integer arithmetic only). hhbc does the prepare half here, at
compile time, and emits the results as constants for the C kernels
(hhbc/kernels/include/hhbc_kernels_i8.h, arithmetic in hhbc_fixedpoint.h).

Bit-exactness with the TFLite interpreter depends on reproducing each prepare step exactly,
including where TFLite computes in float32 rather than double (MUL, standalone RELU*,
per-tensor FULLY_CONNECTED, HARD_SWISH, the activation clamp, the LOGISTIC/TANH tables):
a multiplier one LSB off changes outputs. Scales are float32 in a .tflite file; every
function rounds its scale arguments to float32 first so that callers may pass Python floats.

The target is TFLite's *reference* kernels (OpResolverType.BUILTIN_REF), checked against
ai-edge-litert 2.3 by tests/kernels/test_int8_kernels.py. They use the default "double
rounding" MultiplyByQuantizedMultiplier (not the TFLITE_SINGLE_ROUNDING build), except
FULLY_CONNECTED, which the reference rescales in double (dense_real_scales); its
fixed-point multipliers (dense_multipliers) are what the optimized path and TFLite Micro
use. SOFTMAX's reference is gemmlowp fixed point, not the optimized float table.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MAX = 2**31 - 1

# TFLite ADD rescales both int8 inputs after a left shift of 20 bits (15 for int16).
ADD_LEFT_SHIFT = 20

# Fused activations TFLite allows on int8 kernels, by ActivationFunctionType name.
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


class QuantParamError(ValueError):
    """Quantization scales whose fixed-point parameters the int8 kernels cannot represent (a
    multiplier that is not finite or needs a left shift past 31 bits, a softmax input scale too
    small for Q5.26). The lowering reports it against the layer (lower/quantized.py)."""


def f32(x: float) -> np.float32:
    """x as the float32 a .tflite file stores."""
    return np.float32(x)


def round_half_away(x: float) -> int:
    """std::round (TfLiteRound): nearest integer, ties away from zero, exact for any double.

    Python's round() ties to even and floor(x + 0.5) is inexact near .5, so neither fits.
    """
    if not math.isfinite(x):
        raise ValueError(f"cannot round {x}")
    frac, whole = math.modf(abs(x))
    r = int(whole) + (1 if frac >= 0.5 else 0)
    return -r if x < 0 else r


def _trunc_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


# ---------------------------------------------------------------------------------------
# multipliers
# ---------------------------------------------------------------------------------------

def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier, shift) with real ~= multiplier * 2^(shift - 31), as TFLite's
    QuantizeMultiplier: frexp, round half away the 31-bit significand, renormalize a
    significand that rounded up to 2^31, flush |real| < ~2^-32 to (0, 0)."""
    real = float(real)
    if not math.isfinite(real):
        raise QuantParamError(f"multiplier {real} is not finite")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * 2.0**31)   # exact: q has 53 bits, the product is scaled
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 31:   # hhbc_fp_mul_by_qm shifts left by 0..31 bits
        raise QuantParamError(f"multiplier {real:g} is too large (2^31 or more)")
    return q_fixed, shift


def quantize_multipliers(reals: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """quantize_multiplier over a sequence: int32 arrays (multipliers, shifts)."""
    pairs = [quantize_multiplier(r) for r in reals]
    return (np.array([m for m, _ in pairs], dtype=np.int32),
            np.array([s for _, s in pairs], dtype=np.int32))


def conv_multipliers(input_scale: float, filter_scales: Sequence[float] | float,
                     output_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """CONV_2D / DEPTHWISE_CONV_2D (per channel or per tensor) and per-channel
    FULLY_CONNECTED: in_scale * filter_scale[c] / out_scale, all in double.

    The result has one entry per filter scale: one entry means per tensor."""
    fs = np.atleast_1d(np.asarray(filter_scales, dtype=np.float32))
    si, so = float(f32(input_scale)), float(f32(output_scale))
    return quantize_multipliers([si * float(s) / so for s in fs])


def dense_real_scales(input_scale: float, filter_scales: Sequence[float] | float,
                      output_scale: float) -> np.ndarray:
    """FULLY_CONNECTED as TFLite's *reference* kernel rescales it (ai-edge-litert 2.x):
    not by a fixed-point multiplier but by in_scale * filter_scale / out_scale in double,
    round(acc * scale), per channel or per tensor. One float64 per filter scale."""
    fs = np.atleast_1d(np.asarray(filter_scales, dtype=np.float32))
    si, so = float(f32(input_scale)), float(f32(output_scale))
    return np.array([si * float(s) / so for s in fs], dtype=np.float64)


def dense_multipliers(input_scale: float, filter_scales: Sequence[float] | float,
                      output_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """FULLY_CONNECTED's fixed-point multipliers, as TFLite's Prepare computes them for its
    optimized kernel and TFLite Micro's kernel uses them. Per channel as conv; per tensor
    TFLite multiplies the two float32 scales in float32 before widening to double
    (GetQuantizedConvolutionMultipler). The reference kernel ignores them (see
    dense_real_scales), so only the per-channel form is checked against an interpreter."""
    fs = np.atleast_1d(np.asarray(filter_scales, dtype=np.float32))
    if fs.size > 1:
        return conv_multipliers(input_scale, fs, output_scale)
    product = f32(input_scale) * fs[0]   # float32 * float32 -> float32
    return quantize_multipliers([float(product) / float(f32(output_scale))])


def requant_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """in_scale / out_scale in double: QUANTIZE int8 -> int8, and a concat input rescaled
    to the output's scale."""
    return quantize_multiplier(float(f32(input_scale)) / float(f32(output_scale)))


def relu_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """Standalone RELU / RELU6 / RELU_N1_TO_1: in_scale / out_scale, divided in float32
    by TFLite (ReluPrepare), unlike QUANTIZE's double division."""
    return quantize_multiplier(float(f32(input_scale) / f32(output_scale)))


def mul_multiplier(a_scale: float, b_scale: float, output_scale: float) -> tuple[int, int]:
    """MUL: a_scale * b_scale / out_scale, evaluated in float32 by TFLite."""
    real = f32(a_scale) * f32(b_scale) / f32(output_scale)
    return quantize_multiplier(float(real))


@dataclass(frozen=True)
class AddParams:
    """TFLite int8 ADD: inputs shifted left by left_shift, each rescaled to the common
    scale 2 * max(a_scale, b_scale), the sum rescaled to the output."""
    left_shift: int
    a_multiplier: int
    a_shift: int
    b_multiplier: int
    b_shift: int
    output_multiplier: int
    output_shift: int


def add_params(a_scale: float, b_scale: float, output_scale: float) -> AddParams:
    """ADD, as TFLite's add.cc prepares it in double (every step is exact)."""
    sa, sb, so = float(f32(a_scale)), float(f32(b_scale)), float(f32(output_scale))
    twice_max = 2.0 * max(sa, sb)
    am, ash = quantize_multiplier(sa / twice_max)
    bm, bsh = quantize_multiplier(sb / twice_max)
    om, osh = quantize_multiplier(twice_max / (float(1 << ADD_LEFT_SHIFT) * so))
    return AddParams(ADD_LEFT_SHIFT, am, ash, bm, bsh, om, osh)


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """MEAN: in_scale / out_scale with the 1/count of the mean folded into the
    multiplier the way TFLite's QuantizedMeanOrSum folds it at run time (shift by
    floor(log2 count), capped at 32 and at 31 + shift, then an integer division)."""
    if count <= 0:
        raise ValueError("mean over an empty set of elements")
    m, s = requant_multiplier(input_scale, output_scale)
    k = min(count.bit_length() - 1, 32, 31 + s)
    return _trunc_div(m << k, count), s - k


# ---------------------------------------------------------------------------------------
# fused activation clamp
# ---------------------------------------------------------------------------------------

def activation_range(activation: str, output_scale: float, output_zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """[act_min, act_max] of a fused activation in the output's quantized domain:
    zp + round(f / scale) with the division in float32 (CalculateActivationRangeQuantized).
    activation is a TFLite ActivationFunctionType name (NONE, RELU, RELU_N1_TO_1, RELU6)."""
    scale = f32(output_scale)

    def q(f: float) -> int:
        return int(output_zero_point) + round_half_away(float(f32(f) / scale))

    act = activation.upper()
    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, q(0.0)), qmax
    if act == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"fused activation {activation!r} has no int8 clamp "
                     f"(supported: {', '.join(ACTIVATIONS)})")


# ---------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------

SOFTMAX_SCALED_DIFF_BITS = 5   # exp input is Q5.26


@dataclass(frozen=True)
class SoftmaxParams:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(input_scale: float, beta: float = 1.0) -> SoftmaxParams:
    """SOFTMAX (int8 in, int8 out with scale 1/256 and zero point -128), TFLite's
    reference path (PreprocessSoftmaxScaling, CalculateInputRadius): beta * in_scale
    rescales an input difference to Q5.26, capped at 2^31 - 1; differences below
    -radius would saturate that format and contribute exp() = 0."""
    bits = SOFTMAX_SCALED_DIFF_BITS
    real = min(float(f32(beta)) * float(f32(input_scale)) * float(1 << (31 - bits)),
               float(2**31 - 1))
    if not real > 1.0:
        raise QuantParamError(f"softmax beta * input scale {real / 2**26:g} is too small")
    multiplier, left_shift = quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift))
    return SoftmaxParams(multiplier, left_shift, -int(radius))


# ---------------------------------------------------------------------------------------
# hard-swish
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HardSwishParams:
    output_multiplier: int    # int16, Q0.15
    output_exponent: int      # <= 0
    reluish_multiplier: int   # int16, Q0.15
    reluish_exponent: int


def _downscale_to_int16(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round the Q0.31 multiplier to Q0.15."""
    if multiplier >= INT32_MAX - (1 << 15):
        return 2**15 - 1
    return (multiplier + (1 << 15)) >> 16


def hardswish_params(input_scale: float, output_scale: float) -> HardSwishParams:
    """HARD_SWISH: TFLite's float32 prepare (HardSwishPrepare). The input is first put on
    a "hires" scale in_scale / 128; the "reluish" factor maps real 3.0 to 2^15."""
    hires = f32(1.0 / 128.0) * f32(input_scale)
    reluish_scale = f32(3.0) / f32(32768.0)
    om, oe = quantize_multiplier(float(hires / f32(output_scale)))
    rm, re = quantize_multiplier(float(hires / reluish_scale))
    if oe > 0 or -oe > 15:
        raise QuantParamError(f"hard-swish output rescale exponent {oe} outside [-15, 0] "
                         f"(input scale {input_scale}, output scale {output_scale})")
    if re < -15 or re > 31:
        raise QuantParamError(f"hard-swish reluish exponent {re} outside [-15, 31]")
    return HardSwishParams(_downscale_to_int16(om), oe, _downscale_to_int16(rm), re)


# ---------------------------------------------------------------------------------------
# LOGISTIC / TANH lookup tables
# ---------------------------------------------------------------------------------------

@functools.cache
def _libm() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn in ("expf", "tanhf"):
            getattr(lib, fn).restype = ctypes.c_float
            getattr(lib, fn).argtypes = [ctypes.c_float]
        return lib
    except (OSError, AttributeError):
        return None


def _expf(x: np.float32) -> np.float32:
    lib = _libm()
    if lib is not None:
        return f32(lib.expf(float(x)))
    return f32(np.exp(np.float64(x)))


def _tanhf(x: np.float32) -> np.float32:
    lib = _libm()
    if lib is not None:
        return f32(lib.tanhf(float(x)))
    return f32(np.tanh(np.float64(x)))


def _logistic_f32(x: np.float32) -> np.float32:
    return f32(1.0) / (f32(1.0) + _expf(-x))


def lut_table(input_scale: float, input_zero_point: int, output_scale: float,
              output_zero_point: int, fn: Callable[[np.float32], np.float32]) -> np.ndarray:
    """TFLite's LUTPopulate<int8_t>: dequantize each of the 256 inputs, apply fn in
    float32, requantize with round half away. Indexed by the input's byte, (uint8_t)x."""
    si, inv = f32(input_scale), f32(1.0) / f32(output_scale)
    table = np.empty(256, dtype=np.int8)
    for val in range(INT8_MIN, INT8_MAX + 1):
        y = fn(si * f32(val - input_zero_point))
        rescaled = round_half_away(float(y * inv))
        q = int(f32(rescaled) + f32(output_zero_point))
        table[val & 0xFF] = min(max(q, INT8_MIN), INT8_MAX)
    return table


def logistic_table(input_scale: float, input_zero_point: int, output_scale: float,
                   output_zero_point: int) -> np.ndarray:
    """LOGISTIC: 1 / (1 + expf(-x)) in float32. expf is the host C library's (what the
    TFLite interpreter on this host calls), else a correctly rounded float64 fallback."""
    return lut_table(input_scale, input_zero_point, output_scale, output_zero_point,
                     _logistic_f32)


def tanh_table(input_scale: float, input_zero_point: int, output_scale: float,
               output_zero_point: int) -> np.ndarray:
    """TANH: tanhf(x), the host C library's like logistic_table's expf."""
    return lut_table(input_scale, input_zero_point, output_scale, output_zero_point, _tanhf)


# ---------------------------------------------------------------------------------------
# the ONNX flavour: what ONNX Runtime's int8 kernels prepare (float32, ties to even)
# ---------------------------------------------------------------------------------------
# ONNX Runtime fuses each dequantize -> op -> quantize group of a QDQ model into its int8
# kernels, which rescale in float32: QLinearConv and QGemm multiply float(acc) by
# (in_scale * w_scale) / out_scale, evaluated in float32; QLinearAdd (x86) combines the two
# inputs in float32 in its uint8 domain; QLinearAveragePool over a whole image takes
# in_scale / count / out_scale. Measured against onnxruntime 1.31 on x86-64 by
# tests/kernels/test_int8_onnx_kernels.py.

ONNX_U8_OFFSET = 128   # ONNX Runtime on x86 runs int8 QDQ groups in uint8: zero points + 128


def onnx_conv_scales(input_scale: float, filter_scales: Sequence[float] | float,
                     output_scale: float) -> np.ndarray:
    """QLinearConv / QGemm: float32 (in_scale * w_scale[c]) / out_scale, one per filter scale."""
    fs = np.atleast_1d(np.asarray(filter_scales, dtype=np.float32))
    return ((f32(input_scale) * fs) / f32(output_scale)).astype(np.float32)


@dataclass(frozen=True)
class OnnxAddParams:
    """QLinearAdd: v = (fixed + float(a + 128) * a_ratio) + float(b + 128) * b_ratio."""
    a_ratio: float
    b_ratio: float
    fixed: float


def onnx_add_params(a_scale: float, a_zp: int, b_scale: float, b_zp: int, output_scale: float,
                    output_zp: int) -> OnnxAddParams:
    """The float32 constants of ONNX Runtime's x86 QLinearAdd, zero points in uint8."""
    ra = f32(a_scale) / f32(output_scale)
    rb = f32(b_scale) / f32(output_scale)
    za, zb, zc = (f32(z + ONNX_U8_OFFSET) for z in (a_zp, b_zp, output_zp))
    fixed = zc - (ra * za + rb * zb)
    return OnnxAddParams(float(ra), float(rb), float(fixed))


def onnx_whole_pool_scale(input_scale: float, count: int, output_scale: float) -> float:
    """QLinearAveragePool over a whole unpadded image (ONNX Runtime's global-pool path):
    float32 in_scale / count / out_scale."""
    return float(f32(input_scale) / f32(count) / f32(output_scale))


# The logistic function of ONNX Runtime's MLAS (MlasComputeLogistic, what QLinearSigmoid builds its
# table with): Eigen's rational approximation p(x) / q(x) + 1/2 on x clamped to [-18, 18], odd
# p of degree 9 and even q of degree 10, evaluated by Horner in float32.
_MLAS_LOGISTIC_P = (4.37031012579801e-11, 1.15627324459942e-07, 6.08574864600143e-05,
                    8.51377133304701e-03, 2.48287947061529e-01)
_MLAS_LOGISTIC_Q = (6.10247389755681e-13, 5.76102136993427e-09, 6.29106785017040e-06,
                    1.70198817374094e-03, 1.16817656904453e-01, 9.93151921023180e-01)


# MLAS's tanh (MlasComputeTanh, ONNX Runtime's float Tanh): Eigen's p(x) / q(x) on x clamped to
# [-9, 9], odd p of degree 13, even q of degree 6.
_MLAS_TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
                1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)
_MLAS_TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)


def _horner_f32(coefficients: Sequence[float], x2: np.float32) -> np.float32:
    acc = f32(coefficients[0])
    for c in coefficients[1:]:
        acc = f32(acc * x2) + f32(c)   # two roundings: the portable kernel, no fused multiply-add
    return acc


def _mlas_logistic_f32(x: np.float32) -> np.float32:
    v = min(max(f32(x), f32(-18.0)), f32(18.0))
    v2 = f32(v * v)
    p = f32(_horner_f32(_MLAS_LOGISTIC_P, v2) * v)
    q = _horner_f32(_MLAS_LOGISTIC_Q, v2)
    return min(max(f32(p / q) + f32(0.5), f32(0.0)), f32(1.0))


def _mlas_tanh_f32(x: np.float32) -> np.float32:
    v = min(max(f32(x), f32(-9.0)), f32(9.0))
    v2 = f32(v * v)
    return f32(f32(_horner_f32(_MLAS_TANH_P, v2) * v) / _horner_f32(_MLAS_TANH_Q, v2))


def onnx_lut_table(kind: str, input_scale: float, input_zero_point: int, output_scale: float,
                   output_zero_point: int) -> np.ndarray:
    """The 256-entry table of a DequantizeLinear -> Sigmoid|Tanh -> QuantizeLinear group the way
    ONNX Runtime builds QLinearSigmoid's: each int8 input dequantized in float32, the function in
    float32 by MLAS's approximation, QuantizeLinear (divide, ties to even, saturate). Tanh has no
    int8 kernel in ONNX Runtime: its float Tanh (the same MLAS code) runs between the pair, which
    is the same table. Indexed by the input's byte, (uint8_t)x."""
    fn = _mlas_logistic_f32 if kind == "sigmoid" else _mlas_tanh_f32
    si, so = f32(input_scale), f32(output_scale)
    table = np.empty(256, dtype=np.int8)
    for val in range(INT8_MIN, INT8_MAX + 1):
        y = fn(f32(si * f32(val - input_zero_point)))
        q = int(np.rint(f32(y / so))) + output_zero_point
        table[val & 0xFF] = min(max(q, INT8_MIN), INT8_MAX)
    return table


# ---------------------------------------------------------------------------------------
# one-input int8 elementwise ops as 256-entry tables (ABS, LEAKY_RELU, EXP, LOG, RSQRT):
# each entry is what TFLite's int8 kernel computes for that input byte
# ---------------------------------------------------------------------------------------

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def _srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc_div(ab + nudge, 1 << 31)


def _rdbpot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent, ties away from zero."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier (int32 x, the pair from quantize_multiplier)."""
    left, right = max(shift, 0), max(-shift, 0)
    return _rdbpot(_srdhm(x * (1 << left), multiplier), right)


def _clamp8(v: int) -> int:
    return min(max(v, INT8_MIN), INT8_MAX)


def abs_table(input_scale: float, input_zero_point: int, output_scale: float,
              output_zero_point: int) -> np.ndarray:
    """ABS (elementwise.cc, int8): |x - zp_in| rescaled by in_scale / out_scale (a float32
    quotient) with MultiplyByQuantizedMultiplier, plus zp_out. Equal scales skip the rescale,
    which the multiplier for 1.0 reproduces exactly."""
    m, s = quantize_multiplier(float(f32(input_scale) / f32(output_scale)))
    table = np.empty(256, dtype=np.int8)
    for val in range(INT8_MIN, INT8_MAX + 1):
        y = multiply_by_quantized_multiplier(abs(val - input_zero_point), m, s) + output_zero_point
        table[val & 0xFF] = _clamp8(y)
    return table


def leaky_relu_table(input_scale: float, input_zero_point: int, output_scale: float,
                     output_zero_point: int, alpha: float) -> np.ndarray:
    """LEAKY_RELU (QuantizeLeakyRelu): x - zp_in rescaled by in/out (x >= 0) or by
    in * alpha / out (x < 0), both quotients in float32 as TFLite's Prepare computes them."""
    si, so = f32(input_scale), f32(output_scale)
    mi, shi = quantize_multiplier(float(si / so))
    ma, sha = quantize_multiplier(float(si * f32(alpha) / so))
    table = np.empty(256, dtype=np.int8)
    for val in range(INT8_MIN, INT8_MAX + 1):
        v = val - input_zero_point
        y = multiply_by_quantized_multiplier(v, mi, shi) if v >= 0 else multiply_by_quantized_multiplier(v, ma, sha)
        table[val & 0xFF] = _clamp8(y + output_zero_point)
    return table


def _libm_f(name: str):
    lib = _libm()
    if lib is None:
        return None
    fn = getattr(lib, name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def float_fn_table(kind: str, input_scale: float, input_zero_point: int, output_scale: float,
                   output_zero_point: int) -> np.ndarray:
    """EXP, LOG, RSQRT: TFLite builds these int8 tables in float32 (LUTPopulate) with the C
    library's expf / logf / 1/sqrtf; non-finite results saturate."""
    def f(x: np.float32) -> np.float32:
        with np.errstate(all="ignore"):
            if kind == "exp":
                lib = _libm_f("expf")
                return f32(lib(float(x))) if lib else f32(np.exp(np.float64(x)))
            if kind == "log":
                lib = _libm_f("logf")
                return f32(lib(float(x))) if lib else f32(np.log(np.float64(x)))
            lib = _libm_f("sqrtf")
            return f32(1.0) / (f32(lib(float(x))) if lib else np.sqrt(x))
    si, inv = f32(input_scale), f32(1.0) / f32(output_scale)
    table = np.empty(256, dtype=np.int8)
    for val in range(INT8_MIN, INT8_MAX + 1):
        with np.errstate(all="ignore"):
            y = f(si * f32(val - input_zero_point)) * inv
        if not math.isfinite(float(y)):
            q = INT8_MIN if (math.isnan(float(y)) or y < 0) else INT8_MAX
        else:
            q = int(f32(round_half_away(float(y))) + f32(output_zero_point))
        table[val & 0xFF] = _clamp8(q)
    return table


def prelu_table(input_scale: float, input_zero_point: int, alpha_scale: float, alpha_zero_point: int,
                alpha: Sequence[int], output_scale: float, output_zero_point: int) -> np.ndarray:
    """PRELU int8 (H3c, TFLite's reference Prelu): v = x - zp_in; v >= 0 rescaled by in/out,
    v < 0 as v * (alpha - zp_alpha) rescaled by in * alpha_scale / out (float32 quotients, as
    TFLite's Prepare computes them), plus zp_out. One 256-entry row per channel: [C, 256],
    indexed by (uint8_t)x."""
    si, sa, so = f32(input_scale), f32(alpha_scale), f32(output_scale)
    m1, s1 = quantize_multiplier(float(si / so))
    m2, s2 = quantize_multiplier(float(si * sa / so))
    table = np.empty((len(alpha), 256), dtype=np.int8)
    for c, a in enumerate(alpha):
        av = int(a) - alpha_zero_point
        for val in range(INT8_MIN, INT8_MAX + 1):
            v = val - input_zero_point
            y = multiply_by_quantized_multiplier(v, m1, s1) if v >= 0 else multiply_by_quantized_multiplier(v * av, m2, s2)
            table[c, val & 0xFF] = _clamp8(y + output_zero_point)
    return table
