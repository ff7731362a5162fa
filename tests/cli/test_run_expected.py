"""`hhbc run --expected`: compare with outputs the user already has, and NaN/inf handling.

The expected outputs come from onnxruntime (the framework), never from hhbc; a perturbed
copy must be reported as a mismatch, so the comparison can fail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import assert_one_line_error
from onnx import TensorProto, helper, numpy_helper

from hhbc.compare import compare

pytestmark = pytest.mark.filterwarnings("ignore")


def _two_output_model(path: Path) -> Path:
    """y = sqrt(x) (NaN for negative x), z = reciprocal(x) (+-inf for +-0)."""
    nodes = [helper.make_node("Sqrt", ["x"], ["y"], name="sqrt"),
             helper.make_node("Reciprocal", ["x"], ["z"], name="recip")]
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(nodes, "g", [vi("x", TensorProto.FLOAT, [2, 4])],
                              [vi("y", TensorProto.FLOAT, [2, 4]), vi("z", TensorProto.FLOAT, [2, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


X = np.array([[4.0, -1.0, 0.0, 2.5], [-0.0, 9.0, -3.0, 0.5]], np.float32)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("expected")
    model = _two_output_model(d / "m.onnx")
    np.save(d / "x.npy", X)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    y, z = sess.run(None, {"x": X})
    assert np.isnan(y).sum() == 2 and np.isinf(z).sum() == 2   # the data exercises both
    return d, model, y, z


def test_compare_nan_and_inf():
    c = compare("o", np.array([np.nan, np.inf, -np.inf, 1.0]), np.array([np.nan, np.inf, -np.inf, 1.0]))
    assert c.ok and c.specials == 3 and "3 NaN/inf elements equal" in c.line()
    assert not compare("o", np.array([np.nan, 1.0]), np.array([0.0, 1.0])).ok
    assert not compare("o", np.array([0.0, 1.0]), np.array([np.nan, 1.0])).ok
    assert not compare("o", np.array([-np.inf, 1.0]), np.array([np.inf, 1.0])).ok
    assert not compare("o", np.array([3], np.int64), np.array([2], np.int64)).ok


def test_run_framework_counts_nan_inf(cli, setup):
    d, model, _, _ = setup
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"), "-q")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "2 NaN/inf elements equal" in lines[0] and lines[0].endswith("ok"), proc.stdout
    assert "2 NaN/inf elements equal" in lines[1] and lines[1].endswith("ok"), proc.stdout


def test_run_expected_npy_and_pb(cli, setup):
    d, model, y, z = setup
    np.save(d / "y.npy", y)
    (d / "z.pb").write_bytes(numpy_helper.from_array(z, "z").SerializeToString())
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"),
               "--expected", str(d / "y.npy"), str(d / "z.pb"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(" ok") == 2, proc.stdout


def test_run_expected_npz_mismatch(cli, setup):
    d, model, y, z = setup
    wrong = z.copy()
    wrong[0, 0] += 0.5                      # a finite element off: must fail
    np.savez(d / "outs.npz", y=y, z=wrong)
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"),
               "--expected", str(d / "outs.npz"), "-q")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "MISMATCH" in proc.stdout.splitlines()[1]
    assert_one_line_error(proc, "--expected outputs", "z", code=1)


def test_run_expected_wrong_count(cli, setup):
    d, model, y, _ = setup
    np.save(d / "only_y.npy", y)
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"),
               "--expected", str(d / "only_y.npy"), "-q")
    assert_one_line_error(proc, "only_y.npy", "1 array", "2 output")


def test_run_expected_wrong_shape(cli, setup):
    d, model, y, z = setup
    np.save(d / "y.npy", y)
    np.save(d / "z_short.npy", z[:, :3])
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"),
               "--expected", str(d / "y.npy"), str(d / "z_short.npy"), "-q")
    assert_one_line_error(proc, "z_short.npy", "[2, 3]", "'z'")


def test_run_expected_unreadable(cli, setup):
    d, model, _, _ = setup
    (d / "junk.npy").write_bytes(b"not numpy")
    proc = cli("run", str(model), "--target", "host", "--input", str(d / "x.npy"),
               "--expected", str(d / "junk.npy"), "-q")
    assert_one_line_error(proc, "junk.npy", "not a readable")


def test_gather_clamps_out_of_range_indices(tmp_path):
    """Indices outside the axis at run time (undefined in ONNX; onnxruntime refuses them) are
    clamped: the documented behaviour, checked against numpy through run_and_compare(expected=)."""
    from hhbc.runner import run_and_compare
    from hhbc.targets import get_target

    table = np.random.default_rng(7).standard_normal((6, 3)).astype(np.float32)
    node = helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([node], "g", [vi("ids", TensorProto.INT64, [7])], [vi("y", TensorProto.FLOAT, [7, 3])],
                              [numpy_helper.from_array(table, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "emb.onnx"))
    ids = np.array([0, 5, -1, -6, 6, 100, -7], np.int64)
    normal = np.where(ids < 0, ids + 6, ids)
    want = table[np.clip(normal, 0, 5)]
    result = run_and_compare(tmp_path / "emb.onnx", get_target("host"), inputs=[ids],
                             expected=[("numpy", want)], out_dir=tmp_path / "out")
    assert result.ok, result.comparisons[0].line()
    assert np.array_equal(result.outputs[0], want)
