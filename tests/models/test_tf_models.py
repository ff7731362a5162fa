"""End to end on the real TensorFlow models in ../shared/models, against TensorFlow.

The ARM ML-KWS frozen graphs decode WAV and compute MFCC in-graph; hhbc compiles
them from `Mfcc:0` (HHB's -in/-is/-on), and never looks upstream of it. The MLPerf
Tiny KWS model is a TF 2 SavedModel, frozen through TensorFlow at import.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
tf1 = tf.compat.v1

from hhbc.errors import HhbcError  # noqa: E402
from hhbc.frontends import ImportOptions, load_model  # noqa: E402
from hhbc.runner import run_and_compare  # noqa: E402
from model_targets import MODEL_TARGETS, spec_target

from hhbc.targets import get_target  # noqa: E402

TARGETS = MODEL_TARGETS
ARM = "tf/frozen/arm_ml_kws"
SAVED = "tf/mlperf_tiny_kws_savedmodel"
WAV = "testdata/mlperf_tiny/marvin_617de221_0.wav"

# name -> (file, MFCC frames, the logits node before labels_softmax)
ARM_MODELS = {
    "DS_CNN_S": (f"{ARM}/DS_CNN_S.pb", 49, "MobileNet/fc1/BiasAdd"),
    "CNN_S": (f"{ARM}/CNN_S.pb", 49, "add_4"),
    # DNN_S's AudioSpectrogram strides by a whole window (640): 25 frames, flattened to 250.
    "DNN_S": (f"{ARM}/DNN_S.pb", 25, "add"),
}


def _options(name: str) -> ImportOptions:
    _, frames, logits = ARM_MODELS[name]
    return ImportOptions(("Mfcc:0",), ((1, frames, 10),), ("labels_softmax:0", f"{logits}:0"))


def _mfcc_scale_input(shape, seed=0) -> np.ndarray:
    """Random, at the scale of real MFCCs (tens)."""
    return (np.random.default_rng(seed).standard_normal(shape) * 10).astype(np.float32)


def _report(label: str, result) -> None:
    for c in result.comparisons:
        print(f"{label}: {c.line()}")
        assert c.ok, f"{label}: {c.line()}"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(ARM_MODELS))
def test_arm_kws_matches_tensorflow(models_dir, name, target, tmp_path):
    options = _options(name)
    x = _mfcc_scale_input(options.input_shapes[0])
    tgt, vlen = spec_target(target)
    result = run_and_compare(models_dir / ARM_MODELS[name][0], tgt, vlen=vlen, inputs=[x],
                             options=options, out_dir=tmp_path / "out")
    _report(f"{name} {target}", result)
    assert result.compiled.manifest["arena_bytes"] >= result.compiled.manifest["arena_lower_bound"] > 0


def _wav_through_tensorflow(path: Path, wav: bytes) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow's own DecodeWav -> Mfcc part of the graph, and its whole-graph prediction."""
    graph = tf.Graph()
    with graph.as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(path.read_bytes()), name="")
    with tf1.Session(graph=graph) as sess:
        mfcc, probs = sess.run(["Mfcc:0", "labels_softmax:0"], {"wav_data:0": wav})
    return mfcc, probs


@pytest.mark.parametrize("name", list(ARM_MODELS))
def test_arm_kws_on_a_real_wav(models_dir, name, tmp_path):
    """MFCC of a real recording, computed by TF's graph upstream of the cut; the label
    hhbc predicts from it is the label TensorFlow predicts from the WAV."""
    path = models_dir / ARM_MODELS[name][0]
    mfcc, tf_probs = _wav_through_tensorflow(path, (models_dir / WAV).read_bytes())
    result = run_and_compare(path, get_target("host"), inputs=[mfcc], options=_options(name),
                             out_dir=tmp_path / "out")
    _report(f"{name} wav", result)
    np.testing.assert_allclose(result.outputs[0], tf_probs, atol=1e-4)
    assert int(np.argmax(result.outputs[0])) == int(np.argmax(tf_probs))


def test_dnn_s_with_49_frames_is_a_clear_error(models_dir):
    with pytest.raises(HhbcError, match=r"Reshape node 'Reshape': cannot reshape \[1, 49, 10\] to \[-1, 250\]"):
        load_model(models_dir / ARM_MODELS["DNN_S"][0],
                   ImportOptions(("Mfcc:0",), ((1, 49, 10),), ("labels_softmax:0",)))


def _kws_sample(models: Path) -> np.ndarray:
    """The MLPerf Tiny KWS sample, dequantized with the int8 model's input scale / zero point."""
    q = np.load(models / "testdata/mlperf_tiny/kws_input_int8_1x49x10x1.npy")
    return ((q.astype(np.float32) - 83.0) * 0.5847029089927673).reshape(1, 49, 10, 1)


@pytest.mark.parametrize("target", TARGETS)
def test_mlperf_kws_saved_model_matches_tensorflow(models_dir, target, tmp_path):
    tgt, vlen = spec_target(target)
    result = run_and_compare(models_dir / SAVED, tgt, vlen=vlen, inputs=[_kws_sample(models_dir)],
                             out_dir=tmp_path / "out")
    assert [(i.name, i.shape) for i in result.compiled.model.inputs] == [("input_1", (1, 49, 10, 1))]
    assert [o.name for o in result.compiled.model.outputs] == ["dense"]
    _report(f"savedmodel {target}", result)


def test_mlperf_kws_saved_model_random_and_unfrozen_reference(models_dir, tmp_path):
    """Random MFCC-scale input; the reference is also checked against the SavedModel
    run by TensorFlow's own loader with its variables (not frozen by hhbc)."""
    x = _mfcc_scale_input((1, 49, 10, 1), seed=3)
    result = run_and_compare(models_dir / SAVED, get_target("host"), inputs=[x], out_dir=tmp_path / "out")
    _report("savedmodel random", result)
    graph = tf.Graph()
    with graph.as_default(), tf1.Session(graph=graph) as sess:
        meta = tf1.saved_model.loader.load(sess, ["serve"], str(models_dir / SAVED))
        sig = meta.signature_def["serving_default"]
        direct = sess.run(sig.outputs["dense"].name, {sig.inputs["input_1"].name: x})
    np.testing.assert_allclose(result.references[0], direct, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.outputs[0], direct, atol=1e-4)
