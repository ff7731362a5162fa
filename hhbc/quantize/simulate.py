"""Host simulation of a KernelGraph in numpy: what the firmware computes, bit for bit.

`simulate(graph, inputs)` runs the KernelGraph that `hhbc.compiler.compile_model` produced
(`Compiled.graph`) node by node, reading exactly the params and constants the lowering
computed (multipliers, shifts, per-channel arrays, clamps, tables, zero points, the weight
zero points of asymmetric weights). Its int8 arithmetic is an independent numpy rendering of
the reference kernels' semantics (hhbc/kernels/ref/*_i8.c, hhbc_fixedpoint.h): gemmlowp's
fixed-point primitives on int64 arrays holding int32 values (wrapping steps wrapped
explicitly), the ONNX flavour's float32 steps one numpy float32 operation at a time, so the
emulated firmware must equal it exactly.
That separates kernel bugs from quantization error (issue 14, item 4).

Convolutions and dense layers sum int8 x int8 products with numpy's float64 BLAS: every
product is below 2^15 in magnitude and no sum of the sizes hhbc compiles comes near 2^53,
so the float64 sums are the exact integers (checked per node).

Float ops (those an int8 graph can still hold at its edges, such as the Softmax after the
last DequantizeLinear of an ONNX QDQ model, and the float kernels of a float graph: conv,
depthwise, deconv, dense, matmul, pools, PReLU, LRN, elementwise math, softmax, reductions)
are computed with numpy (simulate_float.py), summing in float64 and rounding to float32 once:
approximately, not bit for bit (the C kernels sum in float32 in their own order and call
libm); `Simulation.exact` says whether any ran. Data movement (views, copies, transposes, slices, gathers,
concatenation, padding, nearest resize, arg max/min) is exact in every dtype. An op without a
model is refused: "host simulation: no model of kernel op 'X' (layer 'L')".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.graph import KernelGraph, Node, Tensor

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I16_MIN, I16_MAX = -(2**15), 2**15 - 1
F32 = np.float32


@dataclass
class Simulation:
    outputs: list[np.ndarray]                                    # model output order, firmware dtypes
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # every node output (keep=True)
    exact: bool = True        # False when a float op ran (float32 numpy, approximate)


# =========================================================================== fixed point
# Values are int64 numpy arrays (or scalars) holding int32 (or int16) quantities.

def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap32(x):
    """x modulo 2^32 as a signed int32 value (two's complement wrap)."""
    return ((_i64(x) + 2**31) & 0xFFFFFFFF) - 2**31


def wrap16(x):
    return ((_i64(x) + 2**15) & 0xFFFF) - 2**15


def _trunc_div_pot(x, n: int):
    """x / 2^n rounded toward zero."""
    x = _i64(x)
    return np.where(x >= 0, x >> n, -((-x) >> n))


def srdhm(a, b):
    """round(a * b / 2^31), ties away from zero; MIN * MIN saturates (VQRDMULH)."""
    a, b = _i64(a), _i64(b)
    ab = a * b
    q = _trunc_div_pot(ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30)), 31)
    return np.where((a == I32_MIN) & (b == I32_MIN), I32_MAX, q)


def rdbpot(x, exponent):
    """x / 2^exponent rounded to nearest, ties away from zero (exponent >= 0, any size)."""
    x = _i64(x)
    e = np.minimum(_i64(exponent), 62)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def shl32(x, n):
    """x * 2^n modulo 2^32 (0 <= n <= 31)."""
    return wrap32(_i64(x) << _i64(n))


def sat_shl(x, exponent: int):
    """x * 2^exponent saturated to int32, 0 <= exponent <= 30."""
    x = _i64(x)
    if exponent == 0:
        return x
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, I32_MAX, np.where(x < -threshold, I32_MIN, x << exponent))


def mul_by_qm(x, multiplier, shift):
    """x * multiplier * 2^(shift - 31): wrapping left shift, srdhm, rounding right shift."""
    shift = _i64(shift)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    return rdbpot(srdhm(shl32(x, left), multiplier), right)


def clz32(x):
    """Leading zero bits of x read as uint32 (32 for 0)."""
    u = _i64(x) & 0xFFFFFFFF
    _, exp = np.frexp(u.astype(np.float64))     # u = m * 2^exp, m in [0.5, 1): exact for u < 2^53
    return np.where(u == 0, 32, 32 - exp).astype(np.int64)


def round_half_away(v: np.ndarray) -> np.ndarray:
    """Round to nearest, ties away from zero, exactly (no v + 0.5 rounding), in v's dtype."""
    t = np.trunc(v)
    frac = v - t                                  # exact
    return t + np.where(np.abs(frac) >= 0.5, np.sign(v), 0).astype(v.dtype)


