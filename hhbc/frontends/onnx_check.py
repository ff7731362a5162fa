"""Validation of an ONNX model before onnxsim and TVM see it.

A model file is untrusted input. What TVM's C++ shape code divides by or indexes with
(a zero stride, an axis out of range, a weight whose rank is not the input's) ends in a
SIGFPE or an error message that names neither the node nor the problem; a graph that reads
its own output or an input nothing produces ends in a bare KeyError. Everything here runs
on the protobuf, allocates nothing the model declares, and raises one HhbcError per problem:

    m.onnx: Conv node 'conv1': strides [0, 0] must be positive

Two passes:
  * check_graph (right after parsing): initializers (dims against data, declared size),
    node attributes against the ONNX schema, duplicate/dangling/cyclic tensors, graph
    outputs nothing produces, node count and depth (hhbc.limits). Returns the model with
    its nodes in topological order.
  * check_nodes (once the input shapes are static, before onnxsim): per-op checks from a
    table (op type -> check functions) on attributes, constant operands and inferred
    shapes; tensors that onnxsim would fold and allocate (ConstantOfShape, Expand, Tile,
    Range, Resize outputs) against the tensor limit; dtype agreement of operands; last,
    ONNX's strict shape inference, whose message is translated to the one-line form.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from hhbc.errors import HhbcError
from hhbc.frontends.onnx_check_ops import CHECKS, EMPTY_CHECKED, FOLDED, NUMPY, Ctx, dtypes, not_empty, \
    type_name
from hhbc.limits import OPTIONS, Limits, check_depth, check_nodes as check_node_count, check_tensor, \
    check_weights, format_bytes, graph_depth, short, tensor_bytes


def node_label(node: onnx.NodeProto, index: int) -> str:
    """"Conv node 'conv1'", or "Conv node #3" when the node has no name."""
    op = short(node.op_type or "(no op type)", 40)
    return f"{op} node '{short(node.name)}'" if node.name else f"{op} node #{index}"


# ---------------------------------------------------------------- tensors
# data_type -> (field holding the values when not raw, values per element in that field)
_FIELDS = {
    TensorProto.FLOAT: ("float_data", 1), TensorProto.COMPLEX64: ("float_data", 2),
    TensorProto.DOUBLE: ("double_data", 1), TensorProto.COMPLEX128: ("double_data", 2),
    TensorProto.INT64: ("int64_data", 1), TensorProto.UINT32: ("uint64_data", 1),
    TensorProto.UINT64: ("uint64_data", 1), TensorProto.STRING: ("string_data", 1),
    **{t: ("int32_data", 1) for t in (TensorProto.INT32, TensorProto.INT16, TensorProto.INT8,
                                      TensorProto.UINT16, TensorProto.UINT8, TensorProto.BOOL,
                                      TensorProto.FLOAT16, TensorProto.BFLOAT16)},
}
# Element sizes of the types hhbc can meet (bytes); others are refused by name.
_ITEMSIZE = {TensorProto.FLOAT: 4, TensorProto.DOUBLE: 8, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2,
             TensorProto.INT8: 1, TensorProto.UINT8: 1, TensorProto.INT16: 2, TensorProto.UINT16: 2,
             TensorProto.INT32: 4, TensorProto.UINT32: 4, TensorProto.INT64: 8, TensorProto.UINT64: 8,
             TensorProto.BOOL: 1, TensorProto.COMPLEX64: 8, TensorProto.COMPLEX128: 16}
def check_tensor_proto(t: onnx.TensorProto, what: str, limits: Limits) -> int:
    """A constant's dims against its data and the tensor limit; returns its bytes."""
    dims = [int(d) for d in t.dims]
    if any(d < 0 for d in dims):
        raise HhbcError(f"{what}: dims {dims} have a negative dimension")
    if t.data_type not in _ITEMSIZE:
        raise HhbcError(f"{what}: element type {type_name(t.data_type)} is not supported")
    count = math.prod(dims)
    if t.data_location == TensorProto.EXTERNAL:
        held = None   # the data lives in another file, which onnx.load did not read
    elif t.HasField("raw_data"):
        held = len(t.raw_data) / _ITEMSIZE[t.data_type]
    else:
        field, per = _FIELDS[t.data_type]
        held = len(getattr(t, field)) / per
    if held is not None and held != count:
        shown = "x".join(map(str, dims)) if dims else "scalar"
        raise HhbcError(f"{what}: dims {shown} ({count:,} elements) do not match its data "
                        f"({held:g} {type_name(t.data_type)} elements)")
    check_output(limits, what, dims, NUMPY[t.data_type], folded=True)   # a weight: the weight limit
    return count * _ITEMSIZE[t.data_type]


