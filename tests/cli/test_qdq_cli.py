"""`hhbc run` on ONNX QDQ models: an output computed from int8 tensors is compared in
quantization steps (one step of the int8 tensor it comes from), and the printed line says
so; a float model keeps the float tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.compare import QuantStep, compare
from hhbc.frontends.onnx import quantization_steps, read_onnx

pytest.importorskip("onnxruntime")

RESNET = "onnx/mlperf_tiny_results/kaijiang_k1_resnet.onnx"
RESNET_LOGITS = "model/dense/BiasAdd:0"
OUT_SCALE = 0.08


def _qdq_model(path: Path, conv: bool, softmax: bool = False) -> Path:
    """x -> Q/DQ [-> Conv (or, with softmax, Gemm) with int8 weights -> Q/DQ] [-> Softmax]."""
    rng = np.random.default_rng(3)
    shape = [1, 12] if softmax else [1, 3, 6, 6]
    inits = [numpy_helper.from_array(np.float32(0.05), "xs"), numpy_helper.from_array(np.int8(-3), "xz"),
             numpy_helper.from_array(np.float32(OUT_SCALE), "ys"), numpy_helper.from_array(np.int8(5), "yz")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])]
    out, out_shape = "xd", shape
    if conv:
        w_shape, op = ((5, 12), helper.make_node("Gemm", ["xd", "w"], ["c"], transB=1)) if softmax else \
            ((4, 3, 3, 3), helper.make_node("Conv", ["xd", "w"], ["c"], pads=[1, 1, 1, 1]))
        inits += [numpy_helper.from_array(rng.integers(-127, 128, w_shape, dtype=np.int8), "wq"),
                  numpy_helper.from_array(np.float32(0.01), "ws"), numpy_helper.from_array(np.int8(0), "wz")]
        nodes += [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"]), op,
                  helper.make_node("QuantizeLinear", ["c", "ys", "yz"], ["cq"]),
                  helper.make_node("DequantizeLinear", ["cq", "ys", "yz"], ["cd"])]
        out, out_shape = "cd", [1, 5] if softmax else [1, 4, 6, 6]
    if softmax:
        nodes.append(helper.make_node("Softmax", [out], ["probs"], axis=1))
        out = "probs"
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _float_model(path: Path) -> Path:
    w = numpy_helper.from_array(np.random.default_rng(4).standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "f",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path


def _output_lines(proc) -> list[str]:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stdout.splitlines() if "max abs err" in line]
    assert lines, proc.stdout
    return lines


def test_quantized_output_is_compared_in_steps(cli, tmp_path):
    path = _qdq_model(tmp_path / "conv.onnx", conv=True)
    (line,) = _output_lines(cli("run", str(path), "--target", "host", "-q"))
    assert "quantization steps of 0.08 (limit 1 step) ok" in line, line


def test_softmax_after_dequantize_is_compared_in_the_logits_steps(cli, tmp_path):
    path = _qdq_model(tmp_path / "probs.onnx", conv=True, softmax=True)
    (line,) = _output_lines(cli("run", str(path), "--target", "host", "-q"))
    assert "quantization steps of 0.08 (limit 1 step) ok" in line, line


def test_quantize_dequantize_only_must_be_exact(cli, tmp_path):
    """Nothing but QuantizeLinear/DequantizeLinear: both sides round x / scale the same way."""
    path = _qdq_model(tmp_path / "qdq.onnx", conv=False)
    (line,) = _output_lines(cli("run", str(path), "--target", "host", "-q"))
    assert "max abs err 0.000e+00" in line and "(limit 0 steps) ok" in line, line


def test_float_model_keeps_the_float_tolerance(cli, tmp_path):
    (line,) = _output_lines(cli("run", str(_float_model(tmp_path / "f.onnx")), "--target", "host", "-q"))
    assert "max rel err" in line and "quantization" not in line, line


def test_real_qdq_model_through_hhbc_run(cli, models_dir, tmp_path):
    """ResNet (onnxruntime runs part of it in float, so its logits may be a step off, and its
    softmax then far beyond the float tolerance): both outputs are judged in steps."""
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    model = str(models_dir / RESNET)
    for extra in ([], ["-on", RESNET_LOGITS]):
        (line,) = _output_lines(cli("run", model, "--target", "host", "-q", "--input", str(tmp_path / "x.npy"),
                                    *extra))
        assert "quantization steps of" in line and "(limit 1 step) ok" in line, line


def test_steps_found_from_the_graph(tmp_path):
    assert quantization_steps(read_onnx(_qdq_model(tmp_path / "a.onnx", conv=True, softmax=True)), ["probs"]) == \
        [QuantStep(np.float32(OUT_SCALE), 1)]
    assert quantization_steps(read_onnx(_qdq_model(tmp_path / "b.onnx", conv=False)), ["xd"]) == \
        [QuantStep(np.float32(0.05), 0)]
    assert quantization_steps(read_onnx(_float_model(tmp_path / "c.onnx")), ["y"]) == [None]


def test_compare_limit_in_steps():
    ref = np.array([0.0, 0.5, 1.0], np.float32)
    step = QuantStep(0.25)
    assert compare("y", ref + np.float32(0.25), ref, step=step).ok
    assert not compare("y", ref + np.float32(0.375), ref, step=step).ok
    assert not compare("y", ref + np.float32(0.25), ref, step=QuantStep(0.25, 0)).ok
    assert not compare("y", ref + np.float32(0.25), ref).ok   # the float tolerance
