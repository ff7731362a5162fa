"""Fusion of conv2d/dense + bias + activation into one kernel call.

Each fused group becomes a Relax composite function named
"hhbc.<producer>[_bias][_<act>]", which the lowering turns into one kernel node.
"""

from __future__ import annotations

from tvm import relax
from tvm.relax.dpl import is_const, is_op, wildcard


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


def fusion_patterns() -> list[relax.transform.FusionPattern]:
    """Longest patterns first: FuseOpsByPattern takes the first that matches."""
    patterns = []
    for producer in ("conv2d", "dense"):
        for with_bias in (True, False):
            for act in ("hardswish", "relu", "clip", "leakyrelu", "sigmoid", None):
                data, weight = wildcard(), is_const()
                if producer == "conv2d":
                    root = is_op("relax.nn.conv2d")(data, weight)
                else:
                    root = is_op("relax.matmul")(data, weight)
                out = is_op("relax.add")(root, is_const()) if with_bias else root
                if act is not None:
                    out = _activation_patterns(out)[act]
                if not with_bias and act is None and producer == "dense":
                    continue  # a bare matmul with const weight lowers to dense anyway
                if not with_bias and act is None:
                    continue
                name = "hhbc." + producer + ("_bias" if with_bias else "") + (f"_{act}" if act else "")
                patterns.append(relax.transform.FusionPattern(name, out, {}, None))
    # A standalone HardSwish is several Relax ops; group it so it lowers to one kernel.
    x = wildcard()
    patterns.append(relax.transform.FusionPattern("hhbc.hardswish", _activation_patterns(x)["hardswish"], {}, None))
    return patterns