# ---------------------------------------------------------------- graph
def check_graph(model: onnx.ModelProto, path: Path, limits: Limits) -> onnx.ModelProto:
    """Graph-level problems, each one line naming the culprit; returns the model with its
    nodes topologically sorted (ONNX requires it; a file that lists them out of order is
    sorted rather than refused)."""
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    check_node_count(limits, len(graph.node), f"{path}")
    _check_text(graph, path)

    total, largest = 0, ("", 0)
    sources: dict[str, str] = {}   # tensor -> what provides it (for duplicate messages)
    for t in graph.initializer:
        size = check_tensor_proto(t, f"{path}: initializer '{short(t.name)}'", limits)
        total += size
        largest = max(largest, (t.name, size), key=lambda p: p[1])
        sources[t.name] = f"initializer '{short(t.name)}'"
    for vi in graph.input:
        sources.setdefault(vi.name, f"graph input '{short(vi.name)}'")
    for k, node in enumerate(graph.node):
        for a in node.attribute:
            if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                size = check_tensor_proto(a.t, f"{path}: {node_label(node, k)}: its value", limits)
                total += size
                largest = max(largest, (node.name or node.output[0] if node.output else "", size),
                              key=lambda p: p[1])
    check_weights(limits, total, f"{path}: the model's constants", largest if largest[1] else None)

    _check_schemas(graph, opset, model.ir_version, path)

    producer: dict[str, int] = {}
    for k, node in enumerate(graph.node):
        if not any(node.output):
            raise HhbcError(f"{path}: {node_label(node, k)} has no outputs")
        for name in node.output:
            if not name:
                continue
            if name in producer:
                other = graph.node[producer[name]]
                raise HhbcError(f"{path}: {node_label(node, k)} and {node_label(other, producer[name])} "
                                f"both write tensor '{short(name)}'")
            if name in sources:
                raise HhbcError(f"{path}: {node_label(node, k)} writes tensor '{short(name)}', already "
                                f"provided by the {sources[name]}")
            producer[name] = k
    for k, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in producer and name not in sources:
                raise HhbcError(f"{path}: input '{short(name)}' of {node_label(node, k)} is not produced "
                                "by any node, initializer or graph input")
            if name and producer.get(name) == k:
                raise HhbcError(f"{path}: {node_label(node, k)} reads its own output '{short(name)}'")
    for vi in graph.output:
        if vi.name not in producer and vi.name not in sources:
            raise HhbcError(f"{path}: graph output '{short(vi.name)}' is not produced by any node, "
                            "initializer or graph input")

    order = _topological(graph, producer, path)
    check_depth(limits, graph_depth({str(k): [str(producer[i]) for i in graph.node[k].input if i in producer]
                                     for k in order}, [str(k) for k in order]), f"{path}")
    if order != list(range(len(graph.node))):
        model = onnx.ModelProto.FromString(model.SerializeToString())
        nodes = [onnx.NodeProto.FromString(graph.node[k].SerializeToString()) for k in order]
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return model


def _check_text(graph: onnx.GraphProto, path: Path) -> None:
    """Names and op types must be text: protobuf hands a string field that is not valid UTF-8
    to Python as bytes, which every later step would choke on."""
    def bad(value) -> bool:
        return not isinstance(value, str)

    for what, items in (("initializer", graph.initializer), ("graph input", graph.input),
                        ("graph output", graph.output)):
        for k, item in enumerate(items):
            if bad(item.name):
                raise HhbcError(f"{path}: {what} #{k}: its name is not valid UTF-8 text")
    for k, node in enumerate(graph.node):
        for field in ("op_type", "name", "domain"):
            if bad(getattr(node, field)):
                raise HhbcError(f"{path}: node #{k}: its {field.replace('_', ' ')} is not valid UTF-8 text")
        for field in ("input", "output"):
            for j, name in enumerate(getattr(node, field)):
                if bad(name):
                    raise HhbcError(f"{path}: {node_label(node, k)}: its {field} #{j} name is not valid "
                                    "UTF-8 text")
        for a in node.attribute:
            if bad(a.name):
                raise HhbcError(f"{path}: {node_label(node, k)}: an attribute name is not valid UTF-8 text")


