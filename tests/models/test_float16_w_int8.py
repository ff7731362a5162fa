"""The float16_w_int8 scheme (HHB's `-qs float16_w_int8`): int8 conv/depthwise/dense weights in
flash, symmetric per output channel, float16 activations (hhbc/quantize/float16.py), end to end
on the demo DS-CNN (examples/make_kws_dscnn.py) and the Alibaba KWS ONNX model of
../shared/models (skipped when absent), on host, c906 and c908.

Tolerances. Two errors add up in this scheme: the int8 weights' (quantization) and the float16
activations'. They are checked apart:
- against the framework running the model with its conv/Gemm weights replaced by the same
  int8 weights dequantized (q * scale, from hhbc's own `quantize_weight`): only the float16
  arithmetic differs, so the float16 scheme's tolerance holds (1e-2 of max|reference|, as
  `hhbc run` accepts a float16 build);
- against the float model: the quantization error is measured with the framework itself
  (fake-quantized model vs float model, same input); hhbc may add at most the float16
  tolerance to it. Top-1 must agree with the float model on every input used here.
Weight bytes: int8 weights are a quarter of float32, but biases and the per-channel scales stay
float32 (8 bytes per output channel): measured 29.6% (demo) and 32.3% (Alibaba KWS, 32
channels per layer) of the float32 build; the test allows 1/3.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import load_model
from hhbc.lower.from_relax import lower
from hhbc.optimize import optimize
from hhbc.quantize.float16 import quantize_weight, to_float16
from hhbc.runner import default_inputs
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from make_kws_dscnn import build_model  # noqa: E402

SCHEME = "float16_w_int8"
FLOAT16_TOL = 1e-2
ALIBABA = "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx"
TARGETS = ["host", "c906", "c908"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("f16w8") / "kws_dscnn.onnx"
    onnx.save(build_model(), str(path))
    return path


def _model(name: str, demo: Path, models_dir_or_none) -> Path:
    if name == "demo":
        return demo
    if models_dir_or_none is None or not (models_dir_or_none / ALIBABA).is_file():
        pytest.skip(f"real model not available: ../shared/models/{ALIBABA}")
    return models_dir_or_none / ALIBABA


@pytest.fixture(scope="module")
def shared_models():
    shared = Path(__file__).resolve().parents[3] / "shared" / "models"   # as tests/conftest.py
    return shared if shared.is_dir() else None


def _compile(path: Path, target, out_dir: Path, scheme: str):
    """(model, graph, manifest) of `hhbc compile -qs scheme`."""
    c = compile_model(path, target, out_dir, scheme=scheme)
    return c.model, c.graph, c.manifest


def _run(path: Path, target_name: str, out_dir: Path, scheme: str, seeds):
    """Build once, run each seed's input: [(inputs, outputs)], the manifest, the model."""
    target = get_target(target_name)
    model, graph, manifest = _compile(path, target, out_dir / "project", scheme)
    elf = build(out_dir / "project", target)
    runs = []
    for seed in seeds:
        arrays = default_inputs(model.inputs, seed, graph)
        got = run_model(elf, target, manifest["vlen"], arrays, manifest["outputs"], out_dir / f"io{seed}")
        runs.append((arrays, got))
    return model, manifest, runs


def _fake_quantized(path: Path, out: Path) -> Path:
    """The ONNX model with each Conv/Gemm/MatMul weight replaced by its int8 dequantization
    (per output channel: Conv axis 0, Gemm axis 0 with transB else 1, MatMul axis 1)."""
    m = onnx.load(str(path))
    inits = {i.name: i for i in m.graph.initializer}
    for node in m.graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        axis = 0 if node.op_type == "Conv" or (node.op_type == "Gemm" and trans_b) else 1
        init = inits[node.input[1]]
        w = numpy_helper.to_array(init).astype(np.float32)
        q, scale = quantize_weight(w, axis)
        shape = [1] * w.ndim
        shape[axis] = -1
        deq = (q.astype(np.float32) * scale.reshape(shape)).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(deq, init.name))
    onnx.save(m, str(out))
    return out


def _reference(path: Path, arrays):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {i.name: a for i, a in zip(sess.get_inputs(), arrays)})


# ---- the pass ----------------------------------------------------------------------------------

