"""The Python API: `hhbc.compile`, `hhbc.run`, `hhbc.bench`, `hhbc.bench_compare`.

Each function takes what the `hhbc` subcommand of the same name takes, as keyword arguments
with Python types, and returns a result object instead of printing. The CLI (hhbc/cli.py) is
a thin layer over these functions, so the two cannot drift apart. Errors a user can cause are
HhbcError (hhbc/errors.py) with one-line messages; they name the CLI option, which is also the
keyword argument's name with dashes. A mismatch in `run` is not an error here: it is reported
in the result (`RunResult.ok`), and `RunResult.check()` raises MismatchError for scripts that
want the CLI's behaviour.

This module imports only numpy at load time: TVM and the frontends are imported when a
function is called.
"""

from __future__ import annotations

import dataclasses
import json as _json
import os
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

import numpy as np

from hhbc.errors import HhbcError, MismatchError

if TYPE_CHECKING:
    from hhbc.benchmark import BenchResult
    from hhbc.compare import Comparison
    from hhbc.compiler import Compiled, Progress
    from hhbc.frontends import ImportOptions
    from hhbc.quantize.metrics import OutputAccuracy
    from hhbc.quantize.ptq import PtqOptions

PathLike = Union[str, "os.PathLike[str]"]
Model = Union[PathLike, Any]            # a model file or directory, or an onnx.ModelProto
ArrayOrPath = Union[np.ndarray, PathLike]

__all__ = ["compile", "run", "bench", "bench_compare", "CompileResult", "CompilePaths", "RunResult",
           "CompareResult"]


# --- results ---------------------------------------------------------------------------------

@dataclass
class CompilePaths:
    """Where the generated project's files are."""
    out_dir: Path
    model_c: Path
    model_h: Path
    weights_c: Path
    makefile: Path
    manifest: Path
    elf: Path | None = None          # the built firmware (compile(build=True), run)


@dataclass
class CompileResult:
    """A compiled model: manifest.json as a dict, the project's paths, the per-layer table."""
    manifest: dict
    paths: CompilePaths
    layers: list[dict]               # the manifest's rows: index, name, op, kernel, vector, output_shape, macs...
    compiled: Compiled = field(repr=False)   # the compiler's own record (model, KernelGraph, Relax module)

    @property
    def target(self) -> str:
        return self.manifest["target"]

    @property
    def scheme(self) -> str:
        return self.manifest.get("scheme", "float32")

    @property
    def vlen(self) -> int | None:
        return self.manifest["vlen"]

    @property
    def macs(self) -> int:
        return self.manifest["macs"]

    @property
    def arena_bytes(self) -> int:
        """RAM for activations: the one static arena."""
        return self.manifest["arena_bytes"]

    @property
    def arena_lower_bound(self) -> int:
        """The liveness lower bound of the arena: how far the memory planner is from optimal."""
        return self.manifest["arena_lower_bound"]

    @property
    def weight_bytes(self) -> int:
        """Flash for constants (weights.c)."""
        return self.manifest["weight_bytes"]


@dataclass
class RunResult:
    """`run`'s outcome: a mismatch is data here (`ok` False), not an exception."""
    outputs: list[np.ndarray]                # the firmware's outputs, one per model output
    comparisons: list[Comparison]            # hhbc.compare.Comparison per output: max_abs, max_rel, limit, ok
    accuracy: list[OutputAccuracy]           # quantized builds: SQNR/top-1 against the float framework
    inputs: list[np.ndarray]                 # what the firmware was given (random ones when none were)
    references: list[np.ndarray]             # what the outputs were compared with
    against: str                             # ... in words
    compiled: CompileResult
    eval_samples: list = field(default_factory=list, repr=False)   # eval_dataset, loaded

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def lines(self) -> list[str]:
        """The lines `hhbc run` prints: one per output, then the accuracy lines."""
        return [c.line() for c in self.comparisons] + [a.line() for a in self.accuracy]

    def check(self) -> RunResult:
        """Raise MismatchError (exit code 1 in the CLI) unless every output is within tolerance."""
        bad = [c.name for c in self.comparisons if not c.ok]
        if bad:
            raise MismatchError(f"outputs differ from {self.against} beyond tolerance: {', '.join(bad)}")
        return self

    def layer_report(self) -> str:
        """Every int8 layer's SQNR against the float graph (`hhbc run --layer-report`), over
        eval_dataset's samples or else the run's input."""
        from hhbc.quantize.report import format_layer_errors, layer_errors

        if self.compiled.compiled.quantized is None:
            raise HhbcError("--layer-report: only for a float model quantized by hhbc (-qs int8_asym_w_sym, "
                            "int8_asym, int8_sym with -cd)")
        samples = self.eval_samples or [self.inputs]
        return format_layer_errors(layer_errors(self.compiled.compiled, samples), len(samples))


