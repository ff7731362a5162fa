"""ONNX QDQ graphs -> the int8 form optimize/quantized.py groups (the TFLite importer's form).

TVM's ONNX importer keeps a QuantizeLinear/DequantizeLinear model as ONNX wrote it:
NCHW activations, OIHW weights behind dequantize(int8 constant, axis=0), biases as
reshape(dequantize(int32 constant)), Gemm weights as permute_dims(dequantize(W)), one
dequantize shared by every consumer, and reshapes and pools between the Q/DQ pairs.
`normalize_onnx_qdq` rewrites that, without changing what the graph computes, into

    quantize(op(dequantize(int8 x), dequantize(int8 constant) ...)) [-> int8 clip]

in NHWC with OHWI weights, exactly what `quantized_patterns()` matches, so ONNX and
TFLite share one int8 lowering:
  * layouts: a walk over the bindings tracks which tensors are already NHWC; layout
    changes of activations happen on the int8 side of a dequantize (where a unit-dim
    move is a free reshape), of constants at compile time, and a float transpose is
    left only at the graph's edges (relax.transform.ConvertLayout does not see
    through quantize/dequantize: it would wrap every Q/DQ pair in transposes);
  * every use of a dequantized activation gets its own dequantize, so a tensor read by
    a conv and by a residual add does not keep either group from forming;
  * reshape/transpose of a per-tensor dequantized value moves to the int8 side;
  * ReLU/Clip between an op and its QuantizeLinear becomes an int8 clip after it
    (quantize is monotone, so this is exact);
  * AveragePool between a Q/DQ pair stays quantize(avg_pool2d(dequantize(x))) in NHWC:
    the int8 average pool of the ONNX flavour takes both quantizations (lower/quantized.py);
  * GlobalAveragePool (mean over H, W) becomes that average pool over the whole image;
  * MaxPool between a Q/DQ pair runs on the integers (+ an int8 requantize if the pair differs);
  * a flatten of an NHWC map into [N, C*H*W] stays in NHWC order; the Gemm/MatMul reading it
    gets its weight rows permuted at compile time (no int8 transpose at run time);
  * a concat of NHWC maps stays NHWC, its axis remapped;
  * an int32 bias whose scale is not input scale x weight scale is rescaled.
Whatever float op is still left between a dequantize and a quantize afterwards is
refused by `check_no_float_between_qdq`: hhbc never computes a quantized layer in float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax
from tvm.relax.dpl import is_const, is_op, rewrite_call, wildcard

from hhbc.errors import HhbcError
from hhbc.layers import bound_values, layer_of, stamp

QDQ_SOURCE_ATTR = "hhbc_qdq_source"   # set on main by the ONNX frontend for QDQ models
_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]
_BINARY = ("relax.add", "relax.subtract", "relax.multiply", "relax.divide", "relax.maximum",
           "relax.minimum")
_UNARY = ("relax.nn.relu", "relax.clip", "relax.sigmoid", "relax.tanh", "relax.exp", "relax.astype",
          "relax.nn.leakyrelu")
_POOLS = ("relax.nn.avg_pool2d", "relax.nn.max_pool2d")
# Ops that only move data: not a computation hidden between a dequantize and a quantize.
_DATA_MOVEMENT = ("relax.reshape", "relax.permute_dims", "relax.squeeze", "relax.expand_dims",
                  "relax.flatten", "relax.quantize", "relax.dequantize", "relax.concat")


def mark_onnx_qdq(mod: tvm.IRModule) -> tvm.IRModule:
    """Tag main as an ONNX QDQ graph (called by the ONNX frontend)."""
    mod = tvm.IRModule(dict(mod.functions))
    mod["main"] = mod["main"].with_attr(QDQ_SOURCE_ATTR, "onnx")
    return mod


def is_onnx_qdq(mod: tvm.IRModule) -> bool:
    attrs = mod["main"].attrs
    return bool(attrs) and QDQ_SOURCE_ATTR in attrs and str(attrs[QDQ_SOURCE_ATTR]) == "onnx"


# ================================================================= values during the walk
@dataclass
class _Act:
    """An emitted tensor; `nhwc` when it holds the NHWC transpose of the original NCHW one;
    `order` when it is a [N, C*H*W] flatten taken in NHWC order: element j of a row is element
    order[j] of the original row (see _Walk.flatten; only a matmul with a constant weight
    reads such a tensor, its weight rows permuted to match)."""
    expr: relax.Expr
    nhwc: bool = False
    order: np.ndarray | None = None
    flattened_by: str = ""   # the layer of that flatten, for errors


@dataclass
class _DQ:
    """dequantize(int8 activation), emitted anew at each use (see the module docstring)."""
    x: _Act
    scale: relax.Expr
    zero_point: relax.Expr
    out_dtype: str


@dataclass
class _QConst:
    """dequantize(integer constant) in the original (NCHW/OIHW) layout; layout changes
    happen on the numpy arrays, so weights stay integers in flash."""
    data: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int
    out_dtype: str

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    def permuted(self, axes: list[int]) -> _QConst:
        axis = axes.index(self.axis) if self.per_channel else 0
        return _QConst(self.data.transpose(axes), self.scale, self.zero_point, axis, self.out_dtype)

    def reshaped(self, shape: tuple[int, ...], layer: str) -> _QConst:
        data = self.data.reshape(shape)
        if not self.per_channel:
            return _QConst(data, self.scale, self.zero_point, 0, self.out_dtype)
        before = int(np.prod(self.data.shape[:self.axis], dtype=np.int64))
        for axis, dim in enumerate(shape):
            if dim == self.data.shape[self.axis] and int(np.prod(shape[:axis], dtype=np.int64)) == before:
                return _QConst(data, self.scale, self.zero_point, axis, self.out_dtype)
        raise HhbcError(f"layer '{layer}': a reshape splits the channel axis of a per-channel "
                        "quantized constant")


def _np(expr) -> np.ndarray:
    return expr.value.numpy()


def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


def _axes(call: relax.Call) -> list[int]:
    rank = len(call.args[0].ty.shape)
    return list(reversed(range(rank))) if call.attrs.axes is None else [int(a) % rank for a in call.attrs.axes]


def _out_dtype(attrs) -> str | None:
    text = str(attrs.out_dtype) if attrs.out_dtype is not None else ""
    return None if text in ("", "void", "None") else text


def _is_unit_dim_move(shape: tuple[int, ...], axes: list[int]) -> bool:
    """A permutation that only moves size-1 dims is a reshape (free on any dtype)."""
    kept = [a for a in axes if shape[a] != 1]
    return kept == sorted(kept)


def _is_const(expr) -> bool:
    return isinstance(expr, tvm.ir.GenericConst)


# ================================================================= the layout walk
class _Walk:
    """Re-emits main binding by binding into the normalized form."""

    def __init__(self, func: relax.Function):
        self.func = func
        self.bb = relax.BlockBuilder()
        self.env: dict[relax.Var, object] = {}
        self.emitted: dict[relax.Var, relax.Expr] = {}   # new var -> its value
        self.original = bound_values(func)
        self.layer = ""
        self.params = set(func.params)
        self.relayouts: dict[tuple[relax.Expr, tuple[int, ...]], relax.Expr] = {}

    # -- emitting --------------------------------------------------------------------
    def emit(self, expr: relax.Expr, layer: str | None = None) -> relax.Expr:
        var = self.bb.emit(stamp(expr, layer if layer is not None else self.layer))
        bound = self.bb.lookup_binding(var)
        self.emitted[var] = bound if bound is not None else expr
        return var

    def value(self, expr) -> relax.Expr | None:
        return self.emitted.get(expr) if isinstance(expr, relax.Var) else None

    def permute(self, expr: relax.Expr, axes: list[int]) -> relax.Expr:
        """permute_dims(expr), once per tensor and layout however many uses ask for it."""
        key = (expr, tuple(axes))
        if key not in self.relayouts:
            self.relayouts[key] = self.emit_permute(expr, axes)
        return self.relayouts[key]

    def emit_permute(self, expr: relax.Expr, axes: list[int]) -> relax.Expr:
        """permute_dims(expr), merged with a permute that produced expr (pairs cancel), and
        pushed before a quantize of a graph input (the transposes at the graph's edges)."""
        value = self.value(expr)
        if isinstance(value, relax.Call) and value.op.name == "relax.permute_dims":
            combined = [_axes(value)[a] for a in axes]
            src = value.args[0]
            return src if combined == list(range(len(combined))) else self.emit(relax.op.permute_dims(src, combined))
        if isinstance(value, relax.Call) and value.op.name == "relax.quantize":
            inner = self.value(value.args[0])
            if value.args[0] in self.params or (isinstance(inner, relax.Call) and inner.op.name in (
                    "relax.permute_dims", "relax.reshape")):
                moved = self.permute(value.args[0], axes)
                return self.emit(relax.op.quantize(moved, value.args[1], value.args[2], int(value.attrs.axis),
                                                   str(value.attrs.out_dtype)))
        if str(expr.ty.dtype) == "int8" and not _is_unit_dim_move(_shape(expr), axes):
            raise HhbcError(f"layer '{self.layer}': a layout change of an int8 tensor "
                            f"{list(_shape(expr))} (axes {axes}) is not supported yet")
        return self.emit(relax.op.permute_dims(expr, axes))

    def act_in(self, act: _Act, nhwc: bool | None) -> relax.Expr:
        """The tensor in the asked layout (None: as it is)."""
        if act.order is not None:
            raise HhbcError(f"layer '{act.flattened_by}': an int8 feature map flattened in NCHW order is read "
                            "by something else than a MatMul/Gemm with a constant weight (not supported yet)")
        if nhwc is None or len(_shape(act.expr)) != 4 or act.nhwc == nhwc:
            return act.expr
        return self.permute(act.expr, _TO_NHWC if nhwc else _TO_NCHW)

    def materialize(self, entry, nhwc: bool | None = False) -> relax.Expr:
        if isinstance(entry, _Act):
            return self.act_in(entry, nhwc)
        if isinstance(entry, _DQ):
            x = self.act_in(entry.x, nhwc)
            return self.emit(relax.op.dequantize(x, entry.scale, entry.zero_point, 0, entry.out_dtype))
        if isinstance(entry, _QConst):
            q = entry.permuted(_TO_NHWC) if nhwc and entry.data.ndim == 4 else entry
            return self.emit(relax.op.dequantize(relax.const(q.data), relax.const(q.scale),
                                                 relax.const(q.zero_point), q.axis, q.out_dtype))
        raise HhbcError("internal: unknown value in the QDQ walk")

    def output(self, expr):
        """A graph output, back in its original layout; a dequantized output is transposed
        after the dequantize (the int8 kernels have no transpose)."""
        if isinstance(expr, relax.Tuple):
            return relax.Tuple([self.output(f) for f in expr.fields])
        entry = self.env.get(expr) if isinstance(expr, relax.Var) else None
        if isinstance(entry, _DQ):
            entry = _Act(self.materialize(entry, None), entry.x.nhwc)
        return self.materialize(entry, False) if entry is not None else expr

    def is_nhwc(self, entry) -> bool:
        if isinstance(entry, _Act):
            return entry.nhwc
        return isinstance(entry, _DQ) and entry.x.nhwc

    def arg(self, expr, nhwc: bool | None = False):
        """An operand of a re-emitted call."""
        if isinstance(expr, relax.Var) and expr in self.env:
            return self.materialize(self.env[expr], nhwc)
        if isinstance(expr, relax.Tuple):
            return relax.Tuple([self.arg(f, nhwc) for f in expr.fields])
        return expr

    # -- the walk ----------------------------------------------------------------------
    def run(self) -> relax.Function:
        func = self.func
        for p in func.params:
            self.env[p] = _Act(p)
        attrs = {k: v for k, v in func.attrs.items()} if func.attrs else None
        with self.bb.function("main", list(func.params), attrs=attrs):
            with self.bb.dataflow():
                for block in func.body.blocks:
                    for binding in block.bindings:
                        self.layer = layer_of(binding.value) or binding.var.name
                        self.env[binding.var] = self.visit(binding.value)
                result = self.output(func.body.body)
                if isinstance(result, relax.Tuple):
                    result = self.bb.emit(result)
                out = self.bb.emit_output(result)
            self.bb.emit_func_output(out)
        return self.bb.get()["main"]

    def visit(self, value):
        if isinstance(value, relax.Var):
            return self.env.get(value, _Act(value))
        if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op):
            return self.visit_call(value)
        if isinstance(value, relax.TupleGetItem):
            return _Act(self.emit(relax.TupleGetItem(self.arg(value.tuple_value), value.index)))
        if isinstance(value, relax.Tuple):
            return _Act(self.emit(self.arg(value)))
        return _Act(self.emit(value) if isinstance(value, relax.Call) else value)

    def visit_call(self, call: relax.Call):
        name = call.op.name
        if name == "relax.dequantize":
            return self.dequantize(call)
        if name == "relax.quantize":
            return self.quantize(call)
        if name == "relax.nn.conv2d" and str(call.attrs.data_layout) == "NCHW" \
                and str(call.attrs.kernel_layout) == "OIHW" and str(call.attrs.out_layout) == "NCHW":
            return self.conv2d(call)
        if name in _POOLS and str(call.attrs.layout) == "NCHW" and str(call.attrs.out_layout) == "NCHW":
            return self.pool2d(call)
        if name == "relax.mean" and self.is_global_pool(call):
            return self.global_pool(call)
        if name == "relax.matmul" and isinstance(self.env.get(call.args[0]), _DQ) \
                and self.env[call.args[0]].x.order is not None:
            return self.matmul_reordered(call)
        if name in ("relax.reshape", "relax.permute_dims"):
            moved = self.move(call)
            if moved is not None:
                return moved
        if name == "relax.concat":
            return self.concat(call)
        if name in _BINARY:
            return self.binary(call)
        if name in _UNARY:
            src = self.env.get(call.args[0])
            nhwc = self.is_nhwc(src) if src is not None else False
            args = [self.arg(call.args[0], nhwc), *call.args[1:]]
            return _Act(self.emit(relax.Call(call.op, args, call.attrs, call.ty_args)), nhwc)
        args = [self.arg(a) for a in call.args]
        return _Act(self.emit(relax.Call(call.op, args, call.attrs, call.ty_args)))

    def dequantize(self, call: relax.Call):
        data, scale, zp = call.args
        if not (_is_const(scale) and _is_const(zp)):
            raise HhbcError(f"DequantizeLinear '{self.layer}': scale and zero point must be constants")
        if _is_const(data):
            return _QConst(_np(data), _np(scale), _np(zp), int(call.attrs.axis) % max(len(_shape(data)), 1),
                           str(call.attrs.out_dtype))
        if _np(scale).size > 1:
            raise HhbcError(f"DequantizeLinear '{self.layer}': per-channel quantized activations are not "
                            "supported (per-tensor only)")
        src = self.env.get(data)
        if not isinstance(src, _Act):
            src = _Act(self.materialize(src))
        return _DQ(src, scale, zp, str(call.attrs.out_dtype))

    def quantize(self, call: relax.Call):
        data, scale, zp = call.args
        if not (_is_const(scale) and _is_const(zp)) or _np(scale).size > 1:
            raise HhbcError(f"QuantizeLinear '{self.layer}': only per-tensor constant scale and zero point "
                            "are supported")
        src = self.env.get(data, _Act(data))
        nhwc = self.is_nhwc(src)
        order = src.x.order if isinstance(src, _DQ) else None
        x = self.materialize(_DQ(_Act(src.x.expr), src.scale, src.zero_point, src.out_dtype)
                             if order is not None else src, nhwc)
        producer = self.original.get(data)
        layer = layer_of(producer) if producer is not None and self.is_compute(producer) else None
        q = relax.op.quantize(x, scale, zp, int(call.attrs.axis), str(call.attrs.out_dtype))
        flattened_by = src.x.flattened_by if isinstance(src, _DQ) else ""
        return _Act(self.emit(q, layer or self.layer), nhwc, order, flattened_by)

    @staticmethod
    def is_compute(value) -> bool:
        return isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op) \
            and value.op.name not in ("relax.quantize", "relax.dequantize")

    def conv2d(self, call: relax.Call):
        a = call.attrs
        data = self.arg(call.args[0], nhwc=True)
        weight = self.env.get(call.args[1])
        if isinstance(weight, _QConst):
            w = self.materialize(weight.permuted(_TO_NHWC))
        elif _is_const(call.args[1]):
            w = relax.const(_np(call.args[1]).transpose(_TO_NHWC))
        else:
            w = self.permute(self.arg(call.args[1]), _TO_NHWC)
        out = relax.op.nn.conv2d(data, w, [int(v) for v in a.strides], [int(v) for v in a.padding],
                                 [int(v) for v in a.dilation], int(a.groups), "NHWC", "OHWI", "NHWC",
                                 _out_dtype(a))
        return _Act(self.emit(out), True)

    def pool2d(self, call: relax.Call):
        a = call.attrs
        make = relax.op.nn.avg_pool2d if call.op.name == "relax.nn.avg_pool2d" else relax.op.nn.max_pool2d
        data = self.arg(call.args[0], nhwc=True)
        out = make(data, [int(v) for v in a.pool_size], [int(v) for v in a.strides],
                   [int(v) for v in a.padding], [int(v) for v in a.dilation], bool(a.ceil_mode),
                   bool(a.count_include_pad), layout="NHWC", out_layout="NHWC")
        return _Act(self.emit(out), True)

    def move(self, call: relax.Call):
        """reshape/permute_dims of a dequantized value -> the same move on its integers."""
        src = self.env.get(call.args[0])
        reshape = call.op.name == "relax.reshape"
        if isinstance(src, _QConst):
            return src.reshaped(_shape(call), self.layer) if reshape else src.permuted(_axes(call))
        if isinstance(src, _DQ) and reshape and self.is_nchw_flatten(src, call):
            return self.flatten(src, call)
        if isinstance(src, _DQ):
            x = self.act_in(src.x, False)
            if not reshape and not _is_unit_dim_move(_shape(x), _axes(call)):
                return None   # a real transpose stays on the float side (a graph output's)
            moved = self.emit(relax.op.reshape(x, _shape(call))) if reshape else self.permute(x, _axes(call))
            return _DQ(_Act(moved), src.scale, src.zero_point, src.out_dtype)
        return None

    @staticmethod
    def is_nchw_flatten(src: _DQ, call: relax.Call) -> bool:
        """reshape [N, C, H, W] -> [N, C*H*W] of an NHWC int8 map with H*W > 1 (torch's
        x.flatten(1) before a classifier)."""
        shape = _shape(src.x.expr)
        return src.x.nhwc and len(shape) == 4 and shape[1] * shape[2] > 1 \
            and _shape(call) == (shape[0], shape[1] * shape[2] * shape[3])

    def flatten(self, src: _DQ, call: relax.Call) -> _DQ:
        """Flatten the NHWC integers as they lie (a free reshape) and remember the order; the
        NCHW order is restored at compile time in the weight rows of the matmul reading it."""
        n, h, w, c = _shape(src.x.expr)
        order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)
        flat = self.emit(relax.op.reshape(src.x.expr, (n, h * w * c)))
        return _DQ(_Act(flat, False, order, self.layer), src.scale, src.zero_point, src.out_dtype)

    def matmul_reordered(self, call: relax.Call) -> _Act:
        """matmul(dequantize(flattened NHWC map), W): the rows of the constant W permuted the
        way the map's elements are (y = sum_j x[order[j]] W[order[j], :])."""
        src, weight = self.env[call.args[0]], self.env.get(call.args[1])
        if not (isinstance(weight, _QConst) and weight.data.ndim == 2
                and not (weight.per_channel and weight.axis == 0)):
            raise HhbcError(f"layer '{src.x.flattened_by}': an int8 feature map flattened in NCHW order feeds a "
                            "MatMul/Gemm whose weight is not a constant [K, N] (not supported yet)")
        order = src.x.order
        x = self.emit(relax.op.dequantize(src.x.expr, src.scale, src.zero_point, 0, src.out_dtype))
        rows = _QConst(weight.data[order], weight.scale, weight.zero_point, weight.axis, weight.out_dtype)
        return _Act(self.emit(relax.Call(call.op, [x, self.materialize(rows)], call.attrs, call.ty_args)))

    def is_global_pool(self, call: relax.Call) -> bool:
        """mean over H and W, keepdims, of a dequantized 4-D map: GlobalAveragePool."""
        src = self.env.get(call.args[0])
        rank = len(_shape(call.args[0]))
        axes = call.attrs.axis
        return isinstance(src, _DQ) and rank == 4 and bool(call.attrs.keepdims) and axes is not None \
            and sorted(int(a) % rank for a in axes) == [2, 3]

    def global_pool(self, call: relax.Call) -> _Act:
        """GlobalAveragePool -> an NHWC average pool whose window is the whole image, the form
        quantized.py groups as hhbc.qavg_pool2d (onnxruntime: QLinearGlobalAveragePool)."""
        data = self.arg(call.args[0], nhwc=True)
        _, h, w, _ = _shape(data)
        out = relax.op.nn.avg_pool2d(data, [h, w], [1, 1], [0, 0, 0, 0], [1, 1], False, False,
                                     layout="NHWC", out_layout="NHWC")
        return _Act(self.emit(out), True)

    def concat(self, call: relax.Call) -> _Act:
        """Concat of 4-D maps stays NHWC when any input is (its axis remapped), so a channel
        concat of dequantized maps needs no int8 transpose."""
        fields = call.args[0].fields if isinstance(call.args[0], relax.Tuple) else None
        rank = len(_shape(call))
        entries = [self.env.get(f) for f in fields] if fields is not None else []
        if rank != 4 or not any(e is not None and self.is_nhwc(e) for e in entries):
            return _Act(self.emit(relax.Call(call.op, [self.arg(a) for a in call.args], call.attrs, call.ty_args)))
        axis = _TO_NHWC.index(int(call.attrs.axis) % 4)
        return _Act(self.emit(relax.op.concat([self.nhwc_operand(f) for f in fields], axis)), True)

    def nhwc_operand(self, expr) -> relax.Expr:
        """A 4-D operand in NHWC: a walked value, a constant transposed now, else a transpose."""
        if isinstance(expr, relax.Var) and expr in self.env:
            return self.arg(expr, nhwc=True)
        if _is_const(expr):
            return relax.const(_np(expr).transpose(_TO_NHWC))
        return self.permute(expr, _TO_NHWC)

    def binary(self, call: relax.Call):
        out_rank = len(_shape(call))
        entries = [self.env.get(a) for a in call.args]
        nhwc = out_rank == 4 and any(e is not None and self.is_nhwc(e) for e in entries)
        args = [self.operand_4d(a, e, nhwc) for a, e in zip(call.args, entries)]
        return _Act(self.emit(relax.Call(call.op, args, call.attrs, call.ty_args)), nhwc)

    def operand_4d(self, expr, entry, nhwc: bool) -> relax.Expr:
        """A broadcast operand of an elementwise op whose output is 4-D and (maybe) NHWC."""
        rank = len(_shape(expr))
        if not nhwc:
            return self.arg(expr)
        if rank < 4 and rank > 0 and not (rank == 1 and _shape(expr)[0] == 1):
            full = (1,) * (4 - rank) + _shape(expr)
            if isinstance(entry, _QConst):
                return self.materialize(entry.reshaped(full, self.layer), nhwc=True)
            if _is_const(expr):
                return relax.const(_np(expr).reshape(full).transpose(_TO_NHWC))
            x = self.emit(relax.op.reshape(self.arg(expr), full))
            return self.permute(x, _TO_NHWC)
        if rank == 4 and entry is None and _is_const(expr):
            return relax.const(_np(expr).transpose(_TO_NHWC))
        return self.arg(expr, nhwc=True if rank == 4 else None)


