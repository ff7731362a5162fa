"""The `hhbc` command line. Errors are printed once, as one line, without a traceback."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Sequence

from hhbc import __version__
from hhbc.errors import HhbcError


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
    p.add_argument("--json", metavar="FILE", help="also write the counts as JSON (a list of both with --compare)")
    p.add_argument("--plot", metavar="FILE.png|.svg",
                   help="also draw the per-layer counts: stacked scalar/vector bars, MACs on a second axis "
                        "(needs matplotlib: pip install 'hhbc[plot]')")
    p.add_argument("--compare", metavar="A,B",
                   help="benchmark twice, on two targets (c906,c908) or with two -qs schemes "
                        "(float32,int8_asym_w_sym), print both and a summary, and --plot them side by side; "
                        "-o DIR keeps each project in DIR/A and DIR/B")

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


def _api_options(args, progress=None) -> dict:
    """The keyword arguments of hhbc.api that the model options (_add_model_options) give."""
    from hhbc.compiler import Progress

    return dict(
        input_names=args.input_names, input_shapes=args.input_shapes, output_names=args.output_names,
        const_inputs=args.const_inputs, weights=args.weights, vlen=args.vlen,
        calibrate_dataset=args.calibrate_dataset, data_mean=args.data_mean, data_scale=args.data_scale,
        data_resize=args.data_resize, pixel_format=args.pixel_format, data_layout=args.data_layout,
        calibrate_mode=args.calibrate_mode, calibrate_percentile=args.calibrate_percentile, name=args.name,
        max_arena=args.max_arena, max_tensor=args.max_tensor, max_weights=args.max_weights,
        max_nodes=args.max_nodes, max_depth=args.max_depth, max_name=args.max_name, verbose=args.verbose,
        progress=progress or Progress(not args.quiet))


def _compile(args, argv, out_dir: Path, progress=None, **extra):
    from hhbc import api

    return api.compile(args.model, args.target, output=out_dir, quantization_scheme=args.scheme,
                       guard=args.guard, command="hhbc " + shlex.join(argv), **extra,
                       **_api_options(args, progress))


def _cmd_compile(args, argv) -> int:
    _compile(args, argv, Path(args.output), build=args.build, cc=args.cc)
    return 0


def _cmd_run(args, argv) -> int:
    from hhbc import api

    result = api.run(args.model, args.target, inputs=args.input or None, expected=args.expected,
                     seed=args.seed, output=args.output, save_outputs=args.save_outputs,
                     eval_dataset=args.eval_dataset, quantization_scheme=args.scheme, cc=args.cc,
                     guard=args.guard, command="hhbc " + shlex.join(argv), **_api_options(args))
    for line in result.lines():
        print(line)
    if args.layer_report:
        print(result.layer_report())
    result.check()
    return 0


def _cmd_graph(args, argv) -> int:
    """hhbc graph: the model compiled in a temporary folder, its kernel graph (or the optimized
    Relax graph) drawn to -o."""
    import tempfile

    from hhbc.compiler import Progress
    from hhbc.graph_view import check_output_path, write_graph, write_relax_graph

    out = check_output_path(args.output)
    progress = Progress(not args.quiet)
    with tempfile.TemporaryDirectory(prefix="hhbc-graph-") as tmp:
        compiled = _compile(args, argv, Path(tmp) / "out", progress).compiled
        if args.after_optimization:
            path = write_relax_graph(compiled.optimized, out,
                                     f"{Path(compiled.model.source).name}: Relax main after optimization")
        else:
            path = write_graph(compiled, compiled.manifest, out)
    progress(f"wrote {path}", stage=False)
    return 0


def _cmd_bench(args) -> int:
    """hhbc bench: the table; with --compare both tables and a summary line; --plot draws them."""
    from hhbc import api
    from hhbc.compiler import Progress

    progress = Progress(not args.quiet)
    options = dict(inputs=args.input or None, output=args.output, plot=args.plot, json=args.json,
                   quantization_scheme=args.scheme, **_api_options(args, progress))
    if args.compare:
        compared = api.bench_compare(args.model, args.compare, args.target, **options)
        for result in compared.results:
            print(result.report())
            print()
        print(compared.summary())
    else:
        print(api.bench(args.model, args.target, **options).report())
    if args.plot:
        progress(f"wrote {args.plot}", stage=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
