"""Int8 math composites of H2 (optimize/quantized_math.py) -> int8 kernel nodes, bit-exact with
TFLite's reference kernels (arithmetic in quantize/tflite_math.py):

- SQUARED_DIFFERENCE -> squared_difference_i8, DIV -> div_i8 (both broadcasting);
- SUM -> sum_i8, the interpreter's builtin arithmetic (its int8 reference SUM is broken);
- L2_NORMALIZATION -> l2norm_i8 (TFLite's integer kernel, output scale 1/128, zero point 0);
- SQRT, and the float islands ELU, NEG, FLOOR (DEQUANTIZE -> float op -> QUANTIZE, no int8
  kernel in TFLite) -> lut_i8 with a table of the interpreter's float32 steps.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.composite import CompositeBody
from hhbc.lower.graph import Tensor
from hhbc.lower.quantized import _act_range, _data_quant, _emit_q, _np, _onnx, _quant_of, reduced_axes
from hhbc.quantize import tflite_math as tm


def _tflite_only(lw, what: str) -> None:
    if _onnx(lw):
        raise HhbcError(f"layer '{lw.layer}': int8 {what} of an ONNX QDQ model is not supported")


def _broadcast(a: Tensor, b: Tensor, var) -> dict:
    from hhbc.lower.from_relax import broadcast_strides

    out_shape = tuple(int(d) for d in var.ty.shape) or (1,)
    return {"ndim": len(out_shape), "out_dim": list(out_shape),
            "a_stride": broadcast_strides(a.shape, out_shape), "b_stride": broadcast_strides(b.shape, out_shape)}


def _same_operand(g: CompositeBody, x, y) -> bool:
    dx, dy = g.op(x, "relax.dequantize"), g.op(y, "relax.dequantize")
    return dx is not None and dy is not None and dx.args[0].same_as(dy.args[0]) and _quant_of(dx) == _quant_of(dy)


def _qsquared_difference(lw, var, g: CompositeBody) -> Tensor:
    mul = g.calls["relax.multiply"]
    d1, d2 = g.op(mul.args[0], "relax.subtract"), g.op(mul.args[1], "relax.subtract")
    if not (_same_operand(g, d1.args[0], d2.args[0]) and _same_operand(g, d1.args[1], d2.args[1])):
        raise HhbcError(f"layer '{lw.layer}': int8 (a - b) * (c - d) is not a squared difference")
    _tflite_only(lw, "SQUARED_DIFFERENCE")
    a, a_q = _data_quant(lw, g.op(d1.args[0], "relax.dequantize"))
    b, b_q = _data_quant(lw, g.op(d1.args[1], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    try:
        p = tm.squared_difference_params(a_q.scale[0], b_q.scale[0], out_q.scale[0])
    except ValueError as err:
        raise HhbcError(f"layer '{lw.layer}': int8 SQUARED_DIFFERENCE: {err}") from None
    params = {"shape": _broadcast(a, b, var), "left_shift": p.left_shift,
              "a_zp": a_q.zero_point[0], "a_multiplier": p.a_multiplier, "a_shift": p.a_shift,
              "b_zp": b_q.zero_point[0], "b_multiplier": p.b_multiplier, "b_shift": p.b_shift,
              "output_zp": out_q.zero_point[0], "output_multiplier": p.output_multiplier,
              "output_shift": p.output_shift}
    return _emit_q(lw, "squared_difference_i8", var, [a, b], params, {}, out_q)


def _qdiv(lw, var, g: CompositeBody) -> Tensor:
    div = g.calls["relax.divide"]
    _tflite_only(lw, "DIV")
    a, a_q = _data_quant(lw, g.op(div.args[0], "relax.dequantize"))
    b, b_q = _data_quant(lw, g.op(div.args[1], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    m, s = tm.div_multiplier(a_q.scale[0], b_q.scale[0], out_q.scale[0])
    lo, hi = _act_range(g, out_q)
    params = {"shape": _broadcast(a, b, var), "a_zp": a_q.zero_point[0], "b_zp": b_q.zero_point[0],
              "output_zp": out_q.zero_point[0], "output_multiplier": m, "output_shift": s,
              "act_min": lo, "act_max": hi}
    return _emit_q(lw, "div_i8", var, [a, b], params, {}, out_q)


def _qsum(lw, var, g: CompositeBody) -> Tensor:
    """SUM: the interpreter's builtin arithmetic (float32 scale and bias, tflite_math.sum_scale_bias)."""
    call = g.calls["relax.sum"]
    _tflite_only(lw, "SUM")
    x, in_q = _data_quant(lw, g.op(call.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    reduced, count = reduced_axes(x, call)
    scale, bias = tm.sum_scale_bias(in_q.scale[0], in_q.zero_point[0], out_q.scale[0], count)
    params = {"ndim": len(x.shape), "in_dim": list(x.shape), "reduced": reduced, "output_zp": out_q.zero_point[0],
              "scale": scale, "bias": bias}
    return _emit_q(lw, "sum_i8", var, [x], params, {}, out_q)


_TABLES = {"relax.sqrt": "SQRT", "relax.negative": "NEG", "relax.floor": "FLOOR"}


def _table_node(lw, var, g: CompositeBody, deq, what: str, kind: str) -> Tensor:
    _tflite_only(lw, what)
    x, in_q = _data_quant(lw, deq)
    out_q = _quant_of(g.calls["relax.quantize"])
    args = (in_q.scale[0], in_q.zero_point[0], out_q.scale[0], out_q.zero_point[0])
    table = tm.sqrt_table(*args) if kind == "sqrt" else tm.float_island_table(kind, *args)
    return _emit_q(lw, "lut_i8", var, [x], {}, {"table": lw.const(table, "table")}, out_q)


def _qmath_table(lw, var, g: CompositeBody) -> Tensor:
    """SQRT (TFLite's int8 kernel), NEG and FLOOR (float islands): a 256-entry table."""
    name = next(op for op in _TABLES if op in g.calls)
    fn = g.calls[name]
    return _table_node(lw, var, g, g.op(fn.args[0], "relax.dequantize"), _TABLES[name],
                       name.removeprefix("relax."))


def _qelu(lw, var, g: CompositeBody) -> Tensor:
    """ELU (a float island; TVM writes it -relu(1 - exp(x)) + relu(x)): a 256-entry table of
    TFLite's float ELU (expm1f) between its DEQUANTIZE and QUANTIZE."""
    exp = g.calls["relax.exp"]
    mul = g.calls["relax.multiply"]
    sub = g.calls["relax.subtract"]
    relus = [c for c in map(g.call, g.values) if c is not None and c.op.name == "relax.nn.relu"]
    x_relu = next((r for r in relus if g.op(r.args[0], "relax.dequantize") is not None), None)
    if (float(_np(mul.args[0])) != -1.0 or float(_np(sub.args[0])) != 1.0 or x_relu is None
            or not _same_operand(g, exp.args[0], x_relu.args[0])):
        raise HhbcError(f"layer '{lw.layer}': not an ELU -relu(1 - exp(x)) + relu(x) (int8)")
    return _table_node(lw, var, g, g.op(exp.args[0], "relax.dequantize"), "ELU", "elu")


def _ql2norm(lw, var, g: CompositeBody) -> Tensor:
    """L2_NORMALIZATION over the last axis (TFLite's integer kernel; output scale 1/128,
    zero point 0, which its converter always gives)."""
    div = g.calls["relax.divide"]
    mul = g.calls["relax.multiply"]
    total = g.calls["relax.sum"]
    _tflite_only(lw, "L2_NORMALIZATION")
    if not (_same_operand(g, div.args[0], mul.args[0]) and _same_operand(g, mul.args[0], mul.args[1])):
        raise HhbcError(f"layer '{lw.layer}': int8 x / norm(y) is not an L2 normalization")
    x, in_q = _data_quant(lw, g.op(div.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    rank = len(x.shape)
    axes = [int(a) % rank for a in total.attrs.axis] if total.attrs.axis is not None else list(range(rank))
    if axes != [rank - 1]:
        raise HhbcError(f"layer '{lw.layer}': int8 L2_NORMALIZATION over axes {axes} (last axis only)")
    if out_q.scale != (float(np.float32(1 / 128)),) or out_q.zero_point != (0,):
        raise HhbcError(f"layer '{lw.layer}': int8 L2_NORMALIZATION output must have scale 1/128 and "
                        f"zero point 0, not {out_q.scale[0]:g} and {out_q.zero_point[0]}")
    depth = x.shape[-1]
    params = {"outer": x.size // depth, "depth": depth, "input_zp": in_q.zero_point[0]}
    return _emit_q(lw, "l2norm_i8", var, [x], params, {}, out_q)


HANDLERS = {
    "hhbc.qsquared_difference": _qsquared_difference, "hhbc.qdiv": _qdiv, "hhbc.qsum": _qsum,
    "hhbc.qmath_table": _qmath_table, "hhbc.qelu": _qelu, "hhbc.ql2norm": _ql2norm,
}