def _walk(mod: tvm.IRModule) -> tvm.IRModule:
    try:
        func = _Walk(mod["main"]).run()
    except HhbcError as err:
        _deferred.append(err)
        return mod
    mod = tvm.IRModule(dict(mod.functions))
    mod["main"] = func
    return mod


@tvm.transform.module_pass(opt_level=0, name="hhbc.QdqToNHWC")
def qdq_to_nhwc(mod: tvm.IRModule, ctx) -> tvm.IRModule:
    return _walk(mod)


@tvm.transform.module_pass(opt_level=0, name="hhbc.DequantizePerUse")
def dequantize_per_use(mod: tvm.IRModule, ctx) -> tvm.IRModule:
    """The same walk on the NHWC form only re-emits each dequantize at each use: the
    pattern rewrites in between merge identical calls, which would share them again."""
    return _walk(mod)


# ================================================================= local rewrites
def _deq(x):
    return is_op("relax.dequantize")(x, is_const(), is_const())


def _quant_params(call: relax.Call) -> tuple[float, int]:
    return float(_np(call.args[1]).reshape(-1)[0]), int(_np(call.args[2]).reshape(-1)[0])


def _q_of_float(real: float, scale: float, zp: int) -> int:
    """QuantizeLinear of one float: round half to even in float32, saturated to int8."""
    return int(np.clip(np.rint(np.float32(real) / np.float32(scale)) + zp, -128, 127))