@dataclass
class CompareResult:
    """`bench_compare`: the same model benchmarked two ways (two targets or two schemes)."""
    labels: list[str]
    results: list[BenchResult]
    plot: Path | None = None

    def summary(self) -> str:
        """One line: the total instructions of each, and each as a multiple of the first."""
        first = self.results[0].instructions
        parts = [f"{label} {r.instructions}" + (f" ({r.instructions / first:.2f}x)" if k else "")
                 for k, (label, r) in enumerate(zip(self.labels, self.results))]
        return "total instructions per inference: " + ", ".join(parts)


# --- the functions ---------------------------------------------------------------------------

def compile(model: Model, target: str = "c906", *, output: PathLike,
            input_names: Sequence[str] | str | None = None,
            input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | str | None = None,
            output_names: Sequence[str] | str | None = None,
            const_inputs: Mapping[str, Any] | Sequence[str] | None = None,
            weights: PathLike | None = None, vlen: int | None = None,
            quantization_scheme: str = "float32",
            calibrate_dataset: PathLike | Sequence[Any] | None = None,
            data_mean: float | Sequence[float] | str | None = None, data_scale: float | None = None,
            data_resize: int | None = None, pixel_format: str | None = None, data_layout: str | None = None,
            calibrate_mode: str = "maxmin", calibrate_percentile: float | None = None,
            name: str = "model", build: bool = False, cc: str | None = None, guard: bool = False,
            max_arena: int | str | None = None, max_tensor: int | str | None = None,
            max_weights: int | str | None = None, max_nodes: int | None = None,
            max_depth: int | None = None, max_name: int | None = None,
            verbose: bool = False, progress: bool = False, command: str | None = None) -> CompileResult:
    """`hhbc compile`: write the firmware C project for `target` into `output` (and build it
    with `build=True`). `command` is recorded in manifest.json (default: this call)."""
    from hhbc.compiler import compile_model
    from hhbc.targets import get_target

    with _model_file(model, name) as path:
        tgt = get_target(target)
        opts = _options(**_locals_for(_options, locals()))
        ptq = _ptq(**_locals_for(_ptq, locals()))
        prog = _progress(progress)
        compiled = compile_model(path, tgt, Path(output), options=opts, prefix=name, vlen=vlen,
                                 verbose=verbose, command=command or _call("compile", model, target),
                                 progress=prog, scheme=quantization_scheme, guard=guard, ptq=ptq)
        elf = None
        if build:
            from hhbc.build import build as build_project

            prog(f"building for {tgt.name}")
            elf = build_project(compiled.out_dir, tgt, cc=cc)
            prog(f"built {elf}")
        return _compile_result(compiled, elf)


