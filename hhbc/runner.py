"""`hhbc run` as a Python API: compile, build, execute, compare with the framework."""

from __future__ import annotations

import dataclasses
import sys
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
    # A post-training-quantized build: each output against the float framework (a report: the
    # pass/fail comparisons are then against the host simulation, bit for bit).
    accuracy: list = dataclasses.field(default_factory=list)
    eval_samples: list = dataclasses.field(default_factory=list)   # --eval-dataset, loaded

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)


def default_inputs(infos, seed: int = 0, graph=None) -> list[np.ndarray]:
    """Seeded random inputs: standard normal floats, full-range int8, and for an int32/int64
    input valid indices of every gather that reads it, [-n, n) with n its smallest axis."""
    rng = np.random.default_rng(seed)
    arrays = []
    for i in infos:
        if i.dtype == "int8":
            arrays.append(rng.integers(-128, 128, size=i.shape, dtype=np.int8))
        elif i.dtype in ("int32", "int64"):
            n = index_range(i.name, graph)
            arrays.append(rng.integers(-n, n, size=i.shape).astype(i.dtype))
        else:
            arrays.append(rng.standard_normal(i.shape).astype(i.dtype))
    return arrays


def index_range(name: str, graph) -> int:
    """The smallest axis that the gathers reading input `name` as indices index into."""
    dims = [n.params["axis_dim"] for n in (graph.nodes if graph is not None else [])
            if n.op.startswith("gather") and len(n.inputs) > 1 and n.inputs[1].storage().name == name]
    if not dims:
        raise HhbcError(f"input '{name}' is an integer tensor that no gather reads as indices: "
                        "give its values with --input")
    return min(dims)


def run_and_compare(model_path: str | Path, target: Target, *, inputs: Sequence[np.ndarray] | None = None,
                    out_dir: str | Path | None = None, vlen: int | None = None, cc: str | None = None,
                    options: ImportOptions = ImportOptions(), prefix: str = "model", seed: int = 0,
                    verbose: bool = False, command: str = "",
                    progress: Progress | None = None, scheme: str = "float32",
                    expected: Sequence[tuple[str, np.ndarray]] | None = None, guard: bool = False,
                    ptq=None, eval_dataset: str | None = None) -> RunResult:
    """Compile and build the model for `target`, run it, and compare with the framework, or,
    given `expected` ((where it came from, array) per output, in output order), with those.
    A float model quantized by hhbc (-qs int8_*, `ptq`) is compared with hhbc's host
    simulation of the int8 graph, bit for bit, and its error against the float framework is
    reported as `accuracy`."""
    progress = progress or Progress(False)
    if inputs is not None:
        options, inputs = fold_shape_inputs(model_path, options, inputs)
    with tempfile.TemporaryDirectory(prefix="hhbc-run-") as tmp:
        project = Path(out_dir) if out_dir is not None else Path(tmp) / "project"
        compiled = compile_model(model_path, target, project, options=options, prefix=prefix, vlen=vlen,
                                 verbose=verbose, command=command, progress=progress, scheme=scheme,
                                 guard=guard, ptq=ptq)
        model = compiled.model
        if inputs is not None and len(inputs) != len(model.inputs):
            raise HhbcError(f"{len(inputs)} input array(s) given for a model with {len(model.inputs)} input(s)")
        # Only now, after compile_model's limit checks (hhbc/limits.py): a random input is never
        # allocated for a model whose arena would be refused.
        Progress.stage = "making the random inputs"
        arrays = list(inputs) if inputs is not None else default_inputs(model.inputs, seed, compiled.graph)
        arrays = [_fit_input(a, info) for a, info in zip(arrays, model.inputs)]
        progress(f"building for {target.name}")
        elf = build(project, target, cc=cc)
        vlen = compiled.manifest["vlen"]
        progress("running natively" if target.is_host else f"running under QEMU ({target.qemu_cpu_for(vlen)})")
        got = run_model(elf, target, vlen, arrays, compiled.manifest["outputs"], Path(tmp) / "io")
    if expected is not None:
        refs = check_expected(expected, model.outputs)
    else:
        if model.reference is None:
            raise HhbcError(f"no reference runner for format '{model.format}'")
        progress(f"running the reference ({model.format})")
        refs = model.reference(arrays)
    if compiled.quantized is not None:
        return _quantized_result(compiled, arrays, got, refs, progress, ptq, eval_dataset)
    if eval_dataset:
        raise HhbcError("--eval-dataset: only for a float model quantized by hhbc (-qs int8_* with -cd)")
    steps = model.output_steps or [None] * len(model.outputs)
    comparisons = [compare(info.name, g, r, step=st, scheme=scheme)
                   for info, g, r, st in zip(model.outputs, got, refs, steps)]
    report = []
    if scheme == "float16_w_int8":   # int8 weights: how much the weights' quantization costs
        from hhbc.quantize.metrics import accuracy

        report = [accuracy(info.name, [r], [g], what=f"{scheme} build vs float {model.format}")
                  for info, g, r in zip(model.outputs, got, refs)]
    return RunResult(compiled, arrays, got, refs, comparisons, report)


