"""Graph rewrites TVM does not provide, written as tvm.relax.dpl patterns."""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax.dpl import is_const, is_op, is_tuple_get_item, rewrite_call, wildcard

from hhbc.layers import bound_values, inherit


def _const(expr) -> np.ndarray:
    return expr.value.numpy()


def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


@relax.transform.function_pass(opt_level=0, name="hhbc.FoldBatchNorm")
class FoldBatchNorm:
    """batch_norm(conv2d|matmul(x, W) [+ b]) -> conv2d|matmul(x, W') + b'.

    TVM's FoldBatchnormToConv2D covers a bare NCHW conv2d; models exported from
    PyTorch also put BatchNorm after Gemm (dense) and after a biased conv.
    """

    def transform_function(self, func, mod, ctx):
        x, w, b = wildcard(), is_const(), is_const()
        producer = is_op("relax.nn.conv2d")(x, w) | is_op("relax.matmul")(x, w)
        source = producer | is_op("relax.add")(producer, b)
        bn = is_op("relax.nn.batch_norm")(source, is_const(), is_const(), is_const(), is_const())
        pattern = is_tuple_get_item(bn, 0)

        def rewrite(expr, matches):
            call = matches[producer]
            bn_call = matches[bn]
            weight = _const(matches[w])
            gamma, beta, mean, var = (_const(a) for a in bn_call.args[1:])
            eps = float(bn_call.attrs.epsilon)
            out_rank = len(_shape(call))
            axis = int(bn_call.attrs.axis) % out_rank
            scale = (gamma / np.sqrt(var + eps)).astype(np.float32)
            shift = (beta - mean * scale).astype(np.float32)
            if call.op.name == "relax.nn.conv2d":
                if str(call.attrs.data_layout) != "NCHW" or str(call.attrs.kernel_layout) != "OIHW" or axis != 1:
                    return expr
                weight = weight * scale.reshape(-1, 1, 1, 1)
                bias_shape = (1, -1, 1, 1)
            else:
                if weight.ndim != 2 or axis != out_rank - 1:
                    return expr
                weight = weight * scale.reshape(1, -1)
                bias_shape = (-1,) if out_rank == 1 else (1,) * (out_rank - 1) + (-1,)
            bias = np.zeros_like(scale)
            if b in matches:
                old = _const(matches[b])
                if old.size != scale.size:
                    return expr
                bias = old.reshape(-1)
            new_bias = (bias * scale + shift).reshape(bias_shape).astype(np.float32)
            new_call = relax.Call(call.op, [call.args[0], relax.const(weight.astype(np.float32))],
                                  call.attrs, span=call.span)
            return inherit(relax.op.add(new_call, relax.const(new_bias)), bn_call)

        return rewrite_call(pattern, rewrite, func)


def _is_unit_dim_move(in_shape: tuple[int, ...], axes: list[int]) -> bool:
    """True when a permutation only moves size-1 dims, i.e. it is a reshape."""
    kept = [a for a in axes if in_shape[a] != 1]
    return kept == sorted(kept)


@relax.transform.function_pass(opt_level=0, name="hhbc.SimplifyTranspose")
class SimplifyTranspose:
    """Make layout shuffles free where they can be.

    * permute_dims(permute_dims(x, p), q) -> one permute_dims (or nothing);
    * permute_dims that only moves unit dims -> reshape, which lowers to an alias.
    """

    def transform_function(self, func, mod, ctx):
        x = wildcard()
        inner = is_op("relax.permute_dims")(x)
        outer = is_op("relax.permute_dims")(inner)

        def merge(expr, matches):
            p = _axes(matches[inner])
            q = _axes(matches[outer])
            combined = [p[i] for i in q]
            src = matches[x]
            if combined == list(range(len(combined))):
                return src
            return inherit(relax.op.permute_dims(src, combined), matches[outer])

        func = rewrite_call(outer, merge, func)

        single = is_op("relax.permute_dims")(wildcard())

        def to_reshape(expr, matches):
            call = matches[single]   # `expr` may be the var bound to the call
            src = call.args[0]
            if _is_unit_dim_move(_shape(src), _axes(call)):
                return inherit(relax.op.reshape(src, _shape(call)), call)
            return expr

        return rewrite_call(single, to_reshape, func)