def _topological(graph: onnx.GraphProto, producer: dict[str, int], path: Path) -> list[int]:
    """Kahn's algorithm over the nodes; a cycle is named by the nodes on it."""
    nodes = graph.node
    preds = [{producer[i] for i in n.input if i in producer} for n in nodes]
    users: list[list[int]] = [[] for _ in nodes]
    for k, ps in enumerate(preds):
        for p in ps:
            users[p].append(k)
    waiting = [len(ps) for ps in preds]
    ready = [k for k, w in enumerate(waiting) if w == 0]
    ready.reverse()
    order: list[int] = []
    while ready:
        k = ready.pop()
        order.append(k)
        for u in sorted(users[k], reverse=True):
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    if len(order) == len(nodes):
        return order
    # Walk back through unsorted predecessors until a node repeats: that is a cycle.
    left = {k for k, w in enumerate(waiting) if w > 0}
    k, seen = min(left), []
    while k not in seen:
        seen.append(k)
        k = min(p for p in preds[k] if p in left)
    cycle = seen[seen.index(k):][::-1]
    shown = " -> ".join(node_label(nodes[c], c) for c in cycle[:6])
    more = " -> ..." if len(cycle) > 6 else ""
    raise HhbcError(f"{path}: the graph has a cycle through {len(cycle)} node(s): {shown}{more} -> "
                    f"{node_label(nodes[cycle[0]], cycle[0])}")


def _check_schemas(graph: onnx.GraphProto, opset: int, ir_version: int, path: Path) -> None:
    """Attributes of standard ops against ONNX's schemas (unknown names, wrong types,
    required ones missing), by onnx.checker.check_node, one node at a time."""
    ctx = onnx.checker.C.CheckerContext()
    ctx.ir_version = max(int(ir_version), 3)
    ctx.opset_imports = {"": opset, "ai.onnx": opset}
    for k, node in enumerate(graph.node):
        if node.domain not in ("", "ai.onnx"):
            continue
        if not onnx.defs.has(node.op_type) or any(a.g.node or a.graphs for a in node.attribute):
            continue   # named by the unsupported-ops check (control flow reads the outer scope)
        try:
            onnx.checker.check_node(node, ctx)
        except Exception as err:   # onnx.checker.ValidationError, or a schema lookup error
            text = _first_line(err)
            if "No Op registered" in text or "is not a registered" in text:
                continue
            raise HhbcError(f"{path}: {node_label(node, k)}: {_clean_checker(text)}") from None


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else type(err).__name__


def _clean_checker(text: str) -> str:
    text = re.sub(r"\s*==> Context:.*", "", text)
    return text.rstrip(".")


def check_nodes(model: onnx.ModelProto, path: Path, limits: Limits,
                supported: frozenset[str] = frozenset()) -> onnx.ModelProto:
    """Per-op checks once the inputs' shapes are static; returns the model with its graph
    outputs typed by shape inference where the file left their shape out (onnxsim's checker
    requires it). Strict shape inference only blames nodes of `supported` ops (the others
    are named by the unsupported-ops check, which is the more useful message)."""
    inferred = _infer(model)
    c = Ctx(model, inferred, path, limits)
    constant = set(c.consts)   # tensors onnxsim can fold: from constants only
    for k, node in enumerate(model.graph.node):   # topological (check_graph)
        if node.domain not in ("", "ai.onnx"):
            continue
        c.label = node_label(node, k)
        empty = [not_empty(*EMPTY_CHECKED[node.op_type])] if node.op_type in EMPTY_CHECKED else []
        for check in [*empty, *CHECKS.get(node.op_type, ()), dtypes]:
            try:
                problem = check(node, c)
            except (TypeError, ValueError, IndexError, ZeroDivisionError, OverflowError):
                # Operands of a type the check cannot read (string indices, say): no verdict
                # here; strict inference below, or the importer, names the node.
                problem = None
            if problem:
                raise HhbcError(f"{path}: {c.label}: {problem}")
        folded = all(i in constant for i in node.input if i)
        if folded:
            constant.update(node.output)
        if node.op_type in FOLDED:
            for name in node.output:
                shape = c.shape(name)
                if shape is not None and None not in shape:
                    check_output(limits, f"{path}: {c.label}: its output '{short(name)}'", shape,
                                  NUMPY.get(c.dtypes.get(name, TensorProto.FLOAT), "float32"), folded)
    _strict_inference(model, path, supported)
    return _typed_outputs(model, inferred)


