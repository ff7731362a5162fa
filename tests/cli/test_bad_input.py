"""Bad input: one line naming the problem, exit code 2, no traceback, nothing written outside -o."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import assert_one_line_error
from onnx import TensorProto, helper

pytestmark = pytest.mark.filterwarnings("ignore")


def _relu_model(path: Path, shape=(1, 3, 8, 8)) -> Path:
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def _listing(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_missing_file(cli, workdir):
    proc = cli("compile", "nope.onnx", "--target", "c906", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "nope.onnx", "no such file")
    assert _listing(workdir) == set()


def test_truncated_onnx(cli, workdir):
    good = _relu_model(workdir / "good.onnx").read_bytes()
    bad = workdir / "truncated.onnx"
    bad.write_bytes(good[: len(good) // 2])
    before = _listing(workdir)
    proc = cli("compile", str(bad), "--target", "c906", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "truncated.onnx", "not a valid ONNX model")
    assert _listing(workdir) == before


def test_garbage_onnx(cli, workdir):
    bad = workdir / "garbage.onnx"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    proc = cli("compile", str(bad), "--target", "c906", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "garbage.onnx", "not a valid ONNX model")
    assert not (workdir / "out").exists()


def test_unsupported_ops_listed_together(cli, workdir):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
             helper.make_node("NonMaxSuppression", ["a", "a"], ["b"], name="nms_1"),
             helper.make_node("Einsum", ["a", "a"], ["c"], name="einsum_7", equation="ij,ij->ij"),
             helper.make_node("Einsum", ["c", "c"], ["y"], name="einsum_8", equation="ij,ij->ij")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4]),
                               helper.make_tensor_value_info("b", TensorProto.INT64, None)])
    path = workdir / "unsupported.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    proc = cli("compile", str(path), "--target", "c906", "-o", "out", cwd=workdir)
    line = assert_one_line_error(proc, "unsupported.onnx", "Einsum", "NonMaxSuppression",
                                  "'nms_1'", "'einsum_7'", "'einsum_8'")
    assert "ok_relu" not in line
    assert not (workdir / "out").exists()


def _dynamic_model(path: Path) -> Path:
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    vi = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", 8])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, "height", 8])
    onnx.save(helper.make_model(helper.make_graph([node], "g", [vi], [out]),
                                opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_dynamic_non_batch_dim_needs_is(cli, workdir):
    path = _dynamic_model(workdir / "dyn.onnx")
    proc = cli("compile", str(path), "--target", "host", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "'x'", "dynamic dim 2", "height", "-is")
    assert not (workdir / "out").exists()


def test_dynamic_dims_given_by_is_compile(cli, workdir):
    path = _dynamic_model(workdir / "dyn.onnx")
    proc = cli("compile", str(path), "--target", "host", "-o", "out", "-is", "1 3 5 8", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    import json
    manifest = json.loads((workdir / "out" / "manifest.json").read_text())
    assert manifest["inputs"][0]["shape"] == [1, 3, 5, 8]


def test_symbolic_batch_defaults_to_one_with_notice(cli, workdir):
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    vi = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    path = workdir / "batch.onnx"
    onnx.save(helper.make_model(helper.make_graph([node], "g", [vi], [out]),
                                opset_imports=[helper.make_opsetid("", 13)]), str(path))
    proc = cli("compile", str(path), "--target", "host", "-o", "out", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    notes = [l for l in proc.stderr.splitlines() if "symbolic batch" in l]
    assert len(notes) == 1 and "'x'" in notes[0] and "using 1" in notes[0]


# Options that are wrong for a valid model: (id, extra args, words the error must contain).
OPTION_ERRORS = [
    ("is_wrong_rank", ["--target", "host", "-is", "1,3,8"], ["-is", "rank 3", "rank 4", "'x'"]),
    ("is_not_numbers", ["--target", "host", "-is", "1 three 8 8"], ["-is", "integers"]),
    ("unknown_target", ["--target", "c910x"], ["unknown target 'c910x'", "c906", "c908"]),
    ("unknown_output_name", ["--target", "host", "-on", "missing_tensor"], ["missing_tensor"]),
    ("bad_vlen", ["--target", "rvv", "--vlen", "96"], ["--vlen 96", "128"]),
    ("fixed_vlen", ["--target", "c906", "--vlen", "256"], ["--vlen 256", "c906"]),
]


@pytest.mark.parametrize("args,needles", [c[1:] for c in OPTION_ERRORS], ids=[c[0] for c in OPTION_ERRORS])
def test_bad_option(cli, workdir, args, needles):
    path = _relu_model(workdir / "m.onnx")
    proc = cli("compile", str(path), "-o", "out", *args, cwd=workdir)
    assert_one_line_error(proc, *needles)
    assert not (workdir / "out").exists()


def test_output_dir_is_a_file(cli, workdir):
    path = _relu_model(workdir / "m.onnx")
    (workdir / "out").write_text("I am a file")
    proc = cli("compile", str(path), "--target", "c906", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "-o out", "not a directory")
    assert (workdir / "out").read_text() == "I am a file"


def test_unknown_option_is_one_line(cli, workdir):
    proc = cli("compile", "m.onnx", "-o", "out", "--frobnicate", cwd=workdir)
    assert_one_line_error(proc, "--frobnicate")


def _typed_relu(cli, workdir, elem_type):
    """Compile a Relu whose input and output have the given ONNX element type."""
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    vi = helper.make_tensor_value_info("x", elem_type, [4])
    out = helper.make_tensor_value_info("y", elem_type, [4])
    path = workdir / "typed.onnx"
    onnx.save(helper.make_model(helper.make_graph([node], "g", [vi], [out]),
                                opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return cli("compile", str(path), "--target", "host", "-o", "out", cwd=workdir)


def test_non_float_input_rejected(cli, workdir):
    assert_one_line_error(_typed_relu(cli, workdir, TensorProto.DOUBLE), "'x'", "DOUBLE")


def test_integer_relu_names_the_layer(cli, workdir):
    """Integer inputs are allowed (indices); an op with no integer kernel is named."""
    assert_one_line_error(_typed_relu(cli, workdir, TensorProto.INT32), "'relu'", "int32")


def test_bad_npy_input(cli, workdir):
    path = _relu_model(workdir / "m.onnx")
    (workdir / "x.npy").write_bytes(b"not numpy")
    proc = cli("run", str(path), "--target", "host", "--input", "x.npy", cwd=workdir)
    assert_one_line_error(proc, "x.npy")


def test_wrong_input_size(cli, workdir):
    path = _relu_model(workdir / "m.onnx")
    np.save(workdir / "x.npy", np.zeros((1, 3, 8, 7), np.float32))
    proc = cli("run", str(path), "--target", "host", "--input", "x.npy", cwd=workdir)
    assert_one_line_error(proc, "does not fit", "'x'")


def test_mismatch_exits_nonzero(cli, workdir, monkeypatch):
    """A wrong result must fail the run: break a kernel's output through the reference."""
    path = _relu_model(workdir / "m.onnx")
    import hhbc.runner as runner
    from hhbc.targets import get_target

    result = runner.run_and_compare(path, get_target("host"))
    assert result.ok
    from hhbc.compare import compare

    wrong = compare("y", result.outputs[0] + 1e-2, result.references[0])
    assert not wrong.ok and "MISMATCH" in wrong.line()
