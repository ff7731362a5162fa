"""What every frontend returns: a Relax module plus a description of its IO."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import tvm

from hhbc.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from hhbc.lower.graph import Quant


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output, as the original framework sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name
    quant: Quant | None = None   # int8 IO: scale and zero point (hhbc.lower.graph.Quant)

    def to_json(self) -> dict:
        d = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}
        if self.quant is not None:
            d["quant"] = self.quant.to_json()
        return d


@dataclass(frozen=True)
class ImportOptions:
    """What the user tells an importer beyond the file: HHB's -in/-is/-on, and weights."""

    input_names: tuple[str, ...] = ()
    input_shapes: tuple[tuple[int, ...], ...] = ()
    output_names: tuple[str, ...] = ()
    weights: Path | None = None   # Caffe: the .caffemodel, if not beside the .prototxt
    # --const-input: (input name, value) of inputs known at compile time (an ONNX Expand's
    # shape input): folded into the model as constants, no longer model inputs.
    const_inputs: tuple[tuple[str, np.ndarray], ...] = ()
    # Resource limits (hhbc.limits): frontends may check declared sizes early against them.
    limits: Limits = DEFAULT_LIMITS


# Runs the original framework on numpy inputs (in model input order).
ReferenceFn = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@dataclass
class ImportedModel:
    """A model lowered to Relax; the rest of the pipeline is format-agnostic."""

    mod: tvm.IRModule
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    source: Path
    format: str
    # Op types of the original model, for the verbose report.
    source_ops: dict[str, int] = field(default_factory=dict)
    reference: ReferenceFn | None = None
    # Per output: a compare.QuantStep when a quantized model computes it in float (an ONNX
    # QDQ output after DequantizeLinear: compared in quantization steps), else None.
    output_steps: list | None = None