def run(model: Model, target: str = "c906", *,
        inputs: Sequence[ArrayOrPath] | np.ndarray | None = None,
        expected: Sequence[ArrayOrPath] | np.ndarray | None = None, seed: int = 0,
        output: PathLike | None = None, save_outputs: PathLike | None = None,
        eval_dataset: PathLike | None = None,
        input_names: Sequence[str] | str | None = None,
        input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | str | None = None,
        output_names: Sequence[str] | str | None = None,
        const_inputs: Mapping[str, Any] | Sequence[str] | None = None,
        weights: PathLike | None = None, vlen: int | None = None,
        quantization_scheme: str = "float32",
        calibrate_dataset: PathLike | Sequence[Any] | None = None,
        data_mean: float | Sequence[float] | str | None = None, data_scale: float | None = None,
        data_resize: int | None = None, pixel_format: str | None = None, data_layout: str | None = None,
        calibrate_mode: str = "maxmin", calibrate_percentile: float | None = None,
        name: str = "model", cc: str | None = None, guard: bool = False,
        max_arena: int | str | None = None, max_tensor: int | str | None = None,
        max_weights: int | str | None = None, max_nodes: int | None = None,
        max_depth: int | None = None, max_name: int | None = None,
        verbose: bool = False, progress: bool = False, command: str | None = None) -> RunResult:
    """`hhbc run`: compile, build, execute (QEMU, or natively for "host") and compare with the
    framework, or with `expected` (one array or .npy/.pb/.npz path per output; needs `inputs`).
    `inputs`: one array or .npy/.pb path per model input, in order (default: seeded random).
    Does not raise on a mismatch: see RunResult.ok and RunResult.check()."""
    from hhbc.runner import run_and_compare
    from hhbc.targets import get_target

    with _model_file(model, name) as path:
        tgt = get_target(target)
        arrays = _load_inputs(inputs)
        refs = _load_expected(expected)
        if refs is not None and arrays is None:
            raise HhbcError("--expected needs the inputs those outputs came from (--input, once per model input)")
        result = run_and_compare(
            path, tgt, inputs=arrays, out_dir=output, vlen=vlen, cc=cc,
            options=_options(**_locals_for(_options, locals())), prefix=name, seed=seed, verbose=verbose,
            command=command or _call("run", model, target), progress=_progress(progress),
            scheme=quantization_scheme, expected=refs, guard=guard, ptq=_ptq(**_locals_for(_ptq, locals())),
            eval_dataset=None if eval_dataset is None else str(eval_dataset))
        compiled = result.compiled
        against = "the --expected outputs" if refs is not None else compiled.model.format
        if compiled.quantized is not None:
            against = "hhbc's host simulation of the int8 graph (the kernels are wrong, not the quantization)"
        elf = Path(output) / "model" if output is not None else None   # a temporary project is gone
        api_result = RunResult(result.outputs, result.comparisons, result.accuracy, result.inputs,
                               result.references, against, _compile_result(compiled, elf),
                               result.eval_samples)
    if save_outputs is not None:
        save = Path(save_outputs)
        save.mkdir(parents=True, exist_ok=True)
        for k, array in enumerate(api_result.outputs):
            np.save(save / f"out_{k}.npy", array)
    return api_result


def bench(model: Model, target: str = "c906", *,
          inputs: Sequence[ArrayOrPath] | np.ndarray | None = None,
          output: PathLike | None = None, plot: PathLike | None = None, json: PathLike | None = None,
          input_names: Sequence[str] | str | None = None,
          input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | str | None = None,
          output_names: Sequence[str] | str | None = None,
          const_inputs: Mapping[str, Any] | Sequence[str] | None = None,
          weights: PathLike | None = None, vlen: int | None = None,
          quantization_scheme: str = "float32",
          calibrate_dataset: PathLike | Sequence[Any] | None = None,
          data_mean: float | Sequence[float] | str | None = None, data_scale: float | None = None,
          data_resize: int | None = None, pixel_format: str | None = None, data_layout: str | None = None,
          calibrate_mode: str = "maxmin", calibrate_percentile: float | None = None,
          name: str = "model",
          max_arena: int | str | None = None, max_tensor: int | str | None = None,
          max_weights: int | str | None = None, max_nodes: int | None = None,
          max_depth: int | None = None, max_name: int | None = None,
          verbose: bool = False, progress: bool = False) -> BenchResult:
    """`hhbc bench`: per-layer instruction counts under QEMU, RAM and flash. `plot`: also draw
    the profile (.png or .svg, needs matplotlib: the `hhbc[plot]` extra); `json`: also write
    the result as JSON. `result.rows` is one flat dict per layer (pandas.DataFrame(result.rows))."""
    plot_path = _check_plot(plot)
    result = _bench_one(model, target, quantization_scheme, output, **_locals_for(_bench_one, locals()))
    if plot_path is not None:
        from hhbc.plot import plot_profile

        plot_profile(result, plot_path)
    if json is not None:
        Path(json).write_text(_json.dumps(dataclasses.asdict(result), indent=2) + "\n")
    return result


