"""Weight-only int8 patterns: a float conv2d/dense whose weight is an int8 constant widened in
the graph (`astype(int8 W, float32) * scale`, how frontends/tflite.py imports TFLite's hybrid
ops) stays one composite, "hhbc.w8_conv2d", "hhbc.w8_depthwise_conv2d" or "hhbc.w8_dense",
with its bias and activation. The stage runs before constant folding, which would otherwise
widen the weights to float32 in flash; lower/weight_only.py turns each composite into one
float kernel reading the int8 weights and per-output-channel scales.
"""

from __future__ import annotations

import tvm
from tvm import relax
from tvm.relax.dpl import is_const, is_op, wildcard

from hhbc.optimize.fusion import _activation_patterns, _kernel_can_fuse

# Activations the float kernels apply in their epilogue (hhbc_act); TFLite fuses RELU, RELU6
# and RELU_N1_TO_1 (clip); a TANH stays a separate op.
_ACTS = ("relu", "clip", "leakyrelu", "sigmoid")


def widened_weight():
    """The int8 weight as the float op reads it: astype(int8, float32) * scale, then the
    importer's relayout (permute_dims to HWIO, reshape of a depthwise kernel) if any."""
    w = is_op("relax.multiply")(is_op("relax.astype")(is_const()), is_const())
    return is_op("relax.permute_dims")(w) | is_op("relax.reshape")(w, wildcard()) | w


def _is_depthwise(conv: relax.Call) -> bool:
    groups = int(conv.attrs.groups)
    layout = str(conv.attrs.data_layout)
    in_c = int(conv.args[0].ty.shape[layout.index("C")])
    out_c = int(conv.ty.shape[layout.index("C")])
    return groups > 1 and groups == in_c and out_c % in_c == 0 and _weight_in_channels(conv) == 1


def _weight_in_channels(conv: relax.Call) -> int:
    return int(conv.args[1].ty.shape[str(conv.attrs.kernel_layout).index("I")])


def _check(kind: str):
    def check(ctx: relax.transform.PatternCheckContext) -> bool:
        if not _kernel_can_fuse(ctx):
            return False
        root = ctx.annotated_expr["root"]
        if kind == "dense":
            return True
        return _is_depthwise(root) == (kind == "depthwise_conv2d")
    return check


def weight_only_patterns() -> list[relax.transform.FusionPattern]:
    """Longest patterns first: FuseOpsByPattern takes the first that matches."""
    patterns = []
    for kind in ("conv2d", "depthwise_conv2d", "dense"):
        for with_bias in (True, False):
            for act in (*_ACTS, None):
                data, bias = wildcard(), is_const()
                if kind == "dense":
                    root = is_op("relax.matmul")(data, widened_weight())
                else:
                    root = is_op("relax.nn.conv2d")(data, widened_weight())
                out = is_op("relax.add")(root, bias) if with_bias else root
                if act is not None:
                    out = _activation_patterns(out)[act]
                annotations = {"root": root}
                if with_bias:
                    annotations["bias"] = bias
                name = f"hhbc.w8_{kind}" + ("_bias" if with_bias else "") + (f"_{act}" if act else "")
                patterns.append(relax.transform.FusionPattern(name, out, annotations, _check(kind)))
    return patterns


def fuse_weight_only() -> tvm.ir.transform.Pass:
    return relax.transform.FuseOpsByPattern(weight_only_patterns(), bind_constants=False)
