"""Static arena planning: every activation gets an offset in one static buffer.

Greedy placement: each tensor, in some order, goes to the lowest aligned offset
that does not overlap a tensor whose lifetime intersects its own. Several orders
are tried and the smallest arena kept. Lifetimes are in node steps; aliases
extend the lifetime of the storage they view.
"""

from __future__ import annotations

from dataclasses import dataclass

from hhbc.lower.graph import KernelGraph, Tensor

ALIGN = 16


@dataclass
class MemoryPlan:
    offsets: dict[int, int]         # id(storage tensor) -> byte offset
    arena_bytes: int
    lower_bound: int                # largest sum of simultaneously live tensors

    def offset(self, t: Tensor) -> int:
        return self.offsets[id(t.storage())]


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lifetimes(graph: KernelGraph) -> dict[int, tuple[Tensor, int, int]]:
    """id(storage) -> (tensor, first step, last step), steps inclusive."""
    end = len(graph.nodes)
    spans: dict[int, list] = {}

    def touch(t: Tensor, step: int) -> None:
        s = t.storage()
        if not s.in_arena:
            return
        span = spans.setdefault(id(s), [s, step, step])
        span[1] = min(span[1], step)
        span[2] = max(span[2], step)

    for t in graph.inputs:
        touch(t, 0)
    for step, node in enumerate(graph.nodes):
        for t in node.inputs:
            touch(t, step)
        touch(node.output, step)
    for t in graph.outputs:
        touch(t, end)
    return {k: (v[0], v[1], v[2]) for k, v in spans.items()}


# Placement orders tried; the smallest arena wins (all are cheap for firmware-sized graphs).
_ORDERS = {
    "size": lambda s: (-s[0].nbytes, s[1]),
    "size*lifetime": lambda s: (-s[0].nbytes * (s[2] - s[1] + 1), s[1]),
    "lifetime": lambda s: (-(s[2] - s[1]), -s[0].nbytes, s[1]),
    "first use": lambda s: (s[1], -s[0].nbytes),
}


def _place(spans: list[tuple[Tensor, int, int]]) -> tuple[dict[int, int], int]:
    """Lowest aligned offset for each tensor, in the given order, avoiding live conflicts."""
    placed: list[tuple[int, int, int, int]] = []   # (offset, size, first, last)
    offsets: dict[int, int] = {}
    for tensor, first, last in spans:
        size = _align(tensor.nbytes)
        busy = sorted((o, o + sz) for o, sz, f, l in placed if f <= last and first <= l)
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, _align(hi))
        placed.append((offset, size, first, last))
        offsets[id(tensor)] = offset
    return offsets, max((o + sz for o, sz, _, _ in placed), default=0)


def plan_memory(graph: KernelGraph) -> MemoryPlan:
    spans = lifetimes(graph)
    best = None
    for key in _ORDERS.values():
        offsets, arena = _place(sorted(spans.values(), key=key))
        if best is None or arena < best[1]:
            best = (offsets, arena)
    steps = len(graph.nodes) + 1
    bound = max((sum(_align(t.nbytes) for t, f, l in spans.values() if f <= s <= l)
                 for s in range(steps)), default=0)
    return MemoryPlan(best[0], best[1], bound)
