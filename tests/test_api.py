"""The Python API (hhbc/api.py): what compile, run and bench return, checked against the files
and the framework they stand for; errors are HhbcError; `import hhbc` stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import hhbc
from hhbc.errors import HhbcError, MismatchError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from make_kws_dscnn import build_model  # noqa: E402


@pytest.fixture(scope="module")
def kws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kws") / "kws.onnx"
    onnx.save(build_model(), path)
    return path


def _tiny_model() -> onnx.ModelProto:
    """x[1,4] -> Gemm(4->3) -> Relu: a one-layer model built inline."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc", transB=1),
         helper.make_node("Relu", ["h"], ["y"], name="relu")],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_import_hhbc_does_not_import_tvm():
    # the API's names are looked up (lazily, through hhbc.api) but not called
    code = ("import sys, hhbc\n"
            "assert hhbc.__version__ and hhbc.HhbcError and callable(hhbc.compile) and callable(hhbc.bench)\n"
            "print(','.join(m for m in ('tvm', 'onnx', 'hhbc.compiler', 'hhbc.benchmark') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"import hhbc imported {proc.stdout.strip()}"


def test_compile_returns_the_manifest_table_and_paths(kws, tmp_path):
    result = hhbc.compile(kws, "c906", output=tmp_path / "out", input_shapes={"mfcc": [1, 1, 49, 10]})
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert result.manifest == manifest
    assert result.layers == manifest["layers"] and len(result.layers) == 12
    assert [row["index"] for row in result.layers] == list(range(12))
    assert {"name", "op", "kernel", "vector", "output_shape", "macs"} <= set(result.layers[0])
    for path in (result.paths.model_c, result.paths.model_h, result.paths.weights_c, result.paths.makefile,
                 result.paths.manifest):
        assert path.is_file() and path.parent == tmp_path / "out"
    assert result.paths.elf is None
    assert (result.arena_bytes, result.weight_bytes, result.macs) == \
        (manifest["arena_bytes"], manifest["weight_bytes"], manifest["macs"])
    assert result.macs == sum(row["macs"] for row in result.layers) == 2656768
    assert "hhbc.compile(" in manifest["command"]


def test_compile_takes_an_onnx_model_and_builds(tmp_path):
    result = hhbc.compile(_tiny_model(), "host", output=tmp_path / "out", name="tiny", build=True)
    assert result.paths.elf is not None and result.paths.elf.is_file()
    assert result.manifest["prefix"] == "tiny" and result.manifest["target"] == "host"
    assert "tiny_run" in result.paths.model_h.read_text()


def test_run_outputs_equal_the_framework(kws, tmp_path):
    import onnxruntime as ort

    x = np.random.default_rng(7).standard_normal((1, 1, 49, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    result = hhbc.run(kws, "c906", inputs=[tmp_path / "x.npy"])
    ref = ort.InferenceSession(str(kws), providers=["CPUExecutionProvider"]).run(None, {"mfcc": x})[0]
    assert result.ok and len(result.outputs) == len(result.comparisons) == 1
    assert np.array_equal(result.inputs[0], x)
    np.testing.assert_allclose(result.outputs[0], ref, rtol=0, atol=1e-4 * max(1.0, float(np.abs(ref).max())))
    c = result.comparisons[0]
    assert c.name == "probs" and c.ok and c.max_abs == pytest.approx(float(np.abs(result.outputs[0] - ref).max()),
                                                                     abs=1e-7)
    assert result.check() is result
    assert result.lines()[0].startswith("probs [1, 12]: max abs err") and result.lines()[0].endswith(" ok")


def test_run_reports_a_mismatch_without_raising(tmp_path):
    x = np.ones((1, 4), np.float32)
    wrong = np.full((1, 3), 100.0, np.float32)
    result = hhbc.run(_tiny_model(), "host", inputs=[x], expected=[wrong], output=tmp_path / "out")
    assert not result.ok and not result.comparisons[0].ok and result.comparisons[0].max_abs > 50
    assert result.compiled.paths.elf == tmp_path / "out" / "model" and result.compiled.paths.elf.is_file()
    with pytest.raises(MismatchError, match="differ from the --expected outputs beyond tolerance: y"):
        result.check()


def test_bench_rows_one_per_layer_sum_to_the_totals(kws):
    result = hhbc.bench(kws, "c906")
    rows = result.rows
    assert len(rows) == len(result.layers) == 12
    assert [r["index"] for r in rows] == list(range(12))
    for counter in ("total", "scalar", "vec_arith", "vec_mem", "vsetvl", "vec_lmul_weighted"):
        assert sum(r[counter] for r in rows) == result.totals[counter]
    assert all(r["total"] == r["scalar"] + r["vec_arith"] + r["vec_mem"] + r["vsetvl"] for r in rows)
    assert all(isinstance(v, (int, float, str, bool)) for r in rows for v in r.values())   # flat
    assert sum(r["macs"] for r in rows) == result.macs and result.instructions > result.macs // 8
    assert result.report().splitlines()[0] == "kws.onnx on c906 (VLEN 128), float32"


def test_bench_compare_two_targets(kws):
    result = hhbc.bench_compare(kws, "c906,c908")
    assert result.labels == ["c906", "c908"] and [r.target for r in result.results] == ["c906", "c908"]
    first, second = (r.instructions for r in result.results)
    assert result.summary() == (f"total instructions per inference: c906 {first}, "
                                f"c908 {second} ({second / first:.2f}x)")


@pytest.mark.parametrize("call, needle", [
    (lambda m, o: hhbc.compile(m, "c907", output=o), "unknown target 'c907'"),
    (lambda m, o: hhbc.compile(m, output=o, quantization_scheme="int4_sym"), "-qs int4_sym"),
    (lambda m, o: hhbc.compile(m, output=o, input_shapes=[[1, 0, 49, 10]]), "dims must be positive"),
    (lambda m, o: hhbc.compile(m, output=o, max_arena="lots"), "--max-arena"),
    (lambda m, o: hhbc.compile(m, output=o, calibrate_mode="median"), "--calibrate-mode median"),
    (lambda m, o: hhbc.compile(o / "missing.onnx", output=o), "no such file"),
    (lambda m, o: hhbc.compile(42, output=o), "expected a file path or an onnx.ModelProto"),
    (lambda m, o: hhbc.run(m, expected=[np.zeros(12)]), "--expected needs the inputs"),
    (lambda m, o: hhbc.run(m, inputs=[o / "none.npy"]), "--input"),
    (lambda m, o: hhbc.bench(m, "host"), "runs natively"),
    (lambda m, o: hhbc.bench(m, plot=o / "p.pdf"), ".png or .svg"),
    (lambda m, o: hhbc.bench_compare(m, "c906,k230"), "'k230' is neither a target nor a quantization scheme"),
    (lambda m, o: hhbc.bench_compare(m, ["c906", "float16"]), "not one of each"),
    (lambda m, o: hhbc.bench_compare(m, ["c906"]), "two different targets"),
])
def test_errors_are_one_line_hhbc_errors(kws, tmp_path, call, needle):
    with pytest.raises(HhbcError) as info:
        call(kws, tmp_path)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "model.c").exists()
