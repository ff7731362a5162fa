"""Resource limits: what hhbc refuses to compile, with one line saying why and how to go on.

A model file is untrusted input. A few bytes of protobuf can declare a 60000x60000 image, a
chain of 100,000 nodes or a 10 MB node name; left unchecked these end in a numpy MemoryError,
a Python RecursionError, a `static uint8_t arena[86400000000]` that no board can link, or a
message nobody can read. Every limit below is checked as early as the fact is known (declared
IO right after import, every tensor of the imported Relax graph before the optimizer folds
constants, every KernelGraph tensor before memory planning, the arena's lower bound before the
planner and the planned arena after it), and a model past one gets one `HhbcError` naming
the thing, its size, the limit, and the option that raises it.

| limit         | default            | option          | why                                               |
|---------------|--------------------|-----------------|---------------------------------------------------|
| tensor bytes  | 256 MiB            | --max-tensor    | one activation or IO tensor; bigger than any RAM  |
|               |                    |                 | of the boards hhbc targets, and numpy would try   |
|               |                    |                 | to allocate it for `hhbc run`'s reference input   |
| weight bytes  | 1 GiB              | --max-weights   | all constants together, and any one (VGG19 in     |
|               |                    |                 | float32: 575 MB, its fc6 weight 411 MB); they     |
|               |                    |                 | become `weights.c` and the firmware image         |
| nodes         | 10,000             | --max-nodes     | framework nodes or kernel layers; compile time    |
|               |                    |                 | grows with it (~3 ms a node: a 5,000-node chain   |
|               |                    |                 | compiles in 15 s; DenseNet-121: 1,037 layers)     |
| graph depth   | 2,000              | --max-depth     | longest chain from an input to an output: code    |
|               |                    |                 | that walks a graph recursively (Python's limit is |
|               |                    |                 | 1,000 frames) breaks on deep chains; 5,000 was    |
|               |                    |                 | measured to compile, the limit keeps a margin     |
| name length   | 1,024 characters   | --max-name      | node/tensor names go into C comments, the         |
|               |                    |                 | manifest and error messages                       |
| proto nesting | 100 (fixed)        | -               | the protobuf decoder's own recursion limit (ONNX  |
|               |                    |                 | subgraphs, nested messages); deeper files are a   |
|               |                    |                 | one-line parse error, not a crash                 |
| arena bytes   | the target's RAM   | --max-arena     | the static activation buffer must fit the board:  |
|               | (targets.py)       |                 | `Target.ram_bytes` (c906: 64 MiB, host: 2 GiB)    |

Sizes on the command line take K/M/G (x1000) or KiB/MiB/GiB (x1024) suffixes: `--max-arena 8MiB`.

Frontends read `options.limits` (ImportOptions) and may call the helpers below on what they
know before converting (a declared input, the node count of the parsed graph); the compiler
calls them again generically, so a frontend that does not is still covered.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from hhbc.errors import HhbcError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# Python protobuf's decoder recursion limit (upb and the pure-Python decoder both use 100):
# a message nested deeper fails to parse; frontends report that as a one-line parse error.
PROTO_NESTING = 100


@dataclass(frozen=True)
class Limits:
    """Documented limits (see the module docstring); None means no limit."""

    tensor_bytes: int | None = 256 * MiB
    weight_bytes: int | None = 1 * GiB
    nodes: int | None = 10_000
    depth: int | None = 2_000
    name_length: int | None = 1_024
    arena_bytes: int | None = None      # None: the target's RAM budget (Target.ram_bytes)


DEFAULT_LIMITS = Limits()

# Limits field -> the option that raises it (named in every message).
OPTIONS = {
    "tensor_bytes": "--max-tensor",
    "weight_bytes": "--max-weights",
    "nodes": "--max-nodes",
    "depth": "--max-depth",
    "name_length": "--max-name",
    "arena_bytes": "--max-arena",
}

_SUFFIXES = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "ki": KiB, "mi": MiB, "gi": GiB}


def parse_size(text: str, option: str = "") -> int:
    """'8MiB', '512K', '1.5G', '65536' -> bytes; a bad value is a one-line error naming `option`."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = m.group(2).lower() if m else None
    if unit and unit.endswith("b"):   # 8MiB, 8MB, 512B
        unit = unit[:-1]
    if m is None or unit not in _SUFFIXES:
        where = f"{option} " if option else ""
        raise HhbcError(f"{where}{text!r}: not a size (bytes, or a number with K/M/G or KiB/MiB/GiB)")
    return int(float(m.group(1)) * _SUFFIXES[unit])


