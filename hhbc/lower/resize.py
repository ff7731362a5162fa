"""Index and weight tables for 2-D resize, computed at compile time (ONNX semantics, or
TFLite's when the TFLite frontend marks the resize with TFLITE_ROUNDING)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from hhbc.errors import HhbcError


F32 = np.float32


def _source_coord(mode: str, layer: str):
    """Output -> input coordinate, in float32 as onnxruntime computes it (so that
    nearest rounding agrees even where a coordinate lands within 1 ulp of an integer).

    `scale` is the scale the model gave, or None when the sizes define it (out/in).
    """
    half = F32(0.5)

    def half_pixel(x, scale, n_in, n_out):
        return (x + half) / scale - half

    def pytorch_half_pixel(x, scale, n_in, n_out):
        return (x + half) / scale - half if n_out > 1 else F32(0.0)

    def align_corners(x, scale, n_in, n_out):
        return F32(0.0) if n_out == 1 else x * F32(n_in - 1) / F32(n_out - 1)

    def asymmetric(x, scale, n_in, n_out):
        # onnxruntime: x / scale for a given scale; x * in / out when sizes imply it.
        return x / scale if scale is not None else x * F32(n_in) / F32(n_out)

    def tf_half_pixel_for_nn(x, scale, n_in, n_out):
        return (x + half) / scale

    table = {"half_pixel": half_pixel, "pytorch_half_pixel": pytorch_half_pixel,
             "align_corners": align_corners, "asymmetric": asymmetric,
             "tf_half_pixel_for_nn": tf_half_pixel_for_nn}
    if mode not in table:
        raise HhbcError(f"layer '{layer}': resize coordinate mode '{mode}' is not supported")
    return table[mode]


_ROUNDING = {
    "round_prefer_floor": lambda v: math.ceil(v - 0.5),
    "round_prefer_ceil": lambda v: math.floor(v + 0.5),
    "round": lambda v: math.floor(v + 0.5),
    "": lambda v: math.ceil(v - 0.5),
    "floor": math.floor,
    "ceil": math.ceil,
}


def encode_scales(in_hw, out_hw, scales) -> list[float]:
    """The roi attribute of a relax.image.resize2d that samples at 1/scale spacing.

    ONNX Resize with a `scales` input maps output to input coordinates with the
    given scale, which differs from out/in when in * scale is not an integer
    (and, for float32 rounding, when the scale is not exactly out/in).
    relax.image.resize2d has no scale attribute, but ignores `roi` unless the
    coordinate mode is tf_crop_and_resize (which hhbc does not support), so the
    frontend keeps such a scale there as [0, 0, scale_h, scale_w]. When the scales
    are out/in, roi stays all zeros, the standard Relax form.
    """
    if all(Fraction(float(F32(s))) == Fraction(o, i) for i, o, s in zip(in_hw, out_hw, scales)):
        return [0.0, 0.0, 0.0, 0.0]
    return [0.0, 0.0, float(F32(scales[0])), float(F32(scales[1]))]


def _decode_scales(attrs) -> list[float | None]:
    """The scales encode_scales kept, or [None, None]: out/in."""
    roi = [float(v) for v in attrs.roi] if attrs.roi is not None else []
    if len(roi) == 4 and roi[0] == 0.0 and roi[1] == 0.0 and roi[2] > 0.0 and roi[3] > 0.0:
        return roi[2:]
    return [None, None]


def _axis_tables(method: str, coord, rounding, n_in: int, n_out: int, scale: float | None):
    if scale is not None:
        scale = F32(scale)
    elif coord.__name__ != "asymmetric":
        scale = F32(n_out) / F32(n_in)
    src = [float(coord(F32(o), scale, n_in, n_out)) for o in range(n_out)]
    if method == "nearest_neighbor":
        i0 = [min(max(int(rounding(v)), 0), n_in - 1) for v in src]
        return np.array(i0, np.int32), None, None
    clamped = [min(max(v, 0.0), n_in - 1.0) for v in src]
    i0 = [int(math.floor(v)) for v in clamped]
    i1 = [min(i + 1, n_in - 1) for i in i0]
    w = [v - i for v, i in zip(clamped, i0)]
    return np.array(i0, np.int32), np.array(i1, np.int32), np.array(w, np.float32)


# The rounding_method the TFLite frontend writes: sample TFLite's way (tflite_axis_tables).
TFLITE_ROUNDING = "tflite"
# The same mark on a float nearest resize, whose rounding_method must stay one TVM's topi knows
# (FoldConstant legalizes resize2d through it): the roi, unused by every mode hhbc supports.
TFLITE_ROI = (-1.0, -1.0, -1.0, -1.0)


def _tflite_marked(attrs) -> bool:
    roi = tuple(float(v) for v in attrs.roi) if attrs.roi is not None else ()
    return str(attrs.rounding_method) == TFLITE_ROUNDING or roi == TFLITE_ROI


def tflite_source_coords(method: str, mode: str, n_in: int, n_out: int) -> np.ndarray:
    """Input coordinates of TFLite's RESIZE_* reference kernels, in float32 as they compute them:
    scale = (in-1)/(out-1) with align_corners, else in/out; half-pixel centres add 0.5 before
    scaling (bilinear also subtracts it after). Nearest rounds half away from zero with
    align_corners and floors otherwise; the result is then an index, clamped to the input."""
    align = mode == "align_corners" and n_out > 1
    scale = F32(n_in - 1) / F32(n_out - 1) if align else F32(n_in) / F32(n_out)
    half = mode == "half_pixel"
    x = np.arange(n_out, dtype=F32)
    if method == "linear":
        return (x + F32(0.5)) * scale - F32(0.5) if half else x * scale
    v = (x + F32(0.5 if half else 0.0)) * scale
    floor = np.floor(v)
    index = floor + ((v - floor) >= F32(0.5)) if align else floor
    return np.clip(index, 0, n_in - 1)


def _tflite_axis_tables(method: str, mode: str, n_in: int, n_out: int):
    src = tflite_source_coords(method, mode, n_in, n_out)
    i0 = np.floor(np.clip(src, 0, n_in - 1)).astype(np.int32)
    if method == "nearest_neighbor":
        return i0, None, None
    i1 = np.minimum(i0 + 1, n_in - 1).astype(np.int32)
    w = (np.clip(src, 0, n_in - 1) - i0).astype(np.float32)
    return i0, i1, w


def resize_tables(layer: str, attrs, in_hw, out_hw) -> tuple[dict[str, np.ndarray], str]:
    """Tables for hhbc_resize2d_params: y0/x0 (+ y1/x1/wy/wx for bilinear)."""
    method = str(attrs.method)
    if method not in ("nearest_neighbor", "linear"):
        raise HhbcError(f"layer '{layer}': resize method '{method}' is not supported (nearest, linear)")
    if _tflite_marked(attrs):
        mode = str(attrs.coordinate_transformation_mode)
        y0, y1, wy = _tflite_axis_tables(method, mode, in_hw[0], out_hw[0])
        x0, x1, wx = _tflite_axis_tables(method, mode, in_hw[1], out_hw[1])
        return _tables(method, y0, y1, wy, x0, x1, wx)
    coord = _source_coord(str(attrs.coordinate_transformation_mode), layer)
    rounding_name = str(attrs.rounding_method)
    if rounding_name not in _ROUNDING:
        raise HhbcError(f"layer '{layer}': resize rounding '{rounding_name}' is not supported")
    rounding = _ROUNDING[rounding_name]
    scale_h, scale_w = _decode_scales(attrs)
    y0, y1, wy = _axis_tables(method, coord, rounding, in_hw[0], out_hw[0], scale_h)
    x0, x1, wx = _axis_tables(method, coord, rounding, in_hw[1], out_hw[1], scale_w)
    return _tables(method, y0, y1, wy, x0, x1, wx)


def _tables(method, y0, y1, wy, x0, x1, wx) -> tuple[dict[str, np.ndarray], str]:
    if method == "nearest_neighbor":
        return {"y0": y0, "x0": x0}, "nearest"
    return {"y0": y0, "y1": y1, "x0": x0, "x1": x1, "wy": wy, "wx": wx}, "bilinear"
