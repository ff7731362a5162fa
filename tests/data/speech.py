"""Spoken keywords synthesized with Debian's espeak-ng, and the two MFCC front ends the dev zoo's
keyword spotters were trained with.

Clips: 16 kHz mono, 1 s, int16 (what DecodeWav reads). Each keyword clip is one espeak-ng
utterance (voice + variant, speed, pitch), silence-trimmed, scaled to a random peak, placed at
a random offset and mixed with noise (white, pink, brown or mains hum) at 12-30 dB SNR.
"silence" is noise alone; "unknown" is another word. Calibration and evaluation use disjoint
voices, variants, speeds, pitches and unknown words.

Front ends:
- "arm": the TensorFlow graph in front of ARM ML-KWS's frozen models, `DecodeWav` (x/32768) ->
  `AudioSpectrogram(window_size=640, stride=320 (DNN_S: 640), magnitude_squared=True)` ->
  `Mfcc(16 kHz, 40 filterbank channels, 20-4000 Hz, 10 coefficients)` (the attributes of the .pb
  nodes).
- "mlperf": MLPerf Tiny's keyword_spotting/get_dataset.py, which the MLPerf reference model and
  the Alibaba submission (fed the same EEMBC kws01 features) were trained on: x / max(x),
  `tf.signal.stft(640, 320, Hann)` magnitude, 40 mel bins 20-4000 Hz, log(+1e-6),
  `mfccs_from_log_mel_spectrograms`, first 10.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
# Output order of each family of models (MLPerf's from its EEMBC y_labels.csv, ARM's labels.txt).
ARM_ORDER = ("silence", "unknown") + KEYWORDS
MLPERF_ORDER = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown")

RATE = 16000
ESPEAK_RATE = 22050

# Disjoint settings for the two splits.
SETTINGS = {
    "calib": {
        "voices": ("en-gb-x-gbclan", "en-029", "en-us-nyc"),
        "variants": ("m3", "m6", "f3", "f5"),
        "speeds": (135, 175, 210),
        "pitches": (30, 60, 85),
        "unknown": ("cat", "dog", "bird", "house", "zero", "one", "two", "three", "marvin", "wow"),
    },
    "eval": {
        "voices": ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbcwmd"),
        "variants": ("", "m1", "m2", "m4", "m5", "m7", "f1", "f2", "f4"),
        "speeds": (120, 150, 165, 190),
        "pitches": (20, 40, 50, 70),
        "unknown": ("bed", "happy", "tree", "sheila", "four", "five", "six", "seven", "eight", "nine",
                    "learn", "follow", "visual", "forward"),
    },
}
PER_CLASS = {"calib": 10, "eval": 30}   # 12 classes: 120 calibration, 360 evaluation clips


def espeak() -> str | None:
    return shutil.which("espeak-ng")


def _synthesize(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One espeak-ng utterance, float in [-1, 1] at 16 kHz."""
    from scipy.signal import resample_poly

    out = subprocess.run([espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
                         capture_output=True, check=True, timeout=60).stdout
    if out[:4] != b"RIFF" or out[36:40] != b"data":
        raise RuntimeError(f"espeak-ng -v {voice}: unexpected WAV header {out[:44]!r}")
    pcm = np.frombuffer(out[44:44 + (len(out) - 44) // 2 * 2], "<i2").astype(np.float64) / 32768.0
    return resample_poly(pcm, RATE // 50, ESPEAK_RATE // 50)   # 320/441


def _trim(x: np.ndarray) -> np.ndarray:
    """Drop leading and trailing 10 ms blocks quieter than 2% of the peak."""
    block = 160
    n = len(x) // block
    energy = np.abs(x[:n * block]).reshape(n, block).max(axis=1)
    loud = np.nonzero(energy > 0.02 * energy.max())[0]
    return x[loud[0] * block:(loud[-1] + 1) * block]


def _noise(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "hum":
        t = np.arange(n) / RATE
        base = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 2 * np.pi))
                for k in range(1, 8))
        x = x + 0.1 * rng.standard_normal(n)
    else:
        white = rng.standard_normal(n)
        if kind == "white":
            x = white
        else:   # 1/f (pink) or 1/f^2 (brown) power spectrum
            spectrum = np.fft.rfft(white)
            f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
            spectrum /= f ** (0.5 if kind == "pink" else 1.0)
            x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x ** 2))


