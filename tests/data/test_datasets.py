"""The calibration/evaluation sets of tests/data: shapes, determinism, disjoint splits, and that
the float models, run by their own frameworks, make sense of them (accuracy where labels exist).

Measured on 2026-12-05 (float models, eval sets): KWS top-1 against the true labels (360 clips,
12 classes, chance 8%): Alibaba 73.6%, MLPerf kws_ref float 68.6%, DS_CNN_S 76.1%, CNN_S 73.6%,
DNN_S 69.7%; digits: opt-mnist 89.0%, LeNet 92.7%; MTCNN det1-3 face/non-face on the LFW part:
100%; AD reconstruction MSE 101 (Alibaba), 74 (ad01) dB^2.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import data
from data import images, speech

KWS = [m for m in data.DEV_ZOO_FLOAT if data.needs_espeak(m)]
LABELLED_MIN_ACCURACY = {   # measured (see the docstring) minus a margin
    "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx": 0.55,
    "tflite/mlperf_tiny/kws_ref_model_float32.tflite": 0.55,
    "tf/frozen/arm_ml_kws/DS_CNN_S.pb": 0.55,
    "tf/frozen/arm_ml_kws/CNN_S.pb": 0.55,
    "tf/frozen/arm_ml_kws/DNN_S.pb": 0.55,
    "onnx/wonnx/opt-mnist.onnx": 0.80,
    "caffe/lenet/lenet.prototxt": 0.80,
}


def _available(model: str) -> None:
    if data.needs_espeak(model):
        if speech.espeak() is None:
            pytest.skip("espeak-ng is not installed (Debian: apt-get install espeak-ng); "
                        "the keyword-spotting sets are synthesized with it")
        pytest.importorskip("tensorflow", reason="the MFCC front ends are TensorFlow ops: pip install 'hhbc[test]'")
    pytest.importorskip("sklearn", reason="pip install 'hhbc[test]' (scikit-learn)")
    pytest.importorskip("skimage", reason="pip install 'hhbc[test]' (scikit-image)")


@pytest.mark.parametrize("model", data.DEV_ZOO_FLOAT)
def test_shapes_sizes_and_labels(model):
    _available(model)
    split = data.dataset(model)
    shape = data.INPUT_SHAPES[model][1:]
    assert split.calib.dtype == np.float32 and split.eval.dtype == np.float32
    assert split.calib.shape[1:] == shape and split.eval.shape[1:] == shape
    assert 64 <= len(split.calib) <= 128
    assert len(split.eval) >= (300 if model in KWS else 100) and len(split.eval) <= 360
    assert np.isfinite(split.calib).all() and np.isfinite(split.eval).all()
    assert split.calib.std() > 0 and split.eval.std() > 0
    assert split.note and "\n" not in split.note
    if model in LABELLED_MIN_ACCURACY:
        assert split.eval_labels is not None and split.eval_labels.shape == (len(split.eval),)
        classes = len(split.class_names)
        assert np.array_equal(np.unique(split.eval_labels), np.arange(classes))   # every class present
    else:
        assert split.eval_labels is None


@pytest.mark.parametrize("model", data.DEV_ZOO_FLOAT)
def test_calibration_and_evaluation_are_disjoint(model):
    _available(model)
    split = data.dataset(model)
    calib = {hashlib.sha256(x.tobytes()).digest() for x in split.calib}
    evals = {hashlib.sha256(x.tobytes()).digest() for x in split.eval}
    assert not calib & evals


def test_the_sources_of_the_splits_differ():
    """Different voices, variants, speeds, pitches, unknown words; different photographs."""
    calib, evals = speech.SETTINGS["calib"], speech.SETTINGS["eval"]
    for key in calib:
        assert not set(calib[key]) & set(evals[key]), key
    assert not set(images.PHOTOS["calib"]) & set(images.PHOTOS["eval"])


def _same(built: dict[str, np.ndarray], cached: dict[str, np.ndarray]) -> None:
    assert built.keys() == cached.keys()
    for key in built:
        assert built[key].dtype == cached[key].dtype and built[key].tobytes() == cached[key].tobytes(), key


@pytest.mark.slow
def test_images_digits_and_machine_sounds_are_deterministic():
    """Built again from scratch, each source is byte-for-byte the cached one."""
    _available("onnx/wonnx/opt-mnist.onnx")
    from data import digits, machine

    data.dataset("tflite/mlperf_tiny/pretrainedResnet.tflite")   # fills the caches
    _same(images.crops(32, data.COUNTS), data._crops(32))
    _same(digits.digits(data.COUNTS), data._digits())
    _same(machine.windows(data.COUNTS), data._machine())


@pytest.mark.slow
def test_keywords_are_deterministic():
    _available(KWS[0])
    clips = data._speech()
    _same(speech.clips(), clips)
    _same({"calib": speech.mlperf_mfcc(clips["calib_audio"][:16])},
          {"calib": data._kws_features("mlperf")["calib"][:16]})


def test_arm_features_are_the_graphs_own(models_dir):
    """The raw-op MFCC equals what the ARM .pb's own DecodeWav -> AudioSpectrogram -> Mfcc
    computes from the same clips as WAV files."""
    _available(KWS[0])
    import tensorflow as tf

    from data.frameworks import wav_bytes

    clips = data._speech()["eval_audio"][::45]
    for name, stride in (("DS_CNN_S", 320), ("DNN_S", 640)):
        graph = tf.Graph()
        with graph.as_default():
            path = models_dir / f"tf/frozen/arm_ml_kws/{name}.pb"
            tf.compat.v1.import_graph_def(tf.compat.v1.GraphDef.FromString(path.read_bytes()), name="")
        with tf.compat.v1.Session(graph=graph) as session:
            own = np.concatenate([session.run("Mfcc:0", {"wav_data:0": wav_bytes(c)}) for c in clips])
        np.testing.assert_allclose(speech.arm_mfcc(clips, stride), own, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("model", data.DEV_ZOO_FLOAT)
def test_float_models_make_sense_of_their_data(models_dir, model):
    """The model file accepts the samples (shapes) and its framework's predictions are sane:
    accuracy against the true labels where there are labels; face/non-face for MTCNN; for the
    unlabelled image classifiers, predictions spread over the classes; for the AD autoencoders,
    a reconstruction error in the range of features they know."""
    _available(model)
    from data.frameworks import run_float

    if model.endswith(".onnx"):
        pytest.importorskip("onnxruntime")
    elif model.endswith(".tflite"):
        pytest.importorskip("ai_edge_litert")
    elif model.endswith(".prototxt"):
        pytest.importorskip("cv2", reason="the Caffe reference is OpenCV: pip install 'hhbc[test]'")
    else:
        pytest.importorskip("tensorflow")
    split = data.dataset(model)
    out = run_float(models_dir, model, split.eval)
    assert np.isfinite(out).all()
    pred = out.argmax(axis=1)
    if split.eval_labels is not None:
        accuracy = float(np.mean(pred == split.eval_labels))
        print(f"{model}: float top-1 {accuracy:.1%} over {len(pred)} samples")
        assert accuracy >= LABELLED_MIN_ACCURACY[model]
    elif "mtcnn" in model:
        faces = data._mtcnn(split.eval.shape[-1])["eval_faces"]
        lfw = faces >= 0
        accuracy = float(np.mean((out[lfw, 1] > 0.5) == (faces[lfw] == 1)))
        print(f"{model}: face/non-face {accuracy:.1%} on {lfw.sum()} LFW images")
        assert accuracy >= 0.9
    elif out.shape[1] in (2, 10):   # VWW (2), CIFAR-10 (10): no labels, but not one answer for all
        share = np.bincount(pred, minlength=out.shape[1]) / len(pred)
        print(f"{model}: predicted class shares {np.round(share, 3).tolist()}")
        assert (share >= 0.05).all() if out.shape[1] == 2 else (share > 0).sum() >= 5
    else:   # the AD autoencoders reconstruct their input
        mse = float(np.mean((out - split.eval) ** 2))
        print(f"{model}: reconstruction MSE {mse:.1f}")
        assert mse < 400


def test_ad_features_look_like_the_mlperf_ones(models_dir):
    """The synthetic log-mel windows span the dB range of MLPerf Tiny's real AD sample."""
    real = np.fromfile(models_dir / "testdata/mlperf_tiny/normal_id_01_00000000_hist_librosa.bin", np.float32)
    ours = data.dataset("tflite/mlperf_tiny/ad01_fp32.tflite").eval
    assert abs(float(ours.mean()) - float(real.mean())) < 8
    assert abs(np.percentile(ours, 1) - np.percentile(real, 1)) < 15
    assert abs(np.percentile(ours, 99) - np.percentile(real, 99)) < 10


def test_write_npy_dir(tmp_path):
    _available("onnx/wonnx/opt-mnist.onnx")
    split = data.dataset("onnx/wonnx/opt-mnist.onnx")
    directory = data.write_npy_dir(split.calib[:5], tmp_path / "cd")
    files = sorted(directory.glob("*.npy"))
    assert [f.name for f in files] == [f"{i:04d}.npy" for i in range(5)]
    for f, sample in zip(files, split.calib[:5]):
        loaded = np.load(f)
        assert loaded.shape == (1, 1, 28, 28) and loaded.dtype == np.float32
        assert np.array_equal(loaded[0], sample)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(KeyError, match="no test dataset for 'x.onnx'"):
        data.dataset("x.onnx")