@relax.transform.function_pass(opt_level=0, name="hhbc.QdqActivationToClip")
class ActivationToInt8Clip:
    """quantize(relu|clip(y)) -> clip(quantize(y), lo, hi): exact, quantize being monotone.
    The int8 clip is how the conv/dense/add groups carry a fused activation."""

    def transform_function(self, func, mod, ctx):
        y = wildcard()
        act = is_op("relax.nn.relu")(y) | is_op("relax.clip")(y, wildcard(), wildcard())
        pattern = is_op("relax.quantize")(act, is_const(), is_const())

        def rewrite(expr, matches):
            q, a = matches[pattern], matches[act]
            scale, zp = _quant_params(q)
            if str(q.attrs.out_dtype) != "int8" or _np(q.args[1]).size != 1:
                return expr
            lo, hi = -128, 127
            if a.op.name == "relax.nn.relu":
                lo = max(lo, zp)
            else:
                lo = max(lo, _q_of_float(float(a.args[1].value), scale, zp))
                hi = min(hi, _q_of_float(float(a.args[2].value), scale, zp))
            inner = relax.op.quantize(matches[y], q.args[1], q.args[2], int(q.attrs.axis), "int8")
            return stamp(relax.op.clip(stamp(inner, layer_of(a) or ""), lo, hi), layer_of(a) or "")

        return rewrite_call(pattern, _deferring(rewrite), func)


