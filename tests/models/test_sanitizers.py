"""Every dev-zoo model that the suite runs on `host`, built with AddressSanitizer and UBSan.

The generated project is compiled and linked with `make SANITIZE=1` (-fsanitize=address,undefined
-fno-sanitize-recover=all), run natively, and must exit 0 with nothing on stderr (any sanitizer
report aborts the run and is shown whole). Its outputs then pass the comparison `hhbc run` makes
with the framework (float within 1e-4 relative, int8 bit-exact, QDQ within its steps, float16
within 1e-2). One test id per model: float ONNX, float/int8/hybrid TFLite, ONNX QDQ, Caffe,
TensorFlow (.pb and SavedModel), and the float16 scheme on host for one model of each format.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from hhbc.compare import compare
from hhbc.compiler import compile_model
from hhbc.frontends import ImportOptions
from hhbc.runner import _fit_input, default_inputs
from hhbc.targets import get_target

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels"))
from c_harness import RUN_ENV, sanitizer_flags  # noqa: E402

HOST = get_target("host")
REPORT_MARKS = ("AddressSanitizer", "runtime error:", "UndefinedBehaviorSanitizer", "LeakSanitizer")


@dataclass
class Case:
    """A model under ../shared/models, its inputs (None: the runner's seeded random ones), the
    import options and scheme its own test uses, and the Python module whose absence skips it."""
    rel: str
    inputs: Callable[[Path], list[np.ndarray] | None] = lambda models: None
    options: ImportOptions = field(default_factory=ImportOptions)
    scheme: str = "float32"
    needs: str | None = None


# Each entry builds its Case lazily from the model's own test module, which may skip (a missing
# framework) on import: one id per model, whatever is installed.
def _onnx(name: str) -> Case:
    from test_real_models import ONNX_MODELS, _inputs
    return Case(ONNX_MODELS[name], lambda m: _inputs(name, m), needs="onnxruntime")


def _tflite(name: str, scheme: str = "float32") -> Case:
    from test_tflite_models import FLOAT_MODELS, _inputs
    return Case(FLOAT_MODELS[name], lambda m: _inputs(name, m), scheme=scheme, needs="ai_edge_litert")


def _tflite_int8(name: str) -> Case:
    from test_tflite_int8_models import INT8_MODELS, KWS_SAMPLE
    sample = (lambda m: [np.load(m / KWS_SAMPLE)]) if name == "kws" else (lambda m: None)
    return Case(INT8_MODELS[name], sample, needs="ai_edge_litert")


def _tflite_hybrid() -> Case:
    from test_tflite_hybrid_models import HYBRID, _float_inputs
    return Case(HYBRID, lambda m: _float_inputs(m)[:1], needs="ai_edge_litert")


def _onnx_qdq(name: str) -> Case:
    from test_onnx_qdq_models import MODELS
    return Case(MODELS[name][0], needs="onnxruntime")


def _caffe(name: str, scheme: str = "float32") -> Case:
    from test_caffe_models import MTCNN, _digit, _face
    if name == "lenet":
        return Case("caffe/lenet/lenet.prototxt", lambda m: [_digit(m, 3)],
                    ImportOptions(output_names=("ip2", "prob")), scheme, needs="cv2")
    rel, size, _ = MTCNN[name]
    return Case(rel, lambda m: [_face(m, size)], scheme=scheme, needs="cv2")


def _tf(name: str, scheme: str = "float32") -> Case:
    from test_tf_models import ARM_MODELS, SAVED, _kws_sample, _mfcc_scale_input, _options
    if name == "savedmodel":
        return Case(SAVED, lambda m: [_kws_sample(m)], needs="tensorflow")
    options = _options(name)
    return Case(ARM_MODELS[name][0], lambda m: [_mfcc_scale_input(options.input_shapes[0])], options,
                scheme, needs="tensorflow")


def _onnx_f16(name: str) -> Case:
    case = _onnx(name)
    case.scheme = "float16"
    return case


CASES: dict[str, Callable[[], Case]] = {
    **{f"onnx-{n}": (lambda n=n: _onnx(n)) for n in ("kws", "ad", "ic", "vww", "mnist")},
    **{f"tflite-{n}": (lambda n=n: _tflite(n)) for n in ("vww", "resnet", "ad")},
    **{f"tflite-int8-{n}": (lambda n=n: _tflite_int8(n)) for n in ("kws", "vww", "resnet", "ad")},
    "tflite-hybrid-kws": _tflite_hybrid,
    **{f"onnx-qdq-{n}": (lambda n=n: _onnx_qdq(n)) for n in ("kws", "resnet")},
    **{f"caffe-{n}": (lambda n=n: _caffe(n)) for n in ("lenet", "det1", "det2", "det3")},
    **{f"tf-{n}": (lambda n=n: _tf(n)) for n in ("DS_CNN_S", "CNN_S", "DNN_S", "savedmodel")},
    # the float16 scheme (_Float16 reference kernels on host), one model per format
    "float16-onnx-ic": lambda: _onnx_f16("ic"),
    "float16-tflite-vww": lambda: _tflite("vww", "float16"),
    "float16-caffe-det3": lambda: _caffe("det3", "float16"),
    "float16-tf-DS_CNN_S": lambda: _tf("DS_CNN_S", "float16"),
}


@pytest.fixture(scope="module")
def san_flags() -> tuple[str, ...]:
    flags = sanitizer_flags()   # probes once: compiles and runs a small ASan/UBSan program
    if not flags:
        pytest.skip("the host C compiler cannot build and run with -fsanitize=address,undefined "
                    "(libasan/libubsan missing: Debian `apt install gcc` brings them)")
    return flags


def sanitized_run(project: Path, inputs: list[np.ndarray], outputs: list[dict],
                  workdir: Path) -> list[np.ndarray]:
    """`make SANITIZE=1` in the project, run it on the inputs; assert a clean run, return the outputs."""
    subprocess.run(["make", "-C", str(project), "--no-print-directory", "clean"], check=True,
                   capture_output=True)
    build = subprocess.run(["make", "-C", str(project), "--no-print-directory", "SANITIZE=1"],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    assert "-fsanitize=address,undefined" in build.stdout   # one command compiles and links
    workdir.mkdir(parents=True, exist_ok=True)
    args = []
    for k, array in enumerate(inputs):
        np.ascontiguousarray(array).tofile(workdir / f"in_{k}.bin")
        args.append(str(workdir / f"in_{k}.bin"))
    out_paths = [workdir / f"out_{k}.bin" for k in range(len(outputs))]
    proc = subprocess.run([str(project / "model"), *args, *map(str, out_paths)], capture_output=True,
                          text=True, env=RUN_ENV, timeout=600)
    report = proc.stderr.strip()
    assert proc.returncode == 0 and not report, f"exit {proc.returncode}:\n{report}"
    assert not any(mark in report for mark in REPORT_MARKS)
    return [np.fromfile(p, dtype=o["dtype"]).reshape(o["shape"]) for p, o in zip(out_paths, outputs)]


@pytest.mark.parametrize("label", list(CASES))
def test_model_is_clean_under_asan_ubsan(models_dir, san_flags, label, tmp_path):
    case = CASES[label]()
    if case.needs:
        pytest.importorskip(case.needs)
    compiled = compile_model(models_dir / case.rel, HOST, tmp_path / "out", options=case.options,
                             scheme=case.scheme)
    model = compiled.model
    arrays = case.inputs(models_dir) or default_inputs(model.inputs, 0, compiled.graph)
    arrays = [_fit_input(a, info) for a, info in zip(arrays, model.inputs)]
    got = sanitized_run(tmp_path / "out", arrays, compiled.manifest["outputs"], tmp_path / "io")
    refs = model.reference(arrays)
    steps = model.output_steps or [None] * len(model.outputs)
    for info, g, r, step in zip(model.outputs, got, refs, steps):
        c = compare(info.name, g, r, step=step, scheme=case.scheme)
        print(f"sanitized {label}: {c.line()}")
        assert c.ok, c.line()
