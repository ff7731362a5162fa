"""What post-training quantization keeps, on real data (tests/data) and the real models:
the keyword spotters agree with float32 on >= 97% of the synthesized keywords, and the int8
Alibaba KWS build needs at most 40% of the float32 build's weight bytes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from hhbc.compiler import compile_model
from hhbc.frontends import load_model
from hhbc.quantize.metrics import accuracy
from hhbc.quantize.ptq import PtqOptions, quantized_outputs
from hhbc.targets import get_target

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from data import dataset  # noqa: E402
from models.test_ptq_models import import_options  # noqa: E402

KEYWORD_SPOTTERS = (
    "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx",
    "tflite/mlperf_tiny/kws_ref_model_float32.tflite",
    "tf/frozen/arm_ml_kws/DS_CNN_S.pb",
    "tf/frozen/arm_ml_kws/CNN_S.pb",
    "tf/frozen/arm_ml_kws/DNN_S.pb",
)
ALIBABA_KWS = KEYWORD_SPOTTERS[0]

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (Debian: apt-get install espeak-ng): "
                                         "no synthesized keywords")


@needs_espeak
@pytest.mark.slow
@pytest.mark.parametrize("model", KEYWORD_SPOTTERS)
def test_keyword_spotters_keep_97_percent_top1(models_dir, model):
    split = dataset(model)
    options = import_options(model, tuple(split.eval.shape[1:]))
    calib = [[x[None]] for x in split.calib]
    evals = [[x[None]] for x in split.eval]
    got = quantized_outputs(models_dir / model, calib, evals, "int8_asym_w_sym", "maxmin", options=options)
    reference = load_model(models_dir / model, options).reference
    refs = [reference(x) for x in evals]
    acc = accuracy("probabilities", [r[0] for r in refs], [g[0] for g in got])
    print(f"{model}: {acc.line()}")
    assert acc.samples >= 300
    assert acc.top1 >= 0.97, acc.line()


@needs_espeak
@pytest.mark.parametrize("target", ["c908", "c906"])
def test_int8_kws_weights_at_most_40_percent_of_float32(models_dir, target, tmp_path):
    split = dataset(ALIBABA_KWS)
    calib = [[x[None]] for x in split.calib[:16]]
    tgt = get_target(target)
    int8 = compile_model(models_dir / ALIBABA_KWS, tgt, tmp_path / "i8", scheme="int8_asym_w_sym",
                         ptq=PtqOptions(samples=calib))
    f32 = compile_model(models_dir / ALIBABA_KWS, tgt, tmp_path / "f32", scheme="float32")
    share = int8.manifest["weight_bytes"] / f32.manifest["weight_bytes"]
    print(f"{target}: int8 {int8.manifest['weight_bytes']} B / float32 {f32.manifest['weight_bytes']} B "
          f"= {100 * share:.1f}%")
    assert share <= 0.40


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["maxmin", "percentile", "kl_divergence"])
def test_every_mode_quantizes_mnist_well(models_dir, mode):
    """Handwritten digits (scikit-learn's, upsampled): each calibration mode keeps >= 97% of the
    float model's top-1 answers and more than 25 dB of SQNR (measured: 99.0-99.3%, 29.9-34.6 dB)."""
    model = "onnx/wonnx/opt-mnist.onnx"
    split = dataset(model)
    evals = [[x[None]] for x in split.eval]
    got = quantized_outputs(models_dir / model, [[x[None]] for x in split.calib], evals, "int8_asym_w_sym", mode)
    reference = load_model(models_dir / model).reference
    acc = accuracy("y", [reference(x)[0] for x in evals], [g[0] for g in got])
    assert acc.top1 >= 0.97 and acc.sqnr_db > 25.0, acc.line()
    assert np.isfinite(acc.sqnr_db)
