"""TensorFlow op converters, one per op type, in one table (OPS).

A converter gets the node and its inputs' values and returns the output value(s).
A value is a numpy array (a constant: weights, and shape arithmetic, which is
evaluated here at import), a Relax expression, or an Affine: a conv2d / MatMul
with constant weights that is emitted only when something other than a bias,
a per-channel Mul/Add/Sub or a FusedBatchNorm reads it, so those fold into its
weights and bias. Converters may emit intermediate calls through `cv.emit`; a
Relax call they return is emitted by the caller, stamped with the node's name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from hhbc.frontends import tensorflow_schema as schema

if TYPE_CHECKING:
    from hhbc.frontends.tensorflow import _Converter

# Largest stride, window, dilation or pad hhbc accepts: beyond it TVM's int32 shape
# arithmetic overflows (and no real network comes near).
MAX_WINDOW = 1 << 16

# Ops that only pass their input on (in a frozen inference graph).
_PASS_THROUGH = {"Identity", "StopGradient", "Snapshot", "CheckNumerics", "PreventGradient"}


@dataclass
class Affine:
    """conv2d / matmul with constant weights, not yet emitted, so that a bias,
    per-channel Mul/Add/Sub and FusedBatchNorm after it fold into its weights.

    weight is OHWI (conv) or [K][N] (dense); the output channels are axis 0 / 1.
    A conv in an NCHW graph computes NHWC between two transposes (nchw=True).
    """

    kind: str
    data: Any                    # Relax var: NHWC input (conv) or [..., K] (dense)
    weight: np.ndarray
    bias: np.ndarray | None
    conv: dict | None            # conv2d keyword attrs
    nchw: bool
    out_shape: tuple[int, ...]   # as TensorFlow sees it
    layers: list[str]            # the producer's node name, then the folded ones
    block: tuple[int, int] | None = None   # after SpaceToBatchND: waits for BatchToSpaceND

    @property
    def channel_axis(self) -> int:
        return 1 if self.nchw else len(self.out_shape) - 1

    @property
    def channels(self) -> int:
        return self.weight.shape[0 if self.kind == "conv" else 1]

    def scaled(self, scale: np.ndarray, shift: np.ndarray, layer: str) -> "Affine":
        """The affine followed by y * scale + shift (per output channel)."""
        axis_shape = (-1, 1, 1, 1) if self.kind == "conv" else (1, -1)
        weight = (self.weight * scale.reshape(axis_shape)).astype(np.float32)
        bias = self.bias if self.bias is not None else np.zeros(self.channels, np.float32)
        return replace(self, weight=weight, bias=(bias * scale + shift).astype(np.float32),
                       layers=self.layers + [layer])


# ---------------------------------------------------------------- layout helpers
def _data_format(cv: _Converter) -> str:
    fmt = cv.attr("data_format", "NHWC")
    if fmt not in ("NHWC", "NCHW"):
        cv.fail(f"data_format {fmt} is not supported (NHWC, NCHW)")
    return fmt


def _spatial(cv: _Converter, key: str, fmt: str, default: int = 1, values=None) -> tuple[int, int]:
    """A 4-entry attr (strides, ksize, dilations) in data_format order -> (h, w)."""
    values = values or cv.attr(key) or [default] * 4
    if len(values) != 4:
        cv.fail(f"{key} {values} must have 4 entries")
    if any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_WINDOW for v in values):
        cv.fail(f"{key} {values}: every entry must be between 1 and {MAX_WINDOW}")
    batch, channel = (values[0], values[3]) if fmt == "NHWC" else (values[0], values[1])
    if (batch, channel) != (1, 1):
        cv.fail(f"{key} {values}: only the spatial dims may differ from 1")
    return (values[1], values[2]) if fmt == "NHWC" else (values[2], values[3])


def _pads(cv: _Converter, fmt: str, in_hw, kernel, strides, dilations) -> tuple[int, int, int, int]:
    """TF padding -> (top, left, bottom, right). SAME puts the odd pixel after."""
    padding = cv.attr("padding", "VALID")
    if padding == "VALID":
        return (0, 0, 0, 0)
    if padding == "EXPLICIT":
        p = cv.attr("explicit_paddings") or [0] * 8
        if len(p) != 8 or any(not 0 <= v <= MAX_WINDOW for v in p):
            cv.fail(f"explicit_paddings {p} must be 8 values between 0 and {MAX_WINDOW}")
        (t, b), (l, r) = ((p[2], p[3]), (p[4], p[5])) if fmt == "NHWC" else ((p[4], p[5]), (p[6], p[7]))
        return (t, l, b, r)
    if padding != "SAME":
        cv.fail(f"padding {padding} is not supported")
    before, after = [], []
    for size, k, s, d in zip(in_hw, kernel, strides, dilations):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return (before[0], before[1], after[0], after[1])


def _to_nhwc(cv: _Converter, x, fmt: str):
    """x as an NHWC Relax var (for an NCHW node, through a transpose)."""
    x = cv.expr(x)
    if len(cv.shape(x)) != 4:
        cv.fail(f"only 4-D inputs are supported, not rank {len(cv.shape(x))}")
    if fmt == "NCHW":
        return cv.emit(cv.relax.op.permute_dims(x, [0, 2, 3, 1]))
    return x


def _from_nhwc(cv: _Converter, y, fmt: str):
    return cv.relax.op.permute_dims(cv.emit(y), [0, 3, 1, 2]) if fmt == "NCHW" else y


# ---------------------------------------------------------------- op converters
def _identity(cv, node, args):
    return args[0] if args else cv.fail("has no input")


def _identity_n(cv, node, args):
    return list(args)


def _const(cv, node, args):
    tensor = cv.attr("value")
    if tensor is None:
        cv.fail("has no 'value' attribute")
    dims = schema.shape_dims(tensor.tensor_shape) or []
    dtype = schema.numpy_dtype(tensor.dtype)
    if dtype is not None:
        cv.check_size(dims, dtype, "value", constant=True)
    try:
        return schema.tensor_to_numpy(tensor)
    except (ValueError, KeyError) as err:
        cv.fail(f"cannot read the {err}")


def _conv2d(cv, node, args):
    from hhbc.frontends.tensorflow_movement import SpaceToBatch, dilated_conv_input

    x, w = args
    fmt = _data_format(cv)
    w = cv.const(w, "the filter")
    if w.ndim != 4:
        cv.fail(f"filter of rank {w.ndim}; only 2-D convolution (a 4-D filter) is supported")
    block = None
    if isinstance(x, SpaceToBatch):   # SpaceToBatchND -> conv -> BatchToSpaceND: a dilated conv
        if fmt != "NHWC":
            cv.fail("a convolution after SpaceToBatchND must be NHWC")
        x, block, pads = dilated_conv_input(cv, node, x)
    x = _to_nhwc(cv, x, fmt)
    n, h, wd, c = cv.shape(x)
    strides, dilations = _spatial(cv, "strides", fmt), _spatial(cv, "dilations", fmt)
    if block is not None:
        dilations = block
    kh, kw = w.shape[:2]
    if node.op == "DepthwiseConv2dNative":
        if w.shape[2] != c:
            cv.fail(f"filter {list(w.shape)} does not match {c} input channels")
        mult = w.shape[3]
        # [KH][KW][C][M] -> OHWI [C*M][KH][KW][1]: output channel c*M + m reads channel c
        weight, groups = w.reshape(kh, kw, c * mult).transpose(2, 0, 1)[..., None], c
    else:
        if c % w.shape[2]:
            cv.fail(f"filter {list(w.shape)} does not match {c} input channels")
        weight, groups = w.transpose(3, 0, 1, 2), c // w.shape[2]   # HWIO -> OHWI
    if block is None:
        pads = _pads(cv, fmt, (h, wd), (kh, kw), strides, dilations)
    oc = weight.shape[0]
    oh = (h + pads[0] + pads[2] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    if oh <= 0 or ow <= 0:
        cv.fail(f"a {kh}x{kw} filter does not fit the {h}x{wd} input")
    attrs = dict(strides=strides, padding=pads, dilation=dilations, groups=groups,
                 data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    out_shape = (n, oh, ow, oc) if fmt == "NHWC" else (n, oc, oh, ow)
    return Affine("conv", x, weight.astype(np.float32), None, attrs, fmt == "NCHW", out_shape, [node.name], block)


def _matmul(cv, node, args):
    relax = cv.relax
    a, b = args
    ta = bool(cv.attr("transpose_a", False) or cv.attr("adj_x", False))
    tb = bool(cv.attr("transpose_b", False) or cv.attr("adj_y", False))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b)

    def operand(value, transpose):
        value = cv.expr(value)
        if not transpose:
            return value
        rank = len(cv.shape(value))
        return cv.emit(relax.op.permute_dims(value, list(range(rank - 2)) + [rank - 1, rank - 2]))

    if isinstance(b, np.ndarray) and b.ndim == 2 and node.op == "MatMul":
        weight = (b.T if tb else b).astype(np.float32)
        data = operand(a, ta)
        if cv.shape(data)[-1] != weight.shape[0]:
            cv.fail(f"cannot multiply {list(cv.shape(data))} by {list(weight.shape)}")
        out_shape = cv.shape(data)[:-1] + (weight.shape[1],)
        return Affine("dense", data, weight, None, None, False, out_shape, [node.name])
    return relax.op.matmul(operand(a, ta), operand(b, tb))


def _bias_add(cv, node, args):
    x, b = args
    b = cv.const(b, "the bias")
    rank = len(cv.shape(x))
    if _data_format(cv) == "NCHW" and rank >= 3:
        b = b.reshape((-1,) + (1,) * (rank - 2))
    return _binary(cv, node, [x, b], "Add")


_NUMPY_BINARY = {
    "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply, "RealDiv": np.true_divide,
    "Maximum": np.maximum, "Minimum": np.minimum, "FloorDiv": np.floor_divide, "FloorMod": np.mod,
    "Pow": np.power, "SquaredDifference": lambda a, b: np.square(a - b), "Div": np.true_divide,
}
_RELAX_BINARY = {"Add": "add", "AddV2": "add", "Sub": "subtract", "Mul": "multiply", "RealDiv": "divide",
                 "Maximum": "maximum", "Minimum": "minimum", "Pow": "power", "SquaredDifference": "subtract",
                 "Div": "divide"}


def _binary(cv, node, args, op: str | None = None):
    op = op or node.op
    a, b = args
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _NUMPY_BINARY[op](a, b).astype(np.result_type(a, b))
    if op not in _RELAX_BINARY:
        cv.fail("only constant inputs are supported (shape arithmetic)")
    if _RELAX_BINARY[op] == "divide" and isinstance(b, np.ndarray) and not np.all(b != 0):
        cv.fail("divides by a constant that holds 0")   # TVM's constant folding aborts on it
    folded = _fold_into_affine(cv, op, a, b)
    if folded is not None:
        return folded
    if op in ("Add", "AddV2"):
        prelu = _keras_prelu(cv, node)
        if prelu is not None:
            return prelu
    dtype = "float32"
    for v in (a, b):
        if not isinstance(v, (np.ndarray, Affine)):
            dtype = str(v.ty.dtype)
    y = getattr(cv.relax.op, _RELAX_BINARY[op])(cv.expr(a, dtype), cv.expr(b, dtype))
    if op == "SquaredDifference":   # (a - b)^2 as a multiply
        d = cv.emit(y)
        return cv.relax.op.multiply(d, d)
    return y


def _keras_prelu(cv, node):
    """Keras' PReLU, relu(x) + (-alpha) * relu(-x) with alpha per channel (or shared), as one
    prelu kernel; the Relu/Neg/Mul it replaces are left unused (dead code elimination drops them)."""
    graph = cv.graph

    def producer(ref, op):
        n = graph.nodes.get(ref[0])
        return n if n is not None and n.op == op and ref[1] == 0 else None

    refs = graph.data_inputs(node)
    for pos_ref, neg_ref in (refs, refs[::-1]):
        pos, mul = producer(pos_ref, "Relu"), producer(neg_ref, "Mul")
        if pos is None or mul is None:
            continue
        x_ref = graph.data_inputs(pos)[0]
        mul_in = graph.data_inputs(mul)
        for c_ref, r_ref in (mul_in, mul_in[::-1]):
            relu = producer(r_ref, "Relu")
            neg = producer(graph.data_inputs(relu)[0], "Neg") if relu is not None else None
            c = cv.values.get(c_ref)
            if neg is None or graph.data_inputs(neg)[0] != x_ref or not isinstance(c, np.ndarray):
                continue
            shape = cv.shape(cv.values[x_ref])
            if c.dtype.kind != "f" or c.ndim > len(shape) or any(d != 1 for d in c.shape[:-1]) or \
                    (c.ndim and c.shape[-1] not in (1, shape[-1])):
                return None
            slope = np.broadcast_to(-c.reshape(-1), (shape[-1],)).astype(np.float32)
            return cv.relax.op.nn.prelu(cv.expr(cv.values[x_ref]), cv.relax.const(slope), axis=len(shape) - 1)
    return None


def _per_channel(c: np.ndarray, aff: Affine) -> np.ndarray | None:
    """c as one value per output channel of aff, if it broadcasts only along channels."""
    rank = len(aff.out_shape)
    if c.ndim > rank or c.dtype.kind != "f":
        return None
    shape = (1,) * (rank - c.ndim) + c.shape
    if any(d != 1 for i, d in enumerate(shape) if i != aff.channel_axis):
        return None
    if shape[aff.channel_axis] not in (1, aff.channels):
        return None
    return np.broadcast_to(c.reshape(-1), (aff.channels,)).astype(np.float32)


def _fold_into_affine(cv, op, a, b):
    k = 0 if isinstance(a, Affine) else 1
    aff, c = (a, b) if k == 0 else (b, a)
    if not isinstance(aff, Affine) or not isinstance(c, np.ndarray) or not cv.foldable(k):
        return None
    if op == "Sub" and k == 1:
        return None
    vec = _per_channel(c, aff)
    if vec is None:
        return None
    ones, zeros = np.ones_like(vec), np.zeros_like(vec)
    if op in ("Add", "AddV2"):
        return aff.scaled(ones, vec, cv.node.name)
    if op == "Sub":
        return aff.scaled(ones, -vec, cv.node.name)
    if op == "Mul":
        return aff.scaled(vec, zeros, cv.node.name)
    return None


def _add_n(cv, node, args):
    y = args[0]
    for k, v in enumerate(args[1:]):
        both = isinstance(y, np.ndarray) and isinstance(v, np.ndarray)
        y = (y + v) if both else cv.relax.op.add(cv.expr(y), cv.expr(v))
        if k < len(args) - 2 and not both:
            y = cv.emit(y)
    return y


def _clip_by_value(cv, node, args):
    x, lo, hi = args
    if isinstance(x, np.ndarray) and isinstance(lo, np.ndarray) and isinstance(hi, np.ndarray):
        return np.minimum(np.maximum(x, lo), hi).astype(x.dtype)
    lo, hi = cv.const(lo, "clip_value_min"), cv.const(hi, "clip_value_max")
    relax = cv.relax
    if lo.size == 1 and hi.size == 1:
        return relax.op.clip(cv.expr(x), float(lo.reshape(-1)[0]), float(hi.reshape(-1)[0]))
    return relax.op.minimum(cv.emit(relax.op.maximum(cv.expr(x), cv.expr(lo))), cv.expr(hi))


def _arg_reduce(cv, node, args):
    """ArgMax / ArgMin along one (constant) axis: the argreduce kernel, writing int64 or int32."""
    x, axis = args
    rank = len(cv.shape(x))
    axis = _axes(cv, axis, rank)
    dtype = schema.numpy_dtype(cv.attr("output_type", 9)) or "int64"
    if len(axis) != 1 or dtype not in ("int32", "int64"):
        cv.fail(f"needs one axis and an int32/int64 output (got {axis}, {dtype})")
    if isinstance(x, np.ndarray):
        fn = np.argmax if node.op == "ArgMax" else np.argmin
        return fn(x, axis=axis[0]).astype(dtype)
    op = cv.relax.op.argmax if node.op == "ArgMax" else cv.relax.op.argmin
    y = op(cv.expr(x), axis[0], False)
    return cv.relax.op.astype(cv.emit(y), dtype) if dtype != "int64" else y


def _batch_norm(cv, node, args):
    x = args[0]
    scale, offset, mean, var = (cv.const(v, "scale, offset, mean and variance") for v in args[1:5])
    if cv.attr("is_training", False):
        cv.fail("is_training=true (batch statistics) is not supported; freeze the graph for inference")
    fmt = _data_format(cv)
    eps = float(cv.attr("epsilon", 1e-4))
    s = (scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)).astype(np.float32)
    shift = (offset - mean * s).astype(np.float32)
    rank = len(cv.shape(x))
    axis = 1 if fmt == "NCHW" else rank - 1
    unused = [None] * 5   # batch_mean, batch_variance, reserve spaces: training only
    if isinstance(x, np.ndarray):
        bshape = [1] * rank
        bshape[axis] = -1
        return [(x * s.reshape(bshape) + shift.reshape(bshape)).astype(np.float32)] + unused
    if isinstance(x, Affine) and x.channel_axis == axis and cv.foldable(0):
        return [x.scaled(s, shift, node.name)] + unused
    bshape = [1] * rank
    bshape[axis] = -1
    relax = cv.relax
    y = cv.emit(relax.op.multiply(cv.expr(x), relax.const(s.reshape(bshape))))
    return [relax.op.add(y, relax.const(shift.reshape(bshape)))] + unused


def _unary(np_fn: Callable, relax_fn: Callable):
    def convert(cv, node, args):
        x = args[0]
        if isinstance(x, np.ndarray):
            return np_fn(x, cv).astype(x.dtype)
        return relax_fn(cv, cv.expr(x))

    return convert


_UNARY = {
    "Relu": _unary(lambda x, cv: np.maximum(x, 0), lambda cv, x: cv.relax.op.nn.relu(x)),
    "Relu6": _unary(lambda x, cv: np.clip(x, 0, 6), lambda cv, x: cv.relax.op.clip(x, 0.0, 6.0)),
    "LeakyRelu": _unary(lambda x, cv: np.where(x > 0, x, x * cv.attr("alpha", 0.2)),
                        lambda cv, x: cv.relax.op.nn.leakyrelu(x, float(cv.attr("alpha", 0.2)))),
    "Sigmoid": _unary(lambda x, cv: 1 / (1 + np.exp(-x)), lambda cv, x: cv.relax.op.sigmoid(x)),
    "Tanh": _unary(lambda x, cv: np.tanh(x), lambda cv, x: cv.relax.op.tanh(x)),
    "Rsqrt": _unary(lambda x, cv: 1 / np.sqrt(x), lambda cv, x: cv.relax.op.rsqrt(x)),
    "Sqrt": _unary(lambda x, cv: np.sqrt(x), lambda cv, x: cv.relax.op.sqrt(x)),
    "Exp": _unary(lambda x, cv: np.exp(x), lambda cv, x: cv.relax.op.exp(x)),
    "Neg": _unary(lambda x, cv: -x, lambda cv, x: cv.relax.op.negative(x)),
    "Abs": _unary(lambda x, cv: np.abs(x), lambda cv, x: cv.relax.op.abs(x)),
    "Log": _unary(lambda x, cv: np.log(x), lambda cv, x: cv.relax.op.log(x)),
    "Erf": _unary(lambda x, cv: _np_erf(x), lambda cv, x: cv.relax.op.erf(x)),
    "Square": _unary(lambda x, cv: x * x, lambda cv, x: cv.relax.op.multiply(x, x)),
    "Reciprocal": _unary(lambda x, cv: 1 / x, lambda cv, x: cv.relax.op.divide(cv.relax.const(np.float32(1)), x)),
    # composed of the unary and binary kernels
    "Elu": _unary(lambda x, cv: np.where(x > 0, x, np.expm1(x)), lambda cv, x: _elu(cv, x, 1.0, 1.0)),
    "Selu": _unary(lambda x, cv: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
                   lambda cv, x: _elu(cv, x, _SELU_ALPHA, _SELU_SCALE)),
    "Softplus": _unary(lambda x, cv: np.logaddexp(x, 0), lambda cv, x: cv.relax.op.nn.softplus(x)),
    "Floor": _unary(lambda x, cv: np.floor(x), lambda cv, x: cv.relax.op.floor(x)),
    "Ceil": _unary(lambda x, cv: np.ceil(x), lambda cv, x: cv.relax.op.ceil(x)),
    "Round": _unary(lambda x, cv: np.round(x), lambda cv, x: cv.relax.op.round(x)),   # half to even, as TF
    "Sign": _unary(lambda x, cv: np.sign(x), lambda cv, x: cv.relax.op.sign(x)),
    "Softsign": _unary(lambda x, cv: x / (1 + np.abs(x)), lambda cv, x: _softsign(cv, x)),
}
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _np_erf(x):
    from math import erf
    return np.vectorize(erf)(x)


def _elu(cv, x, alpha: float, scale: float):
    """scale * (relu(x) - alpha * relu(1 - exp(x))): ELU (alpha 1, scale 1) and SELU."""
    op, const = cv.relax.op, cv.relax.const
    neg = cv.emit(op.nn.relu(cv.emit(op.subtract(const(np.float32(1)), cv.emit(op.exp(x))))))
    y = cv.emit(op.subtract(cv.emit(op.nn.relu(x)), cv.emit(op.multiply(neg, const(np.float32(alpha))))))
    return op.multiply(y, const(np.float32(scale))) if scale != 1.0 else y


def _softsign(cv, x):
    op = cv.relax.op
    return op.divide(x, cv.emit(op.add(cv.emit(op.abs(x)), cv.relax.const(np.float32(1)))))


def _lrn(cv, node, args):
    """x / (bias + alpha * sum of x^2 over channels [c - r, c + r])^beta, NHWC; written as the
    pattern optimize/fusion.py turns into one lrn kernel (the channel sum a 1x1 conv of ones)."""
    op, const = cv.relax.op, cv.relax.const
    x = cv.expr(args[0])
    shape = cv.shape(x)
    if len(shape) != 4:
        cv.fail(f"needs a 4-D NHWC input, not {list(shape)}")
    c, r = shape[3], int(cv.attr("depth_radius", 5))
    cv.check_size((c, 1, 1, c), "float32", "the channel window", constant=True)
    band = np.zeros((c, 1, 1, c), np.float32)   # OHWI
    for o in range(c):
        band[o, 0, 0, max(0, o - r):min(c, o + r + 1)] = 1.0
    sq = cv.emit(op.multiply(x, x))
    total = cv.emit(op.nn.conv2d(sq, const(band), data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC"))
    denom = cv.emit(op.add(cv.emit(op.multiply(total, const(np.float32(cv.attr("alpha", 1.0))))),
                           const(np.float32(cv.attr("bias", 1.0)))))
    return op.multiply(x, cv.emit(op.power(denom, const(np.float32(-float(cv.attr("beta", 0.5)))))))


def _pool(cv, node, args):
    fmt = _data_format(cv)
    x = _to_nhwc(cv, args[0], fmt)
    _, h, w, _ = cv.shape(x)
    given = {}
    if node.op == "MaxPoolV2":   # ksize and strides are (constant) inputs
        given = {k: np.asarray(cv.const(v, "ksize and strides")).reshape(-1).tolist()
                 for k, v in zip(("ksize", "strides"), args[1:3])}
    kernel = _spatial(cv, "ksize", fmt, values=given.get("ksize"))
    strides = _spatial(cv, "strides", fmt, values=given.get("strides"))
    pads = _pads(cv, fmt, (h, w), kernel, strides, (1, 1))
    pool = cv.relax.op.nn.avg_pool2d if node.op == "AvgPool" else cv.relax.op.nn.max_pool2d
    # TF's SAME average excludes the padding from the count
    y = pool(x, kernel, strides, pads, (1, 1), False, False, "NHWC")
    return _from_nhwc(cv, y, fmt)


def _axes(cv, value, rank: int) -> list[int]:
    axes = np.asarray(cv.const(value, "the axes")).reshape(-1)
    if any(not -rank <= a < rank for a in axes):
        cv.fail(f"axis {axes.tolist()} out of range for rank {rank}")
    return sorted({int(a) % rank for a in axes})


def _reshape(cv, node, args):
    x, shape = args
    shape = [int(d) for d in cv.const(shape, "the target shape").reshape(-1)]
    size = int(np.prod(cv.shape(x), dtype=np.int64))
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or size % known:
            cv.fail(f"cannot reshape {list(cv.shape(x))} to {shape}")
        shape[shape.index(-1)] = size // known
    if int(np.prod(shape, dtype=np.int64)) != size:
        cv.fail(f"cannot reshape {list(cv.shape(x))} to {shape}")
    if isinstance(x, np.ndarray):
        return x.reshape(shape)
    return cv.relax.op.reshape(cv.expr(x), shape)


def _squeeze(cv, node, args):
    x = args[0]
    in_shape = cv.shape(x)
    dims = cv.attr("squeeze_dims") or cv.attr("axis", kind="ints") or []
    axes = _axes(cv, np.array(dims, np.int64), len(in_shape)) if dims else \
        [i for i, d in enumerate(in_shape) if d == 1]
    if any(in_shape[a] != 1 for a in axes):
        cv.fail(f"cannot squeeze dims {axes} of {list(in_shape)}")
    if isinstance(x, np.ndarray):
        return np.squeeze(x, tuple(axes))
    return cv.relax.op.squeeze(cv.expr(x), axes)


def _expand_dims(cv, node, args):
    x, dim = args
    rank = len(cv.shape(x))
    axis = int(np.asarray(cv.const(dim, "the axis")).reshape(-1)[0])
    if not -rank - 1 <= axis <= rank:
        cv.fail(f"axis {axis} out of range for rank {rank}")
    axis %= rank + 1
    if isinstance(x, np.ndarray):
        return np.expand_dims(x, axis)
    return cv.relax.op.expand_dims(cv.expr(x), axis)


_NUMPY_REDUCE = {"Mean": np.mean, "Sum": np.sum, "Max": np.max, "Min": np.min, "Prod": np.prod}
_RELAX_REDUCE = {"Mean": "mean", "Sum": "sum", "Max": "max", "Min": "min"}


def _reduce(cv, node, args):
    x, axes = args
    keep = bool(cv.attr("keep_dims", False))
    axes = _axes(cv, axes, len(cv.shape(x)))
    if isinstance(x, np.ndarray):
        return np.asarray(_NUMPY_REDUCE[node.op](x, axis=tuple(axes), keepdims=keep)).astype(x.dtype)
    if node.op not in _RELAX_REDUCE:
        cv.fail("only constant inputs are supported (shape arithmetic)")
    if not axes:
        return cv.expr(x)
    return getattr(cv.relax.op, _RELAX_REDUCE[node.op])(cv.expr(x), axes, keep)


def _softmax(cv, node, args):
    x = args[0]
    if isinstance(x, np.ndarray):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
        return (np.log(y) if node.op == "LogSoftmax" else y).astype(x.dtype)
    op = cv.relax.op.nn.log_softmax if node.op == "LogSoftmax" else cv.relax.op.nn.softmax
    return op(cv.expr(x), axis=-1)


def _concat(cv, node, args):
    values, axis = (args[:-1], args[-1]) if node.op == "ConcatV2" else (args[1:], args[0])
    rank = len(cv.shape(values[0]))
    axis = _axes(cv, axis, rank)[0]
    if all(isinstance(v, np.ndarray) for v in values):
        return np.concatenate(values, axis)
    if len(values) == 1:
        return cv.expr(values[0])
    return cv.relax.op.concat([cv.expr(v) for v in values], axis)


def _pack(cv, node, args):
    rank = len(cv.shape(args[0])) + 1
    axis = int(cv.attr("axis", 0))
    if not -rank <= axis < rank:
        cv.fail(f"axis {axis} out of range for rank {rank}")
    axis %= rank
    if all(isinstance(v, np.ndarray) for v in args):
        return np.stack(args, axis)
    parts = [cv.emit(cv.relax.op.expand_dims(cv.expr(v), axis)) for v in args]
    return cv.relax.op.concat(parts, axis) if len(parts) > 1 else parts[0]


def _pad(cv, node, args):
    x, paddings = args[0], cv.const(args[1], "the paddings")
    rank = len(cv.shape(x))
    paddings = np.asarray(paddings).reshape(-1, 2)
    if paddings.shape[0] != rank or (paddings < 0).any():
        cv.fail(f"paddings {paddings.tolist()} do not fit rank {rank}")
    cv.check_size([int(d) + int(p.sum()) for d, p in zip(cv.shape(x), paddings)],
                  x.dtype if isinstance(x, np.ndarray) else "float32", constant=isinstance(x, np.ndarray))
    value = 0.0
    if node.op == "PadV2":
        value = float(np.asarray(cv.const(args[2], "constant_values")).reshape(-1)[0])
    if isinstance(x, np.ndarray):
        return np.pad(x, paddings, constant_values=value)
    return cv.relax.op.nn.pad(cv.expr(x), [int(v) for v in paddings.reshape(-1)], "constant", value)


def _transpose(cv, node, args):
    x = args[0]
    perm = [int(p) for p in np.asarray(cv.const(args[1], "the permutation")).reshape(-1)]
    if sorted(perm) != list(range(len(cv.shape(x)))):
        cv.fail(f"perm {perm} is not a permutation of rank {len(cv.shape(x))}")
    if isinstance(x, np.ndarray):
        return np.transpose(x, perm)
    return cv.relax.op.permute_dims(cv.expr(x), perm)


# Shape arithmetic: evaluated at import (their inputs are constants once shapes are static).
def _constant_only(fn: Callable):
    def convert(cv, node, args):
        for a in args:
            cv.const(a, "every input (hhbc evaluates it at import)")
        return fn(cv, *args)

    return convert


def _fill(cv, dims, value):
    dims = [int(d) for d in np.asarray(dims).reshape(-1)]
    if np.asarray(value).size != 1:
        cv.fail(f"the value must be a scalar, not of shape {list(np.shape(value))}")
    cv.check_size(dims, value.dtype, constant=True)
    return np.full(dims, np.asarray(value).reshape(()), value.dtype)


def _range(cv, start, limit, delta):
    values = [np.asarray(v).reshape(-1) for v in (start, limit, delta)]
    if any(v.size != 1 for v in values):
        cv.fail("start, limit and delta must be scalars")
    start, limit, delta = (v[0] for v in values)
    if delta == 0 or not all(np.isfinite(v) for v in (start, limit, delta)):
        cv.fail(f"delta {delta} with start {start}, limit {limit}: delta must be non-zero and all finite")
    dtype = np.result_type(start, limit, delta)
    cv.check_size([max(0, int(np.ceil((float(limit) - float(start)) / float(delta))))], dtype, constant=True)
    return np.arange(start, limit, delta).astype(dtype)


def _shape_of(cv, node, args):
    dtype = schema.numpy_dtype(cv.attr("out_type", 3)) or "int32"
    shape = np.array(cv.shape(args[0]), dtype)
    if node.op == "Shape":
        return shape
    if node.op == "Size":
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype)
    return np.array(len(shape), np.int32)   # Rank


def _strided_slice(cv, x, begin, end, strides):
    return np.asarray(x[_strided_index(cv, begin, end, strides)])


def _strided_index(cv, begin, end, strides) -> tuple:
    """StridedSlice's begin/end/strides and masks as a numpy basic index."""
    masks = {k: int(cv.attr(k, 0)) for k in
             ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
    index = []
    for i in range(len(begin)):
        bit = 1 << i
        if masks["ellipsis_mask"] & bit:
            index.append(Ellipsis)
        elif masks["new_axis_mask"] & bit:
            index.append(np.newaxis)
        elif masks["shrink_axis_mask"] & bit:
            index.append(int(begin[i]))
        else:
            index.append(slice(None if masks["begin_mask"] & bit else int(begin[i]),
                               None if masks["end_mask"] & bit else int(end[i]), int(strides[i])))
    return tuple(index)


def _slice(cv, x, begin, size):
    index = tuple(slice(int(b), None if s == -1 else int(b) + int(s)) for b, s in zip(begin, size))
    return x[index]


def _gather(cv, params, indices, axis=None):
    return np.take(params, indices, axis=int(axis) if axis is not None else 0)


def _cast(cv, node, args):
    dtype = schema.numpy_dtype(cv.attr("DstT", 1))
    x = args[0]
    if isinstance(x, np.ndarray):
        if dtype is None:
            cv.fail(f"cannot cast to {schema.dtype_name(cv.attr('DstT', 1))}")
        return x.astype(dtype)
    if dtype != str(cv.expr(x).ty.dtype):
        cv.fail(f"casting a tensor to {dtype} is not supported")
    return x


OPS: dict[str, Callable] = {
    "Const": _const,
    **{op: _identity for op in _PASS_THROUGH}, "IdentityN": _identity_n, "PlaceholderWithDefault": _identity,
    "Conv2D": _conv2d, "DepthwiseConv2dNative": _conv2d,
    "MatMul": _matmul, "BatchMatMul": _matmul, "BatchMatMulV2": _matmul, "BatchMatMulV3": _matmul,
    "BiasAdd": _bias_add, "BiasAddV1": _bias_add, "AddN": _add_n, "ClipByValue": _clip_by_value,
    **{op: _binary for op in _NUMPY_BINARY},
    **_UNARY,
    "MaxPool": _pool, "MaxPoolV2": _pool, "AvgPool": _pool, "ArgMax": _arg_reduce, "ArgMin": _arg_reduce,
    "FusedBatchNorm": _batch_norm, "FusedBatchNormV2": _batch_norm, "FusedBatchNormV3": _batch_norm,
    "Reshape": _reshape, "Squeeze": _squeeze, "ExpandDims": _expand_dims,
    **{op: _reduce for op in _NUMPY_REDUCE},
    "Softmax": _softmax, "LogSoftmax": _softmax,
    "ConcatV2": _concat, "Concat": _concat, "Pack": _pack,
    "Pad": _pad, "PadV2": _pad, "Transpose": _transpose,
    "Shape": _shape_of, "Size": _shape_of, "Rank": _shape_of, "Cast": _cast,
    "Fill": _constant_only(lambda cv, dims, value: _fill(cv, dims, value)),
    "Range": _constant_only(lambda cv, start, limit, delta: _range(cv, start, limit, delta)),
    "LRN": _lrn,
    "ZerosLike": _constant_only(lambda cv, x: np.zeros_like(x)),
    "OnesLike": _constant_only(lambda cv, x: np.ones_like(x)),
}

# tensorflow.py adds the data-movement converters of tensorflow_movement.py (which imports
# this module's helpers) to make the frontend's full table.
