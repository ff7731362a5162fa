"""Caffe layers -> Relax: one converter per layer type, in one table.

A converter gets the builder, the layer and the Relax expressions of its
bottoms, and returns one expression per top. It computes everything about
constants (weights, folded BatchNorm statistics, Reshape targets) in numpy,
and builds NCHW Relax with the ops hhbc lowers; `_Builder.emit` stamps every
call with the Caffe layer name, which generated C carries.
"""

from __future__ import annotations

import gc
from typing import Callable

import numpy as np
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.frontends.caffe import Layer, Net, blob_array, note
from hhbc.frontends.culprit import cause_in_words
from hhbc.frontends.model import TensorInfo
from hhbc.frontends.quiet import quiet
from hhbc.layers import BindingNames, emit_stamped
from hhbc.limits import check_constant, check_tensor

F32 = np.float32


class _Builder:
    """The BlockBuilder, the current version of every blob, and the weights."""

    def __init__(self, net: Net):
        self.net = net
        self.bb = relax.BlockBuilder()
        self.hint = BindingNames()
        self.layer: Layer | None = None
        self.skip: set[int] = set()        # layers merged into an earlier one (Scale after BatchNorm)

    # -- errors ------------------------------------------------------------------
    def fail(self, message: str) -> HhbcError:
        layer = self.layer
        where = f"layer '{layer.name}' ({layer.type})" if layer else "the network"
        return HhbcError(f"{self.net.path}: {where}: {message}")

    # -- emission ----------------------------------------------------------------
    def emit(self, expr: relax.Expr, name: str | None = None) -> relax.Expr:
        """Bind `expr` (and the calls nested in it) under the layer's name."""
        name = name or self.layer.name
        expr = self.bb.normalize(emit_stamped(self.bb, expr, name))
        if isinstance(expr, (relax.Call, relax.TupleGetItem)):
            expr = self.bb.emit(expr, name_hint=self.hint(name))
        return expr

    @staticmethod
    def shape(expr: relax.Expr) -> tuple[int, ...]:
        return tuple(int(d) for d in expr.ty.shape)

    def check_size(self, what: str, shape, dtype: str = "float32", constant: bool = False) -> None:
        """A tensor this layer would make against the limits, before it is made: a constant
        against the weight limit, an activation against the tensor limit."""
        layer = self.layer
        check = check_constant if constant else check_tensor
        check(self.net.limits, f"{self.net.path}: layer '{layer.name}' ({layer.type}): {what}", shape, dtype)

    # -- weights -----------------------------------------------------------------
    def weights(self, expected: list[tuple[int, ...]]) -> list[np.ndarray]:
        """The layer's blobs from the .caffemodel, checked against the shapes the prototxt implies."""
        layer, path = self.layer, self.net.weights
        want = ", ".join(str(list(s)) for s in expected)
        blobs = self.net.blobs.get(layer.name)
        if blobs is None:
            raise HhbcError(f"{path}: no weights for layer '{layer.name}' ({layer.type}) of {self.net.path.name}; "
                            f"expected {len(expected)} blob(s) {want}")
        if len(blobs) != len(expected):
            got = ", ".join(str(list(blob_array(b)[1])) for b in blobs)
            raise HhbcError(f"{path}: layer '{layer.name}' ({layer.type}) has {len(blobs)} blob(s) {got}, "
                            f"the prototxt needs {len(expected)}: {want}")
        arrays = []
        for k, (blob, shape) in enumerate(zip(blobs, expected)):
            data, got, legacy = blob_array(blob)
            fits = got == tuple(shape) or _strip_ones(got) == _strip_ones(shape)
            if legacy:
                fits = got == (1,) * (4 - len(shape)) + tuple(shape) if len(shape) <= 4 else False
            if not fits or data.size != int(np.prod(shape, dtype=np.int64)):
                detail = "" if data.size == int(np.prod(got, dtype=np.int64)) else f" holding {data.size} values"
                raise HhbcError(f"{path}: layer '{layer.name}' ({layer.type}): blob {k} has shape {list(got)}"
                                f"{detail}, the prototxt needs {list(shape)}")
            arrays.append(data.reshape(shape))
        return arrays


def _strip_ones(shape) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _const(array) -> relax.Constant:
    return relax.const(np.ascontiguousarray(np.asarray(array, F32)))


def _scalar(value: float) -> relax.Constant:
    return relax.const(F32(value), "float32")


