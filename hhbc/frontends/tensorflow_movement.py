"""TensorFlow converters for data movement on activations: slices, splits, gathers, tiles,
depth/space rearrangements, resizes, mirror padding, transposed convolution, and the
SpaceToBatchND -> conv -> BatchToSpaceND sandwich TF writes for a dilated convolution.

Each lowers to an existing kernel (strided_slice, concat, transpose, resize2d, pad,
deconv2d, conv2d); the op matrix (op_matrix.py) lists which. A converter that gets only
constants computes in numpy, as the shape-arithmetic converters of tensorflow_ops.py do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hhbc.lower.from_relax import MAX_DIMS
from hhbc.frontends.tensorflow_ops import (Affine, _data_format, _gather, _pads, _slice, _spatial, _strided_index,
                                           _strided_slice)


def _ints(cv, value, what: str) -> list[int]:
    return [int(v) for v in np.asarray(cv.const(value, what)).reshape(-1)]


def _shape_after(shape, index) -> tuple[int, ...]:
    """The shape numpy indexing gives, computed on a zero-stride array (no data)."""
    return np.broadcast_to(np.zeros((), np.int8), shape)[index].shape


def _slices(cv, x, axes, begins, ends, steps):
    """strided_slice on the axes whose range is not the whole axis (x itself if none is cut)."""
    shape = cv.shape(x)
    keep = [(a, b, e, s) for a, b, e, s in zip(axes, begins, ends, steps)
            if (b, e, s) != (0, shape[a], 1)]
    if not keep:
        return cv.expr(x)
    a, b, e, s = (list(t) for t in zip(*keep))
    return cv.emit(cv.relax.op.strided_slice(cv.expr(x), a, b, e, s))


def _index_slice(cv, x, index: tuple):
    """x[index] for a numpy basic index (ints, slices, one Ellipsis, np.newaxis) on a Relax
    tensor: one strided_slice (if anything is cut) and a reshape (if the rank changes)."""
    shape = cv.shape(x)
    out_shape = _shape_after(shape, index)
    real = [i for i in index if i is not None and i is not Ellipsis]
    if Ellipsis in index:
        k = index.index(Ellipsis)
        fill = [slice(None)] * (len(shape) - len(real))
        index = index[:k] + tuple(fill) + index[k + 1:]
    axes, begins, ends, steps, flips = [], [], [], [], []
    axis = 0
    for item in index:
        if item is None:
            continue
        dim = shape[axis]
        if isinstance(item, slice):
            picked = range(*item.indices(dim))
            if not picked:
                cv.fail(f"the slice {item.start}:{item.stop}:{item.step} of axis {axis} ({dim}) is empty")
            start, stop, step = picked.start, picked[-1] + 1, picked.step
            if step < 0:   # on the axis flipped (a copy with a negative stride): n-1-i ascending
                flips.append(axis)
                start, stop, step = dim - 1 - picked.start, dim - picked[-1], -step
        else:
            if not -dim <= int(item) < dim:
                cv.fail(f"index {int(item)} out of range for axis {axis} of size {dim}")
            start = int(item) % dim
            stop, step = start + 1, 1
        axes.append(axis), begins.append(start), ends.append(stop), steps.append(step)
        axis += 1
    for a in flips:
        x = cv.emit(cv.relax.op.flip(cv.expr(x), a))
    y = _slices(cv, x, axes, begins, ends, steps)
    if tuple(cv.shape(y)) != tuple(out_shape):
        y = cv.relax.op.reshape(y, list(out_shape))
    return y


def _strided_slice_op(cv, node, args):
    x, rest = args[0], args[1:]
    if isinstance(x, np.ndarray):
        return _strided_slice(cv, x, *(cv.const(v, "begin, end and strides") for v in rest))
    begin, end, strides = (_ints(cv, v, "begin, end and strides") for v in rest)
    return _index_slice(cv, x, _strided_index(cv, begin, end, strides))


def _slice_op(cv, node, args):
    x, begin, size = args
    if isinstance(x, np.ndarray):
        return _slice(cv, x, cv.const(begin, "begin"), cv.const(size, "size"))
    begin, size = _ints(cv, begin, "begin"), _ints(cv, size, "size")
    index = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return _index_slice(cv, x, index)


def _split_parts(cv, x, axis: int, sizes: list[int]) -> list:
    if isinstance(x, np.ndarray):
        return list(np.split(x, np.cumsum(sizes)[:-1], axis))
    if len(sizes) == 1:
        return [cv.expr(x)]
    out = cv.emit(cv.relax.op.split(cv.expr(x), [int(v) for v in np.cumsum(sizes)[:-1]], axis))
    return [cv.emit(cv.relax.TupleGetItem(out, k)) for k in range(len(sizes))]


def _axis(cv, value, rank: int) -> int:
    axis = int(np.asarray(cv.const(value, "the axis")).reshape(-1)[0])
    if not -rank <= axis < rank:
        cv.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _split(cv, node, args):
    axis_value, x = args
    shape = cv.shape(x)
    axis = _axis(cv, axis_value, len(shape))
    n = int(cv.attr("num_split", 1))
    if n < 1 or shape[axis] % n:
        cv.fail(f"cannot split {shape[axis]} along axis {axis} into {n} equal parts")
    return _split_parts(cv, x, axis, [shape[axis] // n] * n)


def _split_v(cv, node, args):
    x, sizes, axis_value = args
    shape = cv.shape(x)
    axis = _axis(cv, axis_value, len(shape))
    sizes = _ints(cv, sizes, "size_splits")
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != shape[axis] or any(s <= 0 for s in sizes):
        cv.fail(f"size_splits {sizes} do not add up to {shape[axis]} in non-empty parts")
    return _split_parts(cv, x, axis, sizes)


def _unpack(cv, node, args):
    x = args[0]
    shape = cv.shape(x)
    axis = int(cv.attr("axis", 0))
    if not -len(shape) <= axis < len(shape):
        cv.fail(f"axis {axis} out of range for rank {len(shape)}")
    axis %= len(shape)
    if isinstance(x, np.ndarray):
        return [np.asarray(v) for v in np.moveaxis(x, axis, 0)]
    parts = _split_parts(cv, x, axis, [1] * shape[axis])
    rest = list(shape[:axis]) + list(shape[axis + 1:])
    return [cv.relax.op.reshape(p, rest) for p in parts]


def _gather_op(cv, node, args):
    params, indices = args[0], args[1]
    axis_value = args[2] if len(args) > 2 else np.array(0)
    if isinstance(params, np.ndarray) and isinstance(indices, np.ndarray):
        return _gather(cv, params, indices, cv.const(axis_value, "the axis"))
    if int(cv.attr("batch_dims", 0)):
        cv.fail("batch_dims other than 0 is not supported")
    indices = np.asarray(cv.const(indices, "the indices (gathering from a tensor)"))
    if indices.dtype.kind not in "iu":
        cv.fail(f"indices of type {indices.dtype} are not supported")
    shape = cv.shape(params)
    axis = _axis(cv, axis_value, len(shape))
    dim = shape[axis]
    if ((indices < -dim) | (indices >= dim)).any():
        cv.fail(f"indices {indices.reshape(-1).tolist()} out of range for axis {axis} of size {dim}")
    flat = np.array([int(i) % dim for i in indices.reshape(-1)], np.int32)
    out_shape = list(shape[:axis]) + list(indices.shape) + list(shape[axis + 1:])
    if flat.size and np.array_equal(flat, np.arange(flat[0], flat[0] + flat.size)):   # one run: a slice
        y = _slices(cv, params, [axis], [int(flat[0])], [int(flat[0]) + flat.size], [1])
    else:   # the gather kernel
        y = cv.emit(cv.relax.op.take(cv.expr(params), cv.relax.const(flat), axis))
    if list(cv.shape(y)) != out_shape:
        y = cv.relax.op.reshape(y, out_shape)
    return y


def _tile(cv, node, args):
    x, multiples = args
    shape = cv.shape(x)
    reps = _ints(cv, multiples, "the multiples")
    if len(reps) != len(shape) or any(r < 0 for r in reps):
        cv.fail(f"multiples {reps} do not fit rank {len(shape)}")
    cv.check_size([d * r for d, r in zip(shape, reps)], x.dtype if isinstance(x, np.ndarray) else "float32",
                  constant=isinstance(x, np.ndarray))
    if isinstance(x, np.ndarray):
        return np.tile(x, reps)
    if 0 in reps:
        cv.fail("a multiple of 0 (an empty tensor) is not supported")
    return _repeat(cv, cv.expr(x), reps)


def _repeat(cv, y, reps: list[int]):
    """y tiled reps times per axis: one strided copy (relax tile -> transpose kernel) when it
    fits the kernel's axes, else one concat per repeated axis."""
    shape = cv.shape(y)
    if sum(r != 1 for r in reps) + sum(d != 1 for d in shape) <= MAX_DIMS:
        return cv.relax.op.tile(y, reps)
    for axis, r in enumerate(reps):
        if r > 1:
            y = cv.emit(cv.relax.op.concat([y] * r, axis))
    return y


