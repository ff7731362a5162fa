"""Post-training quantization without the shared models: calibration modes against numpy, the
schemes' rules, and the demo DS-CNN quantized end to end (firmware == host simulation, bit for bit)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import ImportOptions, load_model
from hhbc.optimize import float_module
from hhbc.quantize.calibrate import calibrate, tensor_bindings
from hhbc.quantize.ptq import PtqOptions, activation_quant, weight_quant
from hhbc.quantize.simulate import simulate
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))


def _conv_relu(path: Path) -> Path:
    """x[1,3,8,8] -> Conv 3x3 (4 channels, bias) -> Relu -> GlobalAveragePool -> Gemm(5)."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "fw"),
             numpy_helper.from_array(np.zeros(5, np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)
    return path


def _samples(n: int, seed: int = 1, scale: float = 1.0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal((1, 3, 8, 8)) * scale).astype(np.float32)] for _ in range(n)]


def test_maxmin_and_percentile_ranges_match_numpy(tmp_path):
    model = load_model(_conv_relu(tmp_path / "m.onnx"), ImportOptions())
    mod = float_module(model.mod)
    samples = _samples(12)
    cal = calibrate(mod, samples, "percentile", keep=True)
    input_index = -1
    x = np.concatenate([s[0].reshape(-1) for s in samples])
    assert cal.stats[input_index].lo == pytest.approx(float(x.min()))
    assert cal.stats[input_index].hi == pytest.approx(float(x.max()))
    assert cal.range(input_index, "maxmin") == (pytest.approx(float(x.min())), pytest.approx(float(x.max())))
    lo, hi = cal.range(input_index, "percentile", 99.0)
    bin_width = max(-x.min(), x.max()) / 2048
    for side, cut in ((x[x >= 0], hi), (-x[x < 0], -lo)):   # the 99th percentile, to one histogram bin
        assert np.mean(side <= cut) >= 0.99 > np.mean(side <= cut - 1.01 * bin_width)
    # every float tensor the calibration saw is what the float framework computes at the output
    ref = np.concatenate([model.reference(s)[0].reshape(-1) for s in samples])
    last = max(i for i, _ in tensor_bindings(mod["main"]))
    got = np.concatenate([v.reshape(-1) for v in cal.floats[last]])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_kl_divergence_clips_a_lone_outlier(tmp_path):
    model = load_model(_conv_relu(tmp_path / "m.onnx"), ImportOptions())
    mod = float_module(model.mod)
    samples = _samples(16)
    samples[3][0][0, 0, 0, 0] = 60.0      # one value far outside the rest (|x| < ~5)
    cal = calibrate(mod, samples, "kl_divergence")
    lo, hi = cal.range(-1, "kl_divergence")
    assert cal.stats[-1].hi == pytest.approx(60.0)
    assert 2.0 < hi < 20.0, hi
    assert cal.range(-1, "maxmin")[1] == pytest.approx(60.0)


def test_activation_and_weight_rules():
    q = activation_quant(0.0, 5.1, symmetric=False)           # after a ReLU: the whole int8 range
    assert q.zero_point == (-128,) and q.scale[0] == pytest.approx(5.1 / 255, rel=1e-6)
    q = activation_quant(-1.0, 3.0, symmetric=True)
    assert q.zero_point == (0,) and q.scale[0] == pytest.approx(3.0 / 127, rel=1e-6)
    assert activation_quant(0.0, 0.0, symmetric=False).scale[0] > 0     # a dead tensor: no zero scale
    w = np.random.default_rng(2).standard_normal((6, 3, 3, 2)).astype(np.float32)
    w[4] = 0.0
    wq, wqq = weight_quant(w, 0, symmetric=True)
    assert wq.dtype == np.int8 and set(wqq.zero_point) == {0} and len(wqq.scale) == 6
    assert np.abs(wq).max() == 127 and not wq[4].any()
    back = wq.astype(np.float64) * np.asarray(wqq.scale)[:, None, None, None]
    assert np.abs(back - w).max() <= max(wqq.scale) / 2 + 1e-7
    wq, wqa = weight_quant(w, 0, symmetric=False)
    back = (wq.astype(np.float64) - np.asarray(wqa.zero_point)[:, None, None, None]) * \
        np.asarray(wqa.scale)[:, None, None, None]
    assert np.abs(back - w).max() <= max(wqa.scale) / 2 + 1e-7 and any(z != 0 for z in wqa.zero_point)


@pytest.mark.parametrize("scheme", ["int8_asym_w_sym", "int8_sym"])
def test_schemes_quantize_as_named(tmp_path, scheme):
    compiled = compile_model(_conv_relu(tmp_path / "m.onnx"), get_target("host"), tmp_path / "p",
                             scheme=scheme, ptq=PtqOptions(samples=_samples(8)))
    nodes = compiled.graph.nodes
    assert [n.op for n in nodes if n.op.endswith("_i8")][:2] == ["quantize_i8", "conv2d_i8"]
    conv = next(n for n in nodes if n.op == "conv2d_i8")
    zps = {t.quant.zero_point[0] for t in compiled.graph.tensors() if t.quant is not None}
    if scheme == "int8_sym":
        assert zps == {0}
    else:
        assert conv.output.quant.zero_point == (-128,)    # the conv's ReLU: [0, max] on all 256 steps
    assert conv.params["per_channel"] == 1 and conv.consts["weight"].dtype == "int8"
    assert compiled.manifest["scheme"] == scheme


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["host", "c906", "c908"])
def test_demo_dscnn_int8_equals_host_simulation(tmp_path, target):
    """The bundled DS-CNN, quantized: the firmware's outputs are the host simulation's, bit for
    bit, on inputs the calibration never saw; and the int8 weights are under 40% of float32's."""
    from make_kws_dscnn import build_model

    path = tmp_path / "kws.onnx"
    onnx.save(build_model(), path)
    rng = np.random.default_rng(5)
    calib = [[(rng.standard_normal((1, 1, 49, 10)) * 8).astype(np.float32)] for _ in range(16)]
    tgt = get_target(target)
    compiled = compile_model(path, tgt, tmp_path / "p", scheme="int8_asym_w_sym", ptq=PtqOptions(samples=calib))
    elf = build(tmp_path / "p", tgt)
    for seed in (11, 12):
        x = [(np.random.default_rng(seed).standard_normal((1, 1, 49, 10)) * 8).astype(np.float32)]
        got = run_model(elf, tgt, compiled.manifest["vlen"], x, compiled.manifest["outputs"], tmp_path / "io")
        sim = simulate(compiled.graph, x).outputs
        for g, s in zip(got, sim):
            np.testing.assert_array_equal(g, s)
    f32 = compile_model(path, tgt, tmp_path / "f", scheme="float32")
    assert compiled.manifest["weight_bytes"] <= 0.40 * f32.manifest["weight_bytes"]


def test_float_inputs_for_int8_inputs_round_once():
    """hhbc run's float -> int8 input conversion rounds x / scale half away from zero once, as
    TFLite's QUANTIZE (roundf): 0.49999997 is 0, not 1 (floor(x + 0.5) rounds it twice)."""
    from hhbc.lower.graph import Quant
    from hhbc.runner import quantize_input

    x = np.array([0.49999997, -0.49999997, 0.5, -0.5, 1.5, -2.5, 2.4999998, 1e9, -1e9], np.float32)
    assert quantize_input(x, Quant((1.0,), (0,))).tolist() == [0, 0, 1, -1, 2, -3, 2, 127, -128]
    assert quantize_input(np.float32([1.0, -1.0]), Quant((0.5,), (-128,))).tolist() == [-126, -128]
