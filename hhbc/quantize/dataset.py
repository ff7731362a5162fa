"""Calibration data (HHB's `-cd`/`--calibrate-dataset`) and HHB's image preprocessing options.

`load_dataset(spec, inputs, pre)` turns what the user gives into samples: one list per sample,
holding one array per model input (model input order), each shaped exactly as the input
(batch dim included) and of its dtype.

`spec`, one `;`-separated part per model input (as `-in`), each part being
- a directory: every .npy/.npz/.jpg/.jpeg/.png/.bmp in it (not recursive), sorted by name;
  other files are ignored;
- a single file, or a `,`-separated list of files (or directories).

Arrays are taken as they are, with no preprocessing:
- `.npy`: one sample (the input's shape, or that shape without its batch dim of 1), or a
  stacked batch `[N, ...]` of N samples (N x the input's batch, or N input-shaped arrays);
- `.npz`: every array in it, in the order it was saved, each as an `.npy`; if one key is the
  input's name, only that array (so one .npz can serve several inputs: `-cd "d.npz;d.npz"`).

Images (decoded with Pillow; EXIF orientation applied) go through HHB's preprocessing, in order:
1. RGB, or the luminance 0.299 R + 0.587 G + 0.114 B for a 1-channel input;
2. resize, bilinear with half-pixel centres (OpenCV's INTER_LINEAR, in float): straight to
   the input's H x W, or with `-r R` the shorter side to R (the longer one to
   int(long * R / short)) and then a centre crop of H x W;
3. `--pixel-format BGR` reverses the channels;
4. `(pixel - mean) * scale`, the `-m` values in the order of the channels after step 3;
5. laid out NCHW or NHWC (`--data-layout`, else inferred: a 4-d input with 1 or 3 at
   axis 1 is NCHW). An input with a batch of B takes B consecutive images per sample.

Every problem is a one-line HhbcError naming the option and the file.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from hhbc.errors import HhbcError
from hhbc.frontends.model import TensorInfo

ARRAY_SUFFIXES = (".npy", ".npz")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SUFFIXES = ARRAY_SUFFIXES + IMAGE_SUFFIXES
PIXEL_FORMATS = ("RGB", "BGR")
LAYOUTS = ("NCHW", "NHWC")
LUMA = (0.299, 0.587, 0.114)   # ITU-R BT.601, as Pillow's and OpenCV's RGB -> gray


@dataclass(frozen=True)
class Preprocess:
    """HHB's image preprocessing: -m/--data-mean, -s/--data-scale, -r/--data-resize,
    --pixel-format, --data-layout. Applies to images only; .npy/.npz data is taken as is."""

    mean: tuple[float, ...] = ()       # one value or one per channel (pixel-format order)
    scale: float = 1.0                 # (pixel - mean) * scale
    resize: int | None = None          # shorter side to R, then centre crop to the input's H x W
    pixel_format: str = "RGB"          # RGB | BGR
    layout: str | None = None          # NCHW | NHWC; None: inferred from the input shape


def add_dataset_options(p: argparse.ArgumentParser) -> None:
    """-cd/--calibrate-dataset and HHB's five preprocessing options (values checked by
    preprocess_from_args, so that a bad one is a one-line HhbcError)."""
    g = p.add_argument_group("calibration data (HHB -cd and its preprocessing options)")
    g.add_argument("-cd", "--calibrate-dataset", dest="calibrate_dataset", metavar="DATA",
                   help="calibration data: a directory, a file or a ','-separated list of .npy/.npz "
                        "arrays (one sample each or a stacked batch [N, ...]) or .jpg/.png/.bmp images; "
                        "';'-separated, one part per model input (as -in)")
    g.add_argument("-m", "--data-mean", dest="data_mean", metavar="MEAN",
                   help="images: mean subtracted, one value or one per channel in pixel-format order, "
                        "separated by spaces or commas (default 0)")
    g.add_argument("-s", "--data-scale", dest="data_scale", metavar="SCALE",
                   help="images: (pixel - mean) * SCALE (default 1)")
    g.add_argument("-r", "--data-resize", dest="data_resize", metavar="R",
                   help="images: resize the shorter side to R, then centre-crop to the input's H x W "
                        "(default: resize straight to H x W)")
    g.add_argument("--pixel-format", dest="pixel_format", metavar="RGB|BGR",
                   help="images: channel order the model expects (default RGB)")
    g.add_argument("--data-layout", dest="data_layout", metavar="NCHW|NHWC",
                   help="images: layout of the model input (default: NCHW if axis 1 is 1 or 3, else NHWC)")


def preprocess_from_args(args) -> Preprocess:
    """The Preprocess that add_dataset_options' values ask for; an option left out (or missing
    from `args`) keeps its default."""
    mean: tuple[float, ...] = ()
    text = getattr(args, "data_mean", None)
    if text is not None:
        mean = _parse_mean(text)
    scale = 1.0
    value = getattr(args, "data_scale", None)
    if value is not None:
        scale = _parse_number(value, "-s")
        if scale == 0:
            raise HhbcError(f"-s {value}: the scale must not be 0")
    resize = None
    value = getattr(args, "data_resize", None)
    if value is not None:
        try:
            resize = int(str(value).strip())
        except ValueError:
            raise HhbcError(f"-r {value}: must be a whole number of pixels") from None
        if resize < 1:
            raise HhbcError(f"-r {value}: must be at least 1")
    fmt = getattr(args, "pixel_format", None) or "RGB"
    if fmt.upper() not in PIXEL_FORMATS:
        raise HhbcError(f"--pixel-format {fmt}: unknown (hhbc has: {', '.join(PIXEL_FORMATS)})")
    layout = getattr(args, "data_layout", None)
    if layout is not None and layout.upper() not in LAYOUTS:
        raise HhbcError(f"--data-layout {layout}: unknown (hhbc has: {', '.join(LAYOUTS)})")
    return Preprocess(mean, scale, resize, fmt.upper(), layout.upper() if layout else None)


def _parse_mean(text) -> tuple[float, ...]:
    if isinstance(text, (int, float)):
        text = str(text)
    if not isinstance(text, str):   # a list from a caller
        text = " ".join(str(v) for v in text)
    items = [v for v in re.split(r"[\s,]+", text.strip().strip("[]()")) if v]
    if not items:
        raise HhbcError(f"-m '{text}': no values (give one mean, or one per channel)")
    values = tuple(_parse_number(v, "-m", text) for v in items)
    if len(values) not in (1, 3):
        raise HhbcError(f"-m '{text}': {len(values)} values; give one for every channel, or one per "
                        f"channel (3 for an RGB/BGR image, 1 for grayscale)")
    return values


def _parse_number(value, option: str, whole=None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise HhbcError(f"{option} '{value if whole is None else whole}': "
                        f"{value!s} is not a finite number")
    return number


# --- loading -------------------------------------------------------------------------------


def load_dataset(spec: str, inputs: Sequence[TensorInfo], pre: Preprocess, *, option: str = "-cd",
                 limit: int | None = None) -> list[list[np.ndarray]]:
    """Samples of calibration data (see the module docstring); at most `limit` of them, and no
    file is read past what those need."""
    if limit is not None and limit < 1:
        raise HhbcError(f"{option}: the sample limit must be at least 1 (got {limit})")
    _check_preprocess(pre)
    if not inputs:
        raise HhbcError(f"{option}: the model has no inputs to calibrate")
    parts = [p.strip() for p in (spec or "").split(";")]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()   # "a;b;" as "a;b"
    if parts == [""]:
        raise HhbcError(f"{option}: no calibration data given")
    if len(parts) != len(inputs):
        names = ", ".join(f"'{t.name}'" for t in inputs)
        raise HhbcError(f"{option} '{spec}': {len(parts)} ';'-separated part(s) for a model with "
                        f"{len(inputs)} input(s) ({names}); give one part per input, in that order")
    per_input = []
    for k, (part, info) in enumerate(zip(parts, inputs)):
        if not part:
            raise HhbcError(f"{option} '{spec}': part {k + 1} (input '{info.name}') is empty")
        per_input.append(_load_part(part, info, pre, option, limit))
    counts = [len(s) for s in per_input]
    if len(set(counts)) > 1:
        k = next(i for i, c in enumerate(counts) if c != counts[0])
        raise HhbcError(f"{option}: input '{inputs[0].name}' has {counts[0]} sample(s) ({parts[0]}) but "
                        f"input '{inputs[k].name}' has {counts[k]} ({parts[k]}); every input needs as many")
    return [list(sample) for sample in zip(*per_input)]


def _check_preprocess(pre: Preprocess) -> None:
    if pre.pixel_format not in PIXEL_FORMATS:
        raise HhbcError(f"--pixel-format {pre.pixel_format}: unknown (hhbc has: {', '.join(PIXEL_FORMATS)})")
    if pre.layout is not None and pre.layout not in LAYOUTS:
        raise HhbcError(f"--data-layout {pre.layout}: unknown (hhbc has: {', '.join(LAYOUTS)})")
    if len(pre.mean) not in (0, 1, 3):
        raise HhbcError(f"-m {_fmt_values(pre.mean)}: give one mean, or one per channel")
    if not (math.isfinite(pre.scale) and pre.scale != 0):
        raise HhbcError(f"-s {pre.scale}: the scale must be a finite number other than 0")
    if pre.resize is not None and pre.resize < 1:
        raise HhbcError(f"-r {pre.resize}: must be at least 1")


def _fmt_values(values) -> str:
    return "'" + " ".join(f"{v:g}" for v in values) + "'"


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) if len(shape) else "scalar"


def _sample_dtype(info: TensorInfo, option: str) -> np.dtype:
    try:
        dtype = np.dtype(info.dtype)
    except TypeError:
        raise HhbcError(f"{option}: input '{info.name}' has dtype {info.dtype}, which hhbc cannot "
                        f"calibrate") from None
    if dtype in (np.int8, np.uint8):
        raise HhbcError(f"{option}: input '{info.name}' is {dtype.name}: calibration data is for float "
                        f"inputs (this model is already quantized)")
    if dtype.kind not in "fiub":
        raise HhbcError(f"{option}: input '{info.name}' has dtype {dtype.name}, which hhbc cannot calibrate")
    if any(not isinstance(d, (int, np.integer)) or d < 1 for d in info.shape):
        raise HhbcError(f"{option}: input '{info.name}' has no static shape ({info.shape}); give it with -is")
    return dtype


def _load_part(part: str, info: TensorInfo, pre: Preprocess, option: str,
               limit: int | None) -> list[np.ndarray]:
    dtype = _sample_dtype(info, option)
    files = _files(part, option)
    samples: list[np.ndarray] = []
    images: list[tuple[str, np.ndarray]] = []   # decoded rows waiting to fill a batch
    shape = tuple(int(d) for d in info.shape)
    for path in files:
        if limit is not None and len(samples) >= limit:
            break
        suffix = os.path.splitext(path)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            images.append((path, _image(path, info, shape, dtype, pre, option)))
            if len(images) == shape[0]:
                samples.append(_finish(np.stack([a for _, a in images]), path, info, dtype, option))
                images = []
            continue
        if images:
            raise HhbcError(f"{option} {images[0][0]}: {len(images)} image(s) then {path}: input "
                            f"'{info.name}' {_shape_text(shape)} takes {shape[0]} images per sample")
        remaining = None if limit is None else limit - len(samples)
        arrays = iter(_npy(path, option) if suffix == ".npy" else _npz(path, info, option))
        try:
            for label, array in arrays:
                for sample in _split(array, label, info, shape, option, remaining):
                    samples.append(_finish(sample, label, info, dtype, option))
                    if remaining is not None:
                        remaining -= 1
                if remaining is not None and remaining <= 0:
                    break
        finally:
            if hasattr(arrays, "close"):
                arrays.close()   # an .npz left early is closed now
    if images:
        raise HhbcError(f"{option} {images[0][0]}: {len(images)} image(s) left over: input '{info.name}' "
                        f"{_shape_text(shape)} takes {shape[0]} images per sample")
    if not samples:
        raise HhbcError(f"{option} {part}: no samples for input '{info.name}'")
    return samples


def _files(part: str, option: str) -> list[str]:
    """The files of one ';' part, in order."""
    if os.path.exists(part):   # a name with a ',' in it is taken whole if it exists
        items = [part]
    else:
        items = [p.strip() for p in part.split(",") if p.strip()]
    files = []
    for item in items:
        if os.path.isdir(item):
            try:
                names = sorted(os.listdir(item))
            except OSError as err:
                raise HhbcError(f"{option} {item}: cannot list the directory ({err.strerror})") from None
            found = [os.path.join(item, n) for n in names
                     if n.lower().endswith(SUFFIXES) and os.path.isfile(os.path.join(item, n))]
            if not found:
                raise HhbcError(f"{option} {item}: no .npy, .npz, .jpg, .jpeg, .png or .bmp files in the "
                                f"directory")
            files.extend(found)
        elif os.path.isfile(item):
            if not item.lower().endswith(SUFFIXES):
                raise HhbcError(f"{option} {item}: not a calibration file (hhbc reads "
                                f".npy, .npz, .jpg, .jpeg, .png and .bmp)")
            files.append(item)
        elif os.path.exists(item):
            raise HhbcError(f"{option} {item}: not a regular file or directory")
        else:
            raise HhbcError(f"{option} {item}: no such file or directory")
    return files


def _npy(path: str, option: str) -> list[tuple[str, np.ndarray]]:
    """A .npy memory-mapped, so that a stacked batch is read only as far as the limit needs."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception:
        try:   # mmap refuses some valid files (empty arrays); a plain load says what is wrong
            array = np.load(path, allow_pickle=False)
        except Exception as err:
            raise HhbcError(f"{option} {path}: not a readable .npy file ({_reason(err)})") from None
    if not isinstance(array, np.ndarray):
        raise HhbcError(f"{option} {path}: not a .npy array")
    return [(path, array)]