@relax.transform.function_pass(opt_level=0, name="hhbc.QdqAvgPool")
class AvgPoolToInt8:
    """quantize(avg_pool2d(dequantize(x))) is left for the int8 pattern (hhbc.qavg_pool2d),
    which pools the int8 input the way ONNX Runtime's QLinearAveragePool does; what that
    kernel cannot do is refused here, by layer."""

    def transform_function(self, func, mod, ctx):
        x = wildcard()
        pool = is_op("relax.nn.avg_pool2d")(_deq(x))
        pattern = is_op("relax.quantize")(pool, is_const(), is_const())

        def check(expr, matches):
            p = matches[pool]
            if str(p.attrs.layout) == "NHWC" and (bool(p.attrs.ceil_mode)
                                                 or any(int(v) != 1 for v in p.attrs.dilation)):
                raise HhbcError(f"AveragePool '{layer_of(p) or ''}': ceil_mode and dilation are not "
                                "supported in int8")
            return expr

        return rewrite_call(pattern, _deferring(check), func)


@relax.transform.function_pass(opt_level=0, name="hhbc.QdqMaxPool")
class MaxPoolToInt8:
    """quantize(max_pool2d(dequantize(x))) -> max_pool2d(x) on the integers, followed by
    quantize(dequantize(.)) (an int8 requantize) when the output is quantized differently.
    Exact: dequantize is monotone, so the max of the dequantized values is the dequantized
    max, and padding (skipped by the kernel) never wins. onnxruntime does the same when the
    two quantizations agree (it drops the pair and runs MaxPool on int8), and runs the float
    MaxPool then QuantizeLinear otherwise, which the ONNX-flavour requantize reproduces."""

    def transform_function(self, func, mod, ctx):
        x = wildcard()
        deq = _deq(x)
        pool = is_op("relax.nn.max_pool2d")(deq)
        pattern = is_op("relax.quantize")(pool, is_const(), is_const())

        def rewrite(expr, matches):
            p, d, q = matches[pool], matches[deq], matches[pattern]
            layer = layer_of(p) or ""
            if str(p.attrs.layout) != "NHWC" or str(q.attrs.out_dtype) != "int8":
                return expr
            if bool(p.attrs.ceil_mode) or any(int(v) != 1 for v in p.attrs.dilation):
                raise HhbcError(f"MaxPool '{layer}': ceil_mode and dilation are not supported in int8")
            a = p.attrs
            pooled = stamp(relax.op.nn.max_pool2d(matches[x], [int(v) for v in a.pool_size],
                                                  [int(v) for v in a.strides], [int(v) for v in a.padding],
                                                  [1, 1], False, False, layout="NHWC", out_layout="NHWC"), layer)
            if _quant_params(d) == _quant_params(q):
                return pooled
            back = stamp(relax.op.dequantize(pooled, d.args[1], d.args[2], 0, "float32"), layer)
            return stamp(relax.op.quantize(back, q.args[1], q.args[2], int(q.attrs.axis), "int8"), layer)

        return rewrite_call(pattern, _deferring(rewrite), func)


