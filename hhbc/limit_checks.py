"""Where the resource limits of hhbc/limits.py are applied: the imported model's declared IO,
the Relax graph before constant folding, the kernel graph before memory planning, the arena."""

from __future__ import annotations

from hhbc.frontends import ImportedModel
from hhbc.layers import layer_of
from hhbc.limits import (Limits, check_arena, check_constant, check_depth, check_name, check_nodes,
                         check_tensor, check_weights, graph_depth, short)
from hhbc.lower.graph import KernelGraph
from hhbc.lower.memory import MemoryPlan, peak_tensors
from hhbc.targets import Target


def check_declared(model: ImportedModel, limits: Limits) -> None:
    """Right after import, before anything of the model's size is allocated: the declared IO
    (what `hhbc run` would allocate its reference inputs from) and the node count."""
    check_nodes(limits, sum(model.source_ops.values()), what=model.source.name)
    for kind, infos in (("input", model.inputs), ("output", model.outputs)):
        for info in infos:
            check_name(limits, kind, info.name)
            check_tensor(limits, f"{model.source.name}: {kind} '{short(info.name)}'", info.shape, info.dtype)


def check_relax(mod, limits: Limits, source: str) -> None:
    """Every tensor the imported Relax graph binds, its constants, names and depth, before the
    optimizer folds constants (which allocates them); format-agnostic, iterative. (Its binding
    count is not a node count the user knows: one source node may import as several.)"""
    from tvm import relax

    func = mod["main"]
    bindings = [b for block in func.body.blocks for b in block.bindings]
    depth: dict = {}
    weights, largest, seen = 0, ("", 0), set()
    folded = set()   # bindings computed from constants only: weights the optimizer will fold
    for b in bindings:
        layer = layer_of(b.value) or ""
        check_name(limits, "tensor", b.var.name)
        check_name(limits, "layer", layer)
        free = relax.analysis.free_vars(b.value)
        if all(v in folded for v in free):
            folded.add(b.var)
        where = f"layer '{short(layer)}' ({_op_name(b.value)})" if layer else _op_name(b.value)
        for shape, dtype in _tensor_infos(b.var.ty):
            what = f"{source}: tensor '{short(b.var.name)}' of {where}"
            if b.var in folded:   # a transposed weight (VGG19's fc6: 392 MiB) is a weight
                check_constant(limits, what, shape, dtype)
            else:
                check_tensor(limits, what, shape, dtype)
        for const in _constants(b.value):
            if const in seen:   # one constant read by several bindings counts once
                continue
            seen.add(const)
            size = _const_bytes(const)
            weights += size
            largest = max(largest, (layer or b.var.name, size), key=lambda x: x[1])
        preds = [v for v in free if v in depth]
        depth[b.var] = 1 + max((depth[v] for v in preds), default=0)
    check_depth(limits, max(depth.values(), default=0), what=f"{source} (imported graph)")
    check_weights(limits, weights, what=f"{source}: the weights", largest=largest)


def _tensor_infos(ty) -> list[tuple[tuple[int, ...], str]]:
    """(shape, dtype) of each static tensor in a Relax type (tuples flattened)."""
    from tvm import relax

    if isinstance(ty, relax.TupleType):
        return [i for f in ty.fields for i in _tensor_infos(f)]
    if isinstance(ty, relax.TensorType) and ty.dtype:
        dims = getattr(ty.shape, "values", None)
        if dims is not None and all(hasattr(d, "value") for d in dims):
            return [(tuple(int(d.value) for d in dims), str(ty.dtype))]
    return []


def _op_name(value) -> str:
    op = getattr(value, "op", None)
    return str(getattr(op, "name", None) or getattr(op, "name_hint", None) or type(value).__name__)


def _constants(value) -> list:
    import tvm

    args = getattr(value, "args", None) or getattr(value, "fields", None) or []
    return [a for a in args if isinstance(a, tvm.ir.GenericConst)]


def _const_bytes(const) -> int:
    import math

    import numpy as np

    data = const.value
    return math.prod(int(d) for d in data.shape) * np.dtype(str(data.dtype)).itemsize


def check_graph(graph: KernelGraph, limits: Limits, source: str) -> None:
    """Every KernelGraph tensor, the layer count, depth and the weight total, before memory
    planning and codegen (a lowering may add tensors the Relax graph did not bind). Names were
    checked on the Relax graph: hhbc's own (fused layers, views) may be longer."""
    check_nodes(limits, len(graph.nodes), what=f"{source} (kernel layers)")
    preds: dict[int, list[int]] = {}
    producer: dict[int, int] = {}
    for k, node in enumerate(graph.nodes):
        preds[k] = [producer[id(t.storage())] for t in node.inputs if id(t.storage()) in producer]
        producer[id(node.output.storage())] = k
    check_depth(limits, graph_depth(preds, range(len(graph.nodes))), what=f"{source} (kernel layers)")
    weights, largest = 0, ("", 0)
    for t in graph.tensors():
        if t.kind == "const":
            weights += t.nbytes
            largest = max(largest, (t.name, t.nbytes), key=lambda x: x[1])
        else:
            check_tensor(limits, f"{source}: tensor '{short(t.name)}'", t.shape, t.dtype)
    check_weights(limits, weights, what=f"{source}: the weights", largest=largest)


def check_arena_fits(graph: KernelGraph, limits: Limits, target: Target, plan: MemoryPlan | None = None) -> None:
    """The arena against --max-arena or the target's RAM budget. Without a plan (before
    planning): the lower bound, so a model that cannot fit is refused before the planner runs."""
    peak, live = peak_tensors(graph)
    check_arena(limits, target, plan.arena_bytes if plan is not None else peak,
                [(t.name, t.nbytes) for t in live], planned=plan is not None)