def check_output(limits: Limits, what: str, shape, dtype, folded: bool) -> None:
    """An activation against the tensor limit; a constant (an initializer, or what onnxsim
    would fold: a weight written as ConstantOfShape, as the ONNX 'light' models do) against
    the weight limit."""
    if not folded:
        check_tensor(limits, what, shape, dtype)
        return
    size = tensor_bytes(shape, dtype)
    if limits.weight_bytes is not None and size > limits.weight_bytes:
        raise HhbcError(f"{what}: a constant of {'x'.join(map(str, shape))} {np.dtype(dtype).name} is "
                        f"{format_bytes(size)}, above the weight limit of {format_bytes(limits.weight_bytes)} "
                        f"({OPTIONS['weight_bytes']} raises it)")


def _infer(model: onnx.ModelProto) -> onnx.ModelProto | None:
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        return None


_INFERENCE = re.compile(r"\(op_type:([^,)]*)(?:, node name: ([^)]*))?\):\s*(?:\[\w+\]\s*)?(.*)")


def _strict_inference(model: onnx.ModelProto, path: Path, supported: frozenset[str]) -> None:
    """ONNX's own shape/type inference in strict mode: what the table above does not know."""
    if any(n.domain not in ("", "ai.onnx") or not onnx.defs.has(n.op_type) for n in model.graph.node):
        return   # a custom op stops inference; the unsupported-ops check names it
    try:
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as err:
        m = _INFERENCE.search(" ".join(str(err).split()))
        if m is not None and m.group(1) in supported and _find(model, m.group(1), m.group(2)) is not None:
            raise _inference_error(err, model, path) from None


def _find(model: onnx.ModelProto, op: str, name: str | None) -> int | None:
    return next((k for k, n in enumerate(model.graph.node)
                 if n.op_type == op and n.name == (name or "").strip()), None)


def infer_shapes(model: onnx.ModelProto, path: Path) -> onnx.ModelProto:
    """onnx.shape_inference.infer_shapes, its errors in the one-line form."""
    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception as err:
        raise _inference_error(err, model, path) from None


def _inference_error(err: BaseException, model: onnx.ModelProto, path: Path) -> HhbcError:
    text = " ".join(str(err).split())
    m = _INFERENCE.search(text)
    if m is None:
        return HhbcError(f"{path}: ONNX shape inference fails: {text[:300]}")
    op, name, cause = m.group(1), (m.group(2) or "").strip(), m.group(3)
    cause = re.sub(r"\s*\(op_type:.*", "", cause).strip().rstrip(".")
    cause = re.sub(r"\((\d+)\) vs \((\d+)\)",   # element types by number -> by name
                   lambda t: f"{type_name(int(t.group(1)))} vs {type_name(int(t.group(2)))}", cause)
    index = _find(model, op, name)
    label = node_label(model.graph.node[index], index) if index is not None else \
        f"{op} node '{short(name)}'"
    return HhbcError(f"{path}: {label}: {cause[:300]}")


def _typed_outputs(model: onnx.ModelProto, inferred: onnx.ModelProto | None) -> onnx.ModelProto:
    missing = [vi.name for vi in model.graph.output
               if not vi.type.tensor_type.HasField("shape") or not vi.type.tensor_type.elem_type]
    if not missing or inferred is None:
        return model
    found = {vi.name: vi for vi in [*inferred.graph.value_info, *inferred.graph.output]
             if vi.type.tensor_type.HasField("shape") and vi.type.tensor_type.elem_type}
    if not any(name in found for name in missing):
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for vi in model.graph.output:
        if vi.name in missing and vi.name in found:
            vi.type.CopyFrom(found[vi.name].type)
    return model
