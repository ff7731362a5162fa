"""Quantized (QDQ) patterns: TVM's TFLite importer writes every int8 op as
dequantize -> float op -> quantize [-> clip]; each such group becomes one composite
("hhbc.qconv2d", "hhbc.qdense", ...) that the lowering turns into one int8 kernel.

The groups are formed before any other pass runs (constant folding would turn the
int8 weights into float ones), and a quantized module gets no float passes at all:
a float op left outside a group has no kernel and is reported, never computed in
float behind the user's back.
"""

from __future__ import annotations

import tvm
from tvm import relax
from tvm.relax.backend.utils import has_leaking_intermediate_variables
from tvm.relax.dpl import is_const, is_op, is_tuple, wildcard

# CONCATENATION patterns are written out per input count; more inputs stay unfused (an error).
MAX_CONCAT_INPUTS = 16


def is_quantized(mod: tvm.IRModule) -> bool:
    """Does main quantize or dequantize anything, or carry int8 tensors at all (a model TVM
    imported with QDQ ops, or int8 ops it keeps on int8, like a lone MAX_POOL_2D)?"""
    found = False

    def visit(expr):
        nonlocal found
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op) and expr.op.name in (
                "relax.quantize", "relax.dequantize"):
            found = True
        elif isinstance(expr, relax.Var) and _is_int8(expr):
            found = True

    relax.analysis.post_order_visit(mod["main"], visit)
    return found


def _is_int8(expr) -> bool:
    ty = expr.ty
    return isinstance(ty, relax.TensorType) and str(ty.dtype) == "int8"


def _deq(x):
    return is_op("relax.dequantize")(x, is_const(), is_const())


def _quant(x):
    return is_op("relax.quantize")(x, is_const(), is_const())


def _no_leak(ctx: relax.transform.PatternCheckContext) -> bool:
    return not has_leaking_intermediate_variables(ctx)


def _dtype_is(key: str, dtype: str, const_ok: bool = False):
    """A check: the annotated expression `key` has `dtype` (and is not a constant)."""
    def check(ctx: relax.transform.PatternCheckContext) -> bool:
        expr = ctx.annotated_expr[key]
        if not const_ok and isinstance(expr, tvm.ir.GenericConst):
            return False
        ty = expr.ty
        return isinstance(ty, relax.TensorType) and str(ty.dtype) == dtype and _no_leak(ctx)
    return check


def _with_clip(out, name, patterns, root):
    clipped = is_op("relax.clip")(out, wildcard(), wildcard())
    patterns.append(relax.transform.FusionPattern(name, clipped, {"root": root}, _no_leak))
    patterns.append(relax.transform.FusionPattern(name, out, {"root": root}, _no_leak))


