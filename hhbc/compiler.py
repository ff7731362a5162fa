"""The whole pipeline behind `hhbc compile`, `hhbc run`: import, optimize, lower, emit, build."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hhbc.codegen import generate
from hhbc.codegen.outdir import check_out_dir
from hhbc.errors import HhbcError
from hhbc.frontends import ImportedModel, ImportOptions, detect_format, load_model
from hhbc.limit_checks import check_arena_fits, check_declared, check_graph, check_relax
from hhbc.lower.from_relax import lower
from hhbc.lower.graph import KernelGraph
from hhbc.lower.memory import plan_memory
from hhbc.optimize import optimize
from hhbc.optimize.quantized import is_quantized
from hhbc.quantize.float16 import to_float16
from hhbc.quantize.ptq import PtqOptions, Quantized, post_training_quantize
from hhbc.quantize.schemes import check_scheme, is_int8
from hhbc.targets import Target, check_scheme_on, check_vlen


@dataclass
class Compiled:
    model: ImportedModel
    graph: KernelGraph
    manifest: dict
    out_dir: Path
    quantized: Quantized | None = None    # post-training quantization (-qs int8_*): calibration, layers
    optimized: object = None              # the Relax module that was lowered (hhbc graph --after-optimization)


class Progress:
    """One line per stage on stderr, with the time the previous stage took."""

    stage = "starting"   # the last stage begun, shown or not (the CLI's out-of-memory line names it)

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.t0 = time.monotonic()

    def __call__(self, message: str, stage: bool = True) -> None:
        """`stage`: the message begins a stage (False: a result line)."""
        if stage:
            Progress.stage = message
        if self.enabled:
            print(f"hhbc: [{time.monotonic() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)


def print_kernels(manifest: dict) -> None:
    """The kernel each layer got (-v): a user sees what fell back to the reference code."""
    print(f"hhbc: [kernels] {'#':>3}  {'layer':36} {'kernel':34} {'MACs':>10}", file=sys.stderr)
    for layer in manifest["layers"]:
        name = layer["name"] if len(layer["name"]) <= 36 else layer["name"][:33] + "..."
        print(f"hhbc: [kernels] {layer['index']:>3}  {name:36} {layer['kernel']:34} {layer['macs']:>10}",
              file=sys.stderr)


def _effective_scheme(graph: KernelGraph, scheme: str, quantized: bool) -> str:
    """A model that arrives quantized (TFLite int8, ONNX QDQ) computes in int8 whatever -qs
    says for float models: reports and manifest.json say int8, not float32. A float model
    quantized by hhbc keeps the scheme's name."""
    if not quantized and (scheme == "float32" or is_int8(scheme)) and \
            any(n.output.dtype == "int8" for n in graph.nodes):
        return "int8"
    return scheme


def compile_model(model_path: str | Path, target: Target, out_dir: str | Path, *,
                  options: ImportOptions = ImportOptions(), prefix: str = "model",
                  vlen: int | None = None, verbose: bool = False, command: str = "",
                  progress: Progress | None = None, scheme: str = "float32", guard: bool = False,
                  ptq: PtqOptions | None = None) -> Compiled:
    """Compile a model file into a firmware C project in out_dir. `scheme` is HHB's -qs:
    float32 (the default for float models), float16, or an int8 scheme, which quantizes a
    float model after training with the calibration data of `ptq` (docs/quantization.md).
    `guard` (--guard): canaries after every arena tensor, checked after every layer
    (docs/sanitizers.md)."""
    progress = progress or Progress(False)
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    vlen = check_vlen(target, vlen)
    check_scheme_on(target, check_scheme(scheme))
    model_path = Path(model_path)
    fmt = detect_format(model_path)
    if options.const_inputs and fmt != "onnx":
        raise HhbcError(f"--const-input {options.const_inputs[0][0]}: only ONNX models take constant inputs "
                        f"({model_path.name} is {fmt})")
    progress(f"importing {model_path.name} ({fmt})")
    model = load_model(model_path, options)
    limits = options.limits
    check_declared(model, limits)
    check_relax(model.mod, limits, model_path.name)
    if verbose:
        ops = ", ".join(f"{op}×{n}" for op, n in sorted(model.source_ops.items(), key=lambda kv: -kv[1]))
        print(f"hhbc: [{fmt} model] {sum(model.source_ops.values())} nodes: {ops}", file=sys.stderr)
    quantized = None
    if is_int8(scheme) and not is_quantized(model.mod):
        progress("optimizing the float Relax graph for quantization")
        quantized = post_training_quantize(model, scheme, ptq or PtqOptions(), verbose=verbose, progress=progress)
        mod = quantized.mod
    else:
        if is_int8(scheme):
            progress(f"{model_path.name} is quantized already: -qs {scheme} and calibration are not needed", False)
        progress("optimizing the Relax graph")
        mod = optimize(model.mod, verbose=verbose)
    progress("lowering to kernels and planning memory")
    graph = lower(model, mod)
    if scheme in ("float16", "float16_w_int8"):
        graph = to_float16(graph, int8_weights=scheme == "float16_w_int8")
    check_graph(graph, limits, model_path.name)
    check_arena_fits(graph, limits, target)          # the lower bound: before the planner runs
    plan = plan_memory(graph, guard=guard)
    check_arena_fits(graph, limits, target, plan)
    progress(f"writing {out_dir}/")
    manifest = generate(model, graph, plan, target, out_dir, prefix=prefix, vlen=vlen, command=command,
                        scheme=_effective_scheme(graph, scheme, quantized is not None))
    if verbose:
        print_kernels(manifest)
    progress(f"{len(graph.nodes)} layers, {graph.macs} MACs "
             f"({100 * manifest['vector_mac_share']:.1f}% in vector kernels), arena {plan.arena_bytes} B "
             f"(lower bound {plan.lower_bound} B), weights {manifest['weight_bytes']} B", stage=False)
    return Compiled(model, graph, manifest, out_dir, quantized, mod)
