"""A peer's suite: ONNX's own backend test data, through hhbc.

The `onnx` wheel ships, under onnx/backend/test/data/, small models with their inputs
and expected outputs (computed by the exporting framework, not by hhbc):
pytorch-converted, pytorch-operator, simple, and the "light" ImageNet CNNs (weights
replaced by ConstantOfShape; their input is ONNX's deterministic dummy data, the
expected output is stored beside the model).

Every case is either in scope (a 1-D/2-D CNN op set): compiled, built and run, and its
outputs must match the expected ones within 1e-4 of max |expected|; or out of scope,
listed in REFUSED below with the reason: hhbc must refuse it with one HhbcError line
that names the op or attribute. Anything else (a crash, a mismatch, a refusal of an
in-scope case, or a listed case that compiles) fails.

    pytest tests/frontends/test_onnx_backend.py -n 2
    python tests/frontends/test_onnx_backend.py [folder...]    # a table of results
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions
from hhbc.runner import fold_shape_inputs
from hhbc.targets import get_target

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
FOLDERS = ("pytorch-converted", "pytorch-operator", "simple", "light")

_3D = "3-D (volumetric) convolution/pooling/BatchNorm is out of scope"
_F64 = "float64 model IO is out of scope"
_SEQ = "sequence ops are out of scope"
_STR = "string tensors are out of scope"

# case name -> (reason it is out of scope, text the one-line refusal must contain; "a|b": either).
# BatchNorm3d_* are not here: BatchNormalization is per-channel arithmetic at any rank, and
# hhbc computes it correctly on 5-D tensors; PoissonNLLLLoss_no_reduce is not here either:
# it is exported as Exp, Mul and Sub on float32 tensors, which hhbc computes.
REFUSED: dict[str, tuple[str, str]] = {
    **{f"test_AvgPool3d{s}": (_3D, "rank 5") for s in ("", "_stride", "_stride1_pad0_gpu_input")},
    **{f"test_MaxPool3d{s}": (_3D, "rank 5") for s in ("", "_stride", "_stride_padding")},
    **{f"test_Conv3d{s}": (_3D, "rank 5") for s in (
        "", "_dilated", "_dilated_strided", "_groups", "_no_bias", "_stride", "_stride_padding")},
    **{f"test_operator_{s}": (_F64, "DOUBLE") for s in (
        "add_broadcast", "add_size1_broadcast", "add_size1_right_broadcast",
        "add_size1_singleton_broadcast", "addconstant")},
    # int64 model inputs added and multiplied: integer tensors are indices to hhbc, its
    # elementwise kernels compute in float32 (not a CNN op).
    "test_operator_non_float_params": ("integer arithmetic at run time", "Add node|INT64"),
    "test_gradient_of_add": ("a training-only op", "Gradient"),
    "test_gradient_of_add_and_mul": ("a training-only op", "Gradient"),
    **{f"test_sequence_model{k}": (_SEQ, "Sequence") for k in range(1, 7)},
    "test_sequence_model7": (_SEQ + " (float64 IO)", "DOUBLE"),
    "test_sequence_model8": (_SEQ, "SplitToSequence|INT64"),
    **{f"test_strnorm_model_{s}": (_STR, "STRING") for s in (
        "monday_casesensintive_lower", "monday_casesensintive_nochangecase",
        "monday_casesensintive_upper", "monday_empty_output", "monday_insensintive_upper_twodim",
        "nostopwords_nochangecase")},
}

# The light models with ~30 MB to 575 MB of weights: hhbc writes the weights into weights.c,
# and compiling that file takes gcc from 40 s to several minutes and up to ~10 GB of memory.
# They run only with HHBC_BACKEND_LARGE=1 (docs/onnx-backend.md has the times measured);
# shufflenet and squeezenet (5-6 MB) always run. None of the light models runs under QEMU.
LARGE = {"test_bvlc_alexnet", "test_densenet121", "test_inception_v1", "test_inception_v2",
         "test_resnet50", "test_vgg19", "test_zfnet512"}
_RUN_LARGE = os.environ.get("HHBC_BACKEND_LARGE") == "1"
_NOT_ON_QEMU = {"light"}


def _cases() -> list[tuple[str, Path]]:
    found = []
    for folder in FOLDERS:
        root = DATA / folder
        if not root.is_dir():
            continue
        if folder == "light":
            found += [(folder, p) for p in sorted(root.glob("light_*.onnx"))]
        else:
            found += [(folder, p / "model.onnx") for p in sorted(root.iterdir()) if (p / "model.onnx").exists()]
    return found


def case_name(folder: str, model: Path) -> str:
    return "test_" + model.stem[len("light_"):] if folder == "light" else model.parent.name


def _light_input(value_info: onnx.ValueInfoProto) -> np.ndarray:
    """onnx.backend.test.runner's dummy data for the light models (random=False)."""
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in value_info.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def load_data(folder: str, model_path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The case's inputs and expected outputs."""
    if folder == "light":
        model = onnx.load(str(model_path), load_external_data=False)
        inits = {t.name for t in model.graph.initializer}
        inputs = [_light_input(vi) for vi in model.graph.input if vi.name not in inits]
        expected = [numpy_helper.to_array(onnx.load_tensor(str(model_path.with_name(f"{model_path.stem}_output_0.pb"))))]
        return inputs, expected
    data = model_path.parent / "test_data_set_0"
    read = lambda p: numpy_helper.to_array(onnx.load_tensor(str(p)))   # noqa: E731
    return ([read(p) for p in sorted(data.glob("input_*.pb"))],
            [read(p) for p in sorted(data.glob("output_*.pb"))])


def run_case(folder: str, model_path: Path, target_name: str, work: Path) -> list[np.ndarray]:
    """Compile, build and run the case on the target: hhbc's outputs."""
    target = get_target(target_name)
    inputs, _ = load_data(folder, model_path)
    # An input that only gives a shape (Expand's) is folded as `hhbc run` folds it.
    options, inputs = fold_shape_inputs(model_path, ImportOptions(), inputs)
    compiled = compile_model(model_path, target, work / "project", options=options)
    infos = compiled.model.inputs
    if len(inputs) != len(infos):
        raise AssertionError(f"{len(inputs)} inputs in the test data, {len(infos)} in the model")
    arrays = [np.ascontiguousarray(a.astype(i.dtype).reshape(i.shape)) for a, i in zip(inputs, infos)]
    elf = build(work / "project", target)
    return run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"], work / "io")


def check_outputs(got: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(got) == len(expected), f"{len(got)} outputs, expected {len(expected)}"
    for k, (g, e) in enumerate(zip(got, expected)):
        g = np.asarray(g).reshape(e.shape) if g.size == e.size else g
        assert g.shape == e.shape, f"output {k}: shape {g.shape}, expected {e.shape}"
        if e.dtype.kind in "iub":
            assert np.array_equal(g, e), f"output {k}: integer values differ"
            continue
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        finite = np.isfinite(e64)
        same_special = (np.isnan(e64) & np.isnan(g64)) | (~finite & (e64 == g64))
        assert np.all(finite | same_special), f"output {k}: NaN/inf where expected differs"
        scale = float(np.max(np.abs(e64[finite]))) if finite.any() else 0.0
        err = float(np.max(np.abs(g64[finite] - e64[finite]))) if finite.any() else 0.0
        assert err <= 1e-4 * max(scale, 1e-6), f"output {k}: max abs error {err:.3g}, max |ref| {scale:.3g}"


ALL = _cases()
IN_SCOPE = [(f, p) for f, p in ALL if case_name(f, p) not in REFUSED]
# A representative third of the in-scope cases on c908: every third, small models only.
ON_QEMU = [(f, p) for k, (f, p) in enumerate(x for x in IN_SCOPE if x[0] not in _NOT_ON_QEMU)
           if k % 3 == 0]


def _outcome(folder: str, model_path: Path, target: str, work: Path) -> None:
    name = case_name(folder, model_path)
    if name in LARGE and not _RUN_LARGE:
        pytest.skip("a large light model (40 s to minutes of gcc on weights.c): set HHBC_BACKEND_LARGE=1")
    if name in REFUSED:
        reason, needle = REFUSED[name]
        with pytest.raises(HhbcError) as info:
            run_case(folder, model_path, target, work)
        message = str(info.value)
        assert "\n" not in message.strip(), f"refusal is not one line: {message!r}"
        assert any(n in message for n in needle.split("|")), \
            f"refusal of an out-of-scope case ({reason}) does not name {needle!r}: {message}"
        return
    _, expected = load_data(folder, model_path)
    check_outputs(run_case(folder, model_path, target, work), expected)


@pytest.mark.parametrize("folder,model", ALL, ids=[f"{f}/{case_name(f, p)}" for f, p in ALL])
def test_backend_case_host(folder, model, tmp_path):
    _outcome(folder, model, "host", tmp_path)


@pytest.mark.qemu
@pytest.mark.parametrize("folder,model", ON_QEMU, ids=[f"{f}/{case_name(f, p)}" for f, p in ON_QEMU])
def test_backend_case_c908(folder, model, tmp_path):
    _outcome(folder, model, "c908", tmp_path)


def test_refusal_table_names_real_cases():
    names = {case_name(f, p) for f, p in ALL}
    assert not (set(REFUSED) | LARGE) - names


def test_dropout_mask_as_graph_output_is_refused_by_node(tmp_path):
    """A declared, unused mask compiles (tests/ops/onnx_cases.py); a mask that is a graph
    output (a constant boolean tensor) is refused in one line naming the node."""
    from onnx import TensorProto, helper

    from hhbc.frontends.onnx import load_onnx

    graph = helper.make_graph([helper.make_node("Dropout", ["x"], ["y", "m"], name="drop")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]),
                               helper.make_tensor_value_info("m", TensorProto.BOOL, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(HhbcError, match=r"Dropout node 'drop': its mask output 'm' is a graph output"):
        load_onnx(tmp_path / "m.onnx")


def test_run_compares_old_opset_with_the_lifted_model(tmp_path):
    """onnxruntime cannot load opset-6 PRelu; `hhbc run` compiles the model (its [C] slope
    with legacy channel broadcasting) and checks it against the lifted model, saying so."""
    import subprocess

    model = DATA / "pytorch-converted" / "test_PReLU_2d_multiparam" / "model.onnx"
    proc = subprocess.run([sys.executable, "-m", "hhbc", "run", str(model), "--target", "host",
                           "-o", str(tmp_path / "p")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "lifted to opset" in line]
    assert len(notes) == 1 and "onnxruntime cannot run the original opset-6 model" in notes[0], proc.stderr
    assert "Traceback" not in proc.stderr


if __name__ == "__main__":   # a results table: python tests/frontends/test_onnx_backend.py [folder...]
    import tempfile

    wanted = sys.argv[1:] or FOLDERS
    for folder, path in ALL:
        if folder not in wanted:
            continue
        name = case_name(folder, path)
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                got = run_case(folder, path, "host", Path(tmp))
                check_outputs(got, load_data(folder, path)[1])
                status, note = "PASS", ""
            except HhbcError as err:
                status, note = "REFUSED", str(err).strip().splitlines()[0][-150:]
            except AssertionError as err:
                status, note = "MISMATCH", (str(err).splitlines() or [repr(err)])[0][:150]
            except Exception as err:  # noqa: BLE001
                status, note = "CRASH", f"{type(err).__name__}: {str(err)[:120]}"
        expected = "refuse" if name in REFUSED else "pass"
        print(f"{folder}/{name}\t{status}\t(expect {expected})\t{time.monotonic() - t0:.1f}s\t{note}", flush=True)
