"""`hhbc compile/run -qs int8_* -cd ...` from the shell: the happy path, and one-line errors for
an unknown scheme or calibration mode and for calibration data that cannot be used."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_one_line_error

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quantize"))
from test_ptq import _conv_relu  # noqa: E402


@pytest.fixture
def model(tmp_path) -> Path:
    return _conv_relu(tmp_path / "m.onnx")


@pytest.fixture
def calib(tmp_path) -> Path:
    d = tmp_path / "calib"
    d.mkdir()
    rng = np.random.default_rng(0)
    for k in range(4):
        np.save(d / f"{k}.npy", rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    return d


def test_run_int8_reports_simulation_and_accuracy(cli, model, calib, tmp_path):
    proc = cli("run", str(model), "--target", "host", "-qs", "int8_asym_w_sym", "-cd", str(calib),
               "--eval-dataset", str(calib), "--calibrate-mode", "percentile", "--layer-report", "-q")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "(vs host simulation)" in lines[0] and "max abs err 0.000e+00" in lines[0] and lines[0].endswith("ok")
    assert "int8_asym_w_sym build vs float onnx (host simulation), 4 inputs): SQNR" in lines[1]
    assert "per-layer SQNR" in lines[2] and any("conv2d_i8" in line and " dB " in line for line in lines)


def test_compile_writes_the_scheme_in_the_manifest(cli, model, calib, tmp_path):
    import json

    proc = cli("compile", str(model), "--target", "c908", "-qs", "int8_sym", "-cd", str(calib), "-o",
               str(tmp_path / "out"), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["scheme"] == "int8_sym"


@pytest.mark.parametrize("args, needles", [
    (("-qs", "int4_asym_w_sym"), ("-qs int4_asym_w_sym: an HHB scheme hhbc does not implement",
                                  "int8_asym_w_sym", "float16_w_int8")),
    (("-qs", "int9"), ("-qs int9: unknown quantization scheme",)),
    (("-qs", "int8_asym_w_sym", "--calibrate-mode", "entropy", "-cd", "CALIB"),
     ("--calibrate-mode entropy: unknown calibration mode (hhbc has: maxmin, percentile, kl_divergence)",)),
    (("-qs", "int8_asym_w_sym", "--calibrate-mode", "percentile", "--calibrate-percentile", "120", "-cd", "CALIB"),
     ("--calibrate-percentile 120",)),
    (("-qs", "int8_asym_w_sym",), ("post-training quantization needs calibration data: -cd",)),
    (("-qs", "int8_asym_w_sym", "-cd", "EMPTY"), ("-cd", "empty")),
    (("-qs", "int8_asym_w_sym", "-cd", "WRONG"), ("wrong.npy", "does not match input 'x'")),
    (("-qs", "int8_asym_w_sym", "-cd", "BROKEN"), ("broken.png",)),
    (("-qs", "float16_w_int8", "--target", "rv64gc"), ("-qs float16_w_int8: target 'rv64gc'",)),
])
def test_bad_quantization_input_is_one_line(cli, model, calib, tmp_path, args, needles):
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((1, 8, 8, 3), np.float32))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    subst = {"CALIB": str(calib), "EMPTY": str(empty), "WRONG": str(wrong), "BROKEN": str(broken)}
    args = tuple(subst.get(a, a) for a in args)
    if "--target" not in args:
        args += ("--target", "host")
    proc = cli("compile", str(model), *args, "-o", str(tmp_path / "out"), "-q")
    line = assert_one_line_error(proc, *needles)
    assert not (tmp_path / "out" / "model.c").exists(), line
