"""Fusion of conv2d/dense + bias + activation into one kernel call.

Each fused group becomes a Relax composite function named
"hhbc.<producer>[_bias][_<act>]", which the lowering turns into one kernel node.
"""

from __future__ import annotations

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


def fusion_patterns() -> list[relax.transform.FusionPattern]:
    """Longest patterns first: FuseOpsByPattern takes the first that matches."""
    patterns = []
    for producer in ("conv2d", "dense"):
        for with_bias in (True, False):
            for act in ("hardswish", "relu", "clip", "leakyrelu", "sigmoid", None):
                data, weight, bias = wildcard(), is_const(), is_const()
                if producer == "conv2d":
                    root = is_op("relax.nn.conv2d")(data, weight)
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
