"""ONNX inputs whose value must be known at compile time: an integer input that gives a shape
(Expand's, Reshape's), `--const-input`, and `hhbc run` folding such an input from its
--input array. The reference is onnxruntime on the original model, fed every input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import assert_one_line_error
from onnx import TensorProto, helper

from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions
from hhbc.frontends.onnx import load_onnx

pytestmark = pytest.mark.filterwarnings("ignore")

X = np.arange(6, dtype=np.float32).reshape(1, 3, 2) / 4 - 0.5
SHAPE = np.array([2, 3, 1], np.int64)      # Expand: [1, 3, 2] -> [2, 3, 2]
NEW = np.array([3, -1], np.int32)           # through Cast to int64, into Reshape: [2, 3, 2] -> [3, 4]


def _model(path: Path) -> Path:
    """y = relu(reshape(expand(x, shape), cast(new))): two integer shape inputs, one int32
    that reaches Reshape through a Cast."""
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Expand", ["x", "shape"], ["e"], name="expand"),
             helper.make_node("Cast", ["new"], ["new64"], name="cast", to=TensorProto.INT64),
             helper.make_node("Reshape", ["e", "new64"], ["r"], name="reshape"),
             helper.make_node("Relu", ["r"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [vi("x", TensorProto.FLOAT, [1, 3, 2]), vi("shape", TensorProto.INT64, [3]),
                                           vi("new", TensorProto.INT32, [2])],
                              [vi("y", TensorProto.FLOAT, [3, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("const_input")
    model = _model(d / "m.onnx")
    np.save(d / "x.npy", X)
    np.save(d / "shape.npy", SHAPE)
    np.save(d / "new.npy", NEW)
    (y,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(
        None, {"x": X, "shape": SHAPE, "new": NEW})
    assert y.shape == (3, 4) and (y == 0).any() and (y > 0).any()
    np.save(d / "y.npy", y)
    return d, model


def test_shape_input_without_a_value_is_one_line(cli, setup, tmp_path):
    d, model = setup
    proc = cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "p"), "-q")
    assert_one_line_error(proc, "input 'shape' is the shape operand of Expand node 'expand'",
                          "--const-input shape=")
    proc = cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "p"), "-q",
               "--const-input", "shape=2,3,1")
    assert_one_line_error(proc, "input 'new' is the shape operand of Reshape node 'reshape'", "--const-input new=")


def test_const_input_values_and_file(cli, setup, tmp_path):
    """Given with --const-input (numbers, and a .npy), the model keeps one input; run compares
    it with onnxruntime on the original model, fed the constants."""
    d, model = setup
    proc = cli("run", str(model), "--target", "host", "-q", "--const-input", "shape=2 3 1",
               "--const-input", f"new={d / 'new.npy'}", "--input", str(d / "x.npy"),
               "--save-outputs", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok") and "[3, 4]" in proc.stdout, proc.stdout
    np.testing.assert_allclose(np.load(tmp_path / "out" / "out_0.npy").reshape(3, 4), np.load(d / "y.npy"),
                               rtol=0, atol=1e-6)
    imported = load_onnx(model, ImportOptions(const_inputs=(("shape", SHAPE), ("new", NEW))))
    assert [i.name for i in imported.inputs] == ["x"] and imported.outputs[0].shape == (3, 4)


def test_run_folds_shape_inputs_from_its_inputs(cli, setup):
    """All three inputs given with --input: run folds the two shape inputs and says so."""
    d, model = setup
    proc = cli("run", str(model), "--target", "host", "-q", "--input", str(d / "x.npy"),
               "--input", str(d / "shape.npy"), "--input", str(d / "new.npy"),
               "--expected", str(d / "y.npy"))
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "folding its --input value" in line]
    assert len(notes) == 2, proc.stderr
    assert "input 'shape' is the shape operand of Expand node 'expand'" in notes[0] and "[2, 3, 1]" in notes[0]
    assert "input 'new'" in notes[1] and "[3, -1]" in notes[1]
    assert proc.stdout.strip().endswith("ok"), proc.stdout


@pytest.mark.parametrize("value, needles", [
    ("nope=1,2", ("--const-input nope:", "has no input named 'nope'", "inputs: x, shape, new")),
    ("shape=2,3", ("--const-input shape:", "2 value(s) for an input of shape [3]")),
    ("shape=2.5,3,1", ("--const-input shape:", "non-integer values")),
    ("shape", ("--const-input 'shape'", "NAME=FILE.npy")),
    ("shape=missing.npy", ("--const-input shape:", "no such file")),
    ("shape=a,b", ("--const-input shape:", "neither a .npy/.pb file nor numbers")),
])
def test_bad_const_inputs_are_one_line(cli, setup, tmp_path, value, needles):
    _, model = setup
    proc = cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "p"), "-q", "--const-input", value)
    assert_one_line_error(proc, *needles)


def test_const_input_is_onnx_only(cli, tmp_path):
    prototxt = tmp_path / "n.prototxt"
    prototxt.write_text('name: "n"\nlayer { name: "in" type: "Input" top: "data" '
                        'input_param { shape { dim: 1 dim: 2 dim: 3 dim: 3 } } }\n'
                        'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\n')
    proc = cli("compile", str(prototxt), "--target", "host", "-o", str(tmp_path / "p"), "-q",
               "--const-input", "data=1")
    assert_one_line_error(proc, "--const-input data: only ONNX models take constant inputs", "caffe")


def test_integer_arithmetic_is_refused_by_node(tmp_path):
    """int64 model inputs added at run time: no kernel computes integer arithmetic; one line
    naming the node (ONNX's backend case test_operator_non_float_params is refused so)."""
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"], name="add_ints")], "g",
                              [vi("a", TensorProto.INT64, [2, 2]), vi("b", TensorProto.INT64, [2, 2])],
                              [vi("c", TensorProto.INT64, [2, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(HhbcError) as err:
        load_onnx(tmp_path / "m.onnx")
    message = str(err.value)
    assert "\n" not in message and "Add node 'add_ints': arithmetic on INT64 tensors is not supported" in message