def quantize_f32(v: np.ndarray, zp: int, lo: int, hi: int) -> np.ndarray:
    """hhbc_fp_quantize_f32: clamp in float32 (NaN -> lo), round half to even, + zp."""
    v = np.asarray(v, F32)
    flo, fhi = F32(lo - zp), F32(hi - zp)
    v = np.where(v >= flo, v, flo)
    v = np.where(v > fhi, fhi, v)
    return np.rint(v).astype(np.int64) + zp


def requant_f32(acc, scale, zp: int, lo: int, hi: int) -> np.ndarray:
    """round_half_even(float32(acc) * scale) + zp, clamped (QLinearConv / QGemm)."""
    v = _i64(acc).astype(F32) * np.asarray(scale, F32)
    return quantize_f32(v, zp, lo, hi)


def _clamp(x, lo, hi) -> np.ndarray:
    return np.clip(_i64(x), lo, hi)


def _to_i8(x) -> np.ndarray:
    return _clamp(x, -128, 127).astype(np.int8)


# ---- gemmlowp exp and reciprocal (softmax, div) -----------------------------------------

def _add(a, b):
    return wrap32(_i64(a) + _i64(b))


def _sub(a, b):
    return wrap32(_i64(a) - _i64(b))


def exp_on_interval_m025_0(a):
    exp_minus_one_eighth, one_third = 1895147668, 715827883
    x = _add(a, 1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(_add(srdhm(_add(x4_over_4, x3), one_third), x2), 1)
    return _add(exp_minus_one_eighth, srdhm(exp_minus_one_eighth, _add(x, poly)))


_EXP_OF_MINUS_POT = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def exp_on_negative_values(a, integer_bits: int):
    """exp(a) for a <= 0 in Q(integer_bits); result Q0.31 (gemmlowp)."""
    a = _i64(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_quarter = _sub(a & (one_quarter - 1), one_quarter)
    result = exp_on_interval_m025_0(sat_shl(a_mod_quarter_minus_quarter, integer_bits))
    remainder = _sub(a_mod_quarter_minus_quarter, a)
    for e in range(-2, 5):
        if integer_bits > e:
            bit = (remainder & (1 << (frac_bits + e))) != 0
            result = np.where(bit, srdhm(result, _EXP_OF_MINUS_POT[e + 2]), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, I32_MAX, result)


def one_over_one_plus_x(a):
    """1 / (1 + a) for a in [0, 1), Q0.31 (three Newton-Raphson steps in Q2.29)."""
    s = _i64(a) + I32_MAX
    half_denominator = np.where(s >= 0, (s + 1) // 2, -((-(s - 1)) // 2))
    x = _add(1515870810, srdhm(half_denominator, -1010580540))
    for _ in range(3):
        one_minus = _sub(1 << 29, srdhm(half_denominator, x))
        x = _add(x, sat_shl(srdhm(x, one_minus), 2))
    return sat_shl(x, 1)


# ---- int16 gemmlowp primitives (hard-swish) ----------------------------------------------

def _srdhm16(a, b):
    a, b = _i64(a), _i64(b)
    ab = a * b
    q = _trunc_div_pot(ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14)), 15)
    return np.where((a == I16_MIN) & (b == I16_MIN), I16_MAX, q)


def _sdhm16(a, b):
    a, b = _i64(a), _i64(b)
    return np.where((a == I16_MIN) & (b == I16_MIN), I16_MAX, _trunc_div_pot(a * b, 15))


def _rdbpot16(x, e: int):
    return wrap16(rdbpot(x, e))


def _sat_shl16(x, amount: int):
    return np.clip(_i64(x) << amount, I16_MIN, I16_MAX)


# =========================================================================== helpers

def _exact_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for integer matrices, exactly: float64 BLAS, whose sums are exact below 2^53."""
    k = a.shape[-1]
    bound = k * max(int(np.max(np.abs(a), initial=0)), 1) * max(int(np.max(np.abs(b), initial=0)), 1)
    if bound >= 2**53:
        return a.astype(np.int64) @ b.astype(np.int64)
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _strided_read(flat: np.ndarray, out_dim, strides, offset: int = 0) -> np.ndarray:
    """out[idx] = flat[offset + sum idx[i] * strides[i]] (the strided-copy kernels' rule)."""
    out_dim = [int(d) for d in out_dim]
    index = np.full(out_dim, int(offset), np.int64)
    for axis, (d, s) in enumerate(zip(out_dim, strides)):
        shape = [1] * len(out_dim)
        shape[axis] = d
        index = index + np.arange(d, dtype=np.int64).reshape(shape) * int(s)
    return flat[index]


def _broadcast_pair(a: np.ndarray, b: np.ndarray, shape: dict) -> tuple[np.ndarray, np.ndarray]:
    n = shape["ndim"]
    dims = shape["out_dim"][:n]
    return (_strided_read(a.reshape(-1), dims, shape["a_stride"][:n]),
            _strided_read(b.reshape(-1), dims, shape["b_stride"][:n]))


def _taps(x: np.ndarray, oh_n: int, ow_n: int, p: dict):
    """For every kernel tap (kh, kw): the input pixels each output reads, [N][OH][OW][C], and
    whether each (oh, ow) reads inside the input ([OH][OW] bool)."""
    h, w = x.shape[1], x.shape[2]
    dh, dw = p.get("dilation_h", 1), p.get("dilation_w", 1)
    oh = np.arange(oh_n) * p["stride_h"] - p["pad_top"]
    ow = np.arange(ow_n) * p["stride_w"] - p["pad_left"]
    for kh in range(p["kernel_h"]):
        ih = oh + kh * dh
        vh = (ih >= 0) & (ih < h)
        rows = x[:, np.clip(ih, 0, h - 1)]
        for kw in range(p["kernel_w"]):
            iw = ow + kw * dw
            vw = (iw >= 0) & (iw < w)
            yield kh, kw, rows[:, :, np.clip(iw, 0, w - 1)], vh[:, None] & vw[None, :]


def _const(node: Node, key: str) -> np.ndarray | None:
    t = node.consts.get(key)
    return None if t is None else np.asarray(t.data)


def _finish_rescale(acc: np.ndarray, node: Node, channel_axis_len: int) -> np.ndarray:
    """conv / depthwise / dense / deconv: + bias, then the TFLite or ONNX requantization.
    acc is int64 [..., OC]; returns int8."""
    p = node.params
    bias = _const(node, "bias")
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    acc = wrap32(acc)                                  # the kernels' int32 accumulator
    per = bool(p.get("per_channel"))

    def chan(arr):
        arr = np.asarray(arr).reshape(-1)
        return arr if per else np.broadcast_to(arr[:1], (channel_axis_len,))

    lo, hi = p["act_min"], p["act_max"]
    scale = _const(node, "scale")
    if scale is not None:                               # ONNX flavour
        return requant_f32(acc, chan(scale.astype(F32)), p["output_zp"], lo, hi).astype(np.int8)
    real = _const(node, "real_scale")
    if real is not None:                                # TFLite reference FULLY_CONNECTED
        r = round_half_away(acc.astype(np.float64) * chan(real.astype(np.float64)))
        y = np.clip(r, I32_MIN, I32_MAX).astype(np.int64) + p["output_zp"]
        return _clamp(y, lo, hi).astype(np.int8)
    y = mul_by_qm(acc, chan(_const(node, "multiplier")), chan(_const(node, "shift"))) + p["output_zp"]
    return _clamp(y, lo, hi).astype(np.int8)


# =========================================================================== int8 ops

def _conv2d_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n_, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.int64)          # [OC][KH][KW][IC/g]
    groups = p["groups"]
    icg, ocg = x.shape[3] // groups, oc_n // groups
    xc = x.astype(np.int64) - p["input_zp"]
    cols = np.stack([np.where(valid[None, :, :, None], patch, 0)
                     for _, _, patch, valid in _taps(xc, oh_n, ow_n, p)], axis=3)   # [N][OH][OW][T][C]
    wzp = _const(node, "weight_zp")
    acc = np.empty((n_, oh_n, ow_n, oc_n), np.int64)
    for g in range(groups):
        a = cols[..., g * icg:(g + 1) * icg].reshape(n_ * oh_n * ow_n, -1)
        b = w[g * ocg:(g + 1) * ocg].reshape(ocg, -1).T
        acc[..., g * ocg:(g + 1) * ocg] = _exact_dot(a, b).reshape(n_, oh_n, ow_n, ocg)
        if wzp is not None:   # asymmetric weights: sum x * (w - wzp) = sum x * w - wzp * sum x
            xsum = a.sum(axis=1).reshape(n_, oh_n, ow_n, 1)
            acc[..., g * ocg:(g + 1) * ocg] -= xsum * wzp[g * ocg:(g + 1) * ocg].astype(np.int64)
    return _finish_rescale(acc, node, oc_n)


def _depthwise_conv2d_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n_, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.int64)          # [KH][KW][OC]
    mult = oc_n // x.shape[3]
    xc = x.astype(np.int64) - p["input_zp"]
    if mult > 1:
        xc = np.repeat(xc, mult, axis=3)                   # output channel oc reads oc / mult
    acc = np.zeros((n_, oh_n, ow_n, oc_n), np.int64)
    xsum = np.zeros_like(acc)
    for kh, kw, patch, valid in _taps(xc, oh_n, ow_n, p):
        tap = np.where(valid[None, :, :, None], patch, 0)
        acc += tap * w[kh, kw]
        xsum += tap
    wzp = _const(node, "weight_zp")
    if wzp is not None:       # asymmetric weights
        acc -= xsum * wzp.astype(np.int64)
    return _finish_rescale(acc, node, oc_n)


