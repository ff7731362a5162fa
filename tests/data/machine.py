"""Machine-like sounds for the anomaly detectors, as MLPerf Tiny's AD models see them.

Each "machine" is 2 s at 16 kHz: a motor tone (fundamental 40-400 Hz with drifting speed and
5-15 harmonics of decaying amplitude), resonant broadband noise (white noise through a few
second-order band-pass resonators), optional periodic clicks (gears), and background noise.
Calibration and evaluation use different machines (different seeds, so different parameters).

Features: the DCASE 2020 task 2 baseline that MLPerf Tiny's AD benchmark took over: librosa's
melspectrogram (n_fft 1024, hop 512, centred with reflect padding, periodic Hann, power 2,
128 Slaney mel bands with Slaney area normalization, 0-8000 Hz), 10*log10(mel + float eps), and
five consecutive frames concatenated (frame t's 128 bands first) into one 640-vector.
"""

from __future__ import annotations

import sys

import numpy as np

RATE = 16000
N_FFT = 1024
HOP = 512
N_MELS = 128
FRAMES = 5


def _hz_to_mel(f):   # Slaney's scale: linear below 1 kHz, logarithmic above
    f = np.asarray(f, np.float64)
    mel = f / (200.0 / 3)
    log_region = f >= 1000.0
    return np.where(log_region, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(m):
    m = np.asarray(m, np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


def mel_filterbank() -> np.ndarray:
    """[128, 513] triangular filters on the Slaney mel scale, each scaled to unit area (2 / width)."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    bins = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    bank = np.zeros((N_MELS, len(bins)))
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        bank[i] = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (hi - lo))
    return bank


def log_mel(y: np.ndarray) -> np.ndarray:
    """[frames, 128] 10*log10 mel power of float audio in [-1, 1]."""
    padded = np.pad(y, N_FFT // 2, mode="reflect")
    n = 1 + (len(padded) - N_FFT) // HOP
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    frames = np.stack([padded[i * HOP:i * HOP + N_FFT] for i in range(n)]) * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10.0 * np.log10(power @ mel_filterbank().T + sys.float_info.epsilon)


def vectors(mel: np.ndarray) -> np.ndarray:
    """[frames - 4, 640]: five consecutive frames per vector."""
    count = len(mel) - FRAMES + 1
    return np.concatenate([mel[t:t + count] for t in range(FRAMES)], axis=1)


def _machine(rng: np.random.Generator, seconds: float = 2.0) -> np.ndarray:
    from scipy.signal import lfilter

    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    f0 = rng.uniform(40, 400)
    drift = 1 + rng.uniform(0.001, 0.02) * np.sin(2 * np.pi * rng.uniform(0.1, 2) * t + rng.uniform(0, 6.3))
    phase = 2 * np.pi * np.cumsum(f0 * drift) / RATE
    tone = np.zeros(n)
    for k in range(1, int(rng.integers(5, 16)) + 1):
        if k * f0 < RATE / 2 - 500:
            tone += rng.uniform(0.3, 1.0) * k ** -rng.uniform(0.5, 1.5) * np.sin(k * phase + rng.uniform(0, 6.3))
    tone /= np.sqrt(np.mean(tone ** 2))
    hiss = np.zeros(n)
    white = rng.standard_normal(n)
    for _ in range(int(rng.integers(1, 4))):   # resonances: 2-pole band-pass filters
        fc, r = rng.uniform(300, 6000), rng.uniform(0.95, 0.995)
        w = 2 * np.pi * fc / RATE
        hiss += lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], white)
    hiss /= np.sqrt(np.mean(hiss ** 2))
    x = tone * rng.uniform(0.3, 1.0) + hiss * rng.uniform(0.2, 1.0)
    if rng.random() < 0.5:   # gear clicks
        period = int(RATE / rng.uniform(5, 40))
        clicks = np.zeros(n)
        clicks[int(rng.integers(0, period))::period] = rng.uniform(2, 8)
        x += lfilter([1.0], [1, -0.9], clicks * rng.choice([-1, 1], n))
    x += rng.standard_normal(n) * rng.uniform(0.01, 0.1)
    return x * (10 ** rng.uniform(-2.6, -1.2) / np.sqrt(np.mean(x ** 2)))   # RMS -52 .. -24 dBFS


def windows(counts: dict[str, int], per_machine: int = 10, seed: int = 14) -> dict[str, np.ndarray]:
    """{"calib", "eval"}: float32 [N, 640] log-mel windows, `per_machine` from each machine."""
    out = {}
    for k, split in enumerate(("calib", "eval")):
        rng = np.random.default_rng([seed, k])
        rows = []
        while len(rows) < counts[split]:
            v = vectors(log_mel(_machine(rng)))
            picks = rng.choice(len(v), size=per_machine, replace=False)
            rows.extend(v[np.sort(picks)])
        out[split] = np.stack(rows[:counts[split]]).astype(np.float32)
    return out
