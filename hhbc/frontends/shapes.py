"""The HHB-style -in/-is/-on options: parsing and resolving input shapes."""

from __future__ import annotations

import re
import sys
from typing import Sequence

from hhbc.errors import HhbcError


def split_names(text: str | None) -> list[str]:
    """`-in "a;b"` -> ["a", "b"]. Names may contain spaces and commas, not ';'."""
    if not text:
        return []
    return [n.strip() for n in text.split(";") if n.strip()]


def parse_shapes(text: str | None) -> list[tuple[int, ...]]:
    """`-is "1 3 32 32;1 10"` or `-is 1,3,32,32` -> [(1, 3, 32, 32), (1, 10)]."""
    if not text:
        return []
    shapes = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        dims = [d for d in re.split(r"[\s,x]+", part.strip("[]() ")) if d]
        try:
            shape = tuple(int(d) for d in dims)
        except ValueError:
            raise HhbcError(f"-is '{part}': dims must be integers separated by spaces or commas") from None
        if any(d <= 0 for d in shape):
            raise HhbcError(f"-is '{part}': dims must be positive")
        shapes.append(shape)
    return shapes


Dim = int | str | None  # int: static; str/None: symbolic or unknown


def resolve_shape(input_name: str, declared: Sequence[Dim] | None,
                  given: tuple[int, ...] | None) -> tuple[int, ...]:
    """Combine a model's declared shape with -is into one static shape.

    A symbolic leading (batch) dim becomes 1 with a notice; any other
    symbolic dim needs -is.
    """
    if given is not None:
        if declared is not None and len(declared) != len(given):
            raise HhbcError(
                f"-is {list(given)} for input '{input_name}' has rank {len(given)}, "
                f"but the model declares rank {len(declared)} {_fmt(declared)}"
            )
        for i, (d, g) in enumerate(zip(declared or (), given)):
            if isinstance(d, int) and d > 0 and d != g:
                raise HhbcError(
                    f"-is {list(given)} for input '{input_name}': dim {i} is fixed to {d} by the model"
                )
        return tuple(given)
    if declared is None:
        raise HhbcError(f"input '{input_name}' has no declared shape; give it with -is")
    shape = []
    for i, d in enumerate(declared):
        if isinstance(d, int) and d > 0:
            shape.append(d)
        elif i == 0:
            print(f"hhbc: note: input '{input_name}' has a symbolic batch dim "
                  f"'{d or '?'}'; using 1 (override with -is)", file=sys.stderr)
            shape.append(1)
        else:
            raise HhbcError(
                f"input '{input_name}' has dynamic dim {i} ('{d or '?'}') in {_fmt(declared)}; "
                f"give a static shape with -is"
            )
    return tuple(shape)


def _fmt(dims: Sequence[Dim]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) and d > 0 else str(d or "?") for d in dims) + "]"
