"""Malformed ONNX models through the CLI: each is refused with exit 2 and exactly one stderr
line `hhbc: error: ...` that names the culprit (the node's op and name, or the tensor) and the
problem in words. None may end in a traceback, a signal inside TVM, or a bare "'y'".

Every model here is built with onnx.helper (or its protobuf API, to write what the helper
would refuse); hhbc.frontends.onnx_check holds the checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.cli import main

X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
WEIGHT = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")


def _save(path: Path, nodes, inits=(), inputs=(X,), outputs=(Y,), opset=13) -> Path:
    graph = helper.make_graph(nodes, "g", list(inputs), list(outputs), list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path.write_bytes(model.SerializeToString())   # onnx.save would check nothing either; explicit
    return path


def _refused(model: Path, tmp_path: Path, capsys, *needles: str) -> str:
    """Compile in-process as the CLI does: exit 2, one stderr line naming every needle."""
    rc = main(["compile", str(model), "--target", "host", "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert rc == 2, f"exit {rc}, stderr: {err}"
    assert len(lines) == 1 and lines[0].startswith("hhbc: error: "), f"not one error line: {err!r}"
    assert str(model) in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in: {lines[0]}"
    return lines[0]


def _conv(name="conv1", **attrs):
    return helper.make_node("Conv", ["x", "w"], ["y"], name=name, **attrs)


def test_conv_zero_strides_in_a_subprocess(tmp_path):
    # TVM's shape code divides by the stride: before the check this was a SIGFPE.
    model = _save(tmp_path / "m.onnx", [_conv(strides=[0, 0])], [WEIGHT])
    done = subprocess.run([sys.executable, "-m", "hhbc", "compile", str(model), "--target", "host",
                           "-o", str(tmp_path / "out"), "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.splitlines() == [f"hhbc: error: {model}: Conv node 'conv1': strides [0, 0] must be positive"]


@pytest.mark.parametrize("attrs,needle", [
    ({"dilations": [0, 1]}, "dilations [0, 1] must be positive"),
    ({"kernel_shape": [0, 3]}, "kernel_shape [0, 3] must be positive"),
    ({"group": 2}, "group 2 does not divide the 3 input channels"),
])
def test_conv_sizes_tvm_divides_by(tmp_path, capsys, attrs, needle):
    model = _save(tmp_path / "m.onnx", [_conv(**attrs)], [WEIGHT])
    _refused(model, tmp_path, capsys, "Conv node 'conv1'", needle)


def test_bad_pads(tmp_path, capsys):
    model = _save(tmp_path / "m.onnx", [_conv(pads=[1, 1, 1])], [WEIGHT])
    _refused(model, tmp_path, capsys, "Conv node 'conv1'", "pads [1, 1, 1] has 3 values, expected 4")
    pool = _save(tmp_path / "p.onnx", [helper.make_node("MaxPool", ["x"], ["y"], name="pool",
                                                        kernel_shape=[2, 2], pads=[0, 0, -1, 0])])
    _refused(pool, tmp_path, capsys, "MaxPool node 'pool'", "must be non-negative")


def test_weight_rank_must_match_the_input(tmp_path, capsys):
    w = numpy_helper.from_array(np.ones((4, 3, 3), np.float32), "w")
    model = _save(tmp_path / "m.onnx", [_conv()], [w])
    _refused(model, tmp_path, capsys, "Conv node 'conv1'", "weight 'w' has rank 3, the input rank 4")


def test_cycle_names_the_nodes_on_it(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r0"),
             helper.make_node("Add", ["a", "c"], ["b"], name="n1"),
             helper.make_node("Relu", ["b"], ["c"], name="n2"),
             helper.make_node("Relu", ["b"], ["y"], name="n3")]
    _refused(_save(tmp_path / "m.onnx", nodes), tmp_path, capsys, "cycle", "Add node 'n1'", "Relu node 'n2'")


def test_node_reading_its_own_output(tmp_path, capsys):
    # The case: "TVM could not import the model: 'y'".
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("Add", ["a", "y"], ["y"], name="n3")]
    _refused(_save(tmp_path / "m.onnx", nodes), tmp_path, capsys, "Add node 'n3' reads its own output 'y'")


def test_dangling_input_names_tensor_and_node(tmp_path, capsys):
    nodes = [helper.make_node("Add", ["x", "q"], ["y"], name="n3")]
    _refused(_save(tmp_path / "m.onnx", nodes), tmp_path, capsys,
             "input 'q' of Add node 'n3' is not produced by any node, initializer or graph input")


def test_unnamed_node_is_named_by_index(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Add", ["a", "q"], ["y"])]
    _refused(_save(tmp_path / "m.onnx", nodes), tmp_path, capsys, "input 'q' of Add node #1")


def test_duplicate_outputs_and_unproduced_graph_output(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Sigmoid", ["x"], ["y"], name="b")]
    _refused(_save(tmp_path / "m.onnx", nodes), tmp_path, capsys,
             "Sigmoid node 'b' and Relu node 'a' both write tensor 'y'")
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r")]
    _refused(_save(tmp_path / "o.onnx", nodes), tmp_path, capsys, "graph output 'y' is not produced")


def test_initializer_dims_disagree_with_data(tmp_path, capsys):
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    w.dims[0] = 5   # 135 elements declared, 108 held
    _refused(_save(tmp_path / "m.onnx", [_conv()], [w]), tmp_path, capsys,
             "initializer 'w': dims 5x3x3x3 (135 elements) do not match its data (108 float elements)")


def test_dtype_mismatch_names_node_op_and_both_types(tmp_path, capsys):
    k = numpy_helper.from_array(np.ones((1, 3, 8, 8), np.int32), "k")
    model = _save(tmp_path / "m.onnx", [helper.make_node("Add", ["x", "k"], ["y"], name="add1")], [k])
    _refused(model, tmp_path, capsys, "Add node 'add1'", "(float)", "(int32)")
    w16 = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float16), "w")
    _refused(_save(tmp_path / "c.onnx", [_conv()], [w16]), tmp_path, capsys, "Conv node 'conv1'", "float16")


@pytest.mark.parametrize("node,needle", [
    (helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=7), "axis 7 out of range [-4, 3]"),
    (helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=-5), "axis -5 out of range"),
    (helper.make_node("Flatten", ["x"], ["y"], name="fl", axis=5), "axis 5 out of range [-4, 4]"),
    (helper.make_node("Gather", ["x", "i"], ["y"], name="ga", axis=1), "indices [7] out of range"),
])
def test_bad_axis(tmp_path, capsys, node, needle):
    i = numpy_helper.from_array(np.array([7], np.int64), "i")
    model = _save(tmp_path / "m.onnx", [node], [i] if "i" in node.input else [])
    _refused(model, tmp_path, capsys, f"{node.op_type} node '{node.name}'", needle)


def test_bad_perm(tmp_path, capsys):
    model = _save(tmp_path / "m.onnx", [helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[0, 0, 1, 2])])
    _refused(model, tmp_path, capsys, "Transpose node 'tr'", "perm [0, 0, 1, 2] is not a permutation")


def test_resize_scales_must_be_positive(tmp_path, capsys):
    scales = numpy_helper.from_array(np.array([1, 1, 0, 2], np.float32), "s")
    node = helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", mode="nearest")
    _refused(_save(tmp_path / "m.onnx", [node], [scales]), tmp_path, capsys, "Resize node 'up'",
             "must be positive")


def test_huge_constant_of_shape_is_refused_before_onnxsim_folds_it(tmp_path, capsys):
    shape = numpy_helper.from_array(np.array([100000, 100000, 1000], np.int64), "s")
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], name="big"),
             helper.make_node("Add", ["x", "c"], ["y"], name="a")]
    _refused(_save(tmp_path / "m.onnx", nodes, [shape]), tmp_path, capsys,
             "ConstantOfShape node 'big'", "100000x100000x1000 float32", "--max-weights")


def test_huge_declared_initializer_is_refused_before_numpy_reads_it(tmp_path, capsys):
    w = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100000, 100000], raw_data=b"\0" * 16)
    _refused(_save(tmp_path / "m.onnx", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [w]),
             tmp_path, capsys, "initializer 'w'", "10,000,000,000 elements", "(4 float elements)")


def test_onnxsim_failure_leaves_one_line(tmp_path, capsys):
    # onnxsim cannot simplify a custom-domain op: its note must not come before the error.
    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")
    graph = helper.make_graph([node], "g", [X], [Y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("com.example", 1)])
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    _refused(path, tmp_path, capsys, "'frob' (Frobnicate)")


def test_tvm_failure_names_node_and_op(tmp_path, capsys):
    # A mode only TVM's converter checks: its exception, with the node that raised it.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    node = helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s", blocksize=2, mode="XYZ")
    line = _refused(_save(tmp_path / "m.onnx", [node], inputs=(x,)), tmp_path, capsys,
                    "DepthToSpace node 'd2s'", "XYZ")
    assert "ir.Op(" not in line


def test_unknown_attribute_type_from_the_schema(tmp_path, capsys):
    node = _conv()
    node.attribute.append(helper.make_attribute("strides", 1.5))   # a float where ints go
    _refused(_save(tmp_path / "m.onnx", [node], [WEIGHT]), tmp_path, capsys, "Conv node 'conv1'")


def test_names_that_are_not_text_or_hold_newlines(tmp_path, capsys):
    model = _save(tmp_path / "m.onnx", [helper.make_node("Add", ["x", "q"], ["y"], name="two\nlines")])
    line = _refused(model, tmp_path, capsys, "two\\nlines")
    blob = bytearray(_save(tmp_path / "u.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")]).read_bytes())
    at = blob.index(b"Relu")
    blob[at] = 0xFF   # the op type is no longer UTF-8: protobuf hands it over as bytes
    (tmp_path / "u.onnx").write_bytes(bytes(blob))
    _refused(tmp_path / "u.onnx", tmp_path, capsys, "node #0: its op type is not valid UTF-8")
    assert "\n" not in line


def test_unsorted_graph_is_sorted_not_refused(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["a"], ["y"], name="second"), helper.make_node("Sigmoid", ["x"], ["a"], name="first")]
    rc = main(["compile", str(_save(tmp_path / "m.onnx", nodes)), "--target", "host", "-o", str(tmp_path / "out"), "-q"])
    assert rc == 0, capsys.readouterr().err


def test_huge_expand_and_range_refused_by_node(tmp_path, capsys):
    shape = numpy_helper.from_array(np.array([1000000, 3, 8, 8], np.int64), "s")
    expand = _save(tmp_path / "e.onnx", [helper.make_node("Expand", ["x", "s"], ["y"], name="ex")], [shape])
    _refused(expand, tmp_path, capsys, "Expand node 'ex'", "1000000x3x8x8 float32", "--max-tensor")
    bounds = [numpy_helper.from_array(np.array(v, np.float32), n) for v, n in ((0, "a"), (10, "b"), (0, "d"))]
    nodes = [helper.make_node("Range", ["a", "b", "d"], ["r"], name="rg"), helper.make_node("Add", ["x", "r"], ["y"], name="add")]
    _refused(_save(tmp_path / "r.onnx", nodes, bounds), tmp_path, capsys, "Range node 'rg'", "delta 0 must be non-zero")


def test_qdq_zero_scale_is_refused_by_node(tmp_path, capsys):
    # Before the check: ZeroDivisionError in the requantization multiplier, deep in lowering.
    consts = [numpy_helper.from_array(np.array(v, np.float32), n) for v, n in ((0.0, "s0"), (0.1, "s1"))]
    consts.append(numpy_helper.from_array(np.array(0, np.int8), "zp"))
    nodes = [helper.make_node("QuantizeLinear", ["x", "s0", "zp"], ["q"], name="quant"),
             helper.make_node("DequantizeLinear", ["q", "s1", "zp"], ["y"], name="dequant")]
    _refused(_save(tmp_path / "m.onnx", nodes, consts), tmp_path, capsys, "QuantizeLinear node 'quant'",
             "scale [0.0] must be positive and finite")