def _axes(call) -> list[int]:
    rank = len(call.args[0].ty.shape)
    if call.attrs.axes is None:
        return list(reversed(range(rank)))
    return [int(a) % rank for a in call.attrs.axes]


@relax.transform.function_pass(opt_level=0, name="hhbc.MergeReshapes")
class MergeReshapes:
    """reshape(reshape(x)) -> reshape(x); reshape to the same shape -> x."""

    def transform_function(self, func, mod, ctx):
        x = wildcard()
        inner = is_op("relax.reshape")(x, wildcard())
        outer = is_op("relax.reshape")(inner, wildcard())

        def merge(expr, matches):
            return inherit(relax.op.reshape(matches[x], _shape(expr)), matches[outer])

        func = rewrite_call(outer, merge, func)
        single = is_op("relax.reshape")(wildcard(), wildcard())

        def drop(expr, matches):
            src = matches[single].args[0]
            return src if _shape(src) == _shape(expr) else expr

        return rewrite_call(single, drop, func)


@relax.transform.function_pass(opt_level=0, name="hhbc.ClipToMinMax")
class ClipToMinMax:
    """clip(x, lo, hi) -> minimum(maximum(x, lo), hi).

    relax.clip has no layout inference, so ConvertLayout would wrap every ReLU6
    in a pair of transposes; scalar maximum/minimum are layout-agnostic.
    ClipFromMinMax undoes this after the layout change.
    """

    def transform_function(self, func, mod, ctx):
        pattern = is_op("relax.clip")(wildcard(), wildcard(), wildcard())

        def rewrite(expr, matches):
            call = matches[pattern]
            dtype = call.ty.dtype
            lo = float(call.args[1].value)
            hi = float(call.args[2].value)
            x = relax.op.maximum(call.args[0], relax.const(lo, dtype))
            return inherit(relax.op.minimum(x, relax.const(hi, dtype)), call)

        return rewrite_call(pattern, rewrite, func)


@relax.transform.function_pass(opt_level=0, name="hhbc.ClipFromMinMax")
class ClipFromMinMax:
    """minimum(maximum(x, lo), hi) with scalar constants -> clip(x, lo, hi)."""

    def transform_function(self, func, mod, ctx):
        bindings = bound_values(func)
        x, lo, hi = wildcard(), is_const(), is_const()
        lower = is_op("relax.maximum")(x, lo)
        pattern = is_op("relax.minimum")(lower, hi)

        def rewrite(expr, matches):
            lo_v, hi_v = _const(matches[lo]), _const(matches[hi])
            if lo_v.size != 1 or hi_v.size != 1 or _shape(expr) != _shape(matches[x]):
                return expr
            clip = relax.op.clip(matches[x], float(lo_v.reshape(-1)[0]), float(hi_v.reshape(-1)[0]))
            # The outer call of a nested rewrite loses its span when normalized; the inner keeps it.
            return inherit(clip, matches[lower], bindings)

        return rewrite_call(pattern, rewrite, func)


