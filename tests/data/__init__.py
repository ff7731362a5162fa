"""Real calibration and evaluation data for the dev zoo's float models (issue 14, item 6).

Everything is made from what packages ship or what these modules synthesize; nothing is
downloaded. `dataset(model)` gives a `Split` for a model path relative to ../shared/models:
calibration and evaluation arrays shaped like the model's input without its batch dimension
of 1, disjoint (different photographs, voices/speeds/pitches/words, digit images, machines).

Sources (see each module): spoken keywords synthesized with espeak-ng (`speech.py`),
photographs from scikit-image (`images.py`), scikit-learn's handwritten digits (`digits.py`),
synthetic machine sounds (`machine.py`). Generated data are cached in
`~/.cache/hhbc-tests/data/` (or $HHBC_TEST_DATA_CACHE), one .npz per source and version (35 MB
in all); delete a file to rebuild it. Building everything takes about 30 s on 2 busy cores
(espeak-ng and TensorFlow's import dominate); loading all sixteen sets from the cache, 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .cache import cached

VERSION = 1   # bump when a generator changes: the cache file names carry it


@dataclass
class Split:
    calib: np.ndarray          # (N, *input_shape[1:]) float32
    eval: np.ndarray           # (M, *input_shape[1:]) float32, disjoint from calib
    eval_labels: np.ndarray | None   # true class per eval sample (in the model's output order), else None
    note: str                  # one line: where the data comes from and its preprocessing
    class_names: tuple[str, ...] | None = None   # the model's output classes, where known


CALIB, EVAL = 100, 300
COUNTS = {"calib": CALIB, "eval": EVAL}


# ---- sources (cached) --------------------------------------------------------------------------

def _speech() -> dict[str, np.ndarray]:
    from . import speech

    return cached(f"speech-v{VERSION}", speech.clips)


def _kws_features(front: str) -> dict[str, np.ndarray]:
    from . import speech

    def build():
        clips = _speech()
        out = {}
        for split in ("calib", "eval"):
            audio = clips[f"{split}_audio"]
            out[split] = (speech.mlperf_mfcc(audio) if front == "mlperf"
                          else speech.arm_mfcc(audio, 640 if front == "arm25" else 320))
            out[f"{split}_labels"] = clips[f"{split}_labels"]
        return out

    return cached(f"kws-{front}-v{VERSION}", build)


def _crops(size: int) -> dict[str, np.ndarray]:
    from . import images

    return cached(f"photos{size}-v{VERSION}", lambda: images.crops(size, COUNTS))


def _mtcnn(size: int) -> dict[str, np.ndarray]:
    """Photo crops plus LFW faces and non-faces: calib 28 + 100, eval 200 + 100."""
    from . import images

    def build():
        photos = images.crops(size, {"calib": 28, "eval": 200}, seed=15)
        out = {}
        for split in ("calib", "eval"):
            faces, labels = images.lfw(size, split)
            out[split] = np.concatenate([photos[split], faces])
            out[f"{split}_faces"] = np.concatenate([np.full(len(photos[split]), -1), labels])
        return out

    return cached(f"mtcnn{size}-v{VERSION}", build)


def _digits() -> dict[str, np.ndarray]:
    from . import digits

    return cached(f"digits-v{VERSION}", lambda: digits.digits(COUNTS))


def _machine() -> dict[str, np.ndarray]:
    from . import machine

    return cached(f"machine-v{VERSION}", lambda: machine.windows(COUNTS))


# ---- per model ---------------------------------------------------------------------------------

def _kws(front: str, order_name: str, shape: tuple[int, ...], note: str) -> Callable[[], Split]:
    def make() -> Split:
        from . import speech

        order = speech.MLPERF_ORDER if order_name == "mlperf" else speech.ARM_ORDER
        f = _kws_features(front)
        return Split(f["calib"].reshape((-1, *shape)), f["eval"].reshape((-1, *shape)),
                     speech.relabel(f["eval_labels"], order), note, order)
    return make


_SPEECH = ("espeak-ng keywords (8 English voices x variants, speeds, pitches; disjoint settings per split), "
           "silence, unknown words; 1 s 16 kHz + noise; ")
_MLPERF_KWS = _SPEECH + ("MLPerf Tiny get_dataset.py MFCC (x/max, tf.signal.stft 640/320 Hann, 40 mel 20-4000 Hz, "
                         "log(+1e-6), 10 DCT); labels in MLPerf order (y_labels.csv)")
_ARM_KWS = _SPEECH + ("the ARM ML-KWS graph's DecodeWav -> AudioSpectrogram(640, stride {}) -> Mfcc(40 ch, "
                      "20-4000 Hz, 10); labels in ARM order (silence, unknown, yes, ...)")


def _image(size: int, layout: str, normalize: Callable[[np.ndarray], np.ndarray], note: str) -> Callable[[], Split]:
    def make() -> Split:
        c = _crops(size)
        calib, ev = (normalize(c[split].astype(np.float32)).astype(np.float32) for split in ("calib", "eval"))
        if layout == "NCHW":
            calib, ev = calib.transpose(0, 3, 1, 2), ev.transpose(0, 3, 1, 2)
        return Split(np.ascontiguousarray(calib), np.ascontiguousarray(ev), None, note)
    return make


_PHOTOS = ("scikit-image photographs (calib: camera, coffee, rocket, ...; eval: astronaut, chelsea, "
           "motorcycle, ...), random crops/scales/flips; ")
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _mtcnn_split(size: int) -> Callable[[], Split]:
    def make() -> Split:
        m = _mtcnn(size)
        # RGB, (x - 127.5) * 0.0078125, and transposed (H <-> W): the models were trained in
        # MATLAB, whose Caffe wrapper reads a H x W x C array as W x H x C.
        def prep(x):
            return np.ascontiguousarray(((x.astype(np.float32) - 127.5) * 0.0078125).transpose(0, 3, 2, 1))

        return Split(prep(m["calib"]), prep(m["eval"]), None,
                     f"scikit-image photo crops + LFW subset faces/non-faces (split by image), {size}x{size}, "
                     "RGB, (x-127.5)*0.0078125, H/W transposed as the MATLAB origin feeds them")
    return make


def _mnist(scale: float, note: str) -> Callable[[], Split]:
    def make() -> Split:
        d = _digits()
        calib, ev = ((d[split] * scale)[:, None].astype(np.float32) for split in ("calib", "eval"))
        return Split(calib, ev, d["eval_labels"], note, tuple(str(i) for i in range(10)))
    return make


def _ad() -> Split:
    m = _machine()
    return Split(m["calib"], m["eval"], None,
                 "synthetic machine sounds (motor harmonics, resonant noise, gear clicks; different machines "
                 "per split), DCASE/MLPerf Tiny AD log-mel: n_fft 1024, hop 512, 128 Slaney mels, 10*log10, 5 frames")


_DIGITS = "sklearn load_digits, 8x8 -> 20x20 bilinear, centred by mass in 28x28 (MNIST style), "

_MAKERS: dict[str, Callable[[], Split]] = {
    "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx": _kws("mlperf", "mlperf", (49, 10, 1), _MLPERF_KWS),
    "tflite/mlperf_tiny/kws_ref_model_float32.tflite": _kws("mlperf", "mlperf", (49, 10, 1), _MLPERF_KWS),
    "tf/frozen/arm_ml_kws/DS_CNN_S.pb": _kws("arm", "arm", (49, 10), _ARM_KWS.format(320)),
    "tf/frozen/arm_ml_kws/CNN_S.pb": _kws("arm", "arm", (49, 10), _ARM_KWS.format(320)),
    "tf/frozen/arm_ml_kws/DNN_S.pb": _kws("arm25", "arm", (25, 10), _ARM_KWS.format(640)),
    # Alibaba's MLPerf Tiny runner feeds VWW x/255 RGB and IC (x/255 - ImageNet mean) / std, CHW.
    "onnx/mlperf_tiny_results/alibaba_sinian_model_vww.onnx":
        _image(96, "NCHW", lambda x: x / 255.0, _PHOTOS + "96x96 RGB x/255 NCHW (Alibaba's runner)"),
    "onnx/mlperf_tiny_results/alibaba_sinian_model_ic.onnx":
        _image(32, "NCHW", lambda x: (x / 255.0 - _IMAGENET_MEAN) / _IMAGENET_STD,
               _PHOTOS + "32x32 RGB (x/255-ImageNet mean)/std NCHW (Alibaba's runner)"),
    # MLPerf Tiny's float models take what their int8 siblings' input quantization spans:
    # vww_96_int8 s=1/255 zp=-128 -> [0, 1]; pretrainedResnet_quant s=1 zp=-128 -> [0, 255].
    "tflite/mlperf_tiny/vww_96_float.tflite":
        _image(96, "NHWC", lambda x: x / 255.0, _PHOTOS + "96x96 RGB x/255 NHWC (as vww_96_int8's input scale)"),
    "tflite/mlperf_tiny/pretrainedResnet.tflite":
        _image(32, "NHWC", lambda x: x, _PHOTOS + "32x32 RGB 0..255 NHWC (as pretrainedResnet_quant's input scale)"),
    "caffe/mtcnn/det1.prototxt": _mtcnn_split(12),
    "caffe/mtcnn/det2.prototxt": _mtcnn_split(24),
    "caffe/mtcnn/det3.prototxt": _mtcnn_split(48),
    "onnx/wonnx/opt-mnist.onnx": _mnist(1 / 255.0, _DIGITS + "x/255 (ONNX model zoo MNIST README)"),
    "caffe/lenet/lenet.prototxt": _mnist(1 / 256.0, _DIGITS + "x/256 (Caffe's LeNet example scale 0.00390625)"),
    "onnx/mlperf_tiny_results/alibaba_sinian_model_ad.onnx": _ad,
    "tflite/mlperf_tiny/ad01_fp32.tflite": _ad,
}

DEV_ZOO_FLOAT: tuple[str, ...] = tuple(_MAKERS)

# Input shapes (batch 1) as hhbc imports each model (the .pb files cut at Mfcc:0).
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "onnx/mlperf_tiny_results/alibaba_sinian_model_kws.onnx": (1, 49, 10, 1),
    "tflite/mlperf_tiny/kws_ref_model_float32.tflite": (1, 49, 10, 1),
    "tf/frozen/arm_ml_kws/DS_CNN_S.pb": (1, 49, 10),
    "tf/frozen/arm_ml_kws/CNN_S.pb": (1, 49, 10),
    "tf/frozen/arm_ml_kws/DNN_S.pb": (1, 25, 10),
    "onnx/mlperf_tiny_results/alibaba_sinian_model_vww.onnx": (1, 3, 96, 96),
    "onnx/mlperf_tiny_results/alibaba_sinian_model_ic.onnx": (1, 3, 32, 32),
    "tflite/mlperf_tiny/vww_96_float.tflite": (1, 96, 96, 3),
    "tflite/mlperf_tiny/pretrainedResnet.tflite": (1, 32, 32, 3),
    "caffe/mtcnn/det1.prototxt": (1, 3, 12, 12),
    "caffe/mtcnn/det2.prototxt": (1, 3, 24, 24),
    "caffe/mtcnn/det3.prototxt": (1, 3, 48, 48),
    "onnx/wonnx/opt-mnist.onnx": (1, 1, 28, 28),
    "caffe/lenet/lenet.prototxt": (1, 1, 28, 28),
    "onnx/mlperf_tiny_results/alibaba_sinian_model_ad.onnx": (1, 640),
    "tflite/mlperf_tiny/ad01_fp32.tflite": (1, 640),
}


def needs_espeak(model: str) -> bool:
    return INPUT_SHAPES[model][1:] in ((49, 10, 1), (49, 10), (25, 10))


def dataset(model: str) -> Split:
    """The calibration and evaluation data of one dev-zoo float model (a path relative to
    ../shared/models, e.g. "onnx/wonnx/opt-mnist.onnx")."""
    if model not in _MAKERS:
        raise KeyError(f"no test dataset for {model!r}; known: {', '.join(DEV_ZOO_FLOAT)}")
    return _MAKERS[model]()


def write_npy_dir(array: np.ndarray, directory: Path) -> Path:
    """One .npy per sample (with the batch dimension of 1 added), named 0000.npy, 0001.npy, ...
    in `directory` (created), for `hhbc ... -cd directory`. Returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for i, sample in enumerate(array):
        np.save(directory / f"{i:04d}.npy", np.ascontiguousarray(sample[None], dtype=np.float32))
    return directory
