"""Weight-only int8 composites (optimize/weight_only.py) -> float kernels reading int8 weights."""

from __future__ import annotations

from hhbc.errors import HhbcError


def lower_weight_only(lw, var, name: str, fn):
    raise HhbcError(f"internal: no lowering for composite {name}")
