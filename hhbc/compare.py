"""Comparing emulated outputs with the framework's, and deciding pass/fail."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOAT_TOLERANCE = 1e-4   # max abs error <= tol * max(1, max|reference|)
FLOAT16_TOLERANCE = 1e-2  # a float16 build: max abs error <= tol * max|reference|
# float16_w_int8: half arithmetic plus int8 weights (per-channel, 1/254 of each channel's range);
# measured 0.9-4.9% of max|ref| on the KWS models, so the limit is 8% (run also prints the SQNR)
FLOAT16_W8_TOLERANCE = 8e-2
QUANT_STEPS = 1          # a quantized output: max abs error <= this many quantization steps


@dataclass(frozen=True)
class QuantStep:
    """An output of a quantized model: the dequantized value of an int8 tensor, or computed
    from one by float ops (a Softmax after the last DequantizeLinear). `scale` is the step of
    that int8 tensor; `steps` how many of them the output may be off by (0 when nothing but
    quantize/dequantize and data movement lies between the inputs and it: both sides
    compute the same correctly rounded values)."""
    scale: float
    steps: int = QUANT_STEPS


@dataclass
class Comparison:
    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float          # max abs error / max |reference|
    ref_max: float
    limit: float
    step: QuantStep | None = None
    note: str = ""          # how the limit was set, when not the plain float tolerance
    specials: int = 0       # elements NaN on both sides or the same infinity on both: equal

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.max_abs)) and self.max_abs <= self.limit

    def line(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        if self.step is not None:
            n = self.step.steps
            return (f"{self.name} {list(self.shape)}: max abs err {self.max_abs:.3e} = "
                    f"{self.max_abs / self.step.scale:.2f} quantization steps of {self.step.scale:.4g} "
                    f"(limit {n} step{'' if n == 1 else 's'}) {verdict}")
        note = f", {self.note}" if self.note else ""
        special = (f"; {self.specials} NaN/inf element{'' if self.specials == 1 else 's'} equal on both sides"
                   if self.specials else "")
        return (f"{self.name} {list(self.shape)}: max abs err {self.max_abs:.3e}, "
                f"max rel err {self.max_rel:.3e} (limit {self.limit:.1e}{note}){special} {verdict}")


def compare(name: str, got: np.ndarray, ref: np.ndarray, tol: float = FLOAT_TOLERANCE,
            step: QuantStep | None = None, scheme: str = "float32") -> Comparison:
    """Float outputs within tol relative to the reference's magnitude; integer (quantized)
    outputs must be equal, element for element (limit 0); a float output of a quantized
    model (step given) within step.steps quantization steps, plus the float tolerance for
    the float ops after the int8 tensor."""
    exact = np.issubdtype(np.asarray(ref).dtype, np.integer)
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    if got.shape != ref.shape:   # same bytes in another layout must not pass
        return Comparison(name, tuple(got.shape), float("inf"), float("inf"), 0.0, 0.0)
    # NaN against NaN and an infinity against the same infinity are equal (Sqrt of a negative,
    # Log of 0, Reciprocal of 0); they are counted, and left out of the error and the scale.
    special = (np.isnan(got) & np.isnan(ref)) | (np.isinf(got) & (got == ref))
    finite_ref = np.abs(ref[~special & np.isfinite(ref)])
    ref_max = float(np.max(finite_ref)) if finite_ref.size else 0.0
    rest_got, rest_ref = got[~special], ref[~special]
    max_abs = float(np.max(np.abs(rest_got - rest_ref))) if rest_ref.size else 0.0
    if not (np.all(np.isfinite(rest_got)) and np.all(np.isfinite(rest_ref))):
        max_abs = float("inf")   # a NaN or infinity on one side only
    limit = 0.0 if exact else tol * max(1.0, ref_max)
    note = ""
    if scheme == "float16" and not exact:
        limit, note = FLOAT16_TOLERANCE * ref_max, f"float16 build: {FLOAT16_TOLERANCE:g} of max|ref|"
    elif scheme == "float16_w_int8" and not exact:
        limit, note = FLOAT16_W8_TOLERANCE * ref_max, \
            f"float16 build with int8 weights: {FLOAT16_W8_TOLERANCE:g} of max|ref|"
    if step is not None and not exact:
        limit += step.steps * step.scale
    return Comparison(name, tuple(got.shape), max_abs, max_abs / max(ref_max, 1e-30), ref_max, limit,
                      step if not exact else None, note, int(np.count_nonzero(special)))
