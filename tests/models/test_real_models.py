"""End to end on the real third-party models in ../shared/models, on every target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhbc.runner import run_and_compare
from hhbc.targets import get_target

# (target, vlen): the cores the spine must be proven on.
TARGETS = [("c906", None), ("c908", None), ("rvv", 128), ("rvv", 256), ("host", None)]
TARGET_IDS = [f"{t}{v or ''}" for t, v in TARGETS]

ONNX_MODELS = {
    "kws": "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx",
    "ad": "onnx/mlperf_tiny_results/alibaba_sinian_model_ad.onnx",
    "ic": "onnx/mlperf_tiny_results/alibaba_sinian_model_ic.onnx",
    "vww": "onnx/mlperf_tiny_results/alibaba_sinian_model_vww.onnx",
    "mnist": "onnx/wonnx/opt-mnist.onnx",
}


def _kws_mfcc(models: Path) -> np.ndarray:
    """The MLPerf Tiny KWS sample, dequantized with the TFLite model's input scale/zero point."""
    q = np.load(models / "testdata/mlperf_tiny/kws_input_int8_1x49x10x1.npy")
    return ((q.astype(np.float32) - 83.0) * 0.5847029089927673).reshape(1, 49, 10, 1)


def _ad_window(models: Path) -> np.ndarray:
    frames = np.fromfile(models / "testdata/mlperf_tiny/normal_id_01_00000000_hist_librosa.bin", np.float32)
    return frames.reshape(40, 640)[:1]


def _mnist_digit(models: Path, digit: int) -> np.ndarray:
    from PIL import Image

    image = Image.open(models / f"testdata/mnist_images_wonnx/{digit}.jpg").convert("L")
    return (np.asarray(image, np.float32) / 255.0).reshape(1, 1, 28, 28)


def _inputs(name: str, models: Path):
    if name == "kws":
        return [_kws_mfcc(models)]
    if name == "ad":
        return [_ad_window(models)]
    if name == "mnist":
        return [_mnist_digit(models, 7)]
    return None   # seeded random, from the runner


@pytest.mark.parametrize("target,vlen", TARGETS, ids=TARGET_IDS)
@pytest.mark.parametrize("name", list(ONNX_MODELS))
def test_onnx_model_matches_onnxruntime(models_dir, name, target, vlen, tmp_path):
    result = run_and_compare(models_dir / ONNX_MODELS[name], get_target(target), vlen=vlen,
                             inputs=_inputs(name, models_dir), out_dir=tmp_path / "out")
    for c in result.comparisons:
        print(f"{name} {target}{vlen or ''}: {c.line()}")
        assert c.ok, c.line()
    manifest = result.compiled.manifest
    assert manifest["arena_bytes"] >= manifest["arena_lower_bound"] > 0


def test_kws_sample_prediction_is_stable(models_dir):
    """The float sinian KWS model and onnxruntime agree on the sample's class."""
    result = run_and_compare(models_dir / ONNX_MODELS["kws"], get_target("host"), inputs=[_kws_mfcc(models_dir)])
    assert int(np.argmax(result.outputs[0])) == int(np.argmax(result.references[0]))


@pytest.mark.parametrize("target,vlen", TARGETS, ids=TARGET_IDS)
def test_mnist_classifies_the_four_digits(models_dir, target, vlen, tmp_path):
    from hhbc.build import build
    from hhbc.compiler import compile_model
    from hhbc.emulate import run_model

    out = tmp_path / "mnist"
    tgt = get_target(target)
    compiled = compile_model(models_dir / ONNX_MODELS["mnist"], tgt, out, vlen=vlen)
    elf = build(out, tgt)
    for digit in (0, 3, 5, 7):
        (logits,) = run_model(elf, tgt, compiled.manifest["vlen"], [_mnist_digit(models_dir, digit)],
                              compiled.manifest["outputs"], tmp_path / f"io{digit}")
        assert int(np.argmax(logits)) == digit, (digit, logits)
