"""Int8 composites (optimize/quantized.py) -> int8 kernel nodes.

Each composite is dequantize -> float op -> quantize [-> clip] as TVM's TFLite importer
writes it. The float op only says *which* computation; the quantization parameters (float32
scales, zero points, per-channel axes) are read from the dequantize/quantize constants and
prepared here with hhbc/quantize/fixedpoint.py, bit-exact with TFLite's reference kernels.
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.lower.graph import Quant, Tensor
from hhbc.quantize import fixedpoint as fp


class _Group:
    """The calls of one composite function, with its vars resolved to their values."""

    def __init__(self, fn: relax.Function):
        self.values: dict[relax.Var, relax.Expr] = {}
        self.calls: dict[str, relax.Call] = {}
        for block in fn.body.blocks:
            for b in block.bindings:
                self.values[b.var] = b.value
                if isinstance(b.value, relax.Call) and isinstance(b.value.op, tvm.ir.Op):
                    self.calls.setdefault(b.value.op.name, b.value)
        self.output = self.value(fn.body.body)

    def value(self, expr):
        while isinstance(expr, relax.Var) and expr in self.values:
            expr = self.values[expr]
        return expr

    def op(self, expr, name: str) -> relax.Call | None:
        v = self.value(expr)
        return v if isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.Op) and v.op.name == name else None


def _np(expr) -> np.ndarray:
    if not isinstance(expr, tvm.ir.GenericConst):
        raise HhbcError("internal: expected a constant in an int8 pattern")
    return expr.value.numpy()


def _quant_of(call: relax.Call) -> Quant:
    """Scale/zero point of a quantize or dequantize call (float32 scales, as TFLite stores them)."""
    scale = _np(call.args[1]).astype(np.float32).reshape(-1)
    zp = _np(call.args[2]).astype(np.int64).reshape(-1)
    return Quant(tuple(float(s) for s in scale), tuple(int(z) for z in zp), int(call.attrs.axis))


def _act_range(group: _Group, out_q: Quant) -> tuple[int, int]:
    """The output clamp: a clip of the int8 result (TVM's conv activations), or a ReLU/clip in
    float before quantize (ADD's), turned into TFLite's quantized range."""
    lo, hi = -128, 127
    for b in group.values.values():
        if not (isinstance(b, relax.Call) and isinstance(b.op, tvm.ir.Op)):
            continue
        if b.op.name == "relax.nn.relu":
            lo, hi = _meet((lo, hi), fp.activation_range("RELU", out_q.scale[0], out_q.zero_point[0]))
        elif b.op.name == "relax.clip":
            a, z = float(b.args[1].value), float(b.args[2].value)
            if str(b.args[0].ty.dtype) == "int8":
                lo, hi = _meet((lo, hi), (int(round(a)), int(round(z))))
            else:
                kind = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}.get((a, z))
                if kind is None:
                    raise HhbcError(f"float clip [{a:g}, {z:g}] in an int8 group")
                lo, hi = _meet((lo, hi), fp.activation_range(kind, out_q.scale[0], out_q.zero_point[0]))
    return lo, hi


def _meet(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return max(a[0], b[0]), min(a[1], b[1])


def _data_quant(lw, deq: relax.Call) -> tuple[Tensor, Quant]:
    x = lw.tensor(deq.args[0])
    q = _quant_of(deq)
    if len(q.scale) != 1:
        raise HhbcError(f"layer '{lw.layer}': per-channel quantized activations are not supported")
    if x.quant is None:
        x.quant = q
    return x, q


def _emit_q(lw, op, var, inputs, params, consts, out_q: Quant, macs: int = 0) -> Tensor:
    out = lw.emit(op, var, inputs, params, consts, macs)
    out.quant = out_q
    return out


def lower_quantized(lw, var, name: str, fn: relax.Function) -> Tensor:
    group = _Group(fn)
    if name == "hhbc.qconv2d":
        return _qconv(lw, var, group)
    if name == "hhbc.qdense":
        return _qdense(lw, var, group)
    if name == "hhbc.qadd":
        return _qadd(lw, var, group)
    if name == "hhbc.qsoftmax":
        return _qsoftmax(lw, var, group)
    if name == "hhbc.qavg_pool2d":
        return _qavg_pool(lw, var, group)
    raise HhbcError(f"internal: no lowering for composite {name}")


def _bias(lw, group: _Group) -> np.ndarray | None:
    add = group.calls.get("relax.add")
    if add is None:
        return None
    deq = group.op(add.args[1], "relax.dequantize")
    if deq is None or any(z != 0 for z in _quant_of(deq).zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 bias must be an int32 constant with zero point 0")
    return _np(deq.args[0]).astype(np.int32).reshape(-1)


def _qconv(lw, var, g: _Group) -> Tensor:
    conv = g.calls["relax.nn.conv2d"]
    attrs = conv.attrs
    if str(attrs.data_layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': int8 conv2d in layout {attrs.data_layout}")
    x, in_q = _data_quant(lw, g.op(conv.args[0], "relax.dequantize"))
    w_expr = g.value(conv.args[1])
    reshape = None
    if isinstance(w_expr, relax.Call) and w_expr.op.name == "relax.reshape":
        reshape = w_expr
        w_expr = g.value(w_expr.args[0])
    w_q = _quant_of(w_expr)
    if any(z != 0 for z in w_q.zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 weights with a nonzero zero point")
    raw = _np(w_expr.args[0])
    if raw.dtype != np.int8:
        raise HhbcError(f"layer '{lw.layer}': {raw.dtype} conv weights (int8 only)")
    weight = raw.reshape(tuple(int(d) for d in reshape.ty.shape)) if reshape is not None else raw
    layout = str(attrs.kernel_layout)
    ohwi = weight.transpose([layout.index(c) for c in "OHWI"])
    oc, kh, kw, icg = ohwi.shape
    in_c = x.shape[3]
    groups = int(attrs.groups)
    depthwise = groups == in_c and groups > 1 and icg == 1
    if depthwise:
        # TFLite's [1][KH][KW][OC] is already the kernel's [KH][KW][OC]
        w_data = raw.reshape(kh, kw, oc) if raw.size == kh * kw * oc and raw.shape[0] == 1 \
            else ohwi.reshape(oc, kh, kw).transpose(1, 2, 0)
    else:
        w_data = ohwi
    out_q = _quant_of(g.calls["relax.quantize"])
    mult, shift = fp.conv_multipliers(in_q.scale[0], np.asarray(w_q.scale, np.float32), out_q.scale[0])
    lo, hi = _act_range(g, out_q)
    pad = [int(p) for p in attrs.padding]
    params = {
        "per_channel": int(mult.size > 1), "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
        "pad_top": pad[0], "pad_left": pad[1], "groups": groups,
        "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0], "act_min": lo, "act_max": hi,
    }
    consts = {"weight": lw.const(np.ascontiguousarray(w_data, np.int8), "w"),
              "multiplier": lw.const(np.asarray(mult, np.int32), "m"),
              "shift": lw.const(np.asarray(shift, np.int32), "s")}
    bias = _bias(lw, g)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    out_shape = tuple(int(d) for d in var.ty.shape)
    macs = int(np.prod(out_shape)) * kh * kw * icg
    return _emit_q(lw, "depthwise_conv2d_i8" if depthwise else "conv2d_i8", var, [x], params, consts,
                   out_q, macs)


def _qdense(lw, var, g: _Group) -> Tensor:
    mm = g.calls["relax.matmul"]
    x, in_q = _data_quant(lw, g.op(mm.args[0], "relax.dequantize"))
    w_deq = g.op(mm.args[1], "relax.dequantize")
    w_q = _quant_of(w_deq)
    if any(z != 0 for z in w_q.zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 weights with a nonzero zero point")
    w_expr = g.value(w_deq.args[0])
    if isinstance(w_expr, relax.Call) and w_expr.op.name == "relax.permute_dims":
        raw = _np(g.value(w_expr.args[0]))
        axes = [int(a) for a in w_expr.attrs.axes] if w_expr.attrs.axes is not None else [1, 0]
        kn = raw.transpose(axes)
    else:
        kn = _np(w_expr)
    if kn.ndim != 2 or kn.dtype != np.int8:
        raise HhbcError(f"layer '{lw.layer}': int8 dense needs a 2-D int8 weight")
    k, n = kn.shape
    m = x.size // k
    out_q = _quant_of(g.calls["relax.quantize"])
    real = fp.dense_real_scales(in_q.scale[0], np.asarray(w_q.scale, np.float32), out_q.scale[0])
    real = np.asarray(real, np.float64).reshape(-1)
    lo, hi = _act_range(g, out_q)
    params = {"per_channel": int(real.size > 1), "m": m, "n": n, "k": k,
              "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0], "act_min": lo, "act_max": hi}
    consts = {"weight": lw.const(np.ascontiguousarray(kn.T), "w"), "real_scale": Tensor("r", real.shape, "float64", kind="const", data=real)}
    bias = _bias(lw, g)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    return _emit_q(lw, "dense_i8", var, [x], params, consts, out_q, m * n * k)


def _qadd(lw, var, g: _Group) -> Tensor:
    from hhbc.lower.from_relax import broadcast_strides

    add = g.calls["relax.add"]
    a, a_q = _data_quant(lw, g.op(add.args[0], "relax.dequantize"))
    b, b_q = _data_quant(lw, g.op(add.args[1], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    p = fp.add_params(a_q.scale[0], b_q.scale[0], out_q.scale[0])
    lo, hi = _act_range(g, out_q)
    out_shape = tuple(int(d) for d in var.ty.shape)
    params = {
        "shape": {"ndim": len(out_shape), "out_dim": list(out_shape),
                  "a_stride": broadcast_strides(a.shape, out_shape),
                  "b_stride": broadcast_strides(b.shape, out_shape)},
        "left_shift": p.left_shift,
        "a_zp": a_q.zero_point[0], "a_multiplier": p.a_multiplier, "a_shift": p.a_shift,
        "b_zp": b_q.zero_point[0], "b_multiplier": p.b_multiplier, "b_shift": p.b_shift,
        "output_zp": out_q.zero_point[0], "output_multiplier": p.output_multiplier,
        "output_shift": p.output_shift, "act_min": lo, "act_max": hi,
    }
    return _emit_q(lw, "add_i8", var, [a, b], params, {}, out_q)


def _qsoftmax(lw, var, g: _Group) -> Tensor:
    sm = g.calls["relax.nn.softmax"]
    x, in_q = _data_quant(lw, g.op(sm.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    if out_q.scale != (float(np.float32(1 / 256)),) or out_q.zero_point != (-128,):
        raise HhbcError(f"layer '{lw.layer}': int8 softmax output must have scale 1/256 and zero point -128")
    axis = int(sm.attrs.axis) % len(x.shape)
    if axis != len(x.shape) - 1:
        raise HhbcError(f"layer '{lw.layer}': int8 softmax over axis {axis} (last axis only)")
    p = fp.softmax_params(in_q.scale[0], 1.0)
    params = {"outer": x.size // x.shape[-1], "axis_size": x.shape[-1], "inner": 1,
              "input_multiplier": p.input_multiplier, "input_left_shift": p.input_left_shift,
              "diff_min": p.diff_min}
    return _emit_q(lw, "softmax_i8", var, [x], params, {}, out_q)


def _qavg_pool(lw, var, g: _Group) -> Tensor:
    pool = g.calls["relax.nn.avg_pool2d"]
    attrs = pool.attrs
    if str(attrs.layout) != "NHWC" or any(int(d) != 1 for d in attrs.dilation) or bool(attrs.ceil_mode):
        raise HhbcError(f"layer '{lw.layer}': int8 average pool must be NHWC, undilated, floor mode")
    cast = g.op(pool.args[0], "relax.astype")
    x = lw.tensor(cast.args[0])
    if x.dtype != "int8":
        raise HhbcError(f"layer '{lw.layer}': average pool of {x.dtype}")
    pad = [int(p) for p in attrs.padding]
    lo, hi = _act_range(g, x.quant)
    params = {"kind": "avg", "kernel_h": int(attrs.pool_size[0]), "kernel_w": int(attrs.pool_size[1]),
              "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
              "pad_top": pad[0], "pad_left": pad[1], "act_min": lo, "act_max": hi}
    return _emit_q(lw, "pool2d_i8", var, [x], params, {}, x.quant)