def _npz(path: str, info: TensorInfo, option: str) -> Iterator[tuple[str, np.ndarray]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:
        raise HhbcError(f"{option} {path}: not a readable .npz file ({_reason(err)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise HhbcError(f"{option} {path}: not a .npz archive (it holds a single array: name it .npy)")
    keys = list(archive.files)
    if not keys:
        raise HhbcError(f"{option} {path}: the .npz holds no arrays")
    if info.name in keys:
        keys = [info.name]
    with archive:
        for key in keys:
            label = f"{path}['{key}']"
            try:
                array = archive[key]
            except Exception as err:
                raise HhbcError(f"{option} {label}: not a readable array ({_reason(err)})") from None
            yield label, array


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _split(array: np.ndarray, label: str, info: TensorInfo, shape: tuple[int, ...], option: str,
           limit: int | None) -> Iterator[np.ndarray]:
    """The samples of one array: the input's shape, that shape without a batch dim of 1, or
    a stack of those."""
    if array.dtype.kind not in "fiub":
        kind = "complex" if array.dtype.kind == "c" else "not numeric"
        raise HhbcError(f"{option} {label}: dtype {array.dtype} is {kind}; calibration data must be "
                        f"real numbers")
    got = tuple(array.shape)
    if got == shape:
        batches = array[None]
    elif shape and got[1:] == shape[1:] and got[0] % shape[0] == 0:
        batches = array.reshape((got[0] // shape[0],) + shape) if shape[0] > 1 else array[:, None]
    elif shape and shape[0] == 1 and got == shape[1:]:
        batches = array[None, None]
    elif got[1:] == shape:
        batches = array
    else:
        raise HhbcError(f"{option} {label}: shape {_shape_text(got)} does not match input '{info.name}' "
                        f"{_shape_text(shape)} (one sample, the same without its batch dim, or a stack "
                        f"[N, ...] of those)")
    count = batches.shape[0] if limit is None else min(batches.shape[0], limit)
    for i in range(count):
        yield np.asarray(batches[i]).reshape(shape)


def _finish(sample: np.ndarray, label: str, info: TensorInfo, dtype: np.dtype, option: str) -> np.ndarray:
    """The sample in the input's dtype: finite, and for an integer input, whole and in range."""
    if sample.dtype.kind == "f":
        bad = ~np.isfinite(sample)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise HhbcError(f"{option} {label}: {int(bad.sum())} NaN/inf value(s) (the first at index "
                            f"{where})")
    if dtype.kind == "f":
        with np.errstate(over="ignore"):   # reported below, as one line
            out = np.ascontiguousarray(sample, dtype=dtype)
        if not np.isfinite(out).all():
            raise HhbcError(f"{option} {label}: values beyond the {dtype.name} range of input "
                            f"'{info.name}'")
        return out
    if dtype.kind == "b":
        if sample.dtype.kind != "b" and not np.isin(sample, (0, 1)).all():
            raise HhbcError(f"{option} {label}: input '{info.name}' is bool: values must be 0 or 1")
        return np.ascontiguousarray(sample, dtype=dtype)
    if sample.dtype.kind == "f" and (sample != np.round(sample)).any():
        raise HhbcError(f"{option} {label}: input '{info.name}' is {dtype.name}: values must be whole "
                        f"numbers")
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    if sample.size and (sample.min() < lo or sample.max() > hi):
        raise HhbcError(f"{option} {label}: values beyond the {dtype.name} range of input '{info.name}'")
    return np.ascontiguousarray(sample, dtype=dtype)


# --- images --------------------------------------------------------------------------------


def image_layout(info: TensorInfo, pre: Preprocess, option: str = "-cd") -> tuple[str, int, int, int]:
    """(layout, C, H, W) of an image input, or a one-line error saying why images cannot feed it."""
    shape = tuple(info.shape)
    if len(shape) != 4:
        raise HhbcError(f"{option}: input '{info.name}' {_shape_text(shape)} is not 4-d (N, C, H, W or "
                        f"N, H, W, C): give it .npy data instead of images")
    layout = pre.layout or ("NCHW" if shape[1] in (1, 3) else "NHWC")
    c, h, w = (shape[1], shape[2], shape[3]) if layout == "NCHW" else (shape[3], shape[1], shape[2])
    if c not in (1, 3):
        how = "with --data-layout " + layout if pre.layout else "as " + layout
        raise HhbcError(f"{option}: input '{info.name}' {_shape_text(shape)} {how} has {c} channels; "
                        f"images feed 1 (grayscale) or 3 (RGB/BGR)")
    if len(pre.mean) > 1 and len(pre.mean) != c:
        raise HhbcError(f"-m {_fmt_values(pre.mean)}: {len(pre.mean)} values for input '{info.name}' with "
                        f"{c} channel(s) (give one value, or one per channel)")
    return layout, c, h, w


def _image(path: str, info: TensorInfo, shape: tuple[int, ...], dtype: np.dtype, pre: Preprocess,
           option: str) -> np.ndarray:
    """One image as one batch element of the input (shape[1:]), preprocessed."""
    if dtype.kind != "f":
        raise HhbcError(f"{option} {path}: input '{info.name}' is {dtype.name}: images feed float inputs "
                        f"only")
    layout, c, h, w = image_layout(info, pre, option)
    pixels = decode_image(path, gray=(c == 1), option=option)
    pixels = _resize(pixels, h, w, pre.resize, path, info, option)
    if c == 3 and pre.pixel_format == "BGR":
        pixels = pixels[..., ::-1]
    if pre.mean:
        pixels = pixels - np.asarray(pre.mean, dtype=np.float32)
    if pre.scale != 1.0:
        pixels = pixels * np.float32(pre.scale)
    if layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels, dtype=np.float32)


def decode_image(path: str, *, gray: bool, option: str = "-cd") -> np.ndarray:
    """H x W x 3 float32 RGB values 0..255, or H x W x 1 luminance when `gray`."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise HhbcError(f"{option} {path}: images need Pillow (pip install pillow), or give .npy data") from None
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            if gray and img.mode == "L":
                return np.asarray(img, dtype=np.float32)[..., None]
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    except Exception as err:
        raise HhbcError(f"{option} {path}: not a readable image ({_reason(err)})") from None
    if gray:
        luma = rgb[..., 0] * np.float32(LUMA[0]) + rgb[..., 1] * np.float32(LUMA[1]) \
            + rgb[..., 2] * np.float32(LUMA[2])
        return luma[..., None]
    return rgb


def _resize(pixels: np.ndarray, h: int, w: int, short: int | None, path: str, info: TensorInfo,
            option: str) -> np.ndarray:
    """Bilinear to h x w; with `short`, the shorter side to `short` and a centre crop of h x w
    (only the cropped rows and columns are computed)."""
    h0, w0 = pixels.shape[:2]
    if short is None:
        rh, rw, top, left = h, w, 0, 0
    else:
        if h0 <= w0:
            rh, rw = short, int(w0 * short / h0)
        else:
            rh, rw = int(h0 * short / w0), short
        if rh < h or rw < w:
            raise HhbcError(f"-r {short}: {path} ({w0}x{h0} pixels) resized to {rw}x{rh} is smaller than "
                            f"input '{info.name}' ({w}x{h} pixels)")
        top, left = (rh - h) // 2, (rw - w) // 2
    if (rh, rw) == (h0, w0):
        return pixels[top:top + h, left:left + w]
    y0, y1, fy = _taps(h0, rh, top, h)
    x0, x1, fx = _taps(w0, rw, left, w)
    rows = pixels[y0] * (1 - fy)[:, None, None] + pixels[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


def _taps(n_in: int, n_out: int, start: int, count: int):
    """Source indices and weights of outputs start..start+count of an n_in -> n_out bilinear
    resize, half-pixel centres, edges clamped."""
    x = (np.arange(start, start + count, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    x = np.clip(x, 0, n_in - 1)
    i0 = np.floor(x).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (x - i0).astype(np.float32)