def test_pass_int8_weights_per_channel(demo):
    model = load_model(demo)
    graph = to_float16(lower(model, optimize(model.mod)), int8_weights=True)
    ops = [n.op for n in graph.nodes]
    assert ops.count("conv2d_w8") == 5 and ops.count("depthwise_conv2d_w8") == 4 and ops.count("dense_w8") == 1
    assert not any(op in ("conv2d", "depthwise_conv2d", "dense") for op in ops)
    for node in graph.nodes:
        if not node.op.endswith("_w8"):
            continue
        assert node.inputs[0].dtype == "float16" and node.output.dtype == "float16", node.layer
        q, s = node.consts["weight"].data, node.consts["w_scale"].data
        assert q.dtype == np.int8 and s.dtype == np.float32
        axis = -1 if node.op == "depthwise_conv2d_w8" else 0
        assert s.shape == (q.shape[axis],)
        peak = np.max(np.abs(np.moveaxis(q, axis, 0).reshape(q.shape[axis], -1)), axis=1)
        assert np.all(peak == 127), node.layer           # every channel uses the full range
        assert np.all(q >= -127)                          # symmetric: -128 never appears
        if "bias" in node.consts:
            assert node.consts["bias"].data.dtype == np.float32


def test_quantize_weight_rounding():
    w = np.array([[1.27, -1.27, 0.005, -0.005, 0.015, -0.015],
                  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], np.float32)
    q, s = quantize_weight(w, 0)
    assert s.tolist() == [np.float32(1.27 / 127), 1.0]   # an all-zero channel keeps scale 1
    # 0.005 / 0.01 = 0.5 rounds away from zero; 0.015 / 0.01 = 1.5 -> 2
    assert q[0].tolist() == [127, -127, 1, -1, 2, -2] and q[1].tolist() == [0] * 6


# ---- end to end ----------------------------------------------------------------------------------

@pytest.mark.qemu
@pytest.mark.parametrize("name", ["demo", "alibaba"])
@pytest.mark.parametrize("target", TARGETS)
def test_float16_w_int8_end_to_end(demo, shared_models, name, target, tmp_path):
    pytest.importorskip("onnxruntime")
    path = _model(name, demo, shared_models)
    seeds = range(3)
    _, manifest, runs = _run(path, target, tmp_path, SCHEME, seeds)
    fq = _fake_quantized(path, tmp_path / "fake_quantized.onnx")
    for seed, (arrays, got) in zip(seeds, runs):
        ref = [np.asarray(r, np.float64) for r in _reference(path, arrays)]
        ref_fq = [np.asarray(r, np.float64) for r in _reference(fq, arrays)]
        for g, r, rq in zip(got, ref, ref_fq):
            g = np.asarray(g, np.float64).reshape(r.shape)
            peak = float(np.max(np.abs(r)))
            e_fq = float(np.max(np.abs(g - rq)))            # float16 arithmetic only
            e_float = float(np.max(np.abs(g - r)))          # + the int8 weights
            e_quant = float(np.max(np.abs(rq - r)))         # the int8 weights, in the framework
            print(f"{SCHEME} {name} {target} seed {seed}: vs fake-quantized {e_fq / peak:.3g}, "
                  f"vs float {e_float / peak:.3g} (framework's own quantization error {e_quant / peak:.3g}) "
                  f"of max|ref| {peak:.3g}")
            assert e_fq <= FLOAT16_TOL * float(np.max(np.abs(rq)))
            assert e_float <= e_quant + FLOAT16_TOL * peak
            assert np.argmax(g) == np.argmax(r)
    assert manifest["scheme"] == SCHEME


def test_weight_bytes(demo, shared_models, tmp_path):
    """int8 weights (plus float32 biases and scales) <= 1/3 of the float32 build's weight bytes."""
    for name in ("demo", "alibaba"):
        if name == "alibaba" and (shared_models is None or not (shared_models / ALIBABA).is_file()):
            continue
        path = _model(name, demo, shared_models)
        target = get_target("c906")
        f32 = _compile(path, target, tmp_path / f"{name}32", "float32")[2]["weight_bytes"]
        w8 = _compile(path, target, tmp_path / f"{name}w8", SCHEME)[2]["weight_bytes"]
        print(f"{SCHEME} {name}: weights {w8} B = {100 * w8 / f32:.1f}% of float32's {f32} B")
        assert w8 <= f32 / 3
