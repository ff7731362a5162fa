"""Fusion of conv2d/dense + bias + activation into one kernel call.

Each fused group becomes a Relax composite function named
"hhbc.<producer>[_bias][_<act>]", which the lowering turns into one kernel node.
Two op sequences that mean one kernel are grouped the same way: HardSwish
("hhbc.hardswish") and Caffe's across-channel LRN ("hhbc.lrn").
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax
from tvm.relax.backend.utils import has_leaking_intermediate_variables
from tvm.relax.dpl import is_const, is_op, wildcard


def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


def _kernel_can_fuse(ctx: relax.transform.PatternCheckContext) -> bool:
    """Accept a match only if one conv2d/dense kernel call computes it exactly.

    * no intermediate result (e.g. the conv output before its ReLU) is used
      outside the group;
    * dense weights are one [K][N] matrix;
    * the added constant is a per-output-channel bias (or a scalar), not e.g.
      Gemm's full [M][N] C matrix, which stays a separate add.
    """
    if has_leaking_intermediate_variables(ctx):
        return False
    if "hardswish" in ctx.annotated_expr and not _is_hardswish(ctx):
        return False
    root = ctx.annotated_expr["root"]
    if root.op.name == "relax.matmul" and len(_shape(root.args[1])) != 2:
        return False
    bias = ctx.annotated_expr.get("bias")
    if bias is None:
        return True
    out_shape = _shape(root)
    const = bias.value.numpy()
    if const.ndim > len(out_shape):
        return False
    if const.size == 1:
        return True
    return const.size == out_shape[-1] and const.shape[-1] == out_shape[-1]


def _activation_patterns(x):
    """Each activation kernels can apply in their epilogue, as a pattern over x."""
    three = is_const()
    hardswish = is_op("relax.multiply")(
        x, is_op("relax.divide")(is_op("relax.clip")(is_op("relax.add")(x, three), wildcard(), wildcard()), is_const()))
    return {
        "relu": is_op("relax.nn.relu")(x),
        "clip": is_op("relax.clip")(x, wildcard(), wildcard()),
        "leakyrelu": is_op("relax.nn.leakyrelu")(x),
        "sigmoid": is_op("relax.sigmoid")(x),
        "hardswish": hardswish,
    }


def _is_hardswish(ctx: relax.transform.PatternCheckContext) -> bool:
    """The hardswish part of a match is x * clip(x + 3, 0, 6) / 6 exactly."""
    def value(expr):   # operands are the vars bound to the matched calls
        return ctx.matched_bindings.get(expr, expr)

    hs = value(ctx.annotated_expr["hardswish"])          # multiply(x, divide(clip(add(x, 3)), 6))
    divide = value(hs.args[1])
    clip = value(divide.args[0])
    add = value(clip.args[0])

    def scalar(c):
        if not isinstance(c, tvm.ir.GenericConst) or c.value.numpy().size != 1:
            return None
        return float(c.value.numpy().reshape(-1)[0])

    return (scalar(add.args[1]) == 3.0 and scalar(divide.args[1]) == 6.0
            and (float(clip.args[1].value), float(clip.args[2].value)) == (0.0, 6.0))


def _hardswish_exact(ctx: relax.transform.PatternCheckContext) -> bool:
    return not has_leaking_intermediate_variables(ctx) and _is_hardswish(ctx)


def _scalar_const(expr) -> float | None:
    if not isinstance(expr, tvm.ir.GenericConst) or expr.value.numpy().size != 1:
        return None
    return float(expr.value.numpy().reshape(-1)[0])


def lrn_terms(calls: list) -> dict | None:
    """The parameters of Caffe's across-channel LRN written as Relax ops (frontends/caffe_layers.py):

        x * power(add(multiply(conv2d(x * x, band), alpha/size), k), -beta)

    with `band` a 1x1 [C][C] kernel of ones over channels [c - pre_pad, c - pre_pad + size).
    `calls` are the group's calls in order; None if they are not exactly that.
    """
    ops = [c.op.name if isinstance(c, relax.Call) and isinstance(c.op, tvm.ir.Op) else None for c in calls]
    if ops != ["relax.multiply", "relax.nn.conv2d", "relax.multiply", "relax.add", "relax.power", "relax.multiply"]:
        return None
    conv = calls[1]
    a = conv.attrs
    layout, kernel_layout = str(a.data_layout), str(a.kernel_layout)
    if (layout not in ("NHWC", "NCHW") or int(a.groups) != 1 or any(int(v) != 1 for v in a.strides)
            or any(int(v) != 0 for v in a.padding) or any(int(v) != 1 for v in a.dilation)
            or not isinstance(conv.args[1], tvm.ir.GenericConst) or sorted(kernel_layout) != sorted("OIHW")):
        return None
    weight = conv.args[1].value.numpy().transpose([kernel_layout.index(c) for c in "OIHW"])
    if weight.shape[2:] != (1, 1) or weight.shape[0] != weight.shape[1]:
        return None
    band = weight[:, :, 0, 0]
    channels = band.shape[0]
    if not np.all((band == 0) | (band == 1)) or not np.all(band.sum(axis=1) > 0):
        return None
    cols = np.arange(channels)
    lo = np.array([cols[row > 0].min() for row in band])
    hi = np.array([cols[row > 0].max() + 1 for row in band])
    pre_pad = int(np.max(cols - lo))
    size = int(np.max(hi - cols)) + pre_pad
    first, end = np.maximum(cols - pre_pad, 0), cols - pre_pad + size
    expected = (cols[None, :] >= first[:, None]) & (cols[None, :] < end[:, None])
    if not np.array_equal(expected, band > 0):
        return None
    alpha_over_size = _scalar_const(calls[2].args[1])
    k = _scalar_const(calls[3].args[1])
    exponent = _scalar_const(calls[4].args[1])
    if None in (alpha_over_size, k, exponent):
        return None
    return {"layout": layout, "size": size, "pre_pad": pre_pad, "alpha_over_size": alpha_over_size, "k": k,
            "beta": -exponent}


def _lrn_pattern() -> relax.transform.FusionPattern:
    x = wildcard()
    total = is_op("relax.nn.conv2d")(is_op("relax.multiply")(x, x), is_const())
    denom = is_op("relax.add")(is_op("relax.multiply")(total, is_const()), is_const())
    out = is_op("relax.multiply")(x, is_op("relax.power")(denom, is_const()))

    def check(ctx: relax.transform.PatternCheckContext) -> bool:
        if has_leaking_intermediate_variables(ctx):
            return False
        order = _matched_calls(ctx)
        return order is not None and lrn_terms(order) is not None

    return relax.transform.FusionPattern("hhbc.lrn", out, {"root": out}, check)


def _matched_calls(ctx: relax.transform.PatternCheckContext) -> list | None:
    """The matched LRN calls in data-flow order, operands resolved through the bindings."""
    def value(expr):
        return ctx.matched_bindings.get(expr, expr)

    out = value(ctx.annotated_expr["root"])
    if not isinstance(out, relax.Call) or len(out.args) != 2:
        return None
    pw = value(out.args[1])
    add = value(pw.args[0])
    mul = value(add.args[0])
    conv = value(mul.args[0])
    sq = value(conv.args[0])
    return [sq, conv, mul, add, pw, out]


def fusion_patterns() -> list[relax.transform.FusionPattern]:
    """Longest patterns first: FuseOpsByPattern takes the first that matches."""
    patterns = []
    patterns.append(_lrn_pattern())
    for producer in ("conv2d", "conv2d_transpose", "dense"):
        for with_bias in (True, False):
            for act in ("hardswish", "relu", "clip", "leakyrelu", "sigmoid", None):
                data, weight, bias = wildcard(), is_const(), is_const()
                if producer in ("conv2d", "conv2d_transpose"):
                    root = is_op(f"relax.nn.{producer}")(data, weight)
                else:
                    root = is_op("relax.matmul")(data, weight)
                out = is_op("relax.add")(root, bias) if with_bias else root
                if act is not None:
                    out = _activation_patterns(out)[act]
                if not with_bias and act is None and producer == "dense":
                    continue  # a bare matmul with const weight lowers to dense anyway
                if not with_bias and act is None:
                    continue
                name = "hhbc." + producer + ("_bias" if with_bias else "") + (f"_{act}" if act else "")
                annotations = {"root": root}
                if with_bias:
                    annotations["bias"] = bias
                if act == "hardswish":
                    annotations["hardswish"] = out
                patterns.append(relax.transform.FusionPattern(name, out, annotations, _kernel_can_fuse))
    # A standalone HardSwish is several Relax ops; group it so it lowers to one kernel.
    x = wildcard()
    hardswish = _activation_patterns(x)["hardswish"]
    patterns.append(relax.transform.FusionPattern("hhbc.hardswish", hardswish, {"hardswish": hardswish},
                                                  _hardswish_exact))
    return patterns
