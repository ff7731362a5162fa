"""Fully-int8 MLPerf Tiny TFLite models, end to end: bit-exact with the TFLite interpreter's
reference kernels (BUILTIN_REF) on the sample input and on seeded random int8 inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.runner import run_and_compare
from hhbc.targets import get_target

pytest.importorskip("ai_edge_litert")

INT8_MODELS = {
    "kws": "tflite/mlperf_tiny/kws_ref_model.tflite",
    "vww": "tflite/mlperf_tiny/vww_96_int8.tflite",
    "resnet": "tflite/mlperf_tiny/pretrainedResnet_quant.tflite",
    "ad": "tflite/mlperf_tiny/ad01_int8.tflite",
}
KWS_SAMPLE = "testdata/mlperf_tiny/kws_input_int8_1x49x10x1.npy"
RANDOM_INPUTS = 20


def _random_inputs(model, count: int, seed: int = 2024) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, size=i.shape, dtype=np.int8) for i in model.inputs]
            for _ in range(count)]


def _exact_matches(models_dir: Path, name: str, target: str, tmp_path: Path, inputs=None) -> tuple[int, int]:
    """Compile and build once, run every input set; (bit-exact runs, runs)."""
    compiled = compile_model(models_dir / INT8_MODELS[name], get_target(target), tmp_path / "out")
    elf = build(tmp_path / "out", get_target(target))
    sets = (inputs or []) + _random_inputs(compiled.model, RANDOM_INPUTS)
    exact = 0
    for k, arrays in enumerate(sets):
        got = run_model(elf, get_target(target), compiled.manifest["vlen"], arrays,
                        compiled.manifest["outputs"], tmp_path / f"io{k}")
        refs = compiled.model.reference(arrays)
        if all(g.dtype == r.dtype and np.array_equal(g, r) for g, r in zip(got, refs)):
            exact += 1
        else:
            diff = max(int(np.max(np.abs(g.astype(np.int32) - r.astype(np.int32)))) for g, r in zip(got, refs))
            print(f"{name} {target} input set {k}: max abs diff {diff}")
    return exact, len(sets)


@pytest.mark.parametrize("target", ["host", "c908", "c906"])
def test_kws_int8_sample_predicts_class_5(models_dir, target, tmp_path):
    sample = np.load(models_dir / KWS_SAMPLE)
    result = run_and_compare(models_dir / INT8_MODELS["kws"], get_target(target), inputs=[sample],
                             out_dir=tmp_path / "out")
    (c,) = result.comparisons
    assert c.ok and c.max_abs == 0 and c.limit == 0, c.line()
    assert result.outputs[0].dtype == np.int8
    assert int(np.argmax(result.outputs[0])) == 5
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for io in manifest["inputs"] + manifest["outputs"]:
        assert io["dtype"] == "int8" and len(io["quant"]["scale"]) == 1 and len(io["quant"]["zero_point"]) == 1
    layers = manifest["layers"]
    assert {layer["op"] for layer in layers} == {"conv2d_i8", "depthwise_conv2d_i8", "pool2d_i8", "dense_i8",
                                                 "softmax_i8"}
    if target != "host":   # every multiply-accumulate runs in a vector kernel (issue 12)
        assert all(layer["vector"] for layer in layers if layer["macs"]), [l["kernel"] for l in layers]
        assert manifest["vector_mac_share"] == 1.0
    weights = (tmp_path / "out" / "weights.c").read_text()
    assert "const float" not in weights   # nothing computes in float


@pytest.mark.parametrize("target", ["host", "c908", "c906"])
def test_kws_int8_bit_exact_on_random_inputs(models_dir, target, tmp_path):
    sample = [np.load(models_dir / KWS_SAMPLE)]
    exact, runs = _exact_matches(models_dir, "kws", target, tmp_path, inputs=[sample])
    print(f"kws {target}: {exact}/{runs} bit-exact")
    assert exact == runs


@pytest.mark.parametrize("target", ["host", "c908", "c906"])
@pytest.mark.parametrize("name", ["vww", "resnet", "ad"])
def test_other_int8_models_bit_exact(models_dir, name, target, tmp_path):
    exact, runs = _exact_matches(models_dir, name, target, tmp_path)
    print(f"{name} {target}: {exact}/{runs} bit-exact")
    assert exact == runs


def test_float_input_is_quantized_for_an_int8_model(models_dir, tmp_path):
    """`hhbc run` takes a float array for an int8 input: quantized with the input's scale."""
    from hhbc.frontends import load_model
    from hhbc.runner import _fit_input

    model = load_model(models_dir / INT8_MODELS["kws"])
    info = model.inputs[0]
    sample = np.load(models_dir / KWS_SAMPLE)
    real = (sample.astype(np.float32) - info.quant.zero_point[0]) * np.float32(info.quant.scale[0])
    assert np.array_equal(_fit_input(real, info), sample)