def _dense_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    xc = x.reshape(p["m"], p["k"]).astype(np.int64) - p["input_zp"]
    w = _const(node, "weight").astype(np.int64).reshape(p["n"], p["k"])
    acc = _exact_dot(xc, w.T)
    wzp = _const(node, "weight_zp")
    if wzp is not None:       # asymmetric weights
        acc -= xc.sum(axis=1, keepdims=True) * wzp.astype(np.int64).reshape(1, -1)
    return _finish_rescale(acc, node, p["n"]).reshape(node.output.shape)


def _deconv2d_i8(node: Node, x: np.ndarray) -> np.ndarray:
    """TRANSPOSE_CONV: every input pixel scattered through the filter (TFLite's order; the
    integer sums are the kernel's gather sums)."""
    p = node.params
    if "weight_zp" in node.consts:
        raise HhbcError(f"host simulation: no model of kernel op 'deconv2d_i8' with weight zero points "
                        f"(layer '{node.layer}')")
    n_, h, w_, ic = x.shape
    _, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.int64)          # [OC][KH][KW][IC]
    kh_n, kw_n, sh, sw = p["kernel_h"], p["kernel_w"], p["stride_h"], p["stride_w"]
    pt, pl = p["pad_top"], p["pad_left"]
    full_h = max((h - 1) * sh + kh_n, pt + oh_n)
    full_w = max((w_ - 1) * sw + kw_n, pl + ow_n)
    full = np.zeros((n_, full_h, full_w, oc_n), np.int64)
    xc = (x.astype(np.int64) - p["input_zp"]).reshape(-1, ic)
    for kh in range(kh_n):
        for kw in range(kw_n):
            contrib = _exact_dot(xc, w[:, kh, kw, :].T).reshape(n_, h, w_, oc_n)
            full[:, kh:kh + (h - 1) * sh + 1:sh, kw:kw + (w_ - 1) * sw + 1:sw] += contrib
    return _finish_rescale(full[:, pt:pt + oh_n, pl:pl + ow_n], node, oc_n)


