"""TensorFlow models through the CLI: bad input is one line (exit 2), and a frozen
.pb compiles with TensorFlow not importable at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_one_line_error

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
tf1 = tf.compat.v1

pytestmark = pytest.mark.filterwarnings("ignore")

# Runs the hhbc CLI in a Python where `import tensorflow` fails, as in an install without it.
WITHOUT_TF = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoTensorFlow())
from hhbc.cli import main
code = main(sys.argv[1:])
assert "tensorflow" not in sys.modules
sys.exit(code)
"""


def _without_tf(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_TF, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _small_pb(path: Path, dims=(None, 8, 8, 3)) -> Path:
    rng = np.random.default_rng(0)
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, list(dims), name="image")
        y = tf.nn.relu(tf.nn.conv2d(x, rng.standard_normal((3, 3, 3, 4)).astype(np.float32), 2, "SAME"))
        y = tf.matmul(tf.reshape(y, [tf.shape(y)[0], -1]), rng.standard_normal((64, 5)).astype(np.float32))
        tf.nn.softmax(y, name="probs")
    path.write_bytes(g.as_graph_def().SerializeToString())
    return path


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("content", [
    pytest.param(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(), id="random"),
    pytest.param(b"node { name: 'x' op: 'Placeholder' }\n", id="text_format"),
    pytest.param(b"", id="empty"),
])
def test_not_a_graph_def(cli, workdir, content):
    (workdir / "bad.pb").write_bytes(content)
    proc = cli("compile", "bad.pb", "--target", "host", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "bad.pb", "not a TensorFlow GraphDef")
    assert not (workdir / "out").exists()


def test_truncated_graph_def(cli, workdir):
    data = _small_pb(workdir / "good.pb").read_bytes()
    (workdir / "cut.pb").write_bytes(data[: len(data) // 2])
    proc = cli("compile", "cut.pb", "--target", "host", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "cut.pb", "not a TensorFlow GraphDef")


def test_output_name_not_in_the_graph(cli, workdir):
    _small_pb(workdir / "m.pb")
    proc = cli("compile", "m.pb", "--target", "host", "-o", "out", "-on", "logits:0", cwd=workdir)
    assert_one_line_error(proc, "m.pb", "no node named 'logits'", "-on")
    proc = cli("compile", "m.pb", "--target", "host", "-o", "out", "-in", "nope", cwd=workdir)
    assert_one_line_error(proc, "no node named 'nope'", "-in")


def test_unsupported_ops_listed_together(cli, workdir):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [4, 4], name="x")
        a = tf.nn.relu(x, name="ok_relu")
        b = tf.math.cumsum(a, name="cumsum_1")
        c = tf.math.cumprod(b, name="cumprod_7")
        tf.add(tf.math.cumprod(c, name="cumprod_8"), a, name="y")
    (workdir / "u.pb").write_bytes(g.as_graph_def().SerializeToString())
    proc = cli("compile", "u.pb", "--target", "host", "-o", "out", cwd=workdir)
    line = assert_one_line_error(proc, "u.pb", "Cumsum", "Cumprod", "'cumsum_1'", "'cumprod_7'", "'cumprod_8'")
    assert "ok_relu" not in line
    assert not (workdir / "out").exists()


def test_compile_without_tensorflow(workdir):
    _small_pb(workdir / "m.pb")
    proc = _without_tf("compile", "m.pb", "--target", "host", "-o", "out", "-on", "probs:0", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((workdir / "out" / "manifest.json").read_text())
    assert [(i["name"], i["shape"]) for i in manifest["inputs"]] == [("image", [1, 8, 8, 3])]
    assert [(o["name"], o["shape"]) for o in manifest["outputs"]] == [("probs:0", [1, 5])]


def test_run_without_tensorflow_names_the_test_extra(workdir):
    _small_pb(workdir / "m.pb")
    proc = _without_tf("run", "m.pb", "--target", "host", cwd=workdir)
    assert_one_line_error(proc, "TensorFlow", "pip install 'hhbc[test]'")


def test_saved_model_without_tensorflow_names_the_tf_extra(workdir):
    saved = workdir / "saved"
    module = tf.Module()
    module.f = tf.function(lambda x: {"y": x * 2.0}, input_signature=[tf.TensorSpec([2], tf.float32)])
    tf.saved_model.save(module, str(saved), signatures={"serving_default": module.f})
    proc = _without_tf("compile", str(saved), "--target", "host", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "saved", "SavedModel", "pip install 'hhbc[tf]'")
    assert not (workdir / "out").exists()


def test_saved_model_pb_given_as_a_file(cli, workdir):
    saved = workdir / "saved"
    module = tf.Module()
    module.f = tf.function(lambda x: {"y": x * 2.0}, input_signature=[tf.TensorSpec([2], tf.float32)])
    tf.saved_model.save(module, str(saved), signatures={"serving_default": module.f})
    proc = cli("compile", str(saved / "saved_model.pb"), "--target", "host", "-o", "out", cwd=workdir)
    assert_one_line_error(proc, "saved_model.pb", "give its directory")


def test_error_mid_graph_leaves_no_warnings(cli, workdir):
    """A node that fails half-way through the Relax function: the error line and nothing else."""
    _small_pb(workdir / "m.pb", dims=(None, None, None, 3))
    proc = cli("compile", "m.pb", "--target", "host", "-o", "out", "-is", "1 9 9 3", "-q", cwd=workdir)
    assert_one_line_error(proc, "m.pb", "MatMul node", "cannot multiply [1, 100] by [64, 5]")
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
