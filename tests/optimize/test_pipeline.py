"""The Relax pipeline: each optimization leaves its mark on the KernelGraph and on `-v`."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.frontends import load_model
from hhbc.lower.from_relax import lower
from hhbc.optimize import op_counts, optimize
from hhbc.runner import run_and_compare
from hhbc.targets import get_target


def _save(path, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def _conv_bn_flatten_gemm(path):
    rng = np.random.default_rng(5)
    c = 6
    inits = [numpy_helper.from_array(rng.standard_normal((c, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b"),
             *[numpy_helper.from_array(v.astype(np.float32), n) for n, v in
               (("g", 1 + 0.1 * rng.standard_normal(c)), ("beta", rng.standard_normal(c)),
                ("mean", rng.standard_normal(c)), ("var", 1 + rng.random(c)))],
             numpy_helper.from_array(rng.standard_normal((5, c * 4 * 4)).astype(np.float32), "fc")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc", transB=1)]
    return _save(path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)


def test_conv_bn_relu_flatten_dense_becomes_two_kernels(tmp_path):
    model = load_model(_conv_bn_flatten_gemm(tmp_path / "m.onnx"))
    mod = optimize(model.mod)
    counts = op_counts(mod)
    assert "nn.batch_norm" not in counts
    assert counts["hhbc.conv2d_bias_relu"] == 1
    graph = lower(model, mod)
    ops = [n.op for n in graph.nodes]
    # The input's NCHW->NHWC transpose stays; the one before flatten is folded into the dense weights.
    assert ops == ["transpose", "conv2d", "dense"], ops
    assert graph.nodes[1].layer == "conv + relu"


@pytest.mark.parametrize("target", ["host", "c908"])
def test_folded_graph_still_matches_onnxruntime(tmp_path, target):
    result = run_and_compare(_conv_bn_flatten_gemm(tmp_path / "m.onnx"), get_target(target))
    assert result.ok, [c.line() for c in result.comparisons]


def test_verbose_reports_every_stage(tmp_path, capsys):
    model = load_model(_conv_bn_flatten_gemm(tmp_path / "m.onnx"))
    optimize(model.mod, verbose=True)
    err = capsys.readouterr().err
    for stage in ("imported", "constant folding", "batchnorm folding", "NHWC layout", "zero-copy reshapes",
                  "dead code elimination", "fusion"):
        assert f"[{stage}]" in err, err
    assert "nn.batch_norm×1" in err.split("[batchnorm folding]")[0]