_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _nhwc_twin(call: relax.Call, data: relax.Expr) -> relax.Expr | None:
    """The NHWC version of an NCHW spatial op, reading the NHWC tensor `data`."""
    a = call.attrs
    name = call.op.name
    if name in ("relax.nn.max_pool2d", "relax.nn.avg_pool2d"):
        make = relax.op.nn.max_pool2d if name == "relax.nn.max_pool2d" else relax.op.nn.avg_pool2d
        return make(data, [int(v) for v in a.pool_size], [int(v) for v in a.strides],
                    [int(v) for v in a.padding], [int(v) for v in a.dilation], bool(a.ceil_mode),
                    bool(a.count_include_pad), layout="NHWC", out_layout="NHWC")
    if name == "relax.nn.adaptive_avg_pool2d":
        size = None if a.output_size is None else [int(v) for v in a.output_size]
        return relax.op.nn.adaptive_avg_pool2d(data, size, layout="NHWC", out_layout="NHWC")
    if name == "relax.image.resize2d":
        return relax.op.image.resize2d(
            data, call.args[1], [float(v) for v in a.roi], "NHWC", str(a.method),
            str(a.coordinate_transformation_mode), str(a.rounding_method), float(a.cubic_alpha),
            int(a.cubic_exclude), float(a.extrapolation_value), a.out_dtype or None)
    return None


@relax.transform.function_pass(opt_level=0, name="hhbc.SpatialOpsToNHWC")
class SpatialOpsToNHWC:
    """pool2d / resize2d still in NCHW -> transpose, the op in NHWC, transpose back.

    ConvertLayout converts these ops only when their input is NHWC already (after a
    conv); a model that starts with a pool or a resize keeps them NCHW, and the
    kernels are NHWC only. The transposes this adds cancel against the ones
    ConvertLayout put around the neighbouring convs (SimplifyTranspose).
    """

    OPS = ("relax.nn.max_pool2d", "relax.nn.avg_pool2d", "relax.nn.adaptive_avg_pool2d",
           "relax.image.resize2d")

    def transform_function(self, func, mod, ctx):
        pattern = None
        for name in self.OPS:
            p = is_op(name)(wildcard()) if name != "relax.image.resize2d" else is_op(name)(wildcard(), wildcard())
            pattern = p if pattern is None else pattern | p

        def rewrite(expr, matches):
            call = matches[pattern]
            layout = str(call.attrs.layout)
            out_layout = str(getattr(call.attrs, "out_layout", layout) or layout)
            if layout != "NCHW" or out_layout != "NCHW":
                return expr
            twin = _nhwc_twin(call, relax.op.permute_dims(call.args[0], _TO_NHWC))
            return expr if twin is None else inherit(relax.op.permute_dims(twin, _TO_NCHW), call)

        return rewrite_call(pattern, rewrite, func)


@relax.transform.function_pass(opt_level=0, name="hhbc.FoldTransposeIntoDense")
class FoldTransposeIntoDense:
    """matmul(reshape(permute_dims(x, p), [N, K]), W) -> matmul(reshape(x, [N, K]), W').

    A flatten after NHWC layout conversion needs the NCHW element order, so
    ConvertLayout leaves a transpose in front of it. When a dense layer reads
    the flattened vector, permuting W's rows instead makes the transpose free.
    """

    def transform_function(self, func, mod, ctx):
        bindings = bound_values(func)
        x, weight = wildcard(), is_const()
        perm = is_op("relax.permute_dims")(x)
        flat = is_op("relax.reshape")(perm, wildcard())
        pattern = is_op("relax.matmul")(flat, weight)

        def rewrite(expr, matches):
            src, axes = matches[x], _axes(matches[perm])
            in_shape, flat_shape = _shape(src), _shape(matches[flat])
            w = _const(matches[weight])
            if axes[0] != 0 or len(flat_shape) != 2 or flat_shape[0] != in_shape[0] or w.ndim != 2:
                return expr
            # Position of each flattened (permuted) element in x's own order.
            order = np.arange(int(np.prod(in_shape[1:]))).reshape(in_shape[1:])
            order = order.transpose([a - 1 for a in axes[1:]]).reshape(-1)
            folded = np.empty_like(w)
            folded[order] = w
            flat_x = inherit(relax.op.reshape(src, flat_shape), matches[flat], bindings)
            call = matches[pattern]
            return relax.Call(call.op, [flat_x, relax.const(folded)], call.attrs)

        return rewrite_call(pattern, rewrite, func)
