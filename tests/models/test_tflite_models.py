"""End to end on the real float TFLite models in ../shared/models, against the TFLite
interpreter's reference kernels. The fully-int8 models are tested in test_tflite_int8_models.py,
the hybrid one (float activations, int8 weights) in test_tflite_hybrid_models.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhbc.runner import run_and_compare
from model_targets import MODEL_TARGETS, spec_target

pytest.importorskip("ai_edge_litert")

TARGETS = MODEL_TARGETS

FLOAT_MODELS = {
    "vww": "tflite/mlperf_tiny/vww_96_float.tflite",
    "resnet": "tflite/mlperf_tiny/pretrainedResnet.tflite",
    "ad": "tflite/mlperf_tiny/ad01_fp32.tflite",
}


def _inputs(name: str, models: Path):
    if name == "ad":   # a real log-mel window from the MLPerf Tiny AD test set
        frames = np.fromfile(models / "testdata/mlperf_tiny/normal_id_01_00000000_hist_librosa.bin", np.float32)
        return [frames.reshape(40, 640)[:1]]
    return None   # seeded random, from the runner


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(FLOAT_MODELS))
def test_float_tflite_model_matches_interpreter(models_dir, name, target, tmp_path):
    tgt, vlen = spec_target(target)
    result = run_and_compare(models_dir / FLOAT_MODELS[name], tgt, vlen=vlen,
                             inputs=_inputs(name, models_dir), out_dir=tmp_path / "out")
    for c in result.comparisons:
        print(f"{name} {target}: {c.line()}")
        assert c.ok, c.line()
    manifest = result.compiled.manifest
    assert manifest["arena_bytes"] >= manifest["arena_lower_bound"] > 0
    # Layer comments carry the TFLite output tensor names.
    code = (tmp_path / "out" / "model.c").read_text()
    assert "/* [0] " in code and ("model/" in code or "functional_1/" in code)
