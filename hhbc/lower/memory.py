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
# --guard: canary bytes right after every arena tensor (hhbc compile --guard), inside its slot
GUARD_BYTES = 16


@dataclass
class MemoryPlan:
    offsets: dict[int, int]         # id(storage tensor) -> byte offset
    arena_bytes: int
    lower_bound: int                # largest sum of simultaneously live tensors
    guard_bytes: int = 0            # canary bytes after each tensor (--guard), else 0

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
# Each span is (tensor, first step, last step, its bytes).
_ORDERS = {
    "size": lambda s: (-s[3], s[1]),
    "size*lifetime": lambda s: (-s[3] * (s[2] - s[1] + 1), s[1]),
    "lifetime": lambda s: (-(s[2] - s[1]), -s[3], s[1]),
    "first use": lambda s: (s[1], -s[3]),
}


# A tensor live for fewer steps than this is checked only against the tensors live in those
# steps (a chain of 50,000 layers plans in linear time); longer ones against every placed one.
_SHORT_SPAN = 64


def _place(spans: list[tuple[Tensor, int, int, int]], gap: int = 0) -> tuple[dict[int, int], int]:
    """Lowest aligned offset for each tensor, in the given order, avoiding live conflicts;
    each slot holds the tensor and `gap` bytes after it."""
    placed: list[tuple[int, int, int, int]] = []   # (offset, size, first, last)
    at_step: dict[int, list[int]] = {}             # step -> indices into placed of the tensors live then
    offsets: dict[int, int] = {}
    for tensor, first, last, nbytes in spans:
        size = _align(nbytes + gap)
        if last - first < _SHORT_SPAN:   # the tensors live in its few steps, not every placed one
            near = {i for step in range(first, last + 1) for i in at_step.get(step, ())}
            candidates = [placed[i] for i in near]
        else:
            candidates = placed
        busy = sorted((o, o + sz) for o, sz, f, l in candidates if f <= last and first <= l)
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, _align(hi))
        for step in range(first, last + 1):
            at_step.setdefault(step, []).append(len(placed))
        placed.append((offset, size, first, last))
        offsets[id(tensor)] = offset
    return offsets, max((o + sz for o, sz, _, _ in placed), default=0)


def peak_tensors(graph: KernelGraph) -> tuple[int, list[Tensor]]:
    """The lower bound on the arena (largest aligned sum of simultaneously live tensors) and
    the tensors live at that step, biggest first; one sweep, for any graph size."""
    spans = lifetimes(graph)
    steps = len(graph.nodes) + 1
    delta = [0] * (steps + 1)
    for t, first, last in spans.values():
        size = _align(t.nbytes)
        delta[first] += size
        delta[last + 1] -= size
    peak, at, live = 0, 0, 0
    for step in range(steps):
        live += delta[step]
        if live > peak:
            peak, at = live, step
    tensors = sorted((t for t, f, l in spans.values() if f <= at <= l), key=lambda t: -t.nbytes)
    return peak, tensors


def plan_memory(graph: KernelGraph, guard: bool = False) -> MemoryPlan:
    """The smallest placement found; with `guard`, GUARD_BYTES of canary after each tensor."""
    spans = [(t, first, last, t.nbytes) for t, first, last in lifetimes(graph).values()]
    gap = GUARD_BYTES if guard else 0
    best = None
    for key in _ORDERS.values():
        offsets, arena = _place(sorted(spans, key=key), gap)
        if best is None or arena < best[1]:
            best = (offsets, arena)
    return MemoryPlan(best[0], best[1], peak_tensors(graph)[0], gap)


def canaries(graph: KernelGraph, plan: MemoryPlan) -> list[tuple[Tensor, int, int, int]]:
    """A guarded plan's canaries: (tensor, arena offset of its canary, first step, last step)
    for every arena tensor, in the order they come to life. The canary starts right after the
    tensor's last byte, so a kernel writing one element too many lands in it."""
    found = [(t, plan.offsets[key] + t.nbytes, first, last)
             for key, (t, first, last) in lifetimes(graph).items()]
    return sorted(found, key=lambda c: (c[2], c[1]))