def _quantized_result(compiled: Compiled, arrays, got, refs, progress: Progress, ptq,
                      eval_dataset: str | None) -> RunResult:
    """Firmware == host simulation exactly (the kernels); simulation vs float (the quantization),
    over the run's input, or over --eval-dataset through the simulation."""
    from hhbc.quantize.metrics import accuracy
    from hhbc.quantize.simulate import simulate

    progress("running the host simulation of the int8 graph")
    sim = simulate(compiled.graph, arrays).outputs
    infos = compiled.model.outputs
    comparisons = [compare(f"{info.name} (vs host simulation)", g, s, tol=0.0)
                   for info, g, s in zip(infos, got, sim)]
    what = f"{compiled.manifest['scheme']} build vs float {compiled.model.format}"
    samples, gots, references = [], [got], [refs]
    if eval_dataset:
        from hhbc.quantize.dataset import Preprocess, load_dataset

        samples = load_dataset(eval_dataset, compiled.model.inputs,
                               (ptq.preprocess if ptq else None) or Preprocess(), option="--eval-dataset")
        progress(f"accuracy over {len(samples)} --eval-dataset sample(s): host simulation and {compiled.model.format}")
        gots = [simulate(compiled.graph, s).outputs for s in samples]
        references = [compiled.model.reference(s) for s in samples]
        what += " (host simulation)"
    report = [accuracy(info.name, [r[k] for r in references], [g[k] for g in gots], what=what)
              for k, info in enumerate(infos)]
    return RunResult(compiled, arrays, got, refs, comparisons, report, samples)


def fold_shape_inputs(model_path: str | Path, options: ImportOptions,
                      inputs: Sequence[np.ndarray]) -> tuple[ImportOptions, list[np.ndarray]]:
    """An ONNX input that only feeds shape operands (Expand's shape) must be known when
    compiling: given its array (one per model input, in order), fold it into the model as
    --const-input would, and say so. Returns the options and the remaining input arrays."""
    from hhbc.frontends import detect_format

    inputs = list(inputs)
    if detect_format(Path(model_path)) != "onnx":
        return options, inputs
    from hhbc.frontends.onnx_inputs import foldable_inputs

    names, folds = foldable_inputs(Path(model_path), options.input_names, options.const_inputs)
    if not folds or len(inputs) != len(names):
        return options, inputs   # a count mismatch is reported after compiling
    consts = list(options.const_inputs)
    for k, name, label in folds:
        value = np.asarray(inputs[k])
        consts.append((name, value))
        print(f"hhbc: note: input '{name}' is the shape operand of {label}: folding its --input value "
              f"{value.ravel().tolist()[:8]} into the model (as --const-input {name}=... would)", file=sys.stderr)
    dropped = {k for k, _, _ in folds}
    return (dataclasses.replace(options, const_inputs=tuple(consts)),
            [a for k, a in enumerate(inputs) if k not in dropped])


def check_expected(expected: Sequence[tuple[str, np.ndarray]], outputs) -> list[np.ndarray]:
    """The user's expected outputs, one per model output in order, checked against the
    outputs' shapes (a size-preserving difference such as a dropped batch axis is accepted)."""
    if len(expected) != len(outputs):
        where = ", ".join(label for label, _ in expected) or "none"
        raise HhbcError(f"--expected gives {len(expected)} array(s) ({where}) for a model with "
                        f"{len(outputs)} output(s) ({', '.join(o.name for o in outputs)})")
    refs = []
    for (label, array), info in zip(expected, outputs):
        array = np.asarray(array)
        shape = tuple(info.shape)
        if array.shape != shape:
            if array.size != int(np.prod(shape, dtype=np.int64)):
                raise HhbcError(f"--expected {label}: shape {list(array.shape)} does not match output "
                                f"'{info.name}' {list(shape)}")
            array = array.reshape(shape)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise HhbcError(f"--expected {label}: {array.dtype} array for output '{info.name}'")
        refs.append(array)
    return refs


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
    x = np.asarray(array, np.float32) / scale
    whole = np.trunc(x)                       # x - whole is exact in float32: no double rounding
    q = whole + np.sign(x) * (np.abs(x - whole) >= np.float32(0.5))
    return np.clip(q + quant.zero_point[0], -128, 127).astype(np.int8)
