"""Per-layer accuracy of a post-training-quantized build (`hhbc run --layer-report`): every int8
layer's output, dequantized from the host simulation, against the same tensor of the float
graph on the same inputs, so that a user sees where the accuracy goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from hhbc.quantize.calibrate import calibrate
from hhbc.quantize.metrics import sqnr_db


@dataclass(frozen=True)
class LayerError:
    index: int
    layer: str
    op: str
    sqnr_db: float
    scale: float
    zero_point: int


def layer_errors(compiled, samples: Sequence[Sequence[np.ndarray]]) -> list[LayerError]:
    """SQNR of every int8 layer output over `samples` (lists of model inputs)."""
    from hhbc.quantize.simulate import simulate

    quantized = compiled.quantized
    floats = calibrate(quantized.float_mod, samples, "maxmin", keep=True).floats
    sims = [simulate(compiled.graph, s, keep=True).tensors for s in samples]
    rows = []
    for k, node in enumerate(compiled.graph.nodes):
        q = node.output.quant
        index = quantized.layers.get(node.layer)
        if q is None or index is None or index not in floats or node.output.name not in sims[0]:
            continue
        ref = np.concatenate([f.reshape(-1) for f in floats[index]])
        got = np.concatenate([(s[node.output.name].astype(np.float64).reshape(-1) - q.zero_point[0]) * q.scale[0]
                              for s in sims])
        if ref.size != got.size:
            continue
        rows.append(LayerError(k, node.layer, node.op, sqnr_db(ref, got), q.scale[0], q.zero_point[0]))
    return rows


def format_layer_errors(rows: Sequence[LayerError], samples: int) -> str:
    lines = [f"per-layer SQNR of the int8 outputs against the float graph ({samples} input"
             f"{'' if samples == 1 else 's'}; host simulation):",
             f"{'#':>4}  {'layer':40} {'kernel op':24} {'SQNR':>9}  {'scale':>10} {'zp':>5}"]
    for r in rows:
        name = r.layer if len(r.layer) <= 40 else r.layer[:37] + "..."
        db = f"{r.sqnr_db:.1f} dB" if np.isfinite(r.sqnr_db) else "exact"
        lines.append(f"{r.index:>4}  {name:40} {r.op:24} {db:>9}  {r.scale:>10.4g} {r.zero_point:>5}")
    return "\n".join(lines)