NOISES = ("white", "pink", "brown", "hum")


def _clip(rng: np.random.Generator, split: str, label: str, words: dict) -> np.ndarray:
    s = SETTINGS[split]
    noise = _noise(rng, str(rng.choice(NOISES)), RATE)
    if label == "silence":
        return noise * 10 ** rng.uniform(-2.7, -1.3)
    word = str(rng.choice(s["unknown"])) if label == "unknown" else label
    voice = str(rng.choice(s["voices"]))
    variant = str(rng.choice(s["variants"]))
    key = (word, voice + (f"+{variant}" if variant else ""), int(rng.choice(s["speeds"])),
           int(rng.choice(s["pitches"])))
    if key not in words:
        words[key] = _trim(_synthesize(*key))
    speech = words[key][:RATE]
    speech = speech * (rng.uniform(0.25, 0.9) / np.abs(speech).max())
    x = np.zeros(RATE)
    offset = int(rng.integers(0, RATE - len(speech) + 1))
    x[offset:offset + len(speech)] = speech
    rms = np.sqrt(np.mean(speech ** 2))
    return x + noise * rms * 10 ** (-rng.uniform(12, 30) / 20)


def clips(seed: int = 14) -> dict[str, np.ndarray]:
    """{"calib_audio", "calib_labels", "eval_audio", "eval_labels"}: int16 [N, 16000] clips and
    their class index in ARM_ORDER."""
    if espeak() is None:
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    out = {}
    words: dict = {}
    for k, split in enumerate(("calib", "eval")):
        rng = np.random.default_rng([seed, k])
        audio, labels = [], []
        for _ in range(PER_CLASS[split]):
            for index, label in enumerate(ARM_ORDER):
                x = _clip(rng, split, label, words)
                audio.append(np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16))
                labels.append(index)
        out[f"{split}_audio"] = np.stack(audio)
        out[f"{split}_labels"] = np.array(labels, np.int64)
    return out


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def arm_mfcc(audio: np.ndarray, stride: int) -> np.ndarray:
    """[N, frames, 10] MFCC of int16 clips through TensorFlow's AudioSpectrogram and Mfcc ops,
    with the attributes of ARM ML-KWS's graphs."""
    tf = _tf()
    out = []
    for clip in audio:
        wav = tf.constant((clip.astype(np.float32) / 32768.0)[:, None])
        spectrogram = tf.raw_ops.AudioSpectrogram(input=wav, window_size=640, stride=stride,
                                                  magnitude_squared=True)
        mfcc = tf.raw_ops.Mfcc(spectrogram=spectrogram, sample_rate=RATE, upper_frequency_limit=4000.0,
                               lower_frequency_limit=20.0, filterbank_channel_count=40,
                               dct_coefficient_count=10)
        out.append(mfcc.numpy()[0])
    return np.stack(out).astype(np.float32)


def mlperf_mfcc(audio: np.ndarray) -> np.ndarray:
    """[N, 49, 10, 1] MFCC as MLPerf Tiny's keyword_spotting/get_dataset.py computes it
    (evaluation path: no augmentation)."""
    tf = _tf()
    x = tf.constant(audio.astype(np.float32))
    x = x / tf.reduce_max(x, axis=1, keepdims=True)
    stfts = tf.signal.stft(x, frame_length=640, frame_step=320, fft_length=None,
                           window_fn=tf.signal.hann_window)
    spectrograms = tf.abs(stfts)
    mel = tf.signal.linear_to_mel_weight_matrix(40, stfts.shape[-1], RATE, 20.0, 4000.0)
    log_mel = tf.math.log(tf.tensordot(spectrograms, mel, 1) + 1e-6)
    mfccs = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :10]
    return mfccs.numpy()[..., None].astype(np.float32)


def relabel(labels: np.ndarray, order: tuple[str, ...]) -> np.ndarray:
    """Class indices in ARM_ORDER -> indices in `order`."""
    table = np.array([order.index(name) for name in ARM_ORDER])
    return table[labels]
