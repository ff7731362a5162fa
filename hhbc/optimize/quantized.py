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
from tvm.relax.dpl import is_const, is_op, wildcard


def is_quantized(mod: tvm.IRModule) -> bool:
    """Does main quantize or dequantize anything (a model TVM imported with QDQ ops)?"""
    found = False

    def visit(expr):
        nonlocal found
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op) and expr.op.name in (
                "relax.quantize", "relax.dequantize"):
            found = True

    relax.analysis.post_order_visit(mod["main"], visit)
    return found


def _deq(x):
    return is_op("relax.dequantize")(x, is_const(), is_const())


def _quant(x):
    return is_op("relax.quantize")(x, is_const(), is_const())


def _no_leak(ctx: relax.transform.PatternCheckContext) -> bool:
    return not has_leaking_intermediate_variables(ctx)


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
    # softmax (TVM's importer drops beta; the frontend refuses beta != 1)
    sm = is_op("relax.nn.softmax")(_deq(wildcard()))
    patterns.append(relax.transform.FusionPattern("hhbc.qsoftmax", _quant(sm), {"root": sm}, _no_leak))
    # average pool: TVM pools int8 in int32 and casts back
    pool = is_op("relax.nn.avg_pool2d")(is_op("relax.astype")(wildcard()))
    _with_clip(is_op("relax.astype")(pool), "hhbc.qavg_pool2d", patterns, pool)
    return patterns


def fuse_quantized() -> tvm.ir.transform.Pass:
    return relax.transform.FuseOpsByPattern(quantized_patterns(), bind_constants=True)
