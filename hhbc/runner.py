"""`hhbc run` as a Python API: compile, build, execute, compare with the framework."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from hhbc.build import build
from hhbc.compare import Comparison, compare
from hhbc.compiler import Compiled, Progress, compile_model
from hhbc.emulate import run_model
from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions
from hhbc.targets import Target


@dataclass
class RunResult:
    compiled: Compiled
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    references: list[np.ndarray]
    comparisons: list[Comparison]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)


def default_inputs(infos, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, size=i.shape, dtype=np.int8) if i.dtype == "int8"
            else rng.standard_normal(i.shape).astype(i.dtype) for i in infos]


def run_and_compare(model_path: str | Path, target: Target, *, inputs: Sequence[np.ndarray] | None = None,
                    out_dir: str | Path | None = None, vlen: int | None = None, cc: str | None = None,
                    options: ImportOptions = ImportOptions(), prefix: str = "model", seed: int = 0,
                    verbose: bool = False, command: str = "",
                    progress: Progress | None = None, scheme: str = "float32") -> RunResult:
    """Compile and build the model for `target`, run it, and compare with the framework."""
    progress = progress or Progress(False)
    with tempfile.TemporaryDirectory(prefix="hhbc-run-") as tmp:
        project = Path(out_dir) if out_dir is not None else Path(tmp) / "project"
        compiled = compile_model(model_path, target, project, options=options, prefix=prefix, vlen=vlen,
                                 verbose=verbose, command=command, progress=progress, scheme=scheme)
        model = compiled.model
        if inputs is not None and len(inputs) != len(model.inputs):
            raise HhbcError(f"{len(inputs)} input array(s) given for a model with {len(model.inputs)} input(s)")
        arrays = list(inputs) if inputs is not None else default_inputs(model.inputs, seed)
        arrays = [_fit_input(a, info) for a, info in zip(arrays, model.inputs)]
        progress(f"building for {target.name}")
        elf = build(project, target, cc=cc)
        vlen = compiled.manifest["vlen"]
        progress("running natively" if target.is_host else f"running under QEMU ({target.qemu_cpu_for(vlen)})")
        got = run_model(elf, target, vlen, arrays, compiled.manifest["outputs"], Path(tmp) / "io")
    if model.reference is None:
        raise HhbcError(f"no reference runner for format '{model.format}'")
    progress(f"running the reference ({model.format})")
    refs = model.reference(arrays)
    steps = model.output_steps or [None] * len(model.outputs)
    comparisons = [compare(info.name, g, r, step=st, scheme=scheme)
                   for info, g, r, st in zip(model.outputs, got, refs, steps)]
    return RunResult(compiled, arrays, got, refs, comparisons)


def _fit_input(array: np.ndarray, info) -> np.ndarray:
    array = np.asarray(array)
    if array.size != int(np.prod(info.shape)):
        raise HhbcError(f"input '{info.name}': {list(array.shape)} does not fit {list(info.shape)}")
    if getattr(info, "quant", None) is not None and np.issubdtype(array.dtype, np.floating):
        array = quantize_input(array, info.quant)   # a float input for an int8 model
    return np.ascontiguousarray(array.astype(info.dtype).reshape(info.shape))


def quantize_input(array: np.ndarray, quant) -> np.ndarray:
    """float -> int8 with the input's scale and zero point, as TFLite's QUANTIZE does:
    round half away from zero of x / scale (in float32), + zero point, saturated."""
    scale = np.float32(quant.scale[0])
    q = np.asarray(array, np.float32) / scale
    q = np.where(q >= 0, np.floor(q + np.float32(0.5)), np.ceil(q - np.float32(0.5)))
    return np.clip(q + quant.zero_point[0], -128, 127).astype(np.int8)
