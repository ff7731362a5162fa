"""Rendering Python values as C initializers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def c_float(value: float) -> str:
    """Exact float32 literal (9 significant digits round-trip)."""
    v = float(np.float32(value))
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    text = f"{v:.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_array_body(array: np.ndarray, per_line: int = 8) -> str:
    """Comma-separated values of a const array, `per_line` a line."""
    flat = array.reshape(-1)
    if flat.dtype in (np.float32, np.float16):   # a half's value is exact as a float literal
        items = [c_float(v) for v in flat.tolist()]
    elif flat.dtype == np.float64:
        items = [repr(float(v)) for v in flat.tolist()]   # shortest round-trip double literal
    else:
        items = [str(int(v)) for v in flat.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


def c_bytes_body(array: np.ndarray, per_line: int = 32) -> str:
    """The array's little-endian bytes as adjacent string literals ("\\x3f\\x80..."), `per_line`
    bytes a line: compilers parse a string ~10x faster than the same data as numbers, and with
    a fraction of the memory, which is what lets models with hundreds of MB of weights build.
    Built with numpy, one byte per output character, so it is fast at that size too."""
    raw = np.frombuffer(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes(), np.uint8)
    if raw.size == 0:
        return '""'
    hex_digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    chars = np.empty((raw.size, 4), np.uint8)
    chars[:, 0], chars[:, 1] = ord("\\"), ord("x")
    chars[:, 2], chars[:, 3] = hex_digits[raw >> 4], hex_digits[raw & 15]
    flat = chars.reshape(-1)
    full = raw.size // per_line * per_line * 4
    rows = flat[:full].reshape(-1, per_line * 4)
    framed = np.empty((len(rows), rows.shape[1] + 7), np.uint8)   # "<row>"\n + 4 spaces
    framed[:, 0] = ord('"')
    framed[:, 1:-6] = rows
    framed[:, -6:] = np.frombuffer(b'"\n    ', np.uint8)
    text = framed.tobytes()
    text = text + b'"' + flat[full:].tobytes() + b'"' if full < flat.size else text[:-5]
    return text.decode("ascii")


C_TYPES = {"float32": "float", "float64": "double", "int64": "int64_t", "int32": "int32_t", "int8": "int8_t",
           "uint8": "uint8_t", "int16": "int16_t", "float16": "_Float16"}


def c_ints(values: list[int], width: int | None = None) -> str:
    vals = list(values) + [0] * ((width or 0) - len(values))
    return "{" + ", ".join(str(int(v)) for v in vals) + "}"


def render_act(act: dict[str, Any]) -> str:
    return (f"{{HHBC_ACT_{act['kind'].upper()}, {c_float(act['lo'])}, {c_float(act['hi'])}, "
            f"{c_float(act['alpha'])}}}")
