"""The `hhbc` command line. Errors are printed once, as one line, without a traceback."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from hhbc import __version__
from hhbc.errors import HhbcError, MismatchError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise HhbcError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?",
                   help="model: .onnx, Caffe .prototxt (+ .caffemodel beside it), TensorFlow frozen .pb, "
                        "or a SavedModel directory")
    p.add_argument("-f", "--model-file", dest="model_file", help="model file (HHB spelling)")
    p.add_argument("--target", "--board", dest="target", default="c906",
                   help="target core, see 'hhbc targets' (default: c906)")
    p.add_argument("--vlen", type=int, help="vector length in bits, for targets that allow a choice")
    p.add_argument("-in", "--input-name", dest="input_names",
                   help="input tensor names, ';'-separated (HHB -in)")
    p.add_argument("-is", "--input-shape", dest="input_shapes",
                   help="input shapes, ';'-separated, dims by spaces or commas (HHB -is)")
    p.add_argument("-on", "--output-name", dest="output_names",
                   help="output tensor names, ';'-separated (HHB -on)")
    p.add_argument("--const-input", dest="const_inputs", action="append", default=[], metavar="NAME=VALUE",
                   help="ONNX: fold input NAME into the model as a constant, VALUE a .npy/.pb file or numbers "
                        "'3,1': needed for an integer input that gives a shape (Expand's shape); repeatable")
    p.add_argument("--weights", help="Caffe: the .caffemodel (default: beside the .prototxt)")
    p.add_argument("-qs", "--quantization-scheme", dest="scheme", default="float32",
                   help="float32 (default for float models); float16: IEEE half activations and weights, "
                        "float32 accumulation; float16_w_int8: float16 with int8 per-channel conv/dense "
                        "weights in flash; int8_asym_w_sym, int8_asym, int8_sym: post-training int8 "
                        "quantization with -cd calibration data (HHB -qs; docs/quantization.md)")
    _add_calibration_options(p)
    p.add_argument("--name", default="model", help="C name prefix of the generated API (default: model)")
    p.add_argument("-v", "--verbose", action="store_true", help="show the graph after each optimization")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    _add_limit_options(p)


def _add_calibration_options(p: argparse.ArgumentParser) -> None:
    """-cd, HHB's preprocessing options and the calibration mode (int8 schemes)."""
    from hhbc.quantize.calibrate import DEFAULT_PERCENTILE
    from hhbc.quantize.dataset import add_dataset_options

    add_dataset_options(p)
    p.add_argument("--calibrate-mode", dest="calibrate_mode", default="maxmin",
                   help="how calibration turns observed values into int8 ranges: maxmin (default), "
                        "percentile, kl_divergence")
    p.add_argument("--calibrate-percentile", dest="calibrate_percentile", type=float,
                   default=DEFAULT_PERCENTILE,
                   help=f"percentile mode: the percentile of each tensor's magnitudes kept "
                        f"(default {DEFAULT_PERCENTILE:g})")


def _ptq_options(args):
    """The post-training quantization options the command line asks for."""
    from hhbc.quantize.calibrate import check_mode, check_percentile
    from hhbc.quantize.dataset import preprocess_from_args
    from hhbc.quantize.ptq import PtqOptions

    return PtqOptions(dataset=args.calibrate_dataset, preprocess=preprocess_from_args(args),
                      mode=check_mode(args.calibrate_mode), percentile=check_percentile(args.calibrate_percentile))


def _add_limit_options(p: argparse.ArgumentParser) -> None:
    """--max-*: raise (or lower) the limits of hhbc/limits.py; sizes take K/M/G or KiB/MiB/GiB."""
    from hhbc.limits import DEFAULT_LIMITS as d, format_bytes

    g = p.add_argument_group("resource limits (docs/limits.md)")
    g.add_argument("--max-arena", metavar="BYTES",
                   help="activation arena budget (default: the target's RAM, see 'hhbc targets')")
    g.add_argument("--max-tensor", metavar="BYTES",
                   help=f"largest activation or IO tensor (default {format_bytes(d.tensor_bytes)})")
    g.add_argument("--max-weights", metavar="BYTES",
                   help=f"total constant bytes, and any one constant (default {format_bytes(d.weight_bytes)})")
    g.add_argument("--max-nodes", metavar="N", type=int, help=f"nodes or layers (default {d.nodes:,})")
    g.add_argument("--max-depth", metavar="N", type=int,
                   help=f"longest input-to-output chain of nodes (default {d.depth:,})")
    g.add_argument("--max-name", metavar="N", type=int,
                   help=f"characters in a node or tensor name (default {d.name_length:,})")