def _pool2d_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    _, oh_n, ow_n, c = node.output.shape
    xi = x.astype(np.int64)
    count = np.zeros((oh_n, ow_n), np.int64)
    if p["kind"] == "max":
        acc = np.full(node.output.shape, -128, np.int64)
        for _, _, patch, valid in _taps(xi, oh_n, ow_n, p):
            acc = np.where(valid[None, :, :, None], np.maximum(acc, patch), acc)
            count += valid
        return _clamp(acc, p["act_min"], p["act_max"]).astype(np.int8)
    rounding = p.get("rounding", "tflite")
    acc = np.zeros(node.output.shape, np.int64)
    fsum = np.zeros(node.output.shape, F32)
    in_scale, in_zp = F32(p.get("input_scale", 0.0)), p.get("input_zp", 0)
    for _, _, patch, valid in _taps(xi, oh_n, ow_n, p):
        v = valid[None, :, :, None]
        if rounding == "onnx_float":     # float32 sum, tap by tap in the kernel's order
            real = in_scale * (patch - in_zp).astype(F32)
            fsum = np.where(v, fsum + real, fsum).astype(F32)
        else:
            acc = acc + np.where(v, patch, 0)
        count += valid
    cnt = count[None, :, :, None]
    if rounding == "onnx_whole":
        y = requant_f32(acc - cnt * p["input_zp"], F32(p["scale"]), p["output_zp"], -128, 127)
    elif rounding == "onnx_float":
        n = np.full_like(cnt, p["kernel_h"] * p["kernel_w"]) if p["count_include_pad"] else cnt
        avg = (fsum / n.astype(F32)).astype(F32)
        scaled = (avg / F32(p["output_scale"])).astype(F32)
        v = (scaled + F32(p["output_zp"] + 128)).astype(F32)
        y = quantize_f32(v, 0, 0, 255) - 128
    else:                                                 # rounded half away from zero
        safe = np.maximum(cnt, 1)
        num = np.where(acc > 0, acc + safe // 2, acc - safe // 2)
        y = np.where(num >= 0, num // safe, -((-num) // safe))
    y = np.where(cnt == 0, 0, y)
    return _clamp(y, p["act_min"], p["act_max"]).astype(np.int8)


def _softmax_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    outer, axis, inner = p["outer"], p["axis_size"], p["inner"]
    rows = x.reshape(outer, axis, inner).transpose(0, 2, 1).reshape(-1, axis).astype(np.int64)
    diff = rows - rows.max(axis=1, keepdims=True)
    live = diff >= p["diff_min"]
    scaled = mul_by_qm(diff, p["input_multiplier"], p["input_left_shift"])
    e = exp_on_negative_values(scaled, 5)                              # Q0.31
    total = wrap32(np.sum(np.where(live, rdbpot(e, 12), 0), axis=1))  # Q12.19, wrapping adds
    headroom = clz32(total)
    bits_over_unit = 12 - headroom
    f = wrap32(((total & 0xFFFFFFFF) << headroom) - 2**31)
    reciprocal = one_over_one_plus_x(f)
    exponent = bits_over_unit + 31 - 8
    y = rdbpot(srdhm(reciprocal[:, None], e), exponent[:, None]) - 128
    y = np.where(live, _clamp(y, -128, 127), -128)
    return y.reshape(outer, inner, axis).transpose(0, 2, 1).astype(np.int8).reshape(node.output.shape)


def _reduce_axes(p: dict) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ndim = p["ndim"]
    dims = tuple(p["in_dim"][:ndim])
    return dims, tuple(d for d in range(ndim) if p["reduced"][d])


def _mean_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    dims, axes = _reduce_axes(p)
    total = wrap32(x.reshape(dims).astype(np.int64).sum(axis=axes))
    y = mul_by_qm(wrap32(total - p["input_zp"] * p["count"]), p["multiplier"], p["shift"]) + p["output_zp"]
    return _to_i8(y).reshape(node.output.shape)


def _sum_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    dims, axes = _reduce_axes(p)
    total = x.reshape(dims).astype(np.int64).sum(axis=axes)
    scaled = (total.astype(F32) * F32(p["scale"])).astype(F32)
    v = round_half_away((scaled + F32(p["bias"])).astype(F32))
    c = np.clip(v, -512, 512).astype(np.int64)
    return _to_i8(c + p["output_zp"]).reshape(node.output.shape)


def _concat(node: Node, *xs: np.ndarray) -> np.ndarray:
    p = node.params
    if node.consts.get("requant") is not None:
        raise HhbcError(f"host simulation: no model of kernel op '{node.op}' with requant (layer '{node.layer}')")
    parts = [a.reshape(p["outer"], d * p["inner"]) for a, d in zip(xs, p["axis_dim"])]
    return np.concatenate(parts, axis=1).reshape(node.output.shape)


def _requantize_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    izp, ozp = p["rq.input_zp"], p["rq.output_zp"]
    if p.get("onnx"):
        real = F32(p["input_scale"]) * (x.astype(np.int64) - izp).astype(F32)
        v = (real / F32(p["output_scale"])).astype(F32)
        return quantize_f32(v, ozp, p["act_min"], p["act_max"]).astype(np.int8)
    y = mul_by_qm(x.astype(np.int64) - izp, p["rq.multiplier"], p["rq.shift"]) + ozp
    return _clamp(y, p["act_min"], p["act_max"]).astype(np.int8)


def _pad_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    out = np.full(p["out_dim"][:n], p["value"], np.int8)
    box = tuple(slice(b, b + d) for b, d in zip(p["before"][:n], p["in_dim"][:n]))
    out[box] = x.reshape(p["in_dim"][:n])
    return out.reshape(node.output.shape)


def _lut_i8(node: Node, x: np.ndarray) -> np.ndarray:
    table = _const(node, "table").astype(np.int8).reshape(256)
    return table[x.astype(np.uint8)].reshape(node.output.shape)


def _prelu_i8(node: Node, x: np.ndarray) -> np.ndarray:
    channels = node.params["channels"]
    table = _const(node, "table").astype(np.int8).reshape(channels, 256)
    flat = x.reshape(-1)
    c = np.arange(flat.size) % channels
    return table[c, flat.astype(np.uint8)].reshape(node.output.shape)


def _add_i8(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    av, bv = _broadcast_pair(a, b, p["shape"])
    av, bv = av.astype(np.int64), bv.astype(np.int64)
    lo, hi = p["act_min"], p["act_max"]
    if p.get("onnx"):     # QLinearAdd on x86, in uint8 (+128), float32 one step at a time
        ta = ((av + 128).astype(F32) * F32(p["a_ratio"])).astype(F32)
        tb = ((bv + 128).astype(F32) * F32(p["b_ratio"])).astype(F32)
        v = ((F32(p["fixed"]) + ta).astype(F32) + tb).astype(F32)
        y = quantize_f32(v, 0, lo + 128, hi + 128) - 128
    else:
        ls = p["left_shift"]
        a_s = mul_by_qm(shl32(av - p["a_zp"], ls), p["a_multiplier"], p["a_shift"])
        b_s = mul_by_qm(shl32(bv - p["b_zp"], ls), p["b_multiplier"], p["b_shift"])
        total = wrap32(a_s - b_s) if p.get("sub") else wrap32(a_s + b_s)
        y = mul_by_qm(total, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
    return _clamp(y, lo, hi).astype(np.int8).reshape(node.output.shape)


def _mul_i8(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    av, bv = _broadcast_pair(a, b, p["shape"])
    prod = (av.astype(np.int64) - p["a_zp"]) * (bv.astype(np.int64) - p["b_zp"])
    y = mul_by_qm(prod, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
    return _clamp(y, p["act_min"], p["act_max"]).astype(np.int8).reshape(node.output.shape)


def _squared_difference_i8(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    av, bv = _broadcast_pair(a, b, p["shape"])
    ls = p["left_shift"]
    a_s = mul_by_qm(shl32(av.astype(np.int64) - p["a_zp"], ls), p["a_multiplier"], p["a_shift"])
    b_s = mul_by_qm(shl32(bv.astype(np.int64) - p["b_zp"], ls), p["b_multiplier"], p["b_shift"])
    d = a_s - b_s
    y = mul_by_qm(d * d, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
    return _to_i8(y).reshape(node.output.shape)


def _leading_sign_bits(x):
    x = _i64(x)
    neg = np.where(x == I32_MIN, 0, clz32(2 * (-x) - 1))
    return np.where(x >= 0, clz32(x) - 1, neg)


def _div_i8(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    av, bv = _broadcast_pair(a, b, p["shape"])
    num0, den0 = av.astype(np.int64) - p["a_zp"], bv.astype(np.int64) - p["b_zp"]
    lo, hi = p["act_min"], p["act_max"]
    num = np.where(den0 < 0, -num0, num0)
    den = np.where(den0 == 0, 1, np.abs(den0))
    headroom_plus_one = clz32(den)
    recip_shift = 31 - headroom_plus_one
    inv = one_over_one_plus_x(wrap32((den << headroom_plus_one) - 2**31))
    headroom = _leading_sign_bits(num)
    quotient = srdhm(shl32(num, headroom), inv)
    total_shift = p["output_shift"] - recip_shift - headroom
    right = np.maximum(-total_shift, 0)
    scaled = srdhm(quotient, p["output_multiplier"])
    wide = (scaled >> (right & 31)) + (scaled >= 0)       # past 31: the shift count wraps mod 32
    y = np.where(right <= 31, rdbpot(scaled, np.minimum(right, 31)), wide) + p["output_zp"]
    y = _clamp(y, lo, hi)
    zero = np.where(num0 > 0, hi, np.where(num0 < 0, lo, min(max(p["output_zp"], lo), hi)))
    return np.where(den0 == 0, zero, y).astype(np.int8).reshape(node.output.shape)


def _inv_sqrt(total: int) -> tuple[int, int]:
    """GetInvSqrtQuantizedMultiplierExp: 1 / sqrt(total) as (multiplier, left shift)."""
    def pot(x, e):
        return int(sat_shl(x, e)) if e >= 0 else int(rdbpot(x, -e))

    if total <= 1:
        return I32_MAX, 0
    right = 11
    while total >= (1 << 29):
        total //= 4
        right += 1
    pairs = (int(clz32(total)) - 1) // 2 - 1
    right -= pairs
    total <<= 2 * pairs
    half_input = pot(total >> 1, -1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28
    for _ in range(5):
        x3 = pot(int(srdhm(srdhm(x, x), x)), 6)
        x = pot(int(_sub(srdhm(half_three, x), srdhm(half_input, x3))), 3)
    x = int(srdhm(x, 1518500250))
    if right < 0:
        x = int(shl32(x, -right))
        right = 0
    return x, -right


def _l2norm_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    rows = x.reshape(p["outer"], p["depth"]).astype(np.int64) - p["input_zp"]
    totals = wrap32((rows * rows).sum(axis=1))
    out = np.empty(rows.shape, np.int8)
    for r, total in enumerate(totals.tolist()):
        m, s = _inv_sqrt(total)
        out[r] = _to_i8(mul_by_qm(rows[r], m, s + 7))
    return out.reshape(node.output.shape)


def _hardswish_table(p: dict) -> np.ndarray:
    """hard-swish of each int8 value in TFLite's int16 fixed point (vectorized over 256)."""
    x = np.arange(-128, 128, dtype=np.int64)
    x_hires = wrap16((x - p["input_zp"]) * 128)
    x_preshift = _srdhm16(x_hires, p["output_multiplier"])
    r = x_hires
    re = p["reluish_exponent"]
    if re > 0:
        r = _sat_shl16(r, re - 1)
    r = _srdhm16(r, p["reluish_multiplier"])
    if re > 0:
        r = _sat_shl16(r, 1)
    if re < 0:
        r = _rdbpot16(r, -re)
    r = (r + (1 << 15)) >> 1
    y_preshift = _sdhm16(r, x_preshift)
    y = wrap16(_rdbpot16(y_preshift, -p["output_exponent"]) + p["output_zp"])
    return _to_i8(y)


def _hardswish_i8(node: Node, x: np.ndarray) -> np.ndarray:
    table = _hardswish_table(node.params)
    return table[x.astype(np.int64) + 128].reshape(node.output.shape)


def _resize_bilinear_i8(node: Node, x: np.ndarray) -> np.ndarray:
    y0, y1, dy = (_const(node, k).astype(np.int64) for k in ("y0", "y1", "dy"))
    x0, x1, dx = (_const(node, k).astype(np.int64) for k in ("x0", "x1", "dx"))
    xi = x.astype(np.int64)
    wy1, wx1 = dy[None, :, None, None], dx[None, None, :, None]
    wy0, wx0 = 1024 - wy1, 1024 - wx1
    r0, r1 = xi[:, y0], xi[:, y1]
    v = (r0[:, :, x0] * wy0 * wx0 + r1[:, :, x0] * wy1 * wx0 + r0[:, :, x1] * wy0 * wx1
         + r1[:, :, x1] * wy1 * wx1)
    num = v + np.where(v > 0, 1 << 19, -(1 << 19))
    return _trunc_div_pot(num, 20).astype(np.int8)


def _quantize_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    v = (x.astype(F32) / F32(p["scale"])).astype(F32)
    if p.get("onnx"):
        return quantize_f32(v, p["zero_point"], -128, 127).astype(np.int8)
    r = round_half_away(v)
    r = np.where(r >= F32(-512), r, F32(-512))            # NaN too
    r = np.minimum(r, F32(512)).astype(np.int64)
    return _to_i8(r + p["zero_point"])


def _dequantize_i8(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    return (F32(p["scale"]) * (x.astype(np.int64) - p["zero_point"]).astype(F32)).astype(F32)


# =========================================================================== any dtype

def _copy(node: Node, x: np.ndarray) -> np.ndarray:
    return x.reshape(node.output.shape).copy()


def _transpose(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    return _strided_read(x.reshape(-1), p["out_dim"][:n], p["in_stride"][:n]).reshape(node.output.shape)


def _strided_slice(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    return _strided_read(x.reshape(-1), p["out_dim"][:n], p["in_stride"][:n],
                         p["offset"]).reshape(node.output.shape)


def _gather(node: Node, x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    p = node.params
    k = indices.reshape(-1).astype(np.int64)
    k = np.where(k < 0, k + p["axis_dim"], k)
    k = np.clip(k, 0, p["axis_dim"] - 1)
    return x.reshape(p["outer"], p["axis_dim"], p["inner"])[:, k, :].reshape(node.output.shape)


def _resize2d(node: Node, x: np.ndarray) -> np.ndarray:
    mode = node.params["mode"]
    y0, x0 = _const(node, "y0").astype(np.int64), _const(node, "x0").astype(np.int64)
    if mode == "nearest":
        return x[:, y0][:, :, x0]
    if mode != "bilinear" or x.dtype != np.float32:
        raise HhbcError(f"host simulation: no model of kernel op 'resize2d' mode {mode} on {x.dtype} "
                        f"(layer '{node.layer}')")
    y1, x1 = _const(node, "y1").astype(np.int64), _const(node, "x1").astype(np.int64)
    wy = _const(node, "wy").astype(F32)[None, :, None, None]
    wx = _const(node, "wx").astype(F32)[None, None, :, None]
    r0, r1 = x[:, y0], x[:, y1]
    return ((1 - wy) * (1 - wx) * r0[:, :, x0] + (1 - wy) * wx * r0[:, :, x1]
            + wy * (1 - wx) * r1[:, :, x0] + wy * wx * r1[:, :, x1]).astype(F32)


def _pad(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    before = p["before"][:n]
    after = [o - i - b for o, i, b in zip(p["out_dim"][:n], p["in_dim"][:n], before)]
    xs = x.reshape(p["in_dim"][:n])
    width = list(zip(before, after))
    if p["mode"] == "constant":
        value = np.asarray(p["value"], F32).astype(x.dtype) if x.dtype == np.float32 else p["value"]
        return np.pad(xs, width, constant_values=value).reshape(node.output.shape)
    if p["mode"] == "edge":
        return np.pad(xs, width, mode="edge").reshape(node.output.shape)
    return np.pad(xs, width, mode="reflect").reshape(node.output.shape)


def _argreduce(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    v = x.reshape(p["outer"], p["axis_dim"], p["inner"]).astype(np.float64)
    if p["op"] == "min":
        v = -v
    if p.get("select_last"):
        idx = p["axis_dim"] - 1 - np.argmax(v[:, ::-1, :], axis=1)
    else:
        idx = np.argmax(v, axis=1)
    return idx.astype(node.output.dtype).reshape(node.output.shape)


def _reduce(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    dims = tuple(p["in_dim"][:n])
    axes = tuple(d for d in range(n) if p["out_stride"][d] == 0)   # 0: a reduced axis
    v = x.reshape(dims)
    op = p["op"]
    if x.dtype == np.int8:
        if op not in ("max", "min"):
            raise HhbcError(f"host simulation: no model of kernel op 'reduce' {op} on int8 (layer '{node.layer}')")
        y = v.max(axis=axes) if op == "max" else v.min(axis=axes)
        return y.reshape(node.output.shape)
    fn = {"max": np.max, "min": np.min, "sum": np.sum, "mean": np.mean}[op]
    return fn(v.astype(F32), axis=axes).astype(F32).reshape(node.output.shape)


def _where(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    n = p["ndim"]
    dims = p["out_dim"][:n]
    cond = _strided_read(_const(node, "cond").reshape(-1), dims, p["c_stride"][:n])
    av = _strided_read(a.reshape(-1), dims, p["a_stride"][:n])
    bv = _strided_read(b.reshape(-1), dims, p["b_stride"][:n])
    return np.where(cond != 0, av, bv).reshape(node.output.shape)


OPS: dict[str, Callable] = {
    "quantize_i8": _quantize_i8, "dequantize_i8": _dequantize_i8,
    "conv2d_i8": _conv2d_i8, "depthwise_conv2d_i8": _depthwise_conv2d_i8, "dense_i8": _dense_i8,
    "deconv2d_i8": _deconv2d_i8, "add_i8": _add_i8, "pool2d_i8": _pool2d_i8, "softmax_i8": _softmax_i8,
    "mean_i8": _mean_i8, "sum_i8": _sum_i8, "concat_i8": _concat, "requantize_i8": _requantize_i8,
    "pad_i8": _pad_i8, "lut_i8": _lut_i8, "mul_i8": _mul_i8, "prelu_i8": _prelu_i8,
    "hardswish_i8": _hardswish_i8, "squared_difference_i8": _squared_difference_i8, "div_i8": _div_i8,
    "l2norm_i8": _l2norm_i8, "resize_bilinear_i8": _resize_bilinear_i8,
    # data movement and selection (every dtype, exact)
    "copy": _copy, "transpose": _transpose, "strided_slice": _strided_slice, "gather": _gather,
    "concat": _concat, "resize2d": _resize2d, "pad": _pad, "argreduce": _argreduce, "where": _where,
    # int8 max/min exact, float approximate
    "reduce": _reduce,
}


# Nodes the simulation computes in float (approximately): simulate_float.py's kernels.
FLOAT_OPS = ("conv2d", "depthwise_conv2d", "deconv2d", "dense", "matmul", "pool2d", "prelu", "lrn",
             "conv2d_w8", "depthwise_conv2d_w8", "dense_w8")


def approximate(node: Node) -> bool:
    """Does the simulation compute this node in float32 numpy, approximately (a float op)?"""
    if node.op in ("unary", "softmax") + FLOAT_OPS:
        return True
    if node.op in ("binary", "reduce"):
        return node.output.dtype == "float32"
    return node.op == "resize2d" and node.params.get("mode") != "nearest"


# =========================================================================== the walk

def simulate(graph: KernelGraph, inputs: Sequence[np.ndarray], *, keep: bool = False) -> Simulation:
    """Run `graph` on `inputs` (one array per graph input, in the model's IO dtype and shape;
    int8 for an int8 input). Returns the outputs in model order with the firmware's dtypes,
    and with keep=True every node output by tensor name (for per-layer comparisons)."""
    if len(inputs) != len(graph.inputs):
        raise HhbcError(f"host simulation: {len(inputs)} input array(s) for a model with "
                        f"{len(graph.inputs)} input(s)")
    values: dict[int, np.ndarray] = {}
    for t, array in zip(graph.inputs, inputs):
        array = np.asarray(array)
        if array.size != t.size:
            raise HhbcError(f"host simulation: input '{t.name}': {list(array.shape)} does not fit {list(t.shape)}")
        if array.dtype != np.dtype(t.dtype):
            raise HhbcError(f"host simulation: input '{t.name}' is {t.dtype}, not {array.dtype}")
        values[id(t)] = np.ascontiguousarray(array).reshape(t.shape)

    def read(t: Tensor) -> np.ndarray:
        if t.kind == "const":
            return np.asarray(t.data).reshape(t.shape)
        if t.alias_of is not None:
            return read(t.alias_of).reshape(t.shape)
        if id(t) not in values:
            raise HhbcError(f"host simulation: tensor '{t.name}' is read before it is computed")
        return values[id(t)]

    tensors: dict[str, np.ndarray] = {}
    exact = True
    for node in graph.nodes:
        fn = OPS.get(node.op)
        if fn is None:
            raise HhbcError(f"host simulation: no model of kernel op '{node.op}' (layer '{node.layer}')")
        result = np.asarray(fn(node, *[read(t) for t in node.inputs]))
        exact = exact and not approximate(node)
        out = node.output
        want = np.dtype(out.dtype)
        if result.dtype != want:
            raise HhbcError(f"host simulation: internal: kernel op '{node.op}' gave {result.dtype}, "
                            f"not {want} (layer '{node.layer}')")
        storage = out.storage()
        values[id(storage)] = np.ascontiguousarray(result).reshape(storage.shape)
        if keep:
            name, k = out.name, 2
            while name in tensors:
                name, k = f"{out.name}#{k}", k + 1
            tensors[name] = values[id(storage)].reshape(out.shape)
    outputs = [read(t).reshape(t.shape).astype(t.dtype, copy=True) for t in graph.outputs]
    return Simulation(outputs, tensors, exact=exact)


# The float kernels (approximate), and binary (int8 max/min exact): simulate_float.py, which
# uses this module's helpers and adds its kernels to OPS.
import hhbc.quantize.simulate_float  # noqa: E402,F401
