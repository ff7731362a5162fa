"""Which cores the model tests run on, as `pytest` ids ("rvv256" = target rvv at VLEN 256)."""

from __future__ import annotations

import re

# The vector cores every float model is proven on: c906 runs the RVV 0.7.1 kernels, c908 and
# rvv the RVV 1.0 ones (at two vector lengths), host the reference C.
MODEL_TARGETS = ["c906", "c908", "rvv128", "rvv256", "host"]


def spec_target(spec: str):
    """'rvv256' -> (the rvv target, 256); 'c906' -> (c906, None)."""
    from hhbc.targets import get_target

    m = re.fullmatch(r"(rvv)(\d+)", spec)
    return (get_target(m[1]), int(m[2])) if m else (get_target(spec), None)
