"""ONNX frontend: static shapes, shape-arithmetic folding, -in/-is/-on semantics."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions, load_model
from hhbc.frontends.shapes import parse_shapes, split_names
from hhbc.runner import run_and_compare
from hhbc.targets import get_target


def _torch_style_flatten(path, batch="N"):
    """Conv, then a flatten whose target shape is computed at run time, as
    torch.onnx exports `x.view(x.size(0), -1)`: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus_one"),
             numpy_helper.from_array(np.array([0], np.int64), "axes0"),
             numpy_helper.from_array(rng.standard_normal((10, 4 * 6 * 6)).astype(np.float32), "fc_w")]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Shape", ["r"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["r", "target"], ["flat"], name="reshape"),
        helper.make_node("Gemm", ["flat", "fc_w"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "torch_style",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_runtime_shape_arithmetic_folds_away(tmp_path):
    model = load_model(_torch_style_flatten(tmp_path / "m.onnx"))
    assert model.inputs[0].shape == (1, 3, 8, 8)
    text = model.mod["main"].script()
    for op in ("shape_of", "R.shape_to_tensor", "take", "concat"):
        assert op not in text, f"{op} survived import:\n{text}"


@pytest.mark.parametrize("target", ["host", "c908"])
def test_runtime_shape_arithmetic_model_runs(tmp_path, target):
    result = run_and_compare(_torch_style_flatten(tmp_path / "m.onnx"), get_target(target))
    assert all(c.ok for c in result.comparisons), [c.line() for c in result.comparisons]


def test_is_overrides_symbolic_batch(tmp_path):
    model = load_model(_torch_style_flatten(tmp_path / "m.onnx"), ImportOptions(input_shapes=((2, 3, 8, 8),)))
    assert model.inputs[0].shape == (2, 3, 8, 8)
    assert model.outputs[0].shape == (2, 10)


def test_is_cannot_change_a_fixed_dim(tmp_path):
    with pytest.raises(HhbcError, match="dim 1 is fixed to 3"):
        load_model(_torch_style_flatten(tmp_path / "m.onnx"), ImportOptions(input_shapes=((1, 4, 8, 8),)))


def test_parse_shapes_accepts_spaces_commas_and_several_inputs():
    assert parse_shapes("1 3 32 32") == [(1, 3, 32, 32)]
    assert parse_shapes("1,3,32,32") == [(1, 3, 32, 32)]
    assert parse_shapes("1 49 10;1, 12") == [(1, 49, 10), (1, 12)]
    assert split_names("a:0; b c") == ["a:0", "b c"]
    with pytest.raises(HhbcError):
        parse_shapes("1 0 3")


def _two_branch_model(path):
    """x -> relu -> (sigmoid -> y1, tanh -> y2): cutting with -on and -in."""
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Sigmoid", ["r"], ["y1"], name="sig"),
             helper.make_node("Tanh", ["r"], ["y2"], name="tanh")]
    graph = helper.make_graph(
        nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_on_selects_and_orders_outputs(tmp_path):
    path = _two_branch_model(tmp_path / "two.onnx")
    model = load_model(path, ImportOptions(output_names=("y2", "y1")))
    assert [o.name for o in model.outputs] == ["y2", "y1"]
    result = run_and_compare(path, get_target("host"), options=ImportOptions(output_names=("y2",)))
    assert [c.name for c in result.comparisons] == ["y2"]
    assert result.ok
    np.testing.assert_allclose(result.outputs[0], np.tanh(np.maximum(result.inputs[0], 0)), rtol=1e-6, atol=1e-6)


def test_in_cuts_the_graph_at_an_inner_tensor(tmp_path):
    path = _two_branch_model(tmp_path / "two.onnx")
    options = ImportOptions(input_names=("r",), input_shapes=((1, 8),), output_names=("y1",))
    result = run_and_compare(path, get_target("host"), options=options)
    assert [i.name for i in result.compiled.model.inputs] == ["r"]
    assert result.ok
    np.testing.assert_allclose(result.outputs[0], 1 / (1 + np.exp(-result.inputs[0])), rtol=1e-6, atol=1e-6)


def test_is_count_must_match_inputs(tmp_path):
    path = _two_branch_model(tmp_path / "two.onnx")
    with pytest.raises(HhbcError, match="2 shape"):
        load_model(path, ImportOptions(input_shapes=((1, 8), (1, 8))))