@relax.transform.function_pass(opt_level=0, name="hhbc.QdqBiasScale")
class RescaleBias:
    """conv2d/matmul + dequantize(int32 bias): the int8 kernels add the bias in accumulator
    units (input scale x weight scale); a bias quantized with another scale is rescaled."""

    def transform_function(self, func, mod, ctx):
        xq, wq = _deq(wildcard()), _deq(wildcard())
        producer = is_op("relax.nn.conv2d")(xq, wq) | is_op("relax.matmul")(xq, wq)
        bias = _deq(is_const())
        pattern = is_op("relax.add")(producer, bias)

        def rewrite(expr, matches):
            b = matches[bias]
            want = (np.float32(_np(matches[xq].args[1]).reshape(-1)[0])
                    * _np(matches[wq].args[1]).astype(np.float32).reshape(-1))
            have = _np(b.args[1]).astype(np.float32).reshape(-1)
            if have.size == want.size and np.array_equal(have, want) or (
                    have.size == 1 and want.size == 1 and have[0] == want[0]):
                return expr
            values = _np(b.args[0]).astype(np.float64)
            scaled = np.rint(values.reshape(-1) * have.astype(np.float64) / want.astype(np.float64))
            if np.any(np.abs(scaled) > 2 ** 31 - 1):
                raise HhbcError(f"layer '{layer_of(matches[pattern]) or ''}': the bias does not fit int32 "
                                "at input scale x weight scale")
            new = relax.op.dequantize(relax.const(scaled.astype(np.int32).reshape(values.shape)),
                                      relax.const(want.reshape(-1) if want.size > 1 else want[0]),
                                      relax.const(np.zeros(want.size, np.int32) if want.size > 1 else np.int32(0)),
                                      len(values.shape) - 1, "float32")
            call = matches[pattern]
            return relax.Call(call.op, [call.args[0], stamp(new, layer_of(call) or "")], call.attrs,
                              span=call.span)

        return rewrite_call(pattern, _deferring(rewrite), func)


