"""KernelGraph: the small explicit IR between Relax and C.

Tensors carry shape, dtype and (for constants) data; nodes name a kernel op,
its scalar params and its constant operands. Codegen needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Quant:
    """Affine quantization of an int8 tensor: real = scale * (q - zero_point); one scale and
    zero point per tensor, or one per index along `axis` (per-channel weights)."""
    scale: tuple[float, ...]          # float32 values, as the model stores them
    zero_point: tuple[int, ...]
    axis: int = 0

    def to_json(self) -> dict:
        return {"scale": list(self.scale), "zero_point": list(self.zero_point), "axis": self.axis}


@dataclass(eq=False)
class Tensor:
    name: str                          # Relax binding / model IO name (for comments)
    shape: tuple[int, ...]
    dtype: str = "float32"
    kind: str = "activation"           # input | output | activation | const
    data: np.ndarray | None = None     # constants only
    alias_of: "Tensor | None" = None   # a zero-copy view (reshape, squeeze, ...)
    layout: str = ""                   # "NHWC" for 4-D activations the kernels see
    cid: str = ""                      # C identifier, assigned by codegen
    quant: Quant | None = None         # int8 activations: their scale and zero point

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    def storage(self) -> "Tensor":
        """The tensor that owns the memory this one views."""
        t = self
        while t.alias_of is not None:
            t = t.alias_of
        return t

    @property
    def in_arena(self) -> bool:
        return self.alias_of is None and self.kind != "const"


@dataclass(eq=False)
class Node:
    op: str                                  # kernel op, e.g. "conv2d", "binary"
    inputs: list[Tensor]                     # activation (or const) operands
    output: Tensor
    params: dict[str, Any] = field(default_factory=dict)   # scalar attributes
    consts: dict[str, Tensor] = field(default_factory=dict)  # weights, bias, tables
    layer: str = ""                          # original layer name(s)
    macs: int = 0
    impl: Any = None                         # KernelImpl, chosen by codegen
    cid: str = ""

    def describe(self) -> str:
        ins = ", ".join("x".join(map(str, t.shape)) for t in self.inputs)
        out = "x".join(map(str, self.output.shape))
        return f"{self.op} [{ins}] -> [{out}]"


@dataclass
class KernelGraph:
    inputs: list[Tensor]
    outputs: list[Tensor]
    nodes: list[Node]

    def tensors(self) -> list[Tensor]:
        """Every distinct tensor, in first-use order."""
        seen: dict[int, Tensor] = {}
        for t in self.inputs:
            seen.setdefault(id(t), t)
        for n in self.nodes:
            for t in [*n.inputs, *n.consts.values(), n.output]:
                seen.setdefault(id(t), t)
        for t in self.outputs:
            seen.setdefault(id(t), t)
        return list(seen.values())

    def consts(self) -> list[Tensor]:
        return [t for t in self.tensors() if t.kind == "const"]

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)
