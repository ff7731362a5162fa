"""Calibration: run the float Relax graph on the host over the calibration data and turn what
every tensor held into a quantization range (HHB's --calibrate-mode).

The graph is the optimized float module just before fusion (NHWC, batch norms folded), so the
tensors measured are the ones the int8 graph will hold. TVM builds it for the host CPU (llvm)
with every intermediate tensor returned, and its VM runs each sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError

MODES = ("maxmin", "percentile", "kl_divergence")
BINS = 2048                      # histogram resolution for percentile and kl_divergence
DEFAULT_PERCENTILE = 99.99


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise HhbcError(f"--calibrate-mode {mode}: unknown calibration mode (hhbc has: {', '.join(MODES)})")
    return mode


def check_percentile(p: float) -> float:
    if not 50.0 < p <= 100.0:
        raise HhbcError(f"--calibrate-percentile {p:g}: must be above 50 and at most 100")
    return p


@dataclass
class TensorStats:
    """What one tensor held over the whole calibration set."""
    lo: float = np.inf
    hi: float = -np.inf
    hist: np.ndarray | None = None       # counts of |x| over [0, absmax] in BINS bins (second pass)
    neg_hist: np.ndarray | None = None   # counts of |x| for x < 0 only

    @property
    def absmax(self) -> float:
        return max(abs(self.lo), abs(self.hi))


@dataclass
class Calibration:
    """Per tensor index of main (`tensor_bindings`), the observed stats."""
    stats: dict[int, TensorStats] = field(default_factory=dict)
    samples: int = 0
    floats: dict[int, list[np.ndarray]] = field(default_factory=dict)   # kept tensors (keep=True)

    def range(self, index: int, mode: str, percentile: float = DEFAULT_PERCENTILE,
              symmetric: bool = False) -> tuple[float, float]:
        """The float range [lo, hi] to quantize binding `index` to, always holding 0."""
        s = self.stats[index]
        lo, hi = min(s.lo, 0.0), max(s.hi, 0.0)
        if mode == "maxmin" or s.hist is None or s.absmax == 0.0:
            return lo, hi
        if mode == "percentile":
            return _percentile_range(s, lo, hi, percentile)
        return _kl_range(s, lo, hi, symmetric)


def tensor_bindings(func: relax.Function) -> list[tuple[int, relax.Var]]:
    """(index, var) of every float32 tensor of main, in order: parameter k is index -(k + 1),
    the bindings count from 0."""
    out = [(-(k + 1), p) for k, p in enumerate(func.params)
           if isinstance(p.ty, relax.TensorType) and str(p.ty.dtype) == "float32"]
    index = 0
    for block in func.body.blocks:
        for b in block.bindings:
            ty = b.var.ty
            if isinstance(ty, relax.TensorType) and str(ty.dtype) == "float32":
                out.append((index, b.var))
            index += 1
    return out


def _instrumented(mod: tvm.IRModule) -> tuple[tvm.IRModule, list[int]]:
    """main, returning every float tensor it binds, as a tuple (indices say which binding)."""
    plain = relax.transform.ToNonDataflow()(mod)
    func = plain["main"]
    picked = tensor_bindings(func)
    blocks = [relax.BindingBlock(list(block.bindings)) for block in func.body.blocks]
    body = relax.SeqExpr(blocks, relax.Tuple([v for _, v in picked]))
    ret = relax.TupleType([v.ty for _, v in picked])
    new = relax.Function(func.params, body, ret, func.is_pure, func.attrs)
    out = tvm.IRModule({"main": new})
    return out, [i for i, _ in picked]


def _build(mod: tvm.IRModule) -> Callable[[Sequence[np.ndarray]], list[np.ndarray]]:
    try:
        with tvm.transform.PassContext(opt_level=3):
            ex = relax.build(mod, target="llvm")
    except Exception as err:  # noqa: BLE001 - a TVM build failure is ours, reported in one line
        first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise HhbcError(f"calibration: building the float graph for the host failed: {first}") from None
    vm = relax.VirtualMachine(ex, tvm.cpu())

    def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        res = vm["main"](*[tvm.runtime.tensor(np.ascontiguousarray(x)) for x in inputs])
        return [r.numpy() for r in res]
    return run


def calibrate(mod: tvm.IRModule, samples: Sequence[Sequence[np.ndarray]], mode: str = "maxmin", *,
              progress: Callable[[str], None] | None = None, keep: bool = False) -> Calibration:
    """Observe every float tensor of main over `samples` (each a list of model inputs).
    maxmin needs one pass; percentile and kl_divergence a second one for the histograms."""
    if not samples:
        raise HhbcError("calibration: the calibration dataset is empty")
    inst, indices = _instrumented(mod)
    run = _build(inst)
    cal = Calibration(samples=len(samples))
    for i in indices:
        cal.stats[i] = TensorStats()
    for k, sample in enumerate(samples):
        values = run(sample)
        for i, v in zip(indices, values):
            s = cal.stats[i]
            if v.size:
                s.lo = min(s.lo, float(v.min()))
                s.hi = max(s.hi, float(v.max()))
            if keep:
                cal.floats.setdefault(i, []).append(v)
        if progress and (k + 1) % 50 == 0:
            progress(f"calibration pass 1: {k + 1}/{len(samples)} samples")
    if mode != "maxmin":
        for i in indices:
            s = cal.stats[i]
            s.hist, s.neg_hist = np.zeros(BINS, np.int64), np.zeros(BINS, np.int64)
        for k, sample in enumerate(samples):
            for i, v in zip(indices, run(sample)):
                _accumulate(cal.stats[i], v)
            if progress and (k + 1) % 50 == 0:
                progress(f"calibration pass 2: {k + 1}/{len(samples)} samples")
    for s in cal.stats.values():
        if not np.isfinite(s.lo) or not np.isfinite(s.hi):
            s.lo, s.hi = 0.0, 0.0
    return cal


def _accumulate(s: TensorStats, v: np.ndarray) -> None:
    top = s.absmax
    if top == 0.0 or not v.size:
        return
    flat = v.reshape(-1)
    flat = flat[flat != 0]      # exact zeros (a ReLU's half) are exact in int8 at any range
    bins = np.minimum((np.abs(flat.astype(np.float64)) / top * BINS).astype(np.int64), BINS - 1)
    s.hist += np.bincount(bins, minlength=BINS)
    s.neg_hist += np.bincount(bins[flat < 0], minlength=BINS)


def _percentile_range(s: TensorStats, lo: float, hi: float, p: float) -> tuple[float, float]:
    """Clip each side at the p-th percentile of its magnitudes."""
    edges = np.arange(1, BINS + 1) / BINS * s.absmax

    def cut(hist: np.ndarray, limit: float) -> float:
        total = hist.sum()
        if total == 0:
            return 0.0
        k = int(np.searchsorted(np.cumsum(hist), total * p / 100.0))
        return min(float(edges[min(k, BINS - 1)]), limit)
    pos = s.hist - s.neg_hist
    return -cut(s.neg_hist, -lo), cut(pos, hi)


def _kl_range(s: TensorStats, lo: float, hi: float, symmetric: bool) -> tuple[float, float]:
    """The threshold on |x| whose int8 rendering loses the least information: the KL
    divergence between the clipped histogram (outliers counted in its last bin) and its copy
    merged into the int8 levels and spread back (TensorRT's entropy calibration)."""
    one_sided = lo >= 0.0 and not symmetric
    levels = 255 if one_sided else 127
    hist = s.hist.astype(np.float64)
    best, best_i = np.inf, BINS
    for i in range(levels, BINS + 1, 8):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        q = _expand(hist[:i], p > 0, levels)
        kl = _kl(p, q)
        if kl < best:
            best, best_i = kl, i
    t = best_i / BINS * s.absmax
    return max(lo, -t), min(hi, t)


def _expand(h: np.ndarray, support: np.ndarray, levels: int) -> np.ndarray:
    """h merged into `levels` buckets, each bucket's count spread back evenly over the bins
    of `support` it covers."""
    q = np.zeros_like(h)
    for idx in np.array_split(np.arange(h.size), levels):
        nz = support[idx]
        if nz.any():
            q[idx[nz]] = h[idx].sum() / nz.sum()
    return q


def _kl(p: np.ndarray, q: np.ndarray, eps: float = 1e-4) -> float:
    """KL(p || q) of two histograms, each smoothed so that a zero bin costs a finite amount."""
    p, q = _smooth(p, eps), _smooth(q, eps)
    if p is None or q is None:
        return np.inf
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def _smooth(h: np.ndarray, eps: float) -> np.ndarray | None:
    """h normalized, with eps moved from its nonzero bins to its zero ones."""
    zero = h == 0
    nonzero = h.size - zero.sum()
    if nonzero == 0:
        return None
    h = h / h.sum()
    taken = eps * zero.sum() / nonzero
    return np.where(zero, eps, h - taken) if taken < h[~zero].min() else h + eps