def format_bytes(n: int) -> str:
    """An exact binary unit where the largest that fits divides n (256 MiB), else three
    figures in SI units (43.2 GB)."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            if n % size == 0:
                return f"{n // size} {unit}"
            break
    for unit, size in (("TB", 1000 ** 4), ("GB", 1000 ** 3), ("MB", 1000 ** 2), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def short(name: str, n: int = 60) -> str:
    """A name fit for a one-line message: long ones cut in the middle with their length."""
    name = str(name)
    if len(name) <= n:
        return name
    return f"{name[:n // 2]}...{name[-(n // 4):]} ({len(name)} characters)"


def tensor_bytes(shape: Sequence[int], dtype) -> int:
    """Exact bytes of a tensor (Python ints: no int64 overflow on absurd shapes)."""
    return math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize


def _describe(shape: Sequence[int], dtype) -> str:
    dims = "x".join(map(str, shape)) if len(shape) else "scalar"
    return f"{dims} {np.dtype(dtype).name}"


def _over(limit: int | None, value: int) -> bool:
    return limit is not None and value > limit


def check_tensor(limits: Limits, what: str, shape: Sequence[int], dtype) -> None:
    """`what` (e.g. "input 'x'") of `shape`/`dtype` must fit limits.tensor_bytes:
    "input 'x': 1x3x60000x60000 float32 is 43.2 GB, above the limit of 256 MiB (--max-tensor raises it)".
    A negative dimension is refused as well (a declared shape left unknown)."""
    _check_size(limits, "tensor_bytes", "limit", what, shape, dtype)


def check_constant(limits: Limits, what: str, shape: Sequence[int], dtype) -> int:
    """One constant (initializer, weight) against limits.weight_bytes, not the activation
    limit: VGG19's fc6 weight alone is 411 MB. Returns its bytes (for the caller's total)."""
    return _check_size(limits, "weight_bytes", "weight limit", what, shape, dtype)


def _check_size(limits: Limits, field: str, label: str, what: str, shape: Sequence[int], dtype) -> int:
    if any(int(d) < 0 for d in shape):
        raise HhbcError(f"{what}: shape {list(shape)} has a negative dimension")
    size = tensor_bytes(shape, dtype)
    limit = getattr(limits, field)
    if _over(limit, size):
        raise HhbcError(f"{what}: {_describe(shape, dtype)} is {format_bytes(size)}, above the {label} of "
                        f"{format_bytes(limit)} ({OPTIONS[field]} raises it)")
    return size


def check_weights(limits: Limits, total: int, what: str = "the model's weights",
                  largest: tuple[str, int] | None = None) -> None:
    """Total constant bytes against limits.weight_bytes; `largest` = (name, bytes) for the message."""
    if _over(limits.weight_bytes, total):
        big = f"; the largest is '{short(largest[0])}' ({format_bytes(largest[1])})" if largest else ""
        raise HhbcError(f"{what} total {format_bytes(total)}, above the limit of "
                        f"{format_bytes(limits.weight_bytes)}{big} ({OPTIONS['weight_bytes']} raises it)")


def check_nodes(limits: Limits, count: int, what: str = "the model") -> None:
    if _over(limits.nodes, count):
        raise HhbcError(f"{what} has {count:,} nodes, above the limit of {limits.nodes:,} "
                        f"({OPTIONS['nodes']} raises it)")


def check_depth(limits: Limits, depth: int, what: str = "the model") -> None:
    if _over(limits.depth, depth):
        raise HhbcError(f"{what} is {depth:,} nodes deep (longest input-to-output chain), above the limit "
                        f"of {limits.depth:,} ({OPTIONS['depth']} raises it)")


def check_name(limits: Limits, what: str, name: str) -> None:
    """`what` is e.g. "node" or "input": "node name 'abc...xyz (10485760 characters)' is ..."."""
    if _over(limits.name_length, len(name)):
        raise HhbcError(f"{what} name '{short(name)}' is {len(name):,} characters long, above the limit of "
                        f"{limits.name_length:,} ({OPTIONS['name_length']} raises it)")


def check_names(limits: Limits, what: str, names: Iterable[str]) -> None:
    for name in names:
        check_name(limits, what, name)


def graph_depth(edges: dict[str, Sequence[str]], order: Sequence[str]) -> int:
    """Longest path (in nodes) of a DAG given as node -> predecessor nodes, with `order` a
    topological order; iterative, so any depth is measured without recursion."""
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = 1 + max((depth.get(p, 0) for p in edges.get(node, ())), default=0)
    return max(depth.values(), default=0)


def arena_budget(limits: Limits, target) -> int | None:
    """The arena limit in force: --max-arena if given, else the target's RAM (None: none)."""
    return limits.arena_bytes if limits.arena_bytes is not None else getattr(target, "ram_bytes", None)


def check_arena(limits: Limits, target, arena: int, live: Sequence[tuple[str, int]] = (),
                planned: bool = True) -> None:
    """The arena against the budget: the planned one, or before planning (planned=False) its
    lower bound; `live` = (name, bytes) of the tensors live at the peak, biggest first."""
    budget = arena_budget(limits, target)
    if budget is None or arena <= budget:
        return
    whose = ("--max-arena" if limits.arena_bytes is not None
             else f"target '{target.name}' RAM budget")
    if live and live[0][1] > budget:
        name, size = live[0]
        cause = f"tensor '{short(name)}' alone is {format_bytes(size)}"
    else:
        cause = "largest live tensors: " + ", ".join(f"'{short(n, 40)}' {format_bytes(s)}" for n, s in live[:3])
    needs = "is" if planned else "needs at least"
    raise HhbcError(f"activation arena {needs} {format_bytes(arena)} ({arena} B), above the {whose} of "
                    f"{format_bytes(budget)}; {cause} (--max-arena raises it)")
