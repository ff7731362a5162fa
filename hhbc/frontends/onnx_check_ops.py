"""The per-op half of hhbc.frontends.onnx_check: a table op type -> checks of attributes,
constant operands and inferred shapes, each returning the problem in words (or None).

A check is `check(node, ctx) -> str | None`; onnx_check.check_nodes prefixes the file and
the node ("m.onnx: Conv node 'conv1': ") and raises it as one HhbcError.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from hhbc.limits import Limits, check_tensor, short

NUMPY = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64", TensorProto.FLOAT16: "float16",
         TensorProto.INT8: "int8", TensorProto.UINT8: "uint8", TensorProto.INT16: "int16",
         TensorProto.UINT16: "uint16", TensorProto.INT32: "int32", TensorProto.UINT32: "uint32",
         TensorProto.INT64: "int64", TensorProto.UINT64: "uint64", TensorProto.BOOL: "bool",
         TensorProto.BFLOAT16: "uint16", TensorProto.COMPLEX64: "complex64",
         TensorProto.COMPLEX128: "complex128"}


def type_name(data_type: int) -> str:
    try:
        return TensorProto.DataType.Name(data_type).lower()
    except ValueError:
        return f"type {data_type}"


class Ctx:
    """What the per-op checks read: inferred shapes/dtypes and constant values."""

    def __init__(self, model: onnx.ModelProto, inferred: onnx.ModelProto | None, path: Path, limits: Limits):
        self.path, self.limits = path, limits
        self.label = ""   # the node being checked ("Conv node 'conv1'"), set by check_nodes
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.shapes: dict[str, list[int | None]] = {}
        self.dtypes: dict[str, int] = {}
        g = (inferred or model).graph
        for vi in [*g.input, *g.value_info, *g.output]:
            tt = vi.type.tensor_type
            if tt.elem_type:
                self.dtypes[vi.name] = tt.elem_type
            if tt.HasField("shape"):
                self.shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        self.consts: dict[str, onnx.TensorProto] = {}
        for t in model.graph.initializer:
            self.consts[t.name] = t
            self.shapes[t.name] = list(t.dims)
            self.dtypes[t.name] = t.data_type
        for n in model.graph.node:
            if n.op_type == "Constant" and n.output:
                for a in n.attribute:
                    if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                        self.consts[n.output[0]] = a.t
                        self.shapes[n.output[0]] = list(a.t.dims)
                        self.dtypes[n.output[0]] = a.t.data_type

    def shape(self, name: str) -> list[int | None] | None:
        return self.shapes.get(name) if name else None

    def rank(self, name: str) -> int | None:
        s = self.shape(name)
        return None if s is None else len(s)

    def value(self, name: str) -> np.ndarray | None:
        t = self.consts.get(name) if name else None
        if t is None or math.prod(t.dims) > 1 << 16:
            return None
        try:
            return numpy_helper.to_array(t)
        except Exception:
            return None


def _ints(node: onnx.NodeProto, name: str) -> list[int] | None:
    for a in node.attribute:
        if a.name == name:
            if a.type == onnx.AttributeProto.INTS:
                return list(a.ints)
            if a.type == onnx.AttributeProto.INT:
                return [a.i]
    return None


def _int(node: onnx.NodeProto, name: str, default: int | None = None) -> int | None:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.INT:
            return a.i
    return default


def _floats(node: onnx.NodeProto, name: str) -> list[float] | None:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.FLOATS:
            return list(a.floats)
    return None


def _input(node: onnx.NodeProto, k: int) -> str:
    return node.input[k] if len(node.input) > k else ""


Check = Callable[[onnx.NodeProto, Ctx], "str | None"]


def _spatial(node: onnx.NodeProto, c: Ctx, weighted: bool) -> str | None:
    """Conv/ConvTranspose (weighted) and the pools: every size TVM divides by or indexes with."""
    x = c.shape(_input(node, 0))
    rank = len(x) if x is not None else None
    if weighted:
        w = c.shape(_input(node, 1))
        if w is not None and rank is not None and len(w) != rank:
            return f"weight '{short(_input(node, 1))}' has rank {len(w)}, the input rank {rank}"
        if rank is None and w is not None:
            rank = len(w)
    if rank is not None and rank < 3:
        return f"input rank {rank}: expected N, C and at least one spatial axis"
    spatial = rank - 2 if rank is not None else None
    kernel = _ints(node, "kernel_shape")
    if not weighted and kernel is None and node.op_type not in ("GlobalAveragePool", "GlobalMaxPool"):
        return "kernel_shape is required"
    for attr, low, word in (("kernel_shape", 1, "positive"), ("strides", 1, "positive"),
                            ("dilations", 1, "positive"), ("pads", 0, "non-negative"),
                            ("output_padding", 0, "non-negative"), ("output_shape", 1, "positive")):
        values = _ints(node, attr)
        if values is None:
            continue
        if any(v < low for v in values):
            return f"{attr} {values} must be {word}"
        want = None if spatial is None else (2 * spatial if attr == "pads" else spatial)
        if attr == "output_shape" and spatial is not None and len(values) in (spatial, spatial + 2):
            continue
        if want is not None and len(values) != want:
            return f"{attr} {values} has {len(values)} values, expected {want} for {spatial} spatial axis(es)"
    if not weighted:
        return _pool_output(node, c, x, kernel)
    group = _int(node, "group", 1)
    if group < 1:
        return f"group {group} must be at least 1"
    w = c.shape(_input(node, 1))
    if w is None or x is None:
        return None
    cin, wout, win = x[1], w[0], w[1]
    if any(v is not None and v <= 0 for v in w):
        return f"weight '{short(_input(node, 1))}' has shape {w}: an empty dimension"
    if kernel is not None and len(kernel) == len(w) - 2 and any(
            k != d for k, d in zip(kernel, w[2:]) if d is not None):
        return f"kernel_shape {kernel} does not match the weight's {w[2:]}"
    if node.op_type == "Conv":
        if cin is not None and cin % group:
            return f"group {group} does not divide the {cin} input channels"
        if cin is not None and win is not None and win * group != cin:
            return (f"weight '{short(_input(node, 1))}' {w} expects {win * group} input channels "
                    f"(group {group}), the input has {cin}")
        if wout is not None and wout % group:
            return f"group {group} does not divide the weight's {wout} output channels"
        out_c = wout
    else:
        if cin is not None and wout is not None and wout != cin:
            return f"weight '{short(_input(node, 1))}' {w} expects {wout} input channels, the input has {cin}"
        if cin is not None and cin % group:
            return f"group {group} does not divide the {cin} input channels"
        out_c = None if win is None else win * group
        strides = _ints(node, "strides") or [1] * (len(w) - 2)
        dilations = _ints(node, "dilations") or [1] * (len(w) - 2)
        for o, s, d in zip(_ints(node, "output_padding") or [], strides, dilations):
            if o >= max(s, d):
                return f"output_padding {_ints(node, 'output_padding')} must be smaller than the stride or dilation"
    b = c.shape(_input(node, 2))
    if b is not None and out_c is not None and (len(b) != 1 or b[0] not in (None, out_c)):
        return f"bias '{short(_input(node, 2))}' has shape {b}, expected [{out_c}]"
    if node.op_type == "Conv":
        return _pool_output(node, c, x, list(w[2:]))
    return None


def _pool_output(node, c: Ctx, x, kernel) -> str | None:
    """The output of a windowed op must have at least one element per spatial axis."""
    if x is None or kernel is None or any(v is None for v in kernel) or len(kernel) != len(x) - 2:
        return None
    auto_pad = _str_attr(node, "auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return None   # the output is ceil(input / stride): never empty
    n = len(kernel)
    strides = _ints(node, "strides") or [1] * n
    dilations = _ints(node, "dilations") or [1] * n
    pads = _ints(node, "pads") or [0] * (2 * n)
    if auto_pad == "VALID":
        pads = [0] * (2 * n)
    for axis, (size, k, s, d) in enumerate(zip(x[2:], kernel, strides, dilations)):
        if size is None:
            continue
        span = (k - 1) * d + 1
        padded = size + pads[axis] + pads[axis + n]
        if padded < span:
            return (f"the kernel spans {span} on spatial axis {axis} (kernel {k}, dilation {d}), more than "
                    f"the padded input's {padded}")
        if node.op_type in ("MaxPool", "AveragePool", "LpPool") and (
                pads[axis] >= span or pads[axis + n] >= span):
            return f"pads {pads} must be smaller than the kernel {kernel}"
    return None


def _str_attr(node, name, default):
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.STRING:
            return a.s.decode(errors="replace")
    return default


def _axes_list(node: onnx.NodeProto, c: Ctx, input_index: int) -> list[int] | None:
    axes = _ints(node, "axes")
    if axes is None and _input(node, input_index):
        v = c.value(_input(node, input_index))
        axes = None if v is None else [int(a) for a in v.reshape(-1)]
    return axes


def _check_axes(axes, rank, what="axes") -> str | None:
    if axes is None or rank is None:
        return None
    bad = [a for a in axes if not -rank <= a < rank]
    if bad:
        return f"{what} {axes} out of range for rank {rank}"
    if len({a % rank for a in axes}) != len(axes):
        return f"{what} {axes} repeat an axis"
    return None


def _axis_attr(default=0, inclusive=False):
    def check(node, c):
        axis = _int(node, "axis", default)
        rank = c.rank(_input(node, 0))
        if rank is None or axis is None:
            return None
        high = rank if inclusive else rank - 1   # Flatten's axis may be the rank itself
        if not -rank <= axis <= high:
            return f"axis {axis} out of range [{-rank}, {high}] for rank {rank}"
        return None
    return check


def _transpose(node, c):
    rank = c.rank(_input(node, 0))
    perm = _ints(node, "perm")
    if perm is None:
        return None
    if sorted(perm) != list(range(len(perm))):
        return f"perm {perm} is not a permutation of 0..{len(perm) - 1}"
    if rank is not None and len(perm) != rank:
        return f"perm {perm} has {len(perm)} entries for a rank-{rank} input"
    return None


def _squeeze(node, c):
    rank = c.rank(_input(node, 0))
    axes = _axes_list(node, c, 1)
    problem = _check_axes(axes, rank)
    if problem or axes is None:
        return problem
    shape = c.shape(_input(node, 0))
    if shape is not None:
        for a in axes:
            if shape[a % rank] not in (None, 1):
                return f"axis {a} has size {shape[a % rank]}, not 1"
    return None


def _unsqueeze(node, c):
    rank = c.rank(_input(node, 0))
    axes = _axes_list(node, c, 1)
    return None if rank is None else _check_axes(axes, rank + len(axes or []))


def _concat(node, c):
    axis = _int(node, "axis")
    shapes = [c.shape(i) for i in node.input if i]
    known = [s for s in shapes if s is not None]
    if not known:
        return None
    rank = len(known[0])
    if axis is not None and not -rank <= axis < rank:
        return f"axis {axis} out of range [{-rank}, {rank - 1}] for rank {rank}"
    for s in known[1:]:
        if len(s) != rank:
            return f"inputs have ranks {sorted({len(s) for s in known})}"
        if axis is not None:
            for k, (a, b) in enumerate(zip(known[0], s)):
                if k != axis % rank and a is not None and b is not None and a != b:
                    return f"input shapes {known[0]} and {s} differ off the concatenation axis {axis}"
    return None


def _split(node, c):
    problem = _axis_attr()(node, c)
    if problem:
        return problem
    shape = c.shape(_input(node, 0))
    sizes = _ints(node, "split")
    if sizes is None and _input(node, 1):
        v = c.value(_input(node, 1))
        sizes = None if v is None else [int(s) for s in v.reshape(-1)]
    if sizes is not None:
        if any(s < 0 for s in sizes):
            return f"split sizes {sizes} must not be negative"
        axis = _int(node, "axis", 0)
        if shape is not None and shape[axis % len(shape)] is not None and sum(sizes) != shape[axis % len(shape)]:
            return f"split sizes {sizes} add up to {sum(sizes)}, the axis has {shape[axis % len(shape)]}"
        if len(sizes) != len(node.output):
            return f"split gives {len(sizes)} sizes for {len(node.output)} outputs"
    num = _int(node, "num_outputs")
    if num is not None and num < 1:
        return f"num_outputs {num} must be positive"
    return None


def _gather(node, c):
    problem = _axis_attr()(node, c)
    if problem:
        return problem
    shape = c.shape(_input(node, 0))
    idx = c.value(_input(node, 1))
    if shape is None or idx is None or not shape:
        return None
    dim = shape[_int(node, "axis", 0) % len(shape)]
    if dim is not None and idx.size and (idx.min() < -dim or idx.max() >= dim):
        return f"indices {idx.reshape(-1)[:8].tolist()} out of range for an axis of size {dim}"
    return None


def _slice(node, c):
    rank = c.rank(_input(node, 0))
    if c.opset < 10:
        axes, steps = _ints(node, "axes"), None
    else:
        v = c.value(_input(node, 3))
        axes = None if v is None else [int(a) for a in v.reshape(-1)]
        s = c.value(_input(node, 4))
        steps = None if s is None else [int(a) for a in s.reshape(-1)]
    if steps is not None and 0 in steps:
        return f"steps {steps} must not be zero"
    return _check_axes(axes, rank)


def _reshape(node, c):
    shape = c.value(_input(node, 1)) if c.opset >= 5 else None
    if shape is None:
        given = _ints(node, "shape")
        shape = None if given is None else np.array(given)
    if shape is None:
        return None
    dims = [int(d) for d in shape.reshape(-1)]
    if any(d < -1 for d in dims):
        return f"shape {dims} has a dimension below -1"
    if dims.count(-1) > 1:
        return f"shape {dims} has more than one -1"
    x = c.shape(_input(node, 0))
    if x is None or any(d is None for d in x) or _int(node, "allowzero", 0):
        return None
    if any(d == 0 and k >= len(x) for k, d in enumerate(dims)):
        return f"shape {dims} copies (0) an axis the rank-{len(x)} input does not have"
    out = [x[k] if d == 0 else d for k, d in enumerate(dims)]
    total, known = math.prod(x), math.prod(d for d in out if d != -1)
    if -1 in out:
        if known == 0 or total % known:
            return f"shape {dims} does not fit the input {x} ({total} elements)"
    elif known != total:
        return f"shape {dims} ({known} elements) does not fit the input {x} ({total} elements)"
    return None


def _flatten(node, c):
    return _axis_attr(1, inclusive=True)(node, c)


def _gemm(node, c):
    a, b = c.shape(_input(node, 0)), c.shape(_input(node, 1))
    if a is not None and len(a) != 2:
        return f"A has rank {len(a)}, expected 2"
    if b is not None and len(b) != 2:
        return f"B has rank {len(b)}, expected 2"
    if a is None or b is None:
        return None
    k_a = a[0] if _int(node, "transA", 0) else a[1]
    k_b = b[1] if _int(node, "transB", 0) else b[0]
    if None not in (k_a, k_b) and k_a != k_b:
        return f"A {a} and B {b} disagree on K ({k_a} vs {k_b}; transA={_int(node, 'transA', 0)}, " \
               f"transB={_int(node, 'transB', 0)})"
    return None


def _matmul(node, c):
    a, b = c.shape(_input(node, 0)), c.shape(_input(node, 1))
    if a is None or b is None:
        return None
    if not a or not b:
        return "MatMul needs inputs of rank 1 or more"
    k_a = a[-1]
    k_b = b[-2] if len(b) >= 2 else b[0]
    if None not in (k_a, k_b) and k_a != k_b:
        return f"shapes {a} and {b} disagree on K ({k_a} vs {k_b})"
    return _broadcasts(a[:-2], b[:-2], "batch dims of")


def _broadcasts(a, b, what="") -> str | None:
    for x, y in zip(reversed(a), reversed(b)):
        if None not in (x, y) and x != y and 1 not in (x, y):
            return f"{what + ' ' if what else ''}shapes {list(a)} and {list(b)} do not broadcast"
    return None


def _elementwise(node, c):
    if c.opset < 7:
        return None   # legacy broadcasting ('broadcast'/'axis', PRelu's channel slope): lifted later
    shapes = [c.shape(i) for i in node.input if i]
    known = [s for s in shapes if s is not None]
    for s in known[1:]:
        problem = _broadcasts(known[0], s, "input")
        if problem:
            return problem
    return None


def _pad(node, c):
    rank = c.rank(_input(node, 0))
    pads = _ints(node, "pads") or _ints(node, "paddings")
    if pads is None and c.opset >= 11:
        v = c.value(_input(node, 1))
        pads = None if v is None else [int(p) for p in v.reshape(-1)]
        if _input(node, 3):
            return None   # an 'axes' input: refused with its own message later
    if pads is None or rank is None:
        return None
    if len(pads) != 2 * rank:
        return f"pads {pads} has {len(pads)} values, expected {2 * rank} for a rank-{rank} input"
    mode = _str_attr(node, "mode", "constant")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        return f"mode '{short(mode)}' is not one of constant, reflect, edge"
    return None


def _resize(node, c):
    scales = _floats(node, "scales")
    if scales is None:
        k = 1 if node.op_type == "Upsample" or c.opset < 11 else 2
        v = c.value(_input(node, k))
        scales = None if v is None or not v.size else [float(s) for s in v.reshape(-1)]
    if scales is not None and not all(math.isfinite(s) and s > 0 for s in scales):
        return f"scales {scales} must be positive and finite"
    if node.op_type == "Resize" and c.opset >= 11:
        v = c.value(_input(node, 3))
        if v is not None and v.size and (v <= 0).any():
            return f"sizes {v.reshape(-1).tolist()} must be positive"
    rank = c.rank(_input(node, 0))
    if scales is not None and rank is not None and _ints(node, "axes") is None and len(scales) != rank:
        return f"scales {scales} has {len(scales)} values for a rank-{rank} input"
    return None


def _blocksize(node, c):
    b = _int(node, "blocksize")
    if b is not None and b < 1:
        return f"blocksize {b} must be positive"
    x = c.shape(_input(node, 0))
    if b is None or x is None or len(x) != 4:
        return None
    if node.op_type == "DepthToSpace" and x[1] is not None and x[1] % (b * b):
        return f"blocksize {b}: the {x[1]} channels are not a multiple of {b * b}"
    if node.op_type == "SpaceToDepth" and any(d is not None and d % b for d in x[2:]):
        return f"blocksize {b} does not divide the spatial size {x[2:]}"
    return None


def _tile(node, c):
    v = c.value(_input(node, 1))
    rank = c.rank(_input(node, 0))
    if v is None:
        return None
    reps = [int(r) for r in v.reshape(-1)]
    if any(r < 0 for r in reps):
        return f"repeats {reps} must not be negative"
    if rank is not None and len(reps) != rank:
        return f"repeats {reps} has {len(reps)} values for a rank-{rank} input"
    return None


def _expand(node, c):
    v = c.value(_input(node, 1))
    x = c.shape(_input(node, 0))
    if v is None or x is None:
        return None
    shape = [int(d) for d in v.reshape(-1)]
    if any(d < 0 for d in shape):
        return f"shape {shape} has a negative dimension"
    return _broadcasts(x, shape, "input and target")


def _constant_of_shape(node, c):
    v = c.value(_input(node, 0))
    if v is not None and v.size and (v < 0).any():
        return f"shape {v.reshape(-1).tolist()} has a negative dimension"
    return None


def _range(node, c):
    values = [c.value(_input(node, k)) for k in range(3)]
    if any(v is None or v.size != 1 for v in values):
        return None
    start, limit, delta = (float(v.reshape(-1)[0]) for v in values)
    if delta == 0 or not math.isfinite(delta):
        return f"delta {delta:g} must be non-zero and finite"
    if not (math.isfinite(start) and math.isfinite(limit)):
        return f"start {start:g} and limit {limit:g} must be finite"
    count = max(math.ceil((limit - start) / delta), 0)
    dtype = NUMPY.get(c.dtypes.get(_input(node, 0), TensorProto.FLOAT), "float32")
    check_tensor(c.limits, f"{c.path}: {c.label}: its output", [count], dtype)
    return None


def _positive_attr(name):
    def check(node, c):
        v = _int(node, name)
        if v is not None and v < 1:
            return f"{name} {v} must be positive"
        return None
    return check


def _norm(node, c):
    """BatchNormalization/InstanceNormalization: per-channel operands of C values."""
    x = c.shape(_input(node, 0))
    if x is None or len(x) < 2 or x[1] is None:
        return None
    for k in range(1, len(node.input)):
        s = c.shape(node.input[k]) if node.input[k] else None
        if s is not None and (len(s) != 1 or s[0] not in (None, x[1])):
            return f"operand '{short(node.input[k])}' has shape {s}, expected [{x[1]}] (the channels)"
    return None


def _reduce(node, c):
    rank = c.rank(_input(node, 0))
    axes = _axes_list(node, c, 1) if c.opset >= 18 or node.op_type == "ReduceSum" and c.opset >= 13 \
        else _ints(node, "axes")
    return _check_axes(axes, rank)


def not_empty(*positions: int) -> Check:
    """The data operands (and weights) of a compute op must hold elements: TVM divides by
    their sizes, and a kernel over nothing is a model bug."""
    def check(node, c):
        for k in positions:
            shape = c.shape(_input(node, k))
            if shape is not None and 0 in shape:
                return f"operand '{short(_input(node, k))}' has shape {shape}: an empty dimension"
        return None
    return check


EMPTY_CHECKED = {
    **{op: (0, 1) for op in ("Conv", "ConvTranspose", "Gemm", "MatMul", "PRelu")},
    **{op: (0,) for op in ("MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "Softmax",
                           "LogSoftmax", "Resize", "Upsample", "BatchNormalization", "InstanceNormalization",
                           "LRN", "DepthToSpace", "SpaceToDepth", "ReduceMean", "ReduceMax", "ReduceMin",
                           "ArgMax", "ArgMin")},
}

CHECKS: dict[str, list[Check]] = {
    "Conv": [lambda n, c: _spatial(n, c, True)],
    "ConvTranspose": [lambda n, c: _spatial(n, c, True)],
    **{op: [lambda n, c: _spatial(n, c, False)] for op in ("MaxPool", "AveragePool", "LpPool")},
    "Transpose": [_transpose],
    "Squeeze": [_squeeze], "Unsqueeze": [_unsqueeze],
    "Concat": [_concat], "Split": [_split], "Gather": [_gather], "Slice": [_slice],
    "Reshape": [_reshape], "Flatten": [_flatten],
    **{op: [_axis_attr(-1 if op != "Hardmax" else 1)] for op in ("Softmax", "LogSoftmax", "Hardmax")},
    **{op: [_axis_attr(0)] for op in ("ArgMax", "ArgMin", "CumSum")},
    **{op: [_reduce] for op in ("ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd",
                                 "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare")},
    "Gemm": [_gemm], "MatMul": [_matmul],
    **{op: [_elementwise] for op in ("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
                                     "PRelu", "Where", "Equal", "Less", "Greater", "And", "Or")},
    "Pad": [_pad], "Resize": [_resize], "Upsample": [_resize],
    "DepthToSpace": [_blocksize], "SpaceToDepth": [_blocksize],
    "Tile": [_tile], "Expand": [_expand], "ConstantOfShape": [_constant_of_shape], "Range": [_range],
    "LRN": [_positive_attr("size")],
    "BatchNormalization": [_norm], "InstanceNormalization": [_norm],
}

# Ops whose operands must share one element type (ONNX's type constraint 'T' on all of them).
SAME_DTYPE = {
    **{op: None for op in ("Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "PRelu", "MatMul",
                           "Concat", "Equal", "Less", "Greater")},
    "Conv": (0, 1, 2), "ConvTranspose": (0, 1, 2), "Gemm": (0, 1, 2),
    "BatchNormalization": (0, 1, 2), "InstanceNormalization": (0, 1, 2), "Where": (1, 2),
}


def dtypes(node: onnx.NodeProto, c: Ctx) -> str | None:
    positions = SAME_DTYPE.get(node.op_type, ())
    if positions is None:
        positions = range(len(node.input))
    seen = [(node.input[k], c.dtypes.get(node.input[k])) for k in positions
            if k < len(node.input) and node.input[k]]
    seen = [(name, t) for name, t in seen if t]
    for name, t in seen[1:]:
        if t != seen[0][1]:
            return (f"operands '{short(seen[0][0])}' ({type_name(seen[0][1])}) and '{short(name)}' "
                    f"({type_name(t)}) have different element types")
    return None


# Ops whose outputs onnxsim folds when their operands are constant: their size is checked
# before onnxsim allocates them.
FOLDED = frozenset({"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "Concat",
                     "MatMul", "Gemm", "Mul", "Add", "Sub", "Div", "Gather", "Reshape", "Transpose",
                     "Slice", "Where", "OneHot", "Cast", "Unsqueeze", "Squeeze", "Flatten"})