def bench_compare(model: Model, compare: Sequence[str] | str, target: str = "c906", *,
                  quantization_scheme: str = "float32",
                  inputs: Sequence[ArrayOrPath] | np.ndarray | None = None,
                  output: PathLike | None = None, plot: PathLike | None = None, json: PathLike | None = None,
                  input_names: Sequence[str] | str | None = None,
                  input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | str | None = None,
                  output_names: Sequence[str] | str | None = None,
                  const_inputs: Mapping[str, Any] | Sequence[str] | None = None,
                  weights: PathLike | None = None, vlen: int | None = None,
                  calibrate_dataset: PathLike | Sequence[Any] | None = None,
                  data_mean: float | Sequence[float] | str | None = None, data_scale: float | None = None,
                  data_resize: int | None = None, pixel_format: str | None = None,
                  data_layout: str | None = None,
                  calibrate_mode: str = "maxmin", calibrate_percentile: float | None = None,
                  name: str = "model",
                  max_arena: int | str | None = None, max_tensor: int | str | None = None,
                  max_weights: int | str | None = None, max_nodes: int | None = None,
                  max_depth: int | None = None, max_name: int | None = None,
                  verbose: bool = False, progress: bool = False) -> CompareResult:
    """`hhbc bench --compare A,B`: benchmark the model twice, on two targets (each with
    `quantization_scheme`) or with two schemes (each on `target`), and draw them side by side
    with `plot`. Not named `hhbc.compare`: that is the module of output comparisons.
    `output`: each project goes into output/<label>; `json`: a list of both results."""
    kind, items = check_compare(compare)
    plot_path = _check_plot(plot)
    results = []
    for item in items:
        tgt, scheme = (item, quantization_scheme) if kind == "target" else (target, item)
        out = Path(output) / item if output is not None else None
        results.append(_bench_one(model, tgt, scheme, out, **_locals_for(_bench_one, locals())))
    if plot_path is not None:
        from hhbc.plot import plot_compare

        plot_compare(results, items, plot_path)
    if json is not None:
        Path(json).write_text(_json.dumps([dataclasses.asdict(r) for r in results], indent=2) + "\n")
    return CompareResult(list(items), results, plot_path)


def check_compare(compare: Sequence[str] | str) -> tuple[str, list[str]]:
    """--compare's value: ("target" | "scheme", the two items), or a one-line error. Cheap:
    it runs before anything is compiled."""
    from hhbc.quantize.schemes import schemes
    from hhbc.targets import TARGETS

    text = compare if isinstance(compare, str) else ",".join(compare)
    items = [s.strip() for s in text.split(",") if s.strip()] if isinstance(compare, str) else \
        [str(s).strip() for s in compare]
    have = f"targets: {', '.join(TARGETS)}; schemes: {', '.join(schemes())}"
    for item in items:
        if item not in TARGETS and item not in schemes():
            raise HhbcError(f"--compare {text}: '{item}' is neither a target nor a quantization scheme ({have})")
    if len(items) != 2 or items[0] == items[1]:
        raise HhbcError(f"--compare {text}: give two different targets or two schemes, "
                        f"e.g. c906,c908 or float32,int8_asym_w_sym ({have})")
    kinds = {"target" if item in TARGETS else "scheme" for item in items}
    if len(kinds) != 1:
        raise HhbcError(f"--compare {text}: give two targets or two schemes, not one of each")
    return kinds.pop(), items


# --- helpers ---------------------------------------------------------------------------------

def _bench_one(model: Model, target: str, quantization_scheme: str, output: PathLike | None, *,
               inputs=None, input_names=None, input_shapes=None, output_names=None, const_inputs=None,
               weights=None, vlen=None, calibrate_dataset=None, data_mean=None, data_scale=None,
               data_resize=None, pixel_format=None, data_layout=None, calibrate_mode="maxmin",
               calibrate_percentile=None, name="model", max_arena=None, max_tensor=None,
               max_weights=None, max_nodes=None, max_depth=None, max_name=None, verbose=False,
               progress=False) -> BenchResult:
    from hhbc.benchmark import bench as bench_model
    from hhbc.targets import get_target

    with _model_file(model, name) as path:
        tgt = get_target(target)
        return bench_model(path, tgt, vlen=vlen, inputs=_load_inputs(inputs),
                           options=_options(**_locals_for(_options, locals())), prefix=name,
                           out_dir=output, progress=_progress(progress), scheme=quantization_scheme,
                           ptq=_ptq(**_locals_for(_ptq, locals())), verbose=verbose)


