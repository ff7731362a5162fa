"""The peer quantizers of tests/quantize/peers.py run, quantize for real, and land where they
were measured on the tests' own data (issue 14's accuracy comparison rests on them).

Bands: measured on 2026-12-05 with tests/data v1 (onnxruntime 1.32, ai-edge-quantizer 0.10,
TensorFlow 2.21); each band is a few dB around the figure, so that a peer that silently returns
the float model (SQNR = inf) or breaks (single-digit SQNR) fails.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.slow

peers = pytest.importorskip("peers")    # tests/quantize/peers.py (needs onnxruntime, tensorflow)
data = pytest.importorskip("data")      # tests/data

MNIST = "onnx/wonnx/opt-mnist.onnx"
KWS_ONNX = "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx"
KWS_TFLITE = "tflite/mlperf_tiny/kws_ref_model_float32.tflite"
DS_CNN = "tf/frozen/arm_ml_kws/DS_CNN_S.pb"

# model -> peer -> (SQNR band in dB, minimum top-1 agreement); measured: opt-mnist MinMax
# 99.3% / 34.6 dB, Entropy the same, Percentile 99.7% / 34.3 dB; Alibaba KWS MinMax 97.8% /
# 29.8 dB, Percentile 98.3% / 30.3 dB; kws_ref_model_float32 96.1% / 15.0 dB (a softmax output
# in steps of 1/256, ranges from ai-edge-quantizer's default moving-average calibration), with
# its global min-max calibration 97.8% / 27.0 dB; DS-CNN 98.1% / 24.6 dB.
BANDS = {
    MNIST: {"onnxruntime MinMax": ((31, 38), 0.97), "onnxruntime Entropy": ((31, 38), 0.97),
            "onnxruntime Percentile": ((31, 38), 0.97)},
    KWS_ONNX: {"onnxruntime MinMax": ((26, 34), 0.95), "onnxruntime Percentile": ((26, 34), 0.95)},
    KWS_TFLITE: {"TFLite ai-edge-quantizer": ((12, 19), 0.93),
                 "TFLite ai-edge-quantizer global min-max": ((23, 31), 0.95)},
    DS_CNN: {"TFLite converter": ((21, 28), 0.95)},
}


def _split(models_dir, model):
    if not (models_dir / model).exists():
        pytest.skip(f"{model} not in {models_dir}")
    if data.needs_espeak(model) and shutil.which("espeak-ng") is None:
        pytest.skip("the keyword data set is synthesized with espeak-ng, which is not installed")
    return data.dataset(model)


@pytest.mark.parametrize("model", list(BANDS))
def test_peer_lands_in_its_measured_band(models_dir, model):
    split = _split(models_dir, model)
    results = peers.peer_results(model, split, tuple(BANDS[model]))
    assert set(results) == set(BANDS[model])
    for key, ((lo, hi), min_top1) in BANDS[model].items():
        r = results[key]
        line = r.outputs[0].line()
        print(line)
        assert math.isfinite(r.sqnr_db), f"{key} returned the float model: {line}"
        assert lo <= r.sqnr_db <= hi, line
        assert r.top1 is not None and r.top1 >= min_top1, line
        assert r.outputs[0].samples == len(split.eval)


def test_onnxruntime_model_is_per_channel_qdq(models_dir):
    """QDQ with int8 activations and per-channel int8 weights: every Conv weight's
    DequantizeLinear has one scale per output channel."""
    import onnx
    from onnx import numpy_helper

    split = _split(models_dir, MNIST)
    model = onnx.load_from_string(peers.onnxruntime_quantized(models_dir / MNIST, split.calib[:16], "MinMax"))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 2
    for conv in convs:
        dq = producer[conv.input[1]]
        assert dq.op_type == "DequantizeLinear"
        q, scale = inits[dq.input[0]], inits[dq.input[1]]
        assert q.dtype == np.int8 and scale.shape == (q.shape[0],)
        act = producer[conv.input[0]]
        assert act.op_type == "DequantizeLinear" and inits[act.input[2]].dtype == np.int8


def _tensor_quant(buf: bytes):
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=buf)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    return interp._get_ops_details(), tensors


@pytest.mark.parametrize("model", [KWS_TFLITE, DS_CNN])
def test_tflite_peer_is_full_integer_per_channel(models_dir, model):
    """Full integer: int8 activations, per-channel int8 conv weights, int32 biases (the MLPerf
    file's pre-schema-3a operator codes would otherwise make ai-edge-quantizer quantize every
    op as an ADD, with per-tensor asymmetric weights)."""
    split = _split(models_dir, model)
    path = models_dir / model
    buf = (peers.ai_edge_quantized_model(path, split.calib[:16]) if model.endswith(".tflite")
           else peers.tflite_converter_model(path, split.calib[:16]))
    ops, tensors = _tensor_quant(buf)
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) >= 4
    for op in convs:
        x, w, b = (tensors[i] for i in op["inputs"][:3])
        out = tensors[op["outputs"][0]]
        assert x["dtype"] == np.int8 and out["dtype"] == np.int8
        assert w["dtype"] == np.int8 and b["dtype"] == np.int32
        channels = w["shape"][0] if op["op_name"] == "CONV_2D" else w["shape"][-1]
        assert w["quantization_parameters"]["scales"].shape == (channels,)
        assert not np.any(w["quantization_parameters"]["zero_points"])


def test_ai_edge_quantizer_preparation_keeps_the_computation(models_dir):
    """The SignatureDef and the filled-in operator codes change nothing the interpreter computes."""
    from ai_edge_litert.interpreter import Interpreter

    if not (models_dir / KWS_TFLITE).exists():
        pytest.skip(f"{KWS_TFLITE} not in {models_dir}")
    buf = peers.float_tflite(models_dir / KWS_TFLITE)
    x = np.random.default_rng(0).standard_normal((1, 49, 10, 1)).astype(np.float32) * 10
    outs = []
    for b in (buf, peers.for_ai_edge_quantizer(buf)):
        interp = Interpreter(model_content=b)
        interp.allocate_tensors()
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]).copy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert Interpreter(model_content=peers.for_ai_edge_quantizer(buf)).get_signature_list() == {
        "serving_default": {"inputs": ["input_1"], "outputs": ["Identity"]}}


def test_ai_edge_quantizer_global_minmax_covers_the_calibration_range(models_dir):
    """With its global min/max update, ai-edge-quantizer's output range holds every float output
    of the calibration set (within one step); its default moving average does not (it clipped
    ad01's output at -61.9 where the calibration set reaches -80.8)."""
    from ai_edge_litert.interpreter import Interpreter

    model = "tflite/mlperf_tiny/ad01_fp32.tflite"
    split = _split(models_dir, model)
    _, refs = peers.float_outputs(model, split.calib)
    lo = min(float(r[0].min()) for r in refs)
    hi = max(float(r[0].max()) for r in refs)

    def output_range(global_minmax):
        buf = peers.ai_edge_quantized_model(models_dir / model, split.calib, global_minmax)
        interp = Interpreter(model_content=buf)
        scale, zero = interp.get_output_details()[0]["quantization"]
        return (-128 - zero) * scale, (127 - zero) * scale, scale

    g_lo, g_hi, step = output_range(True)
    assert g_lo <= lo + step and g_hi >= hi - step, ((g_lo, g_hi), (lo, hi))
    m_lo, m_hi, _ = output_range(False)
    assert m_lo > lo + step or m_hi < hi - step, ((m_lo, m_hi), (lo, hi))
