"""Index and weight tables for 2-D resize, computed at compile time (ONNX semantics)."""

from __future__ import annotations

import math

import numpy as np

from hhbc.errors import HhbcError


def _source_coord(mode: str, layer: str):
    def half_pixel(x, scale, n_in, n_out):
        return (x + 0.5) / scale - 0.5

    def pytorch_half_pixel(x, scale, n_in, n_out):
        return (x + 0.5) / scale - 0.5 if n_out > 1 else 0.0

    def align_corners(x, scale, n_in, n_out):
        return 0.0 if n_out == 1 else x * (n_in - 1) / (n_out - 1)

    def asymmetric(x, scale, n_in, n_out):
        return x / scale

    def tf_half_pixel_for_nn(x, scale, n_in, n_out):
        return (x + 0.5) / scale

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


def _axis_tables(method: str, coord, rounding, n_in: int, n_out: int):
    scale = n_out / n_in
    src = [coord(float(o), scale, n_in, n_out) for o in range(n_out)]
    if method == "nearest_neighbor":
        i0 = [min(max(int(rounding(v)), 0), n_in - 1) for v in src]
        return np.array(i0, np.int32), None, None
    clamped = [min(max(v, 0.0), n_in - 1.0) for v in src]
    i0 = [int(math.floor(v)) for v in clamped]
    i1 = [min(i + 1, n_in - 1) for i in i0]
    w = [v - i for v, i in zip(clamped, i0)]
    return np.array(i0, np.int32), np.array(i1, np.int32), np.array(w, np.float32)


def resize_tables(layer: str, attrs, in_hw, out_hw) -> tuple[dict[str, np.ndarray], str]:
    """Tables for hhbc_resize2d_params: y0/x0 (+ y1/x1/wy/wx for bilinear)."""
    method = str(attrs.method)
    if method not in ("nearest_neighbor", "linear"):
        raise HhbcError(f"layer '{layer}': resize method '{method}' is not supported (nearest, linear)")
    coord = _source_coord(str(attrs.coordinate_transformation_mode), layer)
    rounding_name = str(attrs.rounding_method)
    if rounding_name not in _ROUNDING:
        raise HhbcError(f"layer '{layer}': resize rounding '{rounding_name}' is not supported")
    rounding = _ROUNDING[rounding_name]
    y0, y1, wy = _axis_tables(method, coord, rounding, in_hw[0], out_hw[0])
    x0, x1, wx = _axis_tables(method, coord, rounding, in_hw[1], out_hw[1])
    if method == "nearest_neighbor":
        return {"y0": y0, "x0": x0}, "nearest"
    return {"y0": y0, "y1": y1, "x0": x0, "x1": x1, "wy": wy, "wx": wx}, "bilinear"