def _locals_for(func, names: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword-only arguments of `func` that `names` (a caller's locals()) holds."""
    code = func.__code__
    wanted = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    return {k: names[k] for k in wanted if k in names}


def _call(what: str, model: Model, target: str) -> str:
    where = str(model) if isinstance(model, (str, os.PathLike)) else "<onnx.ModelProto>"
    return f"hhbc.{what}({where!r}, target={target!r})"


class _model_file:
    """A model path as is, or an onnx.ModelProto saved to a temporary <name>.onnx for the call."""

    def __init__(self, model: Model, name: str):
        self.model, self.name, self.tmp = model, name, None

    def __enter__(self) -> Path:
        if isinstance(self.model, (str, os.PathLike)):
            return Path(self.model)
        if type(self.model).__name__ == "ModelProto":
            import onnx

            self.tmp = tempfile.TemporaryDirectory(prefix="hhbc-model-")
            path = Path(self.tmp.name) / f"{self.name}.onnx"
            onnx.save(self.model, path)
            return path
        raise HhbcError(f"model: expected a file path or an onnx.ModelProto, got {type(self.model).__name__}")

    def __exit__(self, *exc) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def _progress(progress: bool | Progress) -> Progress:
    """Progress lines on stderr: on or off, or the caller's own Progress (the CLI's)."""
    from hhbc.compiler import Progress

    return progress if isinstance(progress, Progress) else Progress(bool(progress))


def _names(value: Sequence[str] | str | None) -> tuple[str, ...]:
    from hhbc.frontends.shapes import split_names

    if value is None or isinstance(value, str):
        return tuple(split_names(value))
    return tuple(str(v) for v in value)


def _shapes(value) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """input_shapes as HHB's -is text, a list of shapes, or {input name: shape}."""
    from hhbc.frontends.shapes import parse_shapes

    if value is None or isinstance(value, str):
        return (), tuple(parse_shapes(value))
    names: tuple[str, ...] = ()
    if isinstance(value, Mapping):
        names, value = tuple(value), list(value.values())
    shapes = []
    for shape in value:
        try:
            dims = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise HhbcError(f"input_shapes {shape!r}: a shape is a list of integers") from None
        if any(d <= 0 for d in dims) or any(d != s for d, s in zip(dims, shape)):
            raise HhbcError(f"-is {list(shape)}: dims must be positive integers")
        shapes.append(dims)
    return names, tuple(shapes)


def _const_inputs(value) -> tuple[tuple[str, np.ndarray], ...]:
    """const_inputs as --const-input texts ("NAME=3,1", "NAME=x.npy") or {name: array, numbers or path}."""
    from hhbc.frontends.onnx_inputs import parse_const_input

    if not value:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Mapping):
        return tuple(parse_const_input(text) for text in value)
    consts = []
    for name, v in value.items():
        if isinstance(v, (str, os.PathLike)):
            consts.append(parse_const_input(f"{name}={os.fspath(v)}"))
        else:
            array = np.asarray(v)
            if array.dtype in (np.int32, np.float64) and not isinstance(v, np.ndarray):
                array = array.astype(np.int64 if array.dtype.kind == "i" else np.float32)   # as '3,1' gives
            consts.append((str(name), array))
    return tuple(consts)


def _options(*, input_names=None, input_shapes=None, output_names=None, const_inputs=None, weights=None,
             max_arena=None, max_tensor=None, max_weights=None, max_nodes=None, max_depth=None,
             max_name=None) -> ImportOptions:
    from hhbc.frontends import ImportOptions

    shape_names, shapes = _shapes(input_shapes)
    names = _names(input_names)
    if shape_names and names and names != shape_names:
        raise HhbcError(f"input_names {list(names)} and the names of input_shapes {list(shape_names)} differ")
    return ImportOptions(names or shape_names, shapes, _names(output_names),
                         Path(weights) if weights is not None else None, _const_inputs(const_inputs),
                         limits=_limits(max_arena, max_tensor, max_weights, max_nodes, max_depth, max_name))


def _limits(max_arena, max_tensor, max_weights, max_nodes, max_depth, max_name):
    """The Limits that the max_* values ask for (each one left out keeps its default)."""
    from hhbc.limits import DEFAULT_LIMITS, parse_size

    changes = {}
    for fld, option, value in (("arena_bytes", "max-arena", max_arena), ("tensor_bytes", "max-tensor", max_tensor),
                               ("weight_bytes", "max-weights", max_weights)):
        if value is not None:
            changes[fld] = parse_size(value, "--" + option)
    for fld, option, value in (("nodes", "max-nodes", max_nodes), ("depth", "max-depth", max_depth),
                               ("name_length", "max-name", max_name)):
        if value is not None:
            if value < 1:
                raise HhbcError(f"--{option} {value}: must be at least 1")
            changes[fld] = int(value)
    return dataclasses.replace(DEFAULT_LIMITS, **changes)


def _ptq(*, calibrate_dataset=None, data_mean=None, data_scale=None, data_resize=None, pixel_format=None,
         data_layout=None, calibrate_mode="maxmin", calibrate_percentile=None) -> PtqOptions:
    """Calibration: -cd as a path (or HHB's ';'/','-separated list), or samples already in
    memory: one array per sample for a one-input model, else one sequence of arrays per sample."""
    from hhbc.quantize.calibrate import DEFAULT_PERCENTILE, check_mode, check_percentile
    from hhbc.quantize.dataset import preprocess_from_args
    from hhbc.quantize.ptq import PtqOptions

    preprocess = preprocess_from_args(types.SimpleNamespace(
        data_mean=data_mean, data_scale=data_scale, data_resize=data_resize, pixel_format=pixel_format,
        data_layout=data_layout))
    dataset, samples = None, None
    if isinstance(calibrate_dataset, (str, os.PathLike)):
        dataset = os.fspath(calibrate_dataset)
    elif calibrate_dataset is not None:
        samples = [[s] if isinstance(s, np.ndarray) else list(s) for s in calibrate_dataset]
    percentile = DEFAULT_PERCENTILE if calibrate_percentile is None else calibrate_percentile
    return PtqOptions(dataset=dataset, preprocess=preprocess, mode=check_mode(calibrate_mode),
                      percentile=check_percentile(percentile), samples=samples)


def _read_array(path: str, option: str, kinds: str) -> list[tuple[str, np.ndarray]]:
    """A .pb (ONNX TensorProto), an .npz (all of its arrays, in the order saved) or an .npy."""
    try:
        if path.endswith(".pb"):
            import onnx
            from onnx import numpy_helper

            tensor = onnx.TensorProto()
            tensor.ParseFromString(Path(path).read_bytes())
            return [(path, numpy_helper.to_array(tensor))]
        if path.endswith(".npz") and option == "--expected":
            with np.load(path, allow_pickle=False) as npz:
                return [(f"{path}[{key}]", npz[key]) for key in npz.files]
        return [(path, np.load(path, allow_pickle=False))]
    except Exception as err:
        if option == "--input":
            raise HhbcError(f"--input {path}: not a readable .npy or .pb file ({err})") from None
        raise HhbcError(f"{option} {path}: not a readable {kinds} file "
                        f"({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None


def _load_inputs(inputs) -> list[np.ndarray] | None:
    """One array or .npy/.pb path per model input (a lone array: a one-input model)."""
    if inputs is None or (not isinstance(inputs, np.ndarray) and len(inputs) == 0):
        return None
    if isinstance(inputs, np.ndarray):
        return [inputs]
    arrays = []
    for item in inputs:
        if isinstance(item, (str, os.PathLike)):
            arrays.extend(a for _, a in _read_array(os.fspath(item), "--input", ".npy or .pb"))
        else:
            arrays.append(np.asarray(item))
    return arrays


def _load_expected(expected) -> list[tuple[str, np.ndarray]] | None:
    """(label, array) per model output: arrays as given, .npy/.pb files one array each, .npz
    files all of their arrays in order."""
    if expected is None or (not isinstance(expected, np.ndarray) and len(expected) == 0):
        return None
    if isinstance(expected, np.ndarray):
        expected = [expected]
    arrays = []
    for k, item in enumerate(expected):
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            if not Path(path).is_file():
                raise HhbcError(f"--expected {path}: no such file")
            arrays.extend(_read_array(path, "--expected", ".npy/.npz/.pb"))
        else:
            arrays.append((f"expected[{k}]", np.asarray(item)))
    return arrays


def _check_plot(plot: PathLike | None) -> Path | None:
    """The plot's path checked, and matplotlib's presence, before anything is compiled."""
    if plot is None:
        return None
    from hhbc.plot import check_plot_path

    return check_plot_path(plot)


def _compile_result(compiled: Compiled, elf: Path | None) -> CompileResult:
    out = Path(compiled.out_dir)
    paths = CompilePaths(out, out / "model.c", out / "model.h", out / "weights.c", out / "Makefile",
                         out / "manifest.json", elf if elf is not None and Path(elf).is_file() else None)
    manifest = compiled.manifest
    return CompileResult(manifest, paths, [dict(row) for row in manifest["layers"]], compiled)
