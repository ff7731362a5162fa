"""One row of the kernel table: a C function that implements a KernelGraph op for one ISA
variant and one pair of dtypes, with the shapes it takes and the weight layout it wants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from hhbc.lower.graph import Node


def _always(node: Node) -> bool:
    return True


@dataclass(frozen=True)
class KernelImpl:
    op: str                              # KernelGraph op, e.g. "conv2d"
    variant: str                         # "ref", "rvv", "c906": a folder under kernels/
    function: str                        # C function name
    signature: str                       # unary: (in, out, p); binary: (a, b, out, p);
                                         # list: (ins[], out, p); plain: (in, out)
    sources: tuple[str, ...]             # paths under kernels/
    params_type: str | None              # the params struct (shared by every variant of an op)
    supports: Callable[[Node], bool] = _always
    pack: Callable[[Node], dict[str, np.ndarray]] | None = None   # None: constants as they are
    headers: tuple[str, ...] = ()        # beyond COMMON_HEADERS, under kernels/
    dtypes: tuple[str, str] = ("float32", "float32")   # the activations it reads, the one it writes

    @property
    def vector(self) -> bool:
        """Runs on a vector unit (any variant but the portable reference)."""
        return self.variant != "ref"