def _axis(b: _Builder, axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise b.fail(f"{what} {axis} is out of range for a rank-{rank} input")
    return axis % rank


# ================================================================ convolution
def _hw(b: _Builder, p, name: str, default: int) -> tuple[int, int]:
    """A conv's kernel/stride/pad: `<name>_h`/`<name>_w` if set, else the repeated `<name>` (1 or 2 values)."""
    if p.HasField(f"{name}_h") or p.HasField(f"{name}_w"):
        if not (p.HasField(f"{name}_h") and p.HasField(f"{name}_w")):
            raise b.fail(f"give both {name}_h and {name}_w")
        return int(getattr(p, f"{name}_h")), int(getattr(p, f"{name}_w"))
    values = [int(v) for v in getattr(p, name if name != "kernel" else "kernel_size")]
    if not values:
        if name == "kernel":
            raise b.fail("no kernel_size")
        return default, default
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise b.fail(f"{len(values)} {name} values: only 2-D convolution is supported")


# Largest kernel, stride, pad or dilation hhbc accepts: beyond it TVM's int32 shape
# arithmetic overflows (and no real network comes near).
MAX_WINDOW = 1 << 16


def _window(b: _Builder, name: str, values, low: int) -> None:
    """Kernel/stride/dilation (low 1) or pad (low 0) values in [low, MAX_WINDOW]: 0 strides and
    kernels divide by zero in TVM's shape code."""
    for v in values:
        if not low <= v <= MAX_WINDOW:
            rule = "must be positive" if low else "must not be negative"
            if v > MAX_WINDOW:
                rule = f"is above {MAX_WINDOW}"
            raise b.fail(f"{name} {v} {rule}")


def _conv_geometry(b: _Builder, p) -> dict:
    if p.axis != 1:
        raise b.fail(f"axis {p.axis}: only channel axis 1 is supported")
    dilation = [int(v) for v in p.dilation] or [1]
    if len(dilation) > 2:
        raise b.fail(f"{len(dilation)} dilation values: only 2-D convolution is supported")
    g = {"kernel": _hw(b, p, "kernel", 0), "stride": _hw(b, p, "stride", 1), "pad": _hw(b, p, "pad", 0),
         "dilation": (dilation[0], dilation[-1]), "groups": int(p.group), "out": int(p.num_output)}
    for key, low in (("kernel", 1), ("stride", 1), ("pad", 0), ("dilation", 1)):
        _window(b, key, g[key], low)
    if g["groups"] < 1:
        raise b.fail(f"group {g['groups']} must be positive")
    if g["out"] < 1:
        raise b.fail(f"num_output {g['out']} must be positive")
    return g


def convolution(b: _Builder, layer: Layer, x):
    p = layer.param("convolution_param")
    g = _conv_geometry(b, p)
    n, c, h, w = _rank4(b, x)
    if c % g["groups"] or g["out"] % g["groups"]:
        raise b.fail(f"{c} input and {g['out']} output channels are not divisible by group {g['groups']}")
    (kh, kw), (ph, pw) = g["kernel"], g["pad"]
    transpose = layer.type == "Deconvolution"
    if not transpose and any(size + 2 * pad < (k - 1) * d + 1
                             for size, pad, k, d in zip((h, w), g["pad"], g["kernel"], g["dilation"])):
        raise b.fail(f"a {kh}x{kw} kernel (dilation {list(g['dilation'])}, pad {[ph, pw]}) does not fit "
                     f"the {h}x{w} input")
    wshape = (c, g["out"] // g["groups"], kh, kw) if transpose else (g["out"], c // g["groups"], kh, kw)
    blobs = b.weights([wshape] + ([(g["out"],)] if p.bias_term else []))
    if transpose:
        y = relax.op.nn.conv2d_transpose(x, _const(blobs[0]), strides=g["stride"], padding=(ph, pw, ph, pw),
                                         dilation=g["dilation"], groups=g["groups"],
                                         data_layout="NCHW", kernel_layout="IOHW")
    else:
        y = relax.op.nn.conv2d(x, _const(blobs[0]), strides=g["stride"], padding=(ph, pw, ph, pw),
                               dilation=g["dilation"], groups=g["groups"], data_layout="NCHW", kernel_layout="OIHW")
    if p.bias_term:
        y = relax.op.add(y, _const(blobs[1].reshape(1, -1, 1, 1)))
    out = b.emit(y)
    if min(b.shape(out)) <= 0:
        raise b.fail(f"output shape {list(b.shape(out))} for input {[n, c, h, w]}")
    return [out]


def _rank4(b: _Builder, x) -> tuple[int, int, int, int]:
    shape = b.shape(x)
    if len(shape) != 4:
        raise b.fail(f"input of rank {len(shape)} {list(shape)}: only 4-D (NCHW) is supported")
    return shape


def inner_product(b: _Builder, layer: Layer, x):
    p = layer.param("inner_product_param")
    shape = b.shape(x)
    axis = _axis(b, p.axis, len(shape))
    m = int(np.prod(shape[:axis], dtype=np.int64))
    k = int(np.prod(shape[axis:], dtype=np.int64))
    n = int(p.num_output)
    if n < 1:
        raise b.fail(f"num_output {n} must be positive")
    blobs = b.weights([(k, n) if p.transpose else (n, k)] + ([(n,)] if p.bias_term else []))
    weight = blobs[0] if p.transpose else blobs[0].T          # [K][N] for matmul
    y = x if shape == (m, k) else relax.op.reshape(x, (m, k))
    y = relax.op.matmul(y, _const(weight))
    if p.bias_term:
        y = relax.op.add(y, _const(blobs[1]))
    out_shape = tuple(shape[:axis]) + (n,)
    if out_shape != (m, n):
        y = relax.op.reshape(y, out_shape)
    return [b.emit(y)]


# ================================================================ pooling
def _pool_hw(b: _Builder, p, name: str, default: int) -> tuple[int, int]:
    if p.HasField(f"{name}_h") or p.HasField(f"{name}_w"):
        return int(getattr(p, f"{name}_h")), int(getattr(p, f"{name}_w"))
    field = "kernel_size" if name == "kernel" else name
    if name == "kernel" and not p.HasField("kernel_size"):
        raise b.fail("no kernel_size")
    value = int(getattr(p, field)) if p.HasField(field) else default
    return value, value


def caffe_pool_size(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    """Caffe's pooled extent: ceil (default) or floor, and with padding the last
    window must start inside the padded input."""
    num = size + 2 * pad - kernel
    out = (-(-num // stride) if ceil else num // stride) + 1
    if pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def pooling(b: _Builder, layer: Layer, x):
    p = layer.param("pooling_param")
    n, c, h, w = _rank4(b, x)
    method = p.pool   # MAX 0, AVE 1, STOCHASTIC 2
    if method == 2:
        raise b.fail("STOCHASTIC pooling is a training-time method and is not supported")
    if p.global_pooling:
        kernel, stride, pad = (h, w), (1, 1), (0, 0)
    else:
        kernel, stride, pad = _pool_hw(b, p, "kernel", 0), _pool_hw(b, p, "stride", 1), _pool_hw(b, p, "pad", 0)
        _window(b, "kernel", kernel, 1)
        _window(b, "stride", stride, 1)
        _window(b, "pad", pad, 0)
    if pad[0] >= kernel[0] or pad[1] >= kernel[1]:
        raise b.fail(f"pad {list(pad)} must be smaller than the kernel {list(kernel)}")
    ceil = not (p.HasField("round_mode") and p.round_mode == 1) and p.ceil_mode
    want = (caffe_pool_size(h, kernel[0], stride[0], pad[0], ceil),
            caffe_pool_size(w, kernel[1], stride[1], pad[1], ceil))
    # Relax's ceil mode also drops a last window that starts in the padding; with
    # count_include_pad the AVE divisor is the window clipped to the padded input,
    # as Caffe's (the kernel takes the output size from the tensor, not the pads).
    make = relax.op.nn.max_pool2d if method == 0 else relax.op.nn.avg_pool2d
    y = make(x, kernel, stride, (pad[0], pad[1], pad[0], pad[1]), (1, 1), ceil_mode=ceil,
             count_include_pad=True, layout="NCHW")
    out = b.emit(y)
    if b.shape(out)[2:] != want:
        raise b.fail(f"pooled size {list(b.shape(out)[2:])} differs from Caffe's {list(want)} "
                     f"(input {h}x{w}, kernel {list(kernel)}, stride {list(stride)}, pad {list(pad)})")
    return [out]


# ================================================================ activations
def relu(b: _Builder, layer: Layer, x):
    slope = float(layer.param("relu_param").negative_slope)
    return [b.emit(relax.op.nn.leakyrelu(x, slope) if slope else relax.op.nn.relu(x))]


def prelu(b: _Builder, layer: Layer, x):
    shape = b.shape(x)
    if len(shape) < 2:
        raise b.fail(f"input of rank {len(shape)}: PReLU needs a channel axis")
    shared = layer.param("prelu_param").channel_shared
    (slope,) = b.weights([(1,) if shared else (shape[1],)])
    slope = np.broadcast_to(slope.reshape(-1), (shape[1],)).astype(F32)
    return [b.emit(relax.op.nn.prelu(x, _const(slope), axis=1))]


def sigmoid(b: _Builder, layer: Layer, x):
    return [b.emit(relax.op.sigmoid(x))]


def tanh(b: _Builder, layer: Layer, x):
    return [b.emit(relax.op.tanh(x))]


def identity(b: _Builder, layer: Layer, x):
    return [x]


def split(b: _Builder, layer: Layer, x):
    return [x] * len(layer.tops)


def power(b: _Builder, layer: Layer, x):
    """(shift + scale * x) ^ power."""
    p = layer.param("power_param")
    y = x
    if p.scale != 1.0:
        y = relax.op.multiply(y, _scalar(p.scale))
    if p.shift != 0.0:
        y = relax.op.add(y, _scalar(p.shift))
    if p.power != 1.0:
        y = relax.op.power(y, _scalar(p.power))
    return [b.emit(y) if y is not x else x]


def absval(b: _Builder, layer: Layer, x):
    return [b.emit(relax.op.abs(x))]


def _affine_in(x, scale: float, shift: float) -> relax.Expr:
    y = relax.op.multiply(x, _scalar(scale)) if scale != 1.0 else x
    return relax.op.add(y, _scalar(shift)) if shift != 0.0 else y


def exp(b: _Builder, layer: Layer, x):
    """base ^ (shift + scale * x); base -1 is e."""
    p = layer.param("exp_param")
    ln_base = 1.0 if p.base == -1.0 else _log_base(b, p.base)
    return [b.emit(relax.op.exp(_affine_in(x, p.scale * ln_base, p.shift * ln_base)))]


def log(b: _Builder, layer: Layer, x):
    """log_base(shift + scale * x); base -1 is e."""
    p = layer.param("log_param")
    y = relax.op.log(_affine_in(x, p.scale, p.shift))
    if p.base != -1.0:
        y = relax.op.multiply(y, _scalar(1.0 / _log_base(b, p.base)))
    return [b.emit(y)]


def _log_base(b: _Builder, base: float) -> float:
    if base <= 0 or base == 1:
        raise b.fail(f"base {base:g}: must be positive and not 1 (or -1 for e)")
    return float(np.log(np.float64(base)))


def elu(b: _Builder, layer: Layer, x):
    """x > 0 ? x : alpha * (exp(x) - 1), as relu(x) - alpha * relu(1 - exp(x))."""
    alpha = float(layer.param("elu_param").alpha)
    neg = relax.op.nn.relu(relax.op.subtract(_scalar(1.0), relax.op.exp(x)))
    return [b.emit(relax.op.subtract(relax.op.nn.relu(x), relax.op.multiply(neg, _scalar(alpha))))]


def clip(b: _Builder, layer: Layer, x):
    p = layer.param("clip_param")
    if p.min > p.max:
        raise b.fail(f"min {p.min:g} is above max {p.max:g}")
    return [b.emit(relax.op.clip(x, float(p.min), float(p.max)))]


def swish(b: _Builder, layer: Layer, x):
    """x * sigmoid(beta * x)."""
    beta = float(layer.param("swish_param").beta)
    inner = relax.op.multiply(x, _scalar(beta)) if beta != 1.0 else x
    return [b.emit(relax.op.multiply(x, relax.op.sigmoid(inner)))]


def threshold(b: _Builder, layer: Layer, x):
    """x > threshold ? 1 : 0, as relu(sign(x - threshold)): one unary kernel (sign, then relu)."""
    t = float(layer.param("threshold_param").threshold)
    y = relax.op.subtract(x, _scalar(t)) if t != 0.0 else x
    return [b.emit(relax.op.nn.relu(relax.op.sign(y)))]


def bnll(b: _Builder, layer: Layer, x):
    """log(1 + exp(x)): the unary kernel's softplus."""
    return [b.emit(relax.op.nn.softplus(x))]


# ================================================================ normalization
def batch_norm(b: _Builder, layer: Layer, x):
    """Caffe's BatchNorm: blobs mean, variance, moving-average factor (stats are
    sums scaled by 1/factor). A Scale layer that alone reads it becomes its gamma/beta."""
    p = layer.param("batch_norm_param")
    shape = b.shape(x)
    if len(shape) < 2:
        raise b.fail(f"input of rank {len(shape)}: BatchNorm needs a channel axis")
    c = shape[1]
    mean, var, factor = b.weights([(c,), (c,), (1,)])
    f = float(factor.reshape(-1)[0])
    scale = 0.0 if f == 0 else 1.0 / f
    gamma, beta, name = np.ones(c, F32), np.zeros(c, F32), layer.name
    merged = b.merge_scale(layer)
    if merged is not None:
        scale_layer, gamma, beta = merged
        name = f"{layer.name} + {scale_layer.name}"
    bn = relax.op.nn.batch_norm(x, _const(gamma), _const(beta), _const(mean * F32(scale)), _const(var * F32(scale)),
                                axis=1, epsilon=float(p.eps))
    bn = b.emit(bn, name)
    return [b.emit(relax.TupleGetItem(bn, 0), name)]


def _scale_shape(b: _Builder, p, shape: tuple[int, ...], operand: tuple[int, ...] | None):
    """Axis and the operand's extent along x for Scale: axis, num_axes (or a second bottom)."""
    axis = _axis(b, p.axis, len(shape))
    if operand is not None:
        span = operand
    elif p.num_axes == -1:
        span = shape[axis:]
    else:
        if p.num_axes < 0 or axis + p.num_axes > len(shape):
            raise b.fail(f"num_axes {p.num_axes} from axis {axis} exceeds the rank {len(shape)}")
        span = shape[axis:axis + p.num_axes]
    if tuple(shape[axis:axis + len(span)]) != tuple(span):
        raise b.fail(f"scale of shape {list(span)} does not fit input {list(shape)} at axis {axis}")
    return axis, tuple(span)


def bias(b: _Builder, layer: Layer, x, y=None):
    """x + bias, the bias a blob or the second bottom, broadcast from `axis` (as Scale)."""
    p = layer.param("bias_param")
    shape = b.shape(x)
    axis, span = _scale_shape(b, p, shape, b.shape(y) if y is not None else None)
    full = (1,) * axis + span + (1,) * (len(shape) - axis - len(span))
    if y is not None:
        term = y if b.shape(y) == full else relax.op.reshape(y, full)
    else:
        term = _const(b.weights([span])[0].reshape(full))
    return [b.emit(relax.op.add(x, term))]


def reduction(b: _Builder, layer: Layer, x):
    """SUM, ASUM, SUMSQ or MEAN over the axes from `axis` on, times coeff."""
    p = layer.param("reduction_param")
    shape = b.shape(x)
    axis = _axis(b, p.axis, len(shape))
    if axis == 0:
        raise b.fail("axis 0 (reducing to a scalar) is not supported; reduce from axis 1")
    op = {1: "SUM", 2: "ASUM", 3: "SUMSQ", 4: "MEAN"}[int(p.operation)]
    y = relax.op.abs(x) if op == "ASUM" else relax.op.multiply(x, x) if op == "SUMSQ" else x
    axes = list(range(axis, len(shape)))
    y = relax.op.mean(y, axes) if op == "MEAN" else relax.op.sum(y, axes)
    if p.coeff != 1.0:
        y = relax.op.multiply(y, _scalar(p.coeff))
    return [b.emit(y)]


def tile(b: _Builder, layer: Layer, x):
    p = layer.param("tile_param")
    axis = _axis(b, p.axis, len(b.shape(x)))
    if p.tiles < 1:
        raise b.fail(f"tiles {p.tiles}: must be at least 1")
    b.check_size("output", b.shape(x)[:axis] + (b.shape(x)[axis] * int(p.tiles),) + b.shape(x)[axis + 1:])
    return [b.emit(relax.op.concat([x] * int(p.tiles), axis)) if p.tiles > 1 else x]


def argmax(b: _Builder, layer: Layer, x):
    """Caffe's ArgMax (top_k 1): the index of the maximum, written as float; over each
    sample's flattened values without `axis` (top [N, 1, 1, ...]), along `axis` with it.
    Caffe sorts (value, index) pairs descending, so a tie gives the last index: argmax of
    the flipped axis, subtracted from n - 1 (the argreduce kernel's select_last). The float
    index is a gather from the table [0, 1, ..., n - 1]. out_max_val: the maximum instead
    with `axis`, index and maximum as two channels without it."""
    p = layer.param("argmax_param")
    if p.top_k != 1:
        raise b.fail(f"top_k {p.top_k} is not supported (top_k 1)")
    shape = b.shape(x)
    has_axis = p.HasField("axis")
    if has_axis:
        axis = _axis(b, p.axis, len(shape))
        flat, out_shape = x, list(shape[:axis]) + [1] + list(shape[axis + 1:])
    else:
        axis = 1
        flat = relax.op.reshape(x, [shape[0], int(np.prod(shape[1:], dtype=np.int64))])
        out_shape = [shape[0], 1, 1] + [1] * (len(shape) - 3)
    if has_axis and p.out_max_val:
        return [b.emit(relax.op.max(x, [axis], keepdims=True))]
    n = b.shape(b.bb.normalize(flat))[axis]
    b.check_size("the index table", (n,), constant=True)
    last = relax.op.argmax(relax.op.flip(flat, axis), axis, keepdims=True)
    index = relax.op.subtract(relax.const(np.int64(n - 1), "int64"), last)
    value = relax.op.take(_const(np.arange(n, dtype=F32)), index, axis=0)
    index_f = relax.op.reshape(value, out_shape)
    if p.out_max_val:   # no axis: [N, 2, 1, ...], the index then the maximum
        top = relax.op.reshape(relax.op.max(flat, [axis], keepdims=True), out_shape)
        return [b.emit(relax.op.concat([index_f, top], axis=1))]
    return [b.emit(index_f)]


def scale(b: _Builder, layer: Layer, x, y=None):
    """x * s (+ bias), s a blob or the second bottom, broadcast from `axis`."""
    p = layer.param("scale_param")
    shape = b.shape(x)
    axis, span = _scale_shape(b, p, shape, b.shape(y) if y is not None else None)
    full = (1,) * axis + span + (1,) * (len(shape) - axis - len(span))
    expected = ([] if y is not None else [span]) + ([span] if p.bias_term else [])
    blobs = b.weights(expected) if expected else []
    if y is not None:
        factor = y if b.shape(y) == full else relax.op.reshape(y, full)
    else:
        factor = _const(blobs.pop(0).reshape(full))
    out = relax.op.multiply(x, factor)
    if p.bias_term:
        out = relax.op.add(out, _const(blobs[0].reshape(full)))
    return [b.emit(out)]


def lrn(b: _Builder, layer: Layer, x):
    """Local response normalization, as Caffe defines it:

    across channels: x / (k + alpha/n * sum of x^2 over n channels around c)^beta, the
    window [c - (n-1)/2, c - (n-1)/2 + n); the channel sum is a 1x1 convolution with a
    band of ones (optimize/fusion.py turns the whole pattern into one `lrn` kernel);
    within a channel: x / (1 + alpha * mean of x^2 over an n x n window)^beta.
    """
    p = layer.param("lrn_param")
    n_, c, h, w = _rank4(b, x)
    size = int(p.local_size)
    if not 1 <= size <= MAX_WINDOW:
        raise b.fail(f"local_size {size} must be between 1 and {MAX_WINDOW}")
    if p.norm_region == 0:
        b.check_size("the channel window", (c, c, 1, 1), constant=True)
    sq = relax.op.multiply(x, x)
    if p.norm_region == 0:
        pre = (size - 1) // 2
        band = np.zeros((c, c, 1, 1), F32)
        for o in range(c):
            band[o, max(0, o - pre):max(0, min(c, o - pre + size)), 0, 0] = 1.0
        total = relax.op.nn.conv2d(sq, _const(band), data_layout="NCHW", kernel_layout="OIHW")
        denom = relax.op.add(relax.op.multiply(total, _scalar(F32(p.alpha) / F32(size))), _scalar(p.k))
        if p.k != 1.0:
            note(f"LRN layer '{layer.name}' has k = {p.k:g}; hhbc follows Caffe "
                 "(OpenCV's Caffe importer ignores k)")
    else:
        if size % 2 == 0:
            raise b.fail(f"local_size {size}: WITHIN_CHANNEL needs an odd size (as in Caffe)")
        pad = (size - 1) // 2
        mean = relax.op.nn.avg_pool2d(sq, (size, size), (1, 1), (pad, pad, pad, pad), (1, 1),
                                      count_include_pad=True, layout="NCHW")
        denom = relax.op.add(relax.op.multiply(mean, _scalar(p.alpha)), _scalar(1.0))
    return [b.emit(relax.op.multiply(x, relax.op.power(denom, _scalar(-float(p.beta)))))]


# ================================================================ shapes and data movement
def eltwise(b: _Builder, layer: Layer, *xs):
    p = layer.param("eltwise_param")
    shapes = {b.shape(x) for x in xs}
    if len(shapes) != 1:
        raise b.fail(f"bottoms of different shapes {[list(s) for s in shapes]}")
    op = p.operation   # PROD 0, SUM 1, MAX 2
    coeffs = [float(v) for v in p.coeff]
    if coeffs and (op != 1 or len(coeffs) != len(xs)):
        raise b.fail(f"{len(coeffs)} coeff(s) for {len(xs)} bottoms" if op == 1 else "coeff needs operation SUM")
    coeffs = coeffs or [1.0] * len(xs)
    if op == 1:
        out = xs[0] if coeffs[0] == 1.0 else relax.op.multiply(xs[0], _scalar(coeffs[0]))
        for x, cf in zip(xs[1:], coeffs[1:]):
            if cf == 1.0:
                out = relax.op.add(out, x)
            elif cf == -1.0:
                out = relax.op.subtract(out, x)
            else:
                out = relax.op.add(out, relax.op.multiply(x, _scalar(cf)))
    else:
        combine = relax.op.multiply if op == 0 else relax.op.maximum
        out = xs[0]
        for x in xs[1:]:
            out = combine(out, x)
    return [b.emit(out) if out is not xs[0] else xs[0]]


def concat(b: _Builder, layer: Layer, *xs):
    p = layer.param("concat_param")
    rank = len(b.shape(xs[0]))
    axis = int(p.concat_dim) if layer.has(p, "concat_dim") else int(p.axis)
    axis = _axis(b, axis, rank)
    if len(xs) == 1:
        return [xs[0]]
    return [b.emit(relax.op.concat(list(xs), axis=axis))]


def softmax(b: _Builder, layer: Layer, x):
    axis = _axis(b, int(layer.param("softmax_param").axis), len(b.shape(x)))
    return [b.emit(relax.op.nn.softmax(x, axis=axis))]


def _reshaped(b: _Builder, x, shape) -> list:
    shape = tuple(int(d) for d in shape)
    return [x if shape == b.shape(x) else b.emit(relax.op.reshape(x, shape))]


def flatten(b: _Builder, layer: Layer, x):
    p = layer.param("flatten_param")
    shape = b.shape(x)
    start = _axis(b, int(p.axis), len(shape))
    end = _axis(b, int(p.end_axis), len(shape), "end_axis")
    if end < start:
        raise b.fail(f"end_axis {p.end_axis} comes before axis {p.axis}")
    return _reshaped(b, x, shape[:start] + (int(np.prod(shape[start:end + 1], dtype=np.int64)),) + shape[end + 1:])


def reshape(b: _Builder, layer: Layer, x):
    """Caffe's Reshape: `shape` replaces axes [axis, axis + num_axes); 0 copies a dim, -1 infers one."""
    p = layer.param("reshape_param")
    shape = b.shape(x)
    rank = len(shape)
    start = int(p.axis) if p.axis >= 0 else rank + int(p.axis) + 1
    if not 0 <= start <= rank:
        raise b.fail(f"axis {p.axis} is out of range for a rank-{rank} input")
    end = rank if p.num_axes == -1 else start + int(p.num_axes)
    if p.num_axes < -1 or end > rank:
        raise b.fail(f"num_axes {p.num_axes} from axis {start} exceeds the rank {rank}")
    dims = [int(d) for d in p.shape.dim]
    middle = []
    for i, d in enumerate(dims):
        if d == 0:
            if start + i >= rank:
                raise b.fail(f"dim {i} is 0 (copy) but the input has no axis {start + i}")
            middle.append(shape[start + i])
        elif d == -1 or d > 0:
            middle.append(d)
        else:
            raise b.fail(f"dim {d} is not allowed")
    if middle.count(-1) > 1:
        raise b.fail("more than one -1 dim")
    total = int(np.prod(shape, dtype=np.int64))
    new = list(shape[:start]) + middle + list(shape[end:])
    if -1 in new:
        known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
        if known == 0 or total % known:
            raise b.fail(f"cannot infer the -1 dim of {dims} for input {list(shape)}")
        new[new.index(-1)] = total // known
    if int(np.prod(new, dtype=np.int64)) != total:
        raise b.fail(f"shape {new} has {int(np.prod(new))} elements, the input {list(shape)} has {total}")
    return _reshaped(b, x, new)


def _slice(x, axes, begins, ends) -> relax.Expr:
    return relax.op.strided_slice(x, list(axes), list(begins), list(ends), [1] * len(axes))


def slice_(b: _Builder, layer: Layer, x):
    p = layer.param("slice_param")
    shape = b.shape(x)
    axis = int(p.slice_dim) if layer.has(p, "slice_dim") else int(p.axis)
    axis = _axis(b, axis, len(shape))
    extent, count = shape[axis], len(layer.tops)
    points = [int(v) for v in p.slice_point]
    if points:
        if len(points) != count - 1:
            raise b.fail(f"{len(points)} slice_point(s) for {count} tops")
    else:
        if extent % count:
            raise b.fail(f"axis {axis} of extent {extent} does not split evenly into {count} tops")
        points = [extent // count * i for i in range(1, count)]
    bounds = [0] + points + [extent]
    if any(lo >= hi for lo, hi in zip(bounds, bounds[1:])):
        raise b.fail(f"slice points {points} are not increasing within (0, {extent})")
    if count == 1:
        return [x]
    return [b.emit(_slice(x, [axis], [lo], [hi])) for lo, hi in zip(bounds, bounds[1:])]


def crop(b: _Builder, layer: Layer, x, ref):
    """Caffe's Crop: x cut to ref's shape from `axis` on, at `offset` (one, or one per axis)."""
    p = layer.param("crop_param")
    shape, ref_shape = b.shape(x), b.shape(ref)
    if len(shape) != len(ref_shape):
        raise b.fail(f"bottoms of different ranks {list(shape)} and {list(ref_shape)}")
    axis = _axis(b, int(p.axis), len(shape))
    axes = list(range(axis, len(shape)))
    offsets = [int(v) for v in p.offset]
    if len(offsets) == 0:
        offsets = [0] * len(axes)
    elif len(offsets) == 1:
        offsets = offsets * len(axes)
    elif len(offsets) != len(axes):
        raise b.fail(f"{len(offsets)} offsets for {len(axes)} cropped axes")
    for a, off in zip(axes, offsets):
        if off + ref_shape[a] > shape[a]:
            raise b.fail(f"offset {off} + size {ref_shape[a]} exceeds axis {a} of extent {shape[a]}")
    if all(off == 0 and ref_shape[a] == shape[a] for a, off in zip(axes, offsets)):
        return [x]
    return [b.emit(_slice(x, axes, offsets, [off + ref_shape[a] for a, off in zip(axes, offsets)]))]


def permute(b: _Builder, layer: Layer, x):
    rank = len(b.shape(x))
    order = [int(v) for v in layer.param("permute_param").order]
    if any(not 0 <= a < rank for a in order) or len(set(order)) != len(order):
        raise b.fail(f"order {order} is not a permutation of the {rank} axes")
    order += [a for a in range(rank) if a not in order]
    if order == list(range(rank)):
        return [x]
    return [b.emit(relax.op.permute_dims(x, order))]


# ================================================================ the table
Converter = Callable[..., list]

CONVERTERS: dict[str, Converter] = {
    "Input": identity,   # its tops are the function's parameters
    "Convolution": convolution, "Deconvolution": convolution, "InnerProduct": inner_product,
    "Pooling": pooling, "ReLU": relu, "PReLU": prelu, "Sigmoid": sigmoid, "TanH": tanh,
    "BatchNorm": batch_norm, "Scale": scale, "LRN": lrn, "Power": power,
    "Eltwise": eltwise, "Concat": concat, "Softmax": softmax, "Flatten": flatten, "Reshape": reshape,
    "Split": split, "Slice": slice_, "Crop": crop, "Permute": permute, "Dropout": identity,
    "AbsVal": absval, "Exp": exp, "Log": log, "ELU": elu, "BNLL": bnll, "Bias": bias, "Reduction": reduction,
    "Tile": tile, "Clip": clip, "Swish": swish, "Threshold": threshold, "ArgMax": argmax,
}

# (min, max) bottoms; None = any number
BOTTOMS = {"Input": (0, 0), "Eltwise": (2, None), "Concat": (1, None), "Crop": (2, 2), "Scale": (1, 2),
           "Bias": (1, 2)}


def needs_weights(layer: Layer) -> bool:
    if layer.type in ("Convolution", "Deconvolution", "InnerProduct", "PReLU", "BatchNorm"):
        return True
    if layer.type == "Scale":
        return len(layer.bottoms) == 1 or layer.param("scale_param").bias_term
    if layer.type == "Bias":
        return len(layer.bottoms) == 1
    return False


# ================================================================ the network
class _Graph(_Builder):
    """Walks the layers in file order, tracking blob versions (Caffe's in-place tops)."""

    def __init__(self, net: Net):
        super().__init__(net)
        self.current: dict[str, int] = {}          # blob name -> version id
        self.values: list[relax.Expr] = []          # version id -> expression
        self.pins: list[tuple[str, int] | None] = []   # version id -> (producer layer, top index)
        self.blob_of: list[str] = []                # version id -> blob name
        self.consumers: list[list[int]] = []        # version id -> indices of layers reading it
        self.layer_versions: dict[str, list[int]] = {}

    def new_version(self, blob: str, value, pin) -> int:
        self.values.append(value)
        self.pins.append(pin)
        self.blob_of.append(blob)
        self.consumers.append([])
        self.current[blob] = len(self.values) - 1
        return self.current[blob]

    def merge_scale(self, bn: Layer):
        """(scale layer, gamma, beta) when the only reader of bn's top is a per-channel Scale."""
        if len(bn.tops) != 1:
            return None
        readers = self.readers_of.get((bn.index, bn.tops[0]), [])
        if len(readers) != 1 or bn.name in self.requested or (bn.tops[0] in self.requested
                                                               and readers[0].tops != bn.tops):
            return None
        nxt = readers[0]
        p = nxt.param("scale_param")
        if nxt.type != "Scale" or len(nxt.bottoms) != 1 or p.axis != 1 or p.num_axes != 1:
            return None
        outer, self.layer = self.layer, nxt
        try:
            c = self.shape(self.values[self.current[bn.bottoms[0]]])[1]
            blobs = self.weights([(c,), (c,)] if p.bias_term else [(c,)])
        finally:
            self.layer = outer
        self.skip.add(nxt.index)
        return nxt, blobs[0], blobs[1] if p.bias_term else np.zeros(c, F32)

    def plan_readers(self, requested: set[str]) -> None:
        """Which layers read each (producer, blob) pair: lookahead for merge_scale."""
        self.requested = requested
        self.readers_of: dict[tuple[int, str], list[Layer]] = {}
        producer: dict[str, int] = {}
        for layer in self.net.layers:
            for bottom in layer.bottoms:
                self.readers_of.setdefault((producer.get(bottom, -1), bottom), []).append(layer)
            for top in layer.tops:
                producer[top] = layer.index


def build_relax(net: Net, inputs: list[TensorInfo], output_names: list[str]):
    """The Relax module, its output infos, and each output's (OpenCV layer, output index)."""
    g = _Graph(net)
    try:
        return _build(g, net, inputs, output_names)
    except HhbcError as err:
        message = str(err)
    # A BlockBuilder left mid-function warns on stderr when it is collected: let it, quietly.
    with quiet():
        del g
        gc.collect()
    raise HhbcError(message)


def _build(g: "_Graph", net: Net, inputs: list[TensorInfo], output_names: list[str]):
    g.plan_readers(set(output_names))
    params = [relax.Var(i.name, relax.TensorType(i.shape, "float32")) for i in inputs]
    with g.bb.function("main", params):
        with g.bb.dataflow():
            for param, info in zip(params, inputs):
                g.new_version(info.name, param, None)
            for layer in net.layers:
                if layer.index in g.skip:
                    _alias_merged(g, layer)
                    continue
                g.layer = layer
                _convert(g, layer)
            g.layer = None
            chosen = _choose_outputs(g, net, output_names)
            values = [g.values[v] for v in chosen]
            result = g.bb.emit_output(values[0] if len(values) == 1 else relax.Tuple(values))
        g.bb.emit_func_output(result)
    mod = g.bb.get()
    outputs = [TensorInfo(g.blob_of[v], g.shape(g.values[v]), "float32") for v in chosen]
    pins = [g.pins[v] for v in chosen]
    return mod, outputs, pins


def _alias_merged(g: _Graph, layer: Layer) -> None:
    """A Scale folded into its BatchNorm: its top is the BatchNorm's output."""
    source = g.current[layer.bottoms[0]]
    g.consumers[source].append(layer.index)
    g.new_version(layer.tops[0], g.values[source], _opencv_pin(layer, 0))
    g.layer_versions.setdefault(layer.name, []).append(g.current[layer.tops[0]])


def _convert(g: _Graph, layer: Layer) -> None:
    lo, hi = BOTTOMS.get(layer.type, (1, 1))
    if len(layer.bottoms) < lo or (hi is not None and len(layer.bottoms) > hi):
        want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        raise g.fail(f"{len(layer.bottoms)} bottom(s); {layer.type} takes {want}")
    if layer.type == "Input":
        for top in layer.tops:
            if top not in g.current:
                raise g.fail(f"top '{top}' is not a model input")
        return
    ins = []
    for bottom in layer.bottoms:
        if bottom not in g.current:
            raise g.fail(f"bottom '{bottom}' is not produced by any earlier layer or input")
        version = g.current[bottom]
        g.consumers[version].append(layer.index)
        ins.append(g.values[version])
    try:
        with np.errstate(all="ignore"):   # weight arithmetic: inf/nan are values, not warnings
            outs = CONVERTERS[layer.type](g, layer, *ins)
    except HhbcError:
        raise
    except Exception as err:   # TVM's shape checks and the like, worded as the layer
        raise g.fail(f"cannot convert ({cause_in_words(err)})") from None
    if len(outs) != len(layer.tops):
        raise g.fail(f"{len(layer.tops)} top(s); {layer.type} makes {len(outs)} here")
    for k, out in enumerate(outs):
        if 0 in g.shape(out):   # TVM's lowering divides by the extents of an empty tensor
            raise g.fail(f"top '{layer.tops[k]}' has shape {list(g.shape(out))}: empty tensors are not supported")
        g.check_size(f"top '{layer.tops[k]}'", g.shape(out))
    for k, (top, value) in enumerate(zip(layer.tops, outs)):
        g.new_version(top, value, _opencv_pin(layer, k))
        g.layer_versions.setdefault(layer.name, []).append(g.current[top])


def _opencv_pin(layer: Layer, k: int) -> tuple[str, int]:
    """How OpenCV's importer names top k of a layer: (its layer, output index). It adds
    a Convolution once per bottom/top pair, named after the top; its Split has one output."""
    if layer.type == "Convolution":
        return layer.tops[k], 0
    return layer.name, 0 if layer.type == "Split" else k


def _choose_outputs(g: _Graph, net: Net, names: list[str]) -> list[int]:
    if not names:
        chosen = [v for v in range(len(g.values)) if g.pins[v] is not None and not g.consumers[v]]
        if not chosen:
            raise HhbcError(f"{net.path}: no outputs (every blob is read by a later layer)")
        return chosen
    chosen = []
    for name in names:
        if name in g.current:
            chosen.append(g.current[name])
        elif name in g.layer_versions:
            chosen.extend(g.layer_versions[name])
        else:
            raise HhbcError(f"{net.path}: -on '{name}' is neither a blob nor a layer of the model")
    if any(g.pins[v] is None for v in chosen):
        bad = [g.blob_of[v] for v in chosen if g.pins[v] is None]
        raise HhbcError(f"{net.path}: -on {', '.join(bad)}: a model input cannot be an output")
    return list(dict.fromkeys(chosen))


