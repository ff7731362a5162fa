"""TFLite's int8 arithmetic for SQUARED_DIFFERENCE, DIV, SUM, SQRT, and the float ops the
converter leaves between DEQUANTIZE and QUANTIZE in an int8 model (ELU, NEG, FLOOR) (H2).

Parameters are prepared here the way the kernels' Prepare functions compute them (float32
scales, double or float32 quotients as each does); the one-input ops become 256-entry tables
(run by lut_i8), computed element by element with the interpreter's own float32 steps. SUM
follows the interpreter's builtin kernel: its int8 reference kernel is broken (see
sum_scale_bias); for every other op here the reference and builtin kernels agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hhbc.quantize.fixedpoint import (INT8_MAX, INT8_MIN, QuantParamError, _libm_f, f32, quantize_multiplier,
                                      round_half_away)

# squared_difference.cc: both inputs shifted left by 7 before their rescale
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


@dataclass(frozen=True)
class SquaredDifferenceParams:
    left_shift: int
    a_multiplier: int
    a_shift: int
    b_multiplier: int
    b_shift: int
    output_multiplier: int
    output_shift: int


def squared_difference_params(a_scale: float, b_scale: float, output_scale: float) -> SquaredDifferenceParams:
    """SQUARED_DIFFERENCE int8 (squared_difference.cc Prepare, in double): each input rescaled
    to twice the larger input scale, the squared difference by twice_max^2 / (2^14 out_scale).
    Every multiplier must be below one (QuantizeMultiplierSmallerThanOneExp)."""
    sa, sb, so = float(f32(a_scale)), float(f32(b_scale)), float(f32(output_scale))
    twice_max = 2.0 * max(sa, sb)
    am, ash = quantize_multiplier(sa / twice_max)
    bm, bsh = quantize_multiplier(sb / twice_max)
    om, osh = quantize_multiplier(twice_max * twice_max / (float(1 << (2 * SQUARED_DIFFERENCE_LEFT_SHIFT)) * so))
    if max(ash, bsh, osh) > 0:
        raise QuantParamError(f"output scale {so:g} too small for input scales {sa:g}, {sb:g} "
                         "(TFLite needs a rescale below one)")
    return SquaredDifferenceParams(SQUARED_DIFFERENCE_LEFT_SHIFT, am, ash, bm, bsh, om, osh)


def div_multiplier(a_scale: float, b_scale: float, output_scale: float) -> tuple[int, int]:
    """DIV int8 (div.cc Prepare): a_scale / (b_scale * out_scale), evaluated in float32."""
    real = f32(a_scale) / (f32(b_scale) * f32(output_scale))
    return quantize_multiplier(float(real))


def sum_scale_bias(input_scale: float, input_zero_point: int, output_scale: float,
                   count: int) -> tuple[float, float]:
    """SUM int8 as the interpreter's builtin kernel computes it (optimized QuantizedMeanOrSum;
    the reference kernel of ai-edge-litert 2.3.0 returns -1 everywhere): scale = in / out and
    bias = -zp_in * scale * count, each step in float32; the kernel rounds sum * scale + bias."""
    scale = f32(input_scale) / f32(output_scale)
    bias = f32(f32(float(-input_zero_point)) * scale) * f32(count)
    return float(scale), float(bias)


def _clamp8(v: int) -> int:
    return min(max(v, INT8_MIN), INT8_MAX)


def _dequantized(scale: float, zero_point: int, q: int) -> np.float32:
    """DEQUANTIZE / the kernels' `scale * (q - zp)`: exact in double, rounded once to float32."""
    return f32(float(f32(scale)) * float(q - zero_point))


def sqrt_table(input_scale: float, input_zero_point: int, output_scale: float,
               output_zero_point: int) -> np.ndarray:
    """SQRT int8 (elementwise.cc SqrtEvalQuantized): sqrtf of the dequantized input, divided by
    the output scale in float32 and truncated toward zero, plus zp_out. TFLite refuses a
    negative input at run time; hhbc's table gives sqrt(0) for it."""
    so = f32(output_scale)
    table = np.empty(256, dtype=np.int8)
    for q in range(INT8_MIN, INT8_MAX + 1):
        x = _dequantized(input_scale, input_zero_point, q)
        y = np.sqrt(x) if x >= 0 else f32(0.0)   # IEEE sqrt: correctly rounded, as sqrtf
        table[q & 0xFF] = _clamp8(int(f32(y / so)) + output_zero_point)
    return table


def _expm1f(x: np.float32) -> np.float32:
    lib = _libm_f("expm1f")
    return f32(lib(float(x))) if lib else f32(np.expm1(np.float64(x)))


def _float_op(kind: str, x: np.float32) -> np.float32:
    if kind == "negative":
        return -x
    if kind == "floor":
        return f32(np.floor(x))
    if kind == "elu":   # activations.cc Elu: x < 0 ? expm1f(x) : x
        return _expm1f(x) if x < 0 else x
    raise ValueError(f"no float table for {kind}")


def quantize_value(y: np.float32, scale: float, zero_point: int) -> int:
    """QUANTIZE float32 -> int8 (AffineQuantize): round(y / scale) in float32, ties away from
    zero, plus zp, clamped."""
    with np.errstate(all="ignore"):
        r = f32(y) / f32(scale)
    if math.isnan(float(r)):
        return _clamp8(-512 + zero_point)
    r = min(max(float(r), -512.0), 512.0)
    return _clamp8(round_half_away(r) + zero_point)


def float_island_table(kind: str, input_scale: float, input_zero_point: int, output_scale: float,
                       output_zero_point: int) -> np.ndarray:
    """DEQUANTIZE -> float op -> QUANTIZE as the interpreter runs it (ELU, NEG, FLOOR in an int8
    model: TFLite has no int8 kernel, the converter keeps them float), for each int8 input."""
    table = np.empty(256, dtype=np.int8)
    for q in range(INT8_MIN, INT8_MAX + 1):
        y = _float_op(kind, _dequantized(input_scale, input_zero_point, q))
        table[q & 0xFF] = quantize_value(y, output_scale, output_zero_point)
    return table
