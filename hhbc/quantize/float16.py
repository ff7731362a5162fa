"""The float16 scheme (HHB's `-qs float16`): activations and conv/dense weights in IEEE half.

A KernelGraph pass after lowering. Every float32 activation becomes float16, and so do the
weights of conv2d/depthwise/dense/deconv2d and constant operands of elementwise ops (they
are read with the activations' C type). Biases, PReLU slopes, resize tables and activation
bounds stay float32: they are small, and the kernels accumulate in float32 anyway. The model's
IO keeps the model file's dtypes: a `cast` node converts each float input to half at the start
of `<p>_run()` and each output back to float at its end.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.graph import KernelGraph, Node, Tensor

SCHEMES = ("float32", "float16")
HALF_WEIGHTS = {"conv2d", "depthwise_conv2d", "dense", "deconv2d"}


def check_scheme(scheme: str) -> str:
    """A user's -qs value, or a one-line error naming the schemes hhbc has."""
    if scheme not in SCHEMES:
        raise HhbcError(f"-qs {scheme}: unknown quantization scheme (hhbc has: {', '.join(SCHEMES)})")
    return scheme


def to_float16(graph: KernelGraph) -> KernelGraph:
    """Rewrite a float32 KernelGraph for the float16 kernels (see the module docstring)."""
    for node in graph.nodes:
        if node.op.endswith(("_i8", "_w8")):
            kind = "weight-only int8 (hybrid)" if node.op.endswith("_w8") else "int8"
            raise HhbcError(f"-qs float16: layer '{node.layer}' is {kind}; the float16 scheme takes "
                            f"float models only")
    halved: set[int] = set()
    for t in graph.tensors():
        if t.dtype == "float32" and t.kind not in ("input", "const") and t not in graph.outputs:
            _halve(t, halved)
    for node in graph.nodes:
        for t in node.inputs:
            if t.kind == "const" and t.dtype == "float32":
                _halve(t, halved)
        if node.op in HALF_WEIGHTS:
            _halve(node.consts["weight"], halved)
    head = [_cast_input(graph, t) for t in graph.inputs if t.dtype == "float32"]
    tail = [_cast_output(graph, k) for k, t in enumerate(graph.outputs) if t.dtype == "float32"]
    graph.nodes[:0] = head
    graph.nodes.extend(tail)
    return graph


def _halve(t: Tensor, done: set[int]) -> None:
    if id(t) in done:
        return
    done.add(id(t))
    t.dtype = "float16"
    if t.data is not None:
        t.data = t.data.astype(np.float16)


def _cast_input(graph: KernelGraph, t: Tensor) -> Node:
    """float input -> a half copy that every reader (and every view of the input) uses."""
    half = Tensor(f"{t.name} (float16)", t.shape, "float16", layout=t.layout)
    for node in graph.nodes:
        node.inputs = [half if x is t else x for x in node.inputs]
    for view in graph.tensors():
        if view.alias_of is t:
            view.alias_of = half
            view.dtype = "float16"
    return Node("cast", [t], half, {"size": t.size}, {}, f"input {t.name} to float16")


def _cast_output(graph: KernelGraph, k: int) -> Node:
    """The half result the last layer now writes -> the model's float output."""
    half = graph.outputs[k]
    out = Tensor(half.name, half.shape, "float32", kind="output", layout=half.layout)
    _halve(half, set())
    if half.alias_of is None:
        half.kind = "activation"
    elif half.storage().kind == "output_storage":
        half.storage().kind = "activation"
    half.name = f"{half.name} (float16)"
    graph.outputs[k] = out
    return Node("cast", [half], out, {"size": half.size}, {}, f"output {out.name} to float32")
