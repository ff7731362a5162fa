"""The float16 scheme: the KernelGraph pass, its errors, and float16 builds end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from hhbc.compiler import compile_model
from hhbc.frontends import load_model
from hhbc.lower.from_relax import lower
from hhbc.optimize import optimize
from hhbc.quantize.float16 import to_float16
from hhbc.runner import run_and_compare
from hhbc.targets import get_target


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from make_kws_dscnn import build_model  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "frontends"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("f16") / "kws_dscnn.onnx"
    onnx.save(build_model(), str(path))
    return path


def _float16_graph(path: Path):
    model = load_model(path)
    return model, to_float16(lower(model, optimize(model.mod)))


def test_pass_halves_activations_and_weights_and_casts_at_the_io(demo):
    model, graph = _float16_graph(demo)
    assert [t.dtype for t in graph.inputs] == ["float32"] and [t.dtype for t in graph.outputs] == ["float32"]
    first, last = graph.nodes[0], graph.nodes[-1]
    assert (first.op, first.inputs[0].dtype, first.output.dtype) == ("cast", "float32", "float16")
    assert (last.op, last.inputs[0].dtype, last.output.dtype) == ("cast", "float16", "float32")
    assert last.output is graph.outputs[0] and first.inputs[0] is graph.inputs[0]
    for node in graph.nodes[1:-1]:
        assert all(t.dtype == "float16" for t in node.inputs), node.describe()
        assert node.output.dtype == "float16", node.describe()
        if node.op in ("conv2d", "depthwise_conv2d", "dense"):
            assert node.consts["weight"].data.dtype == np.float16
            assert node.consts["bias"].data.dtype == np.float32, "biases stay float32"


def test_float16_halves_the_weights_and_the_arena(demo, tmp_path):
    f32 = compile_model(demo, get_target("host"), tmp_path / "f32").manifest
    f16 = compile_model(demo, get_target("host"), tmp_path / "f16", scheme="float16").manifest
    assert f16["scheme"] == "float16" and f32["scheme"] == "float32"
    assert f16["arena_bytes"] <= f32["arena_bytes"] // 2 + 4096   # + the float input/output kept at the IO
    assert f16["weight_bytes"] < 0.6 * f32["weight_bytes"]        # weights halve, biases stay float32
    assert f16["inputs"] == f32["inputs"] and f16["outputs"] == f32["outputs"], "IO keeps the model's dtypes"


def test_float16_runs_on_the_host_within_its_tolerance(demo, tmp_path):
    result = run_and_compare(demo, get_target("host"), out_dir=tmp_path / "out", scheme="float16")
    for c in result.comparisons:
        print(c.line())
        assert c.ok and "float16 build" in c.line()
        assert c.max_rel < 1e-2


def assert_one_line_error(proc, *needles: str) -> None:
    """exit 2, no traceback, one `hhbc: error:` line holding every needle"""
    lines = [l for l in proc.stderr.splitlines() if l.startswith("hhbc: error:")]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_scheme_errors_are_one_line(cli, demo, tmp_path):
    assert_one_line_error(cli("compile", str(demo), "--target", "rv64gc", "-qs", "float16", "-o",
                              str(tmp_path / "a")), "rv64gc", "float16")
    assert_one_line_error(cli("compile", str(demo), "--target", "c906", "-qs", "uint8_asym", "-o",
                              str(tmp_path / "b")), "uint8_asym", "float32, float16")


def test_float16_refuses_an_int8_model(cli, tmp_path):
    from tflite_gen import int8_float_io

    path = tmp_path / "int8.tflite"
    path.write_bytes(int8_float_io())
    assert_one_line_error(cli("compile", str(path), "--target", "host", "-qs", "float16", "-o",
                              str(tmp_path / "o")), "float16", "int8")