def _broadcast_to(cv, node, args):
    x, target = args
    target = _ints(cv, target, "the shape")
    shape = list(cv.shape(x))
    if any(t < 0 for t in target):
        cv.fail(f"target shape {target} has a negative dimension")
    cv.check_size(target, x.dtype if isinstance(x, np.ndarray) else "float32", constant=isinstance(x, np.ndarray))
    if isinstance(x, np.ndarray):
        return np.broadcast_to(x, target).copy()
    if len(target) < len(shape) or any(d not in (1, t) for d, t in zip(shape[::-1], target[::-1])):
        cv.fail(f"cannot broadcast {shape} to {target}")
    y = cv.expr(x)
    full = [1] * (len(target) - len(shape)) + shape
    if full != shape:
        y = cv.emit(cv.relax.op.reshape(y, full))
    return _repeat(cv, y, [t // d for d, t in zip(full, target)])


def _select(cv, node, args):
    """Select / SelectV2 with a constant condition: the where kernel."""
    cond, a, b = args
    if isinstance(cond, np.ndarray) and isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.where(cond, a, b)
    cond = np.asarray(cv.const(cond, "the condition")).astype(bool)
    rank = max(len(cv.shape(a)), len(cv.shape(b)))
    if node.op == "Select" and cond.ndim == 1 and rank > 1:   # Select: a vector picks rows
        cond = cond.reshape((-1,) + (1,) * (rank - 1))
    return cv.relax.op.where(cv.relax.const(cond), cv.expr(a), cv.expr(b))


def _rearrange(cv, node, args):
    """DepthToSpace / SpaceToDepth (NHWC, TF's DCR channel order): reshape, transpose, reshape."""
    if cv.attr("data_format", "NHWC") != "NHWC":
        cv.fail(f"data_format {cv.attr('data_format')} is not supported (NHWC)")
    x = args[0]
    b = int(cv.attr("block_size", 0))
    shape = cv.shape(x)
    if len(shape) != 4 or b < 2:
        cv.fail(f"needs a 4-D input and block_size >= 2 (got {list(shape)}, {b})")
    n, h, w, c = shape
    relax = cv.relax
    if node.op == "DepthToSpace":
        if c % (b * b):
            cv.fail(f"{c} channels are not divisible by block_size^2 = {b * b}")
        split, final = [n, h, w, b, b, c // (b * b)], [n, h * b, w * b, c // (b * b)]
    else:
        if h % b or w % b:
            cv.fail(f"{h}x{w} is not divisible by block_size {b}")
        split, final = [n, h // b, b, w // b, b, c], [n, h // b, w // b, b * b * c]
    if isinstance(x, np.ndarray):
        return x.reshape(split).transpose(0, 1, 3, 2, 4, 5).reshape(final)
    y = cv.emit(relax.op.reshape(cv.expr(x), split))
    y = cv.emit(relax.op.permute_dims(y, [0, 1, 3, 2, 4, 5]))
    return relax.op.reshape(y, final)


def _resize(cv, node, args):
    x, size = args
    shape = cv.shape(x)
    if len(shape) != 4:
        cv.fail(f"needs a 4-D NHWC input, not {list(shape)}")
    oh, ow = _ints(cv, size, "the size")
    align, half = bool(cv.attr("align_corners", False)), bool(cv.attr("half_pixel_centers", False))
    if align and half:
        cv.fail("align_corners and half_pixel_centers together are not supported (TF refuses them too)")
    relax = cv.relax
    if node.op == "ResizeNearestNeighbor":   # TF: floor, or round with align_corners
        mode = "align_corners" if align else "tf_half_pixel_for_nn" if half else "asymmetric"
        return relax.op.image.resize2d(cv.expr(x), (oh, ow), layout="NHWC", method="nearest_neighbor",
                                       coordinate_transformation_mode=mode,
                                       rounding_method="round" if align else "floor")
    # TF's bilinear kernel computes source coordinates as TFLite's does (lower/resize.py)
    from hhbc.lower.resize import TFLITE_ROUNDING

    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    return relax.op.image.resize2d(cv.expr(x), (oh, ow), layout="NHWC", method="linear",
                                   coordinate_transformation_mode=mode, rounding_method=TFLITE_ROUNDING)


def _mirror_pad(cv, node, args):
    """MirrorPad, REFLECT or SYMMETRIC (frontends/mirror_pad.py)."""
    from hhbc.frontends.mirror_pad import check, mirror_pad, numpy_mirror_pad

    x, paddings = args[0], np.asarray(cv.const(args[1], "the paddings")).reshape(-1, 2)
    shape = cv.shape(x)
    mode = str(cv.attr("mode", "REFLECT"))
    problem = check(list(shape), paddings, mode)
    if problem is not None:
        cv.fail(problem)
    if isinstance(x, np.ndarray):
        return numpy_mirror_pad(x, paddings, mode)
    return mirror_pad(cv.expr(x), list(shape), paddings, mode, node.name)


def _conv_backprop_input(cv, node, args):
    """Conv2DBackpropInput (and its depthwise twin): the transposed convolution (deconv2d kernel)."""
    sizes, w, x = args
    fmt = _data_format(cv)
    if fmt != "NHWC":
        cv.fail(f"data_format NCHW is not supported for {node.op}")
    w = cv.const(w, "the filter")
    out_shape = _ints(cv, sizes, "input_sizes")
    if w.ndim != 4 or len(out_shape) != 4:
        cv.fail(f"filter {list(w.shape)} and input_sizes {out_shape} must be 4-D")
    x = cv.expr(x)
    n, h, wd, c = cv.shape(x)
    groups = 1
    if node.op == "DepthwiseConv2dNativeBackpropInput":
        # forward: [KH][KW][C][M], channel c*M + m from channel c; here C*M channels in, C out
        kh, kw, oc, mult = w.shape
        ic, groups = oc * mult, oc
        w = w.reshape(kh, kw, 1, oc * mult)   # as a grouped filter: [KH][KW][out/g][in]
    else:
        kh, kw, oc, ic = w.shape          # forward conv: [KH][KW][in = our output][out = our input]
    if c != ic or out_shape[3] != oc:
        cv.fail(f"filter {list(w.shape)} does not match {c} input and {out_shape[3]} output channels")
    strides, dilations = _spatial(cv, "strides", fmt), _spatial(cv, "dilations", fmt)
    pads = _pads(cv, fmt, out_shape[1:3], (kh, kw), strides, dilations)   # of the forward conv
    extra = []
    for size, out, k, s, d, before, after in zip((h, wd), out_shape[1:3], (kh, kw), strides, dilations,
                                                 pads[:2], pads[2:]):
        full = (size - 1) * s + (k - 1) * d + 1 - before - after
        if not 0 <= out - full < s:
            cv.fail(f"input_sizes {out_shape} do not fit a {size}-wide input with stride {s}")
        extra.append(out - full)
    weight = np.ascontiguousarray(w.transpose(3, 2, 0, 1)).astype(np.float32)   # IOHW
    return cv.relax.op.nn.conv2d_transpose(
        x, cv.relax.const(weight), strides=strides, padding=pads, output_padding=tuple(extra),
        dilation=dilations, groups=groups, data_layout="NHWC", kernel_layout="IOHW", out_layout="NHWC")


# ---------------------------------------------------------------- dilated convolution
@dataclass
class SpaceToBatch:
    """SpaceToBatchND, not computed: a convolution reading it becomes a dilated convolution."""

    data: Any                          # the NHWC input (a Relax value)
    block: tuple[int, int]
    pads: tuple[int, int, int, int]    # top, bottom, left, right


def _space_to_batch(cv, node, args):
    x, block, paddings = args
    block = _ints(cv, block, "block_shape")
    paddings = np.asarray(cv.const(paddings, "the paddings")).reshape(-1, 2)
    if isinstance(x, np.ndarray) or len(cv.shape(x)) != 4 or len(block) != 2 or paddings.shape[0] != 2:
        cv.fail("hhbc supports SpaceToBatchND only before a 2-D convolution (a dilated convolution)")
    return SpaceToBatch(x, (block[0], block[1]), tuple(int(v) for v in paddings.reshape(-1)))


def dilated_conv_input(cv, node, x: SpaceToBatch) -> tuple[Any, tuple, tuple]:
    """For a Conv2D / DepthwiseConv2dNative reading a SpaceToBatch: (input, dilation, pads as
    (top, left, bottom, right)); the BatchToSpaceND after it applies its crops."""
    strides, dilations = _spatial(cv, "strides", "NHWC"), _spatial(cv, "dilations", "NHWC")
    if strides != (1, 1) or dilations != (1, 1) or cv.attr("padding", "VALID") != "VALID":
        cv.fail("a convolution after SpaceToBatchND must have stride 1, dilation 1 and VALID padding")
    t, b, l, r = x.pads
    return cv.expr(x.data), x.block, (t, l, b, r)


def _batch_to_space(cv, node, args):
    y, block, crops = args
    block = tuple(_ints(cv, block, "block_shape"))
    crops = [int(v) for v in np.asarray(cv.const(crops, "the crops")).reshape(-1)]
    if not isinstance(y, Affine) or y.block != block or len(crops) != 4:
        cv.fail("hhbc supports BatchToSpaceND only after SpaceToBatchND and a convolution "
                "with the same block shape (a dilated convolution)")
    ct, cb, cl, cr = crops
    t, l, b, r = y.conv["padding"]
    pads = (t - ct, l - cl, b - cb, r - cr)
    if min(pads) < 0:
        cv.fail(f"crops {crops} exceed the padding of the dilated convolution")
    n, oh, ow, oc = y.out_shape
    conv = dict(y.conv, padding=pads)
    return replace(y, conv=conv, block=None, out_shape=(n, oh - ct - cb, ow - cl - cr, oc),
                   layers=y.layers + [node.name])


MOVEMENT_OPS = {
    "StridedSlice": _strided_slice_op, "Slice": _slice_op, "Split": _split, "SplitV": _split_v, "Unpack": _unpack,
    "GatherV2": _gather_op, "Tile": _tile, "BroadcastTo": _broadcast_to, "Select": _select, "SelectV2": _select,
    "DepthToSpace": _rearrange, "SpaceToDepth": _rearrange,
    "ResizeBilinear": _resize, "ResizeNearestNeighbor": _resize, "MirrorPad": _mirror_pad,
    "Conv2DBackpropInput": _conv_backprop_input, "DepthwiseConv2dNativeBackpropInput": _conv_backprop_input,
    "SpaceToBatchND": _space_to_batch, "BatchToSpaceND": _batch_to_space,
}