def _passes() -> list[tvm.ir.transform.Pass]:
    from hhbc.optimize.rewrites import MergeReshapes, SimplifyTranspose

    return [qdq_to_nhwc, SimplifyTranspose(), MergeReshapes(), ActivationToInt8Clip(), AvgPoolToInt8(),
            MaxPoolToInt8(), RescaleBias(), dequantize_per_use, relax.transform.DeadCodeElimination()]


# TVM turns an exception raised inside a pass into a RuntimeError carrying a traceback; the
# passes here keep their one-line HhbcError aside instead, and raise_deferred() raises it.
_deferred: list[HhbcError] = []


def _deferring(rewrite):
    """Wrap a rewrite_call callback: an HhbcError is kept for raise_deferred()."""

    def run(expr, matches):
        try:
            return rewrite(expr, matches)
        except HhbcError as err:
            _deferred.append(err)
            return expr

    return run


def raise_deferred() -> None:
    if _deferred:
        err = _deferred[0]
        _deferred.clear()
        raise err


def normalize_onnx_qdq() -> tvm.ir.transform.Pass:
    """All the rewrites, in order, stopping at the first error (see raise_deferred)."""
    from hhbc.layers import keeping_layers

    @tvm.transform.module_pass(opt_level=0, name="hhbc.OnnxQdqToInt8Form")
    def run(mod, ctx):
        for p in _passes():
            mod = keeping_layers(p)(mod)
            if _deferred:
                break
        return mod

    return run


