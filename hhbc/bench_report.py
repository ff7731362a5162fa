"""Regenerate BENCHMARKS.md: `python -m hhbc.bench_report BENCHMARKS.md` (or `make bench`).

Every figure in the file is measured by this script on this run: instruction
counts per inference under QEMU with the counting plugin, arena and flash
from the compiled project. The bundled demo model is always measured; the
real models in ../shared/models are added when that folder is present.
The pictures it embeds (docs/img/bench-*.svg, drawn by hhbc/plot.py) come
from the same run; without matplotlib they are left out, with a note.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

from hhbc import __version__
from hhbc.benchmark import BenchResult, bench, lmul_weighted
from hhbc.frontends import ImportOptions
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "models"
TARGETS = [("c906", None), ("c908", None), ("rvv", 128), ("rvv", 256), ("rv64gc", None)]
_KWS_CUT = ImportOptions(("Mfcc:0",), ((1, 49, 10),), ("labels_softmax:0",))
SHARED_MODELS = [
    ("sinian KWS (ONNX)", "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx", ImportOptions()),
    ("sinian VWW (ONNX)", "onnx/mlperf_tiny_results/alibaba_sinian_model_vww.onnx", ImportOptions()),
    ("sinian IC (ONNX)", "onnx/mlperf_tiny_results/alibaba_sinian_model_ic.onnx", ImportOptions()),
    ("sinian AD (ONNX)", "onnx/mlperf_tiny_results/alibaba_sinian_model_ad.onnx", ImportOptions()),
    ("MNIST (ONNX)", "onnx/wonnx/opt-mnist.onnx", ImportOptions()),
    ("ARM DS-CNN-S KWS (TF .pb, Mfcc->softmax)", "tf/frozen/arm_ml_kws/DS_CNN_S.pb", _KWS_CUT),
    ("MLPerf Tiny KWS int8 (TFLite)", "tflite/mlperf_tiny/kws_ref_model.tflite", ImportOptions()),
    ("MLPerf Tiny VWW int8 (TFLite)", "tflite/mlperf_tiny/vww_96_int8.tflite", ImportOptions()),
    ("MLPerf Tiny VWW float (TFLite)", "tflite/mlperf_tiny/vww_96_float.tflite", ImportOptions()),
    ("MLPerf Tiny KWS hybrid, int8 weights (TFLite)", "tflite/mlperf_tiny/kws_ref_model_float32.tflite",
     ImportOptions()),
    ("kaijiang KWS QDQ int8 (ONNX)", "onnx/mlperf_tiny_results/kaijiang_k1_kws_ref_model.onnx", ImportOptions()),
    ("LeNet (Caffe)", "caffe/lenet/lenet.prototxt", ImportOptions()),
    ("MTCNN det3 (Caffe)", "caffe/mtcnn/det3.prototxt", ImportOptions()),
]


# models with float weights and activations: also measured with -qs float16
FLOAT_MODELS = {"demo DS-CNN KWS (examples/make_kws_dscnn.py)", "sinian KWS (ONNX)", "sinian VWW (ONNX)",
                "sinian IC (ONNX)", "sinian AD (ONNX)", "MNIST (ONNX)", "ARM DS-CNN-S KWS (TF .pb, Mfcc->softmax)",
                "MLPerf Tiny VWW float (TFLite)", "LeNet (Caffe)", "MTCNN det3 (Caffe)"}


def _models(tmp: Path) -> list[tuple[str, Path, ImportOptions]]:
    sys.path.insert(0, str(ROOT / "examples"))
    import onnx
    from make_kws_dscnn import build_model

    demo = tmp / "kws_dscnn.onnx"
    onnx.save(build_model(), str(demo))
    models = [("demo DS-CNN KWS (examples/make_kws_dscnn.py)", demo, ImportOptions())]
    if SHARED.is_dir():
        models += [(label, SHARED / rel, opts) for label, rel, opts in SHARED_MODELS if (SHARED / rel).is_file()]
    else:
        print(f"note: {SHARED} not found; measuring the demo model only", file=sys.stderr)
    return models


# The acceptance bar of the vector kernels (issue 10) and T-Head SHL 3.2.2's published
# region counts on the same emulated cores (../shared/perf: HHB 3.2.3 wheel, layer mode, gcc).
# key: (model, target, scheme) -> (goal, SHL 3.2.2)
KWS = "sinian KWS (ONNX)"
DSCNN = "demo DS-CNN KWS (examples/make_kws_dscnn.py)"
MLPERF_KWS_I8 = "MLPerf Tiny KWS int8 (TFLite)"
KAIJIANG_QDQ = "kaijiang KWS QDQ int8 (ONNX)"
GOALS = {
    (KWS, "c906", "float32"): (450_000, 1_866_808),
    (KWS, "c906", "float16"): (230_000, 711_849),
    (DSCNN, "c906", "float32"): (1_100_000, 4_267_677),
    (DSCNN, "c906", "float16"): (560_000, 1_183_131),
    (KWS, "c908", "float32"): (450_000, 650_627),
    (KWS, "c908", "float16"): (230_000, 373_726),
    (DSCNN, "c908", "float16"): (560_000, 876_122),
    (DSCNN, "c908", "float32"): (None, 1_652_358),
    # issue 12: the int8 vector kernels; SHL's figure is its C908 int8 library on the same network
    # (the reference DS-CNN with the QDQ model's scales)
    (MLPERF_KWS_I8, "c908", "int8"): (450_000, 695_997),
    (KAIJIANG_QDQ, "c908", "int8"): (450_000, 695_997),
    (MLPERF_KWS_I8, "rvv@128", "int8"): (800_000, None),
    (MLPERF_KWS_I8, "c906", "int8"): (800_000, None),
}
FLOAT16_TARGETS = [("c906", None), ("c908", None)]


def _target(r: BenchResult) -> str:
    return r.target + (f"@{r.vlen}" if r.target == "rvv" else "")


def _row(label: str, r: BenchResult) -> str:
    t = r.totals
    vec = t["vec_arith"] + t["vec_mem"] + t["vsetvl"]
    return (f"| {label} | {_target(r)} | {r.scheme} | {r.macs:,} | {t['total']:,} | {r.lmul_weighted:,} | "
            f"{t['total'] / max(r.macs, 1):.2f} | {100.0 * vec / max(t['total'], 1):.1f}% | "
            f"{100.0 * r.vector_mac_share:.0f}% | {r.arena_bytes:,} | {r.arena_lower_bound:,} | "
            f"{r.weight_bytes:,} | {r.code_bytes:,} |")


def _goal_rows(results: dict[tuple[str, str, str], BenchResult]) -> list[str]:
    lines = ["| model | target | scheme | hhbc instructions | LMUL-weighted | goal | SHL 3.2.2 | hhbc / SHL |",
             "|---|---|---|---|---|---|---|---|"]
    for (label, target, scheme), (goal, shl) in GOALS.items():
        r = results.get((label, target, scheme))
        if r is None:
            continue
        mark = "" if goal is None else (" ✓" if r.instructions <= goal and r.lmul_weighted <= 1.5 * goal else " ✗")
        lines.append(f"| {label} | {target} | {scheme} | {r.instructions:,}{mark} | {r.lmul_weighted:,} | "
                     f"{'-' if goal is None else f'≤ {goal:,}'} | {'-' if shl is None else f'{shl:,}'} | "
                     f"{'-' if shl is None else f'{r.instructions / shl:.2f}×'} |")
    scale = [results.get((DSCNN, f"rvv@{v}", "float32")) for v in (128, 256)]
    if all(scale):
        lines += ["", f"VLEN scaling, {DSCNN} float32 on `rvv`: {scale[1].instructions:,} at VLEN 256 / "
                  f"{scale[0].instructions:,} at VLEN 128 = {scale[1].instructions / scale[0].instructions:.2f}× "
                  "(goal ≤ 0.6×; SHL's C908 library 0.55×)."]
    return lines


def _layers(r: BenchResult) -> list[str]:
    lines = ["| # | layer | kernel | MACs | instructions | insn/MAC | vector | LMUL-weighted |",
             "|---|---|---|---|---|---|---|---|"]
    for layer in r.layers:
        c = layer.counts
        per_mac = f"{c['total'] / layer.macs:.2f}" if layer.macs else "-"
        vec = c["vec_arith"] + c["vec_mem"] + c["vsetvl"]
        lines.append(f"| {layer.index} | `{layer.name}` | `{layer.kernel}` | {layer.macs:,} | "
                     f"{c['total']:,} | {per_mac} | {vec:,} | {lmul_weighted(c):,} |")
    return lines


# models also measured quantized by hhbc: -qs float16_w_int8, and int8_asym_w_sym calibrated on
# seeded random inputs (instruction counts do not depend on the calibration data)
QUANTIZED_MODELS = {"demo DS-CNN KWS (examples/make_kws_dscnn.py)", "sinian KWS (ONNX)"}
QUANTIZED_TARGETS = [("c906", None), ("c908", None)]


def _runs(label: str) -> list[tuple[str, int | None, str]]:
    """(target, vlen, scheme) measured for one model."""
    runs = [(name, vlen, "float32") for name, vlen in TARGETS]
    if label in FLOAT_MODELS:
        runs += [(name, vlen, "float16") for name, vlen in FLOAT16_TARGETS]
    if label in QUANTIZED_MODELS:
        runs += [(name, vlen, scheme) for scheme in ("float16_w_int8", "int8_asym_w_sym")
                 for name, vlen in QUANTIZED_TARGETS]
    return runs


def _random_calibration(model: Path, options: ImportOptions):
    """16 seeded random samples at the scale of MFCC features, for the int8 rows."""
    import numpy as np

    from hhbc.frontends import load_model
    from hhbc.quantize.ptq import PtqOptions

    rng = np.random.default_rng(0)
    infos = load_model(model, options).inputs
    return PtqOptions(samples=[[(rng.standard_normal(i.shape) * 10).astype(np.float32) for i in infos]
                               for _ in range(16)])


# The pictures BENCHMARKS.md embeds: (file in docs/img, caption, kind, [(model, target, scheme, label)]).
# A picture is drawn when all its runs were measured (the shared models are optional).
PICTURES = [
    ("bench-dscnn-c906.svg", f"{DSCNN}, float32 on c906: instructions per layer", "profile",
     [(DSCNN, "c906", "float32", "c906")]),
    ("bench-dscnn-c906-vs-c908.svg", f"{DSCNN}, float32: c906 (RVV 0.7.1) against c908 (RVV 1.0)", "compare",
     [(DSCNN, "c906", "float32", "c906"), (DSCNN, "c908", "float32", "c908")]),
    ("bench-sinian-kws-c906.svg", f"{KWS}, float32 on c906: instructions per layer", "profile",
     [(KWS, "c906", "float32", "c906")]),
    ("bench-sinian-kws-c908-float32-vs-int8.svg",
     f"{KWS} on c908: float32 against int8_asym_w_sym (layers matched by name)", "compare",
     [(KWS, "c908", "float32", "float32"), (KWS, "c908", "int8_asym_w_sym", "int8")]),
]
PICTURE_GLOB = "bench-*.svg"


def _pictures(results: dict[tuple[str, str, str], BenchResult], img_dir: Path) -> list[tuple[str, str]]:
    """Draw PICTURES into img_dir (stale bench-*.svg removed first); (file, caption) of each drawn."""
    from dataclasses import replace

    from hhbc.plot import plot_compare, plot_profile

    img_dir.mkdir(parents=True, exist_ok=True)
    for old in img_dir.glob(PICTURE_GLOB):
        old.unlink()
    drawn = []
    for name, caption, kind, runs in PICTURES:
        found = [results.get((model, target, scheme)) for model, target, scheme, _ in runs]
        if not all(found):
            continue
        # the model's label as the picture's title, not the temporary file name
        found = [replace(r, model=model.split(" (")[0]) for r, (model, *_) in zip(found, runs)]
        if kind == "profile":
            plot_profile(found[0], img_dir / name)
        else:
            plot_compare(found, [label for *_, label in runs], img_dir / name)
        print(f"wrote {img_dir / name} ({(img_dir / name).stat().st_size:,} B)", file=sys.stderr)
        drawn.append((name, caption))
    return drawn


def _picture_lines(drawn: list[tuple[str, str]]) -> list[str]:
    if not drawn:
        return []
    lines = ["## Pictures", "",
             "Drawn by hhbc/plot.py from the runs above (the same pictures as `hhbc bench --plot FILE.svg` and "
             "`hhbc bench --compare ... --plot FILE.svg`; docs/benchmarks.md). Profiles: one bar per layer, "
             "scalar and vector instructions stacked, the kernel on each bar, MACs per layer in the right "
             "panel. Comparisons: one bar per run per layer, the ratio second/first beside it.", ""]
    for name, caption in drawn:
        lines += [f"![{caption}](docs/img/{name})", ""]
    return lines


def _can_plot() -> bool:
    from hhbc.errors import HhbcError
    from hhbc.plot import check_plot_path

    try:
        check_plot_path("check.svg")
    except HhbcError as err:
        print(f"note: {err}; BENCHMARKS.md gets no pictures", file=sys.stderr)
        return False
    return True


def generate(path: Path) -> None:
    plots = _can_plot()        # say so now, not after the runs
    results: dict[tuple[str, str, str], BenchResult] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="hhbc-benchmarks-") as tmp:
        for label, model, options in _models(Path(tmp)):
            for name, vlen, scheme in _runs(label):
                print(f"bench: {label} on {name}{vlen or ''} ({scheme})", file=sys.stderr, flush=True)
                ptq = _random_calibration(model, options) if scheme.startswith("int8_") else None
                r = bench(model, get_target(name), vlen=vlen, options=options, scheme=scheme, ptq=ptq)
                results[(label, _target(r), r.scheme)] = r
                rows.append(_row(label, r))
    drawn = _pictures(results, path.resolve().parent / "docs" / "img") if plots else []
    detail = [(f"{KWS}, float16 on c906", results.get((KWS, "c906", "float16"))),
              (f"{KWS}, float32 on c906", results.get((KWS, "c906", "float32"))),
              (f"{DSCNN}, float32 on c906", results.get((DSCNN, "c906", "float32"))),
              (f"{MLPERF_KWS_I8}, int8 on c908", results.get((MLPERF_KWS_I8, "c908", "int8"))),
              (f"{MLPERF_KWS_I8}, int8 on c906", results.get((MLPERF_KWS_I8, "c906", "int8")))]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`python -m hhbc.bench_report BENCHMARKS.md`) with hhbc {__version__} "
        f"on {datetime.date.today().isoformat()}. Do not edit by hand.",
        "",
        "How it is measured (docs/benchmarks.md): one inference of the compiled model under xuantie-qemu "
        "with hhbc's TCG counting plugin; instructions are counted between the layer markers "
        "(`slti x0,x0,id` HINTs), so libc start-up and file IO are excluded. Inputs are seeded random. "
        "\"LMUL-weighted\" counts every vector instruction LMUL times (from the vtype of the last vsetvli), "
        "so a result cannot come from a large LMUL alone. \"vector MACs\" is the share of the model's "
        "multiply-accumulates that ran in vector kernels. RAM is the static activation arena (and its "
        "liveness lower bound); flash is the weights plus the machine code of the model and kernel functions.",
        "",
        "## Against T-Head SHL 3.2.2 on the same emulated cores",
        "",
        "SHL figures: HHB 3.2.3's prebuilt `libshl_c906.a` / `libshl_c908.a`, driven layer by layer on the "
        "same model and measured the same way (../shared/perf). The demo DS-CNN has the MLPerf Tiny "
        "reference DS-CNN's architecture and MAC count (2,656,768); SHL's figures for it are on the "
        "reference model itself. ✓: within the goal, raw and LMUL-weighted (≤ 1.5× the goal).",
        "",
        *_goal_rows(results),
        "",
        *_picture_lines(drawn),
        "## Every model",
        "",
        "Models that arrive quantized (TFLite int8, ONNX QDQ) compute in int8 whatever the scheme: their "
        "scheme column says int8. The `int8_asym_w_sym` rows are float models quantized by hhbc "
        "(docs/quantization.md), calibrated on 16 seeded random inputs: the instruction counts do not "
        "depend on the calibration data; the accuracy does, and is in docs/quantization.md.",
        "",
        "| model | target | scheme | MACs | instructions | LMUL-weighted | insn/MAC | vector insns | vector MACs "
        "| arena B | arena lower bound B | weights B | code B |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    for title, r in detail:
        if r is not None:
            lines += [f"## Per layer: {title}", "", *_layers(r), ""]
    path.write_text("\n".join(lines))
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate BENCHMARKS.md")
    parser.add_argument("output", type=Path, nargs="?", default=ROOT / "BENCHMARKS.md")
    generate(parser.parse_args().output)


if __name__ == "__main__":
    main()