def quantized_patterns() -> list[relax.transform.FusionPattern]:
    """Longest patterns first: FuseOpsByPattern takes the first that matches."""
    patterns: list[relax.transform.FusionPattern] = []
    for with_bias in (True, False):
        # conv2d: dequantize(x) (*) [reshape](dequantize(W)) [+ dequantize(b)] -> quantize [-> clip]
        w = _deq(is_const())
        weight = is_op("relax.reshape")(w, wildcard()) | w
        conv = is_op("relax.nn.conv2d")(_deq(wildcard()), weight)
        out = is_op("relax.add")(conv, _deq(is_const())) if with_bias else conv
        _with_clip(_quant(out), "hhbc.qconv2d", patterns, conv)
        # dense: dequantize(x) @ dequantize([permute_dims](W)) [+ dequantize(b)] -> quantize
        wc = is_op("relax.permute_dims")(is_const()) | is_const()
        mm = is_op("relax.matmul")(_deq(wildcard()), _deq(wc))
        out = is_op("relax.add")(mm, _deq(is_const())) if with_bias else mm
        _with_clip(_quant(out), "hhbc.qdense", patterns, mm)
    # add of two int8 activations; TVM applies ADD's fused activation in float, before quantize
    add = is_op("relax.add")(_deq(wildcard()), _deq(wildcard()))
    for act in (is_op("relax.nn.relu")(add), is_op("relax.clip")(add, wildcard(), wildcard()), add):
        _with_clip(_quant(act), "hhbc.qadd", patterns, add)
    # sub (H3c): the add arithmetic with input 2's term subtracted
    sub = is_op("relax.subtract")(_deq(wildcard()), _deq(wildcard()))
    for act in (is_op("relax.nn.relu")(sub), is_op("relax.clip")(sub, wildcard(), wildcard()), sub):
        _with_clip(_quant(act), "hhbc.qsub", patterns, sub)
    # softmax (TVM's importer drops beta; the frontend refuses beta != 1)
    sm = is_op("relax.nn.softmax")(_deq(wildcard()))
    patterns.append(relax.transform.FusionPattern("hhbc.qsoftmax", _quant(sm), {"root": sm}, _no_leak))
    # average pool: TVM pools int8 in int32 and casts back (TFLite); ONNX QDQ keeps
    # quantize(avg_pool2d(dequantize(x))), input and output quantized independently
    pool = is_op("relax.nn.avg_pool2d")(is_op("relax.astype")(wildcard()))
    _with_clip(is_op("relax.astype")(pool), "hhbc.qavg_pool2d", patterns, pool)
    pool = is_op("relax.nn.avg_pool2d")(_deq(wildcard()))
    _with_clip(_quant(pool), "hhbc.qavg_pool2d", patterns, pool)
    from hhbc.optimize.quantized_math import math_patterns   # H2: SQUARED_DIFFERENCE, DIV, SUM, ...
    math_patterns(patterns)
    _more_patterns(patterns)
    _resample_patterns(patterns)
    _selection_patterns(patterns)
    _standalone_patterns(patterns)
    return patterns


def _resample_patterns(patterns: list[relax.transform.FusionPattern]) -> None:
    """H1: TRANSPOSE_CONV (frontends/tflite_int8.transpose_conv) as dequantize(x) (*)^T
    dequantize(W) [+ dequantize(b)] -> quantize [-> clip]; RESIZE_BILINEAR as
    dequantize -> resize2d(linear) -> quantize (lower/quantized_resample.py)."""
    for with_bias in (True, False):
        deconv = is_op("relax.nn.conv2d_transpose")(_deq(wildcard()), _deq(is_const()))
        out = is_op("relax.add")(deconv, _deq(is_const())) if with_bias else deconv
        _with_clip(_quant(out), "hhbc.qdeconv2d", patterns, deconv)
    resize = is_op("relax.image.resize2d")(_deq(wildcard()), wildcard())

    def linear(ctx: relax.transform.PatternCheckContext) -> bool:
        return str(ctx.annotated_expr["root"].attrs.method) == "linear" and _no_leak(ctx)
    patterns.append(relax.transform.FusionPattern("hhbc.qresize_bilinear", _quant(resize), {"root": resize},
                                                  linear))


def _selection_patterns(patterns: list[relax.transform.FusionPattern]) -> None:
    """MAXIMUM, MINIMUM, REDUCE_MAX, REDUCE_MIN: TVM writes them dequantize -> op -> quantize;
    TFLite compares the raw int8 values (one scale for inputs and output)."""
    for op in ("relax.maximum", "relax.minimum"):
        f = is_op(op)(_deq(wildcard()), _deq(wildcard()))
        patterns.append(relax.transform.FusionPattern("hhbc.qmaxmin", _quant(f), {"root": f}, _no_leak))
    for op in ("relax.max", "relax.min"):
        f = is_op(op)(_deq(wildcard()))
        patterns.append(relax.transform.FusionPattern("hhbc.qreduce_maxmin", _quant(f), {"root": f}, _no_leak))