# ================================================================= the float guard
def check_no_float_between_qdq(mod: tvm.IRModule) -> None:
    """A float computation fed by a dequantize and feeding a quantize is a quantized layer no
    int8 group took: refuse it by name rather than compute it in float."""
    func = mod["main"]
    values = bound_values(func)
    from_dq: set[relax.Var] = set()
    for var, value in values.items():
        if not (isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op)):
            continue
        if value.op.name == "relax.dequantize" or (
                value.op.name != "relax.quantize" and not _operand_vars(value).isdisjoint(from_dq)):
            from_dq.add(var)
    to_q: set[relax.Var] = set()
    for var, value in reversed(list(values.items())):
        if not (isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op)):
            continue
        if value.op.name == "relax.quantize" or (var in to_q and value.op.name != "relax.dequantize"):
            to_q.update(_operand_vars(value))
    for var, value in values.items():
        if (var in from_dq and var in to_q and isinstance(value, relax.Call)
                and isinstance(value.op, tvm.ir.Op) and value.op.name not in _DATA_MOVEMENT):
            op = value.op.name.removeprefix("relax.")
            raise HhbcError(f"layer '{layer_of(value) or var.name}': {op} between a DequantizeLinear and a "
                            "QuantizeLinear has no int8 kernel (hhbc does not run quantized layers in float)")


def _operand_vars(call: relax.Call) -> set[relax.Var]:
    out: set[relax.Var] = set()
    for a in call.args:
        if isinstance(a, relax.Var):
            out.add(a)
        elif isinstance(a, relax.Tuple):
            out.update(f for f in a.fields if isinstance(f, relax.Var))
    return out
