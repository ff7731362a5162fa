"""The float16 scheme (HHB's `-qs float16`): activations and conv/dense weights in IEEE half.

A KernelGraph pass after lowering. Every float32 activation becomes float16, and so do the
weights of conv2d/depthwise/dense/deconv2d and constant operands of elementwise ops (they
are read with the activations' C type). Biases, PReLU slopes, resize tables and activation
bounds stay float32: they are small, and the kernels accumulate in float32 anyway. The model's
IO keeps the model file's dtypes: a `cast` node converts each float input to half at the start
of `<p>_run()` and each output back to float at its end.

float16_w_int8 (HHB's `-qs float16_w_int8`, `to_float16(graph, int8_weights=True)`): the same,
except that conv2d, depthwise_conv2d and dense weights are stored as int8, symmetric per output
channel (scale = max|w| / 127, rounded half away from zero, zero point 0; deconv2d keeps half
weights), and those layers become the weight-only int8 ops (`conv2d_w8`, ...) on float16
activations: the `_f16w8` kernels widen the int8 weights to half exactly, accumulate in float32
and multiply by the channel's float32 scale once per output, before the float32 bias and the
activation.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.graph import KernelGraph, Node, Tensor

SCHEMES = ("float32", "float16", "float16_w_int8")
HALF_WEIGHTS = {"conv2d", "depthwise_conv2d", "dense", "deconv2d"}
# float16_w_int8: these ops' weights become int8 (the op -> the axis of its output channels
# in the reference weight layout: conv [OC][KH][KW][ICg], depthwise [KH][KW][OC], dense [N][K])
W8_OPS = {"conv2d": 0, "depthwise_conv2d": -1, "dense": 0}


def check_scheme(scheme: str) -> str:
    """A user's -qs value, or a one-line error naming the schemes hhbc has."""
    if scheme not in SCHEMES:
        raise HhbcError(f"-qs {scheme}: unknown quantization scheme (hhbc has: {', '.join(SCHEMES)})")
    return scheme


def to_float16(graph: KernelGraph, int8_weights: bool = False) -> KernelGraph:
    """Rewrite a float32 KernelGraph for the float16 kernels (see the module docstring).
    int8_weights: the float16_w_int8 scheme (see `_int8_weights`)."""
    scheme = "float16_w_int8" if int8_weights else "float16"
    for node in graph.nodes:
        if node.op.endswith(("_i8", "_w8")):
            kind = "weight-only int8 (hybrid)" if node.op.endswith("_w8") else "int8"
            raise HhbcError(f"-qs {scheme}: layer '{node.layer}' is {kind}; the {scheme} scheme takes "
                            f"float models only")
    if int8_weights:
        done: dict[int, tuple[Tensor, Tensor]] = {}   # a weight shared by layers is stored once
        for node in graph.nodes:
            if node.op in W8_OPS:
                _int8_weights(node, done)
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


def quantize_weight(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel int8: scale = max|w| / 127 over the channel (1 for an
    all-zero channel), q = w / scale rounded half away from zero, zero point 0.
    Returns (q int8 in w's layout, scale float32 [channels]); w ~= q * scale."""
    w = np.asarray(w, np.float32)
    if not np.all(np.isfinite(w)):
        raise HhbcError("weights with NaN or infinity cannot be quantized to int8")
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1).astype(np.float64)
    peak = np.max(np.abs(moved), axis=1) if moved.shape[1] else np.zeros(moved.shape[0])
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    r = w.astype(np.float64) / scale.astype(np.float64).reshape(shape)
    q = np.clip(np.sign(r) * np.floor(np.abs(r) + 0.5), -127, 127).astype(np.int8)
    return q, scale


def _int8_weights(node: Node, done: dict[int, tuple[Tensor, Tensor]]) -> None:
    """conv2d / depthwise_conv2d / dense -> its weight-only int8 op (the `_w8` kernels'
    params): weight int8 in the same layout, per-channel float32 `w_scale`; bias float32."""
    weight = node.consts["weight"]
    key = id(weight)
    if key not in done:
        try:
            q, scale = quantize_weight(weight.data, W8_OPS[node.op])
        except HhbcError as e:
            raise HhbcError(f"-qs float16_w_int8: layer '{node.layer}': {e}") from None
        done[key] = (Tensor(weight.name, weight.shape, "int8", kind="const", data=q),
                     Tensor(f"{weight.name} (scale)", scale.shape, "float32", kind="const", data=scale))
    node.consts["weight"], node.consts["w_scale"] = done[key]
    node.op = f"{node.op}_w8"


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
