"""ONNX QDQ MLPerf Tiny models (kaijiang KWS and ResNet, quantized by PPQ) through the int8
kernels, against onnxruntime, on the KWS sample and seeded random inputs.

Two comparisons per model and target:
  * the logits (the graph cut with -on at the last DequantizeLinear, before the float
    Softmax), in steps of that DequantizeLinear's scale;
  * the full model's float Softmax output. A logit off by at most n steps (step s) moves each
    probability p by at most p * (exp(2 n s) - 1): the bound checked, per element.

An ONNX model gets the ONNX rounding flavour of the int8 kernels (float32 rescaling, ties to
even, as onnxruntime's QLinearConv/QGemm/QLinearAdd/QLinearAveragePool on x86), so KWS, whose
every group onnxruntime fuses into its int8 kernels, is bit-identical on every input. ResNet's
residual branches share a QuantizeLinear between two consumers, which keeps onnxruntime
(x86) from fusing six of its convs and two of its adds: those run in float32 (a float
convolution, then QuantizeLinear), which int8 arithmetic can only match up to the float
rounding of near-ties, so its logits may be one step away (MAX_LOGIT_STEPS, the issue's
acceptance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import ImportOptions
from hhbc.targets import get_target

pytest.importorskip("onnxruntime")

MODELS = {
    "kws": ("onnx/mlperf_tiny_results/kaijiang_k1_kws_ref_model.onnx",
            "StatefulPartitionedCall/functional_1/dense/BiasAdd:0"),
    "resnet": ("onnx/mlperf_tiny_results/kaijiang_k1_resnet.onnx", "model/dense/BiasAdd:0"),
}
KWS_SAMPLE = "testdata/mlperf_tiny/kws_input_int8_1x49x10x1.npy"
KWS_TFLITE_INPUT = (0.5847029089927673, 83)   # kws_ref_model.tflite's input scale, zero point
RANDOM_INPUTS = 5
MAX_LOGIT_STEPS = 1   # the issue's acceptance: within one step of the logits' scale


def _quant_facts(path: Path, logits: str) -> tuple[float, float, float]:
    """(logit step, input range low, high) read from the model's own Q/DQ nodes."""
    model = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    step = float(inits[producer[logits].input[1]])
    first_q = next(n for n in model.graph.node if n.op_type == "QuantizeLinear")
    scale, zp = float(inits[first_q.input[1]]), int(inits[first_q.input[2]])
    return step, (-128 - zp) * scale, (127 - zp) * scale


def _input_sets(models_dir: Path, name: str, shape: tuple[int, ...], lo: float, hi: float):
    rng = np.random.default_rng(2024)
    sets = [[rng.uniform(lo, hi, size=shape).astype(np.float32)] for _ in range(RANDOM_INPUTS)]
    if name == "kws":
        scale, zp = KWS_TFLITE_INPUT
        sample = np.load(models_dir / KWS_SAMPLE)
        sets.insert(0, [((sample.astype(np.float32) - zp) * np.float32(scale)).reshape(shape)])
    return sets


def _run_all(path: Path, target: str, out: Path, options: ImportOptions, sets) -> list[tuple]:
    compiled = compile_model(path, get_target(target), out, options=options)
    elf = build(out, get_target(target))
    results = []
    for k, arrays in enumerate(sets):
        got = run_model(elf, get_target(target), compiled.manifest["vlen"], arrays,
                        compiled.manifest["outputs"], out / f"io{k}")[0]
        results.append((got, compiled.model.reference(arrays)[0]))
    return results, compiled


@pytest.mark.parametrize("target", ["host", "c908", "c906"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_qdq_model_matches_onnxruntime(models_dir, name, target, tmp_path):
    rel, logits = MODELS[name]
    path = models_dir / rel
    step, lo, hi = _quant_facts(path, logits)
    shape = tuple(d.dim_value for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim)
    sets = _input_sets(models_dir, name, shape, lo, hi)

    cut, compiled = _run_all(path, target, tmp_path / "logits", ImportOptions(output_names=(logits,)), sets)
    kernels = {layer["kernel"] for layer in compiled.manifest["layers"]}
    assert not kernels & {"hhbc_conv2d", "hhbc_dense", "hhbc_binary", "hhbc_pool2d"}, kernels
    steps = [float(np.max(np.abs(g - r))) / step for g, r in cut]

    full, _ = _run_all(path, target, tmp_path / "full", ImportOptions(), sets)
    n = max(steps)
    prob_ok = [bool(np.all(np.abs(g - r) <= r * np.expm1(2 * n * step) + 1e-6)) for g, r in full]
    same_top = [int(np.argmax(g)) == int(np.argmax(r)) for g, r in full]
    print(f"{name} {target}: logits max error {n:.0f} steps ({['%.0f' % s for s in steps]}), "
          f"softmax max abs error {max(float(np.max(np.abs(g - r))) for g, r in full):.3g}, "
          f"same top class {sum(same_top)}/{len(full)}")
    assert n <= MAX_LOGIT_STEPS + 1e-4
    assert all(prob_ok)
    if name == "kws":
        assert same_top[0]   # the sample: a clear class; random inputs may sit between two