def _more_patterns(patterns: list[relax.transform.FusionPattern]) -> None:
    """MUL, MAX_POOL_2D, MEAN, CONCATENATION, PAD(V2), LOGISTIC, TANH, HARD_SWISH, RELU*."""
    # mul: like add, TVM applies MUL's fused activation in float before quantize
    mul = is_op("relax.multiply")(_deq(wildcard()), _deq(wildcard()))
    for act in (is_op("relax.nn.relu")(mul), is_op("relax.clip")(mul, wildcard(), wildcard()), mul):
        _with_clip(_quant(act), "hhbc.qmul", patterns, mul)
    # max pool and pad: TVM keeps them on int8 (it asserts equal input/output parameters)
    x = wildcard()
    pool = is_op("relax.nn.max_pool2d")(x)
    clipped = is_op("relax.clip")(pool, wildcard(), wildcard())
    for pat in (clipped, pool):
        patterns.append(relax.transform.FusionPattern(
            "hhbc.qmax_pool2d", pat, {"root": pool, "x": x}, _dtype_is("x", "int8")))
    x = wildcard()
    pad = is_op("relax.nn.pad")(x)
    patterns.append(relax.transform.FusionPattern("hhbc.qpad", pad, {"root": pad, "x": x},
                                                  _dtype_is("x", "int8")))
    mean = is_op("relax.mean")(_deq(wildcard()))
    patterns.append(relax.transform.FusionPattern("hhbc.qmean", _quant(mean), {"root": mean}, _no_leak))
    for n in range(MAX_CONCAT_INPUTS, 0, -1):
        cat = is_op("relax.concat")(is_tuple([_deq(wildcard()) for _ in range(n)]))
        patterns.append(relax.transform.FusionPattern("hhbc.qconcat", _quant(cat), {"root": cat}, _no_leak))
    for op in ("relax.sigmoid", "relax.tanh"):
        f = is_op(op)(_deq(wildcard()))
        patterns.append(relax.transform.FusionPattern("hhbc.qlut", _quant(f), {"root": f}, _no_leak))
    # ABS, EXP, LOG, RSQRT, LEAKY_RELU: one int8 input, a table of TFLite's arithmetic
    for op in ("relax.abs", "relax.exp", "relax.log", "relax.rsqrt", "relax.nn.leakyrelu"):
        f = is_op(op)(_deq(wildcard()))
        patterns.append(relax.transform.FusionPattern("hhbc.qunary_table", _quant(f), {"root": f}, _no_leak))
    # PRELU (H3c, frontends/tflite_int8.prelu): a constant int8 slope per channel
    f = is_op("relax.nn.prelu")(_deq(wildcard()), _deq(is_const()))
    patterns.append(relax.transform.FusionPattern("hhbc.qprelu", _quant(f), {"root": f}, _no_leak))
    # hard-swish as TVM writes it: x * clip(x + 3, 0, 6) / 6, x dequantized twice
    relu6 = is_op("relax.clip")(is_op("relax.add")(_deq(wildcard()), is_const()), wildcard(), wildcard())
    hs = is_op("relax.divide")(is_op("relax.multiply")(_deq(wildcard()), relu6), is_const())
    patterns.append(relax.transform.FusionPattern("hhbc.qhardswish", _quant(hs), {"root": hs}, _no_leak))
    # standalone RELU / RELU6 / RELU_N1_TO_1, and int8 -> int8 QUANTIZE: a requantize
    deq = _deq(wildcard())
    for act in (is_op("relax.nn.relu")(deq), is_op("relax.clip")(deq, wildcard(), wildcard()), deq):
        patterns.append(relax.transform.FusionPattern("hhbc.qrequantize", _quant(act), {"root": deq},
                                                      _no_leak))


def _standalone_patterns(patterns: list[relax.transform.FusionPattern]) -> None:
    """A quantize of a float activation and a dequantize of an int8 one, outside any group:
    the float IO of a QDQ model (QUANTIZE at the input, DEQUANTIZE at the output). Whether
    a float op sits between them is checked by the lowering, which refuses it."""
    x = wildcard()
    q = _quant(x)
    patterns.append(relax.transform.FusionPattern("hhbc.qquantize", q, {"root": q, "x": x},
                                                  _dtype_is("x", "float32")))
    x = wildcard()
    d = _deq(x)
    patterns.append(relax.transform.FusionPattern("hhbc.qdequantize", d, {"root": d, "x": x},
                                                  _dtype_is("x", "int8")))


def fuse_quantized() -> tvm.ir.transform.Pass:
    return relax.transform.FuseOpsByPattern(quantized_patterns(), bind_constants=True)