def _limits(args):
    """The Limits the --max-* options ask for (each one left out keeps its default)."""
    import dataclasses

    from hhbc.limits import DEFAULT_LIMITS, parse_size

    changes = {}
    for field, option in (("arena_bytes", "max_arena"), ("tensor_bytes", "max_tensor"),
                          ("weight_bytes", "max_weights")):
        if getattr(args, option) is not None:
            changes[field] = parse_size(getattr(args, option), "--" + option.replace("_", "-"))
    for field, option in (("nodes", "max_nodes"), ("depth", "max_depth"), ("name_length", "max_name")):
        value = getattr(args, option)
        if value is not None:
            if value < 1:
                raise HhbcError(f"--{option.replace('_', '-')} {value}: must be at least 1")
            changes[field] = value
    return dataclasses.replace(DEFAULT_LIMITS, **changes)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hhbc", description="Compile neural networks for small RISC-V cores.")
    parser.add_argument("--version", action="version", version=f"hhbc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("compile", help="compile a model into a firmware C project")
    _add_model_options(p)
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.add_argument("--build", action="store_true", help="also cross-compile the project")
    p.add_argument("--cc", help="C compiler for --build (default: zig cc for RISC-V, cc for host)")
    p.add_argument("--guard", action="store_true",
                   help="canaries after every arena tensor, checked after every layer: a layer that writes "
                        "past a tensor is named and the run fails (docs/sanitizers.md)")

    p = sub.add_parser("run", help="compile, build, run under QEMU and compare with the framework")
    _add_model_options(p)
    p.add_argument("--input", action="append", default=[], metavar="X.npy",
                   help="input array, once per model input in order (default: seeded random)")
    p.add_argument("-o", "--output", help="keep the generated project here (default: a temp dir)")
    p.add_argument("--cc", help="C compiler (default: zig cc for RISC-V, cc for host)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random default inputs")
    p.add_argument("--guard", action="store_true",
                   help="build with arena canaries checked after every layer (as compile --guard)")
    p.add_argument("--save-outputs", metavar="DIR", help="write out_<k>.npy of the emulated run here")
    p.add_argument("--expected", nargs="+", metavar="OUT.npy",
                   help="compare with these outputs instead of running the framework: one .npy or .pb "
                        "(ONNX TensorProto) per model output in order, or an .npz holding them in order")
    p.add_argument("--eval-dataset", metavar="DATA",
                   help="int8 schemes: also measure the accuracy against the float framework over these "
                        "samples (as -cd, same preprocessing), through the host simulation")
    p.add_argument("--layer-report", action="store_true",
                   help="int8 schemes: print every layer's SQNR against the float graph")

    p = sub.add_parser("bench", help="per-layer instruction counts under QEMU, RAM and flash")
    _add_model_options(p)
    p.add_argument("--input", action="append", default=[], metavar="X.npy",
                   help="input array, once per model input in order (default: seeded random)")
    p.add_argument("-o", "--output", help="keep the generated project here (default: a temp dir)")
    p.add_argument("--json", metavar="FILE", help="also write the counts as JSON")

    p = sub.add_parser("graph", help="draw the kernel graph: layers, kernels, shapes, MACs, arena offsets")
    _add_model_options(p)
    p.add_argument("-o", "--output", required=True, metavar="GRAPH.svg",
                   help=".svg or .png (through Graphviz's dot) or .dot (any DOT viewer)")
    p.add_argument("--after-optimization", action="store_true",
                   help="draw the optimized Relax graph (fused patterns, before lowering to kernels) instead")
    p.set_defaults(guard=False)

    sub.add_parser("targets", help="list the targets")
    from hhbc.doctor import add_parser as add_doctor_parser
    add_doctor_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args, argv)
    except HhbcError as err:
        print(f"hhbc: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("hhbc: interrupted", file=sys.stderr)
        return 130
    except MemoryError:   # a backstop: hhbc/limits.py refuses what would not fit before allocating it
        print(f"hhbc: error: out of memory while {_stage()} (docs/limits.md)", file=sys.stderr)
        return 2


def _stage() -> str:
    compiler = sys.modules.get("hhbc.compiler")
    return compiler.Progress.stage if compiler is not None else "starting"


def _dispatch(args, argv) -> int:
    if args.command == "targets":
        return _cmd_targets()
    if args.command == "graph":
        return _cmd_graph(args, argv)
    if args.command == "doctor":
        from hhbc.doctor import doctor
        return doctor()
    if args.model and args.model_file:
        raise HhbcError("give the model once: as an argument or with -f")
    args.model = args.model or args.model_file
    if not args.model:
        raise HhbcError(f"hhbc {args.command}: a model file is required")
    if args.command == "compile":
        return _cmd_compile(args, argv)
    if args.command == "bench":
        return _cmd_bench(args)
    return _cmd_run(args, argv)


def _cmd_targets() -> int:
    from hhbc.targets import TARGETS

    from hhbc.limits import format_bytes

    print(f"{'target':8} {'vector':9} {'VLEN':11} {'RAM':8} {'QEMU cpu':26} description")
    for t in TARGETS.values():
        vlen = "/".join(map(str, t.vlen_choices)) if t.vlen_choices else str(t.default_vlen or "-")
        ram = format_bytes(t.ram_bytes) if t.ram_bytes else "-"
        print(f"{t.name:8} {t.vector_isa or '-':9} {vlen:11} {ram:8} {t.qemu_cpu or 'native':26} {t.description}")
    return 0


def _import_options(args):
    from hhbc.frontends import ImportOptions
    from hhbc.frontends.onnx_inputs import parse_const_input
    from hhbc.frontends.shapes import parse_shapes, split_names

    return ImportOptions(tuple(split_names(args.input_names)), tuple(parse_shapes(args.input_shapes)),
                         tuple(split_names(args.output_names)),
                         Path(args.weights) if args.weights else None,
                         tuple(parse_const_input(text) for text in args.const_inputs),
                         limits=_limits(args))


def _compile(args, argv, out_dir: Path):
    from hhbc.compiler import Progress, compile_model
    from hhbc.targets import get_target

    target = get_target(args.target)
    progress = Progress(not args.quiet)
    compiled = compile_model(
        args.model, target, out_dir, options=_import_options(args), prefix=args.name, vlen=args.vlen,
        verbose=args.verbose, command="hhbc " + shlex.join(argv), progress=progress, scheme=args.scheme,
        guard=args.guard, ptq=_ptq_options(args))
    return target, compiled, progress


def _cmd_compile(args, argv) -> int:
    from hhbc.build import build

    target, compiled, progress = _compile(args, argv, Path(args.output))
    if args.build:
        progress(f"building for {target.name}")
        elf = build(compiled.out_dir, target, cc=args.cc)
        progress(f"built {elf}")
    return 0


def _load_inputs(paths: list[str]) -> list[np.ndarray] | None:
    if not paths:
        return None
    arrays = []
    for path in paths:
        try:
            if path.endswith(".pb"):   # an ONNX TensorProto, as in ONNX's test data
                import onnx
                from onnx import numpy_helper

                tensor = onnx.TensorProto()
                tensor.ParseFromString(Path(path).read_bytes())
                arrays.append(numpy_helper.to_array(tensor))
            else:
                arrays.append(np.load(path, allow_pickle=False))
        except Exception as err:
            raise HhbcError(f"--input {path}: not a readable .npy or .pb file ({err})") from None
    return arrays


def _load_expected(paths: list[str] | None) -> list[tuple[str, np.ndarray]] | None:
    """--expected files -> (label, array) per output: .npy and .pb one array each, .npz all of
    its arrays in the order they were saved."""
    if not paths:
        return None
    arrays = []
    for path in paths:
        if not Path(path).is_file():
            raise HhbcError(f"--expected {path}: no such file")
        try:
            if path.endswith(".pb"):
                import onnx
                from onnx import numpy_helper

                tensor = onnx.TensorProto()
                tensor.ParseFromString(Path(path).read_bytes())
                arrays.append((path, numpy_helper.to_array(tensor)))
            elif path.endswith(".npz"):
                with np.load(path, allow_pickle=False) as npz:
                    arrays.extend((f"{path}[{key}]", npz[key]) for key in npz.files)
            else:
                arrays.append((path, np.load(path, allow_pickle=False)))
        except Exception as err:
            raise HhbcError(f"--expected {path}: not a readable .npy/.npz/.pb file "
                            f"({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    return arrays


def _cmd_run(args, argv) -> int:
    from hhbc.compiler import Progress
    from hhbc.runner import run_and_compare
    from hhbc.targets import get_target

    target = get_target(args.target)
    inputs = _load_inputs(args.input)
    expected = _load_expected(args.expected)
    if expected is not None and inputs is None:
        raise HhbcError("--expected needs the inputs those outputs came from (--input, once per model input)")
    result = run_and_compare(
        args.model, target, inputs=inputs, out_dir=args.output, vlen=args.vlen, cc=args.cc,
        options=_import_options(args), prefix=args.name, seed=args.seed, verbose=args.verbose,
        command="hhbc " + shlex.join(argv), progress=Progress(not args.quiet), scheme=args.scheme,
        expected=expected, guard=args.guard, ptq=_ptq_options(args), eval_dataset=args.eval_dataset)
    if args.save_outputs:
        save = Path(args.save_outputs)
        save.mkdir(parents=True, exist_ok=True)
        for k, array in enumerate(result.outputs):
            np.save(save / f"out_{k}.npy", array)
    for c in result.comparisons:
        print(c.line())
    for a in result.accuracy:
        print(a.line())
    if args.layer_report:
        _print_layer_report(result)
    bad = [c.name for c in result.comparisons if not c.ok]
    if bad:
        against = "the --expected outputs" if expected is not None else result.compiled.model.format
        if result.compiled.quantized is not None:
            against = "hhbc's host simulation of the int8 graph (the kernels are wrong, not the quantization)"
        raise MismatchError(f"outputs differ from {against} beyond tolerance: "
                            f"{', '.join(bad)}")
    return 0


def _print_layer_report(result) -> None:
    """--layer-report: per-layer SQNR of a post-training-quantized build."""
    from hhbc.quantize.report import format_layer_errors, layer_errors

    if result.compiled.quantized is None:
        raise HhbcError("--layer-report: only for a float model quantized by hhbc (-qs int8_asym_w_sym, "
                        "int8_asym, int8_sym with -cd)")
    samples = result.eval_samples or [result.inputs]
    rows = layer_errors(result.compiled, samples)
    print(format_layer_errors(rows, len(samples)))


def _cmd_graph(args, argv) -> int:
    """hhbc graph: the model compiled in a temporary folder, its kernel graph (or the optimized
    Relax graph) drawn to -o."""
    import tempfile

    from hhbc.graph_view import check_output_path, write_graph, write_relax_graph

    out = check_output_path(args.output)
    with tempfile.TemporaryDirectory(prefix="hhbc-graph-") as tmp:
        _, compiled, progress = _compile(args, argv, Path(tmp) / "out")
        if args.after_optimization:
            path = write_relax_graph(compiled.optimized, out,
                                     f"{Path(compiled.model.source).name}: Relax main after optimization")
        else:
            path = write_graph(compiled, compiled.manifest, out)
    progress(f"wrote {path}", stage=False)
    return 0


def _cmd_bench(args) -> int:
    import dataclasses
    import json

    from hhbc.bench import bench, format_report
    from hhbc.compiler import Progress
    from hhbc.targets import get_target

    result = bench(args.model, get_target(args.target), vlen=args.vlen, inputs=_load_inputs(args.input),
                   options=_import_options(args), prefix=args.name, out_dir=args.output,
                   progress=Progress(not args.quiet), scheme=args.scheme, ptq=_ptq_options(args))
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(dataclasses.asdict(result), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
