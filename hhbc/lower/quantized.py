"""Int8 composites (optimize/quantized.py) -> int8 kernel nodes.

Each composite is dequantize -> float op -> quantize [-> clip] as TVM's TFLite importer
writes it. The float op only says *which* computation; the quantization parameters (float32
scales, zero points, per-channel axes) are read from the dequantize/quantize constants and
prepared here with hhbc/quantize/fixedpoint.py, bit-exact with TFLite's reference kernels.

A model from ONNX QDQ (main tagged by the ONNX frontend, optimize/qdq_onnx.py) gets the
ONNX flavour instead: the same kernels, rescaling in float32 with ties to even the way
ONNX Runtime's int8 kernels do (fixedpoint.onnx_*), so that its outputs match the
framework the model came from rather than TFLite's fixed-point rounding.
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.lower.composite import CompositeBody
from hhbc.lower import quantized_resample
from hhbc.lower.graph import Node, Quant, Tensor
from hhbc.optimize.qdq_onnx import is_onnx_qdq
from hhbc.quantize import fixedpoint as fp


def _np(expr) -> np.ndarray:
    if not isinstance(expr, tvm.ir.GenericConst):
        raise HhbcError("internal: expected a constant in an int8 pattern")
    return expr.value.numpy()


def _quant_of(call: relax.Call) -> Quant:
    """Scale/zero point of a quantize or dequantize call (float32 scales, as TFLite stores them)."""
    scale = _np(call.args[1]).astype(np.float32).reshape(-1)
    zp = _np(call.args[2]).astype(np.int64).reshape(-1)
    return Quant(tuple(float(s) for s in scale), tuple(int(z) for z in zp), int(call.attrs.axis))


def _onnx(lw) -> bool:
    """Does this module come from ONNX QDQ (the ONNX rounding flavour)?"""
    return is_onnx_qdq(lw.mod)


def _act_range(group: CompositeBody, out_q: Quant, onnx: bool = False) -> tuple[int, int]:
    """The output clamp: a clip of the int8 result (TVM's conv activations), or a ReLU/clip in
    float before quantize (ADD's), turned into TFLite's quantized range. An ONNX model's int8
    clip was rounded half to even already (qdq_onnx.ActivationToInt8Clip): kept as it is."""
    lo, hi = -128, 127
    for b in group.values.values():
        if not (isinstance(b, relax.Call) and isinstance(b.op, tvm.ir.Op)):
            continue
        if b.op.name == "relax.nn.relu":
            lo, hi = _meet((lo, hi), fp.activation_range("RELU", out_q.scale[0], out_q.zero_point[0]))
        elif b.op.name == "relax.clip":
            a, z = float(b.args[1].value), float(b.args[2].value)
            if str(b.args[0].ty.dtype) == "int8":
                bounds = (int(round(a)), int(round(z)))
                lo, hi = _meet((lo, hi), bounds if onnx else _int8_clip_range(*bounds, out_q))
            else:
                kind = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}.get((a, z))
                if kind is None:
                    raise HhbcError(f"float clip [{a:g}, {z:g}] in an int8 group")
                lo, hi = _meet((lo, hi), fp.activation_range(kind, out_q.scale[0], out_q.zero_point[0]))
    return lo, hi


def _int8_clip_range(lo: int, hi: int, out_q: Quant) -> tuple[int, int]:
    """A fused activation TVM wrote as an int8 clip: TVM rounds round(f / scale) in double with
    ties to even, TFLite in float32 with ties away from zero, so a bound may be one off. The
    activation within one step of TVM's bounds is recomputed TFLite's way."""
    for kind in ("RELU", "RELU6", "RELU_N1_TO_1"):
        t_lo, t_hi = fp.activation_range(kind, out_q.scale[0], out_q.zero_point[0])
        if abs(t_lo - lo) <= 1 and abs(t_hi - hi) <= 1:
            return t_lo, t_hi
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
    try:
        return _lower_quantized(lw, var, name, fn)
    except fp.QuantParamError as err:   # scales the fixed-point arithmetic cannot represent
        op = name.removeprefix("hhbc.q").removeprefix("hhbc.")
        raise HhbcError(f"layer '{lw.layer}': int8 {op}: its quantization scales give a "
                        f"fixed-point parameter out of range ({err})") from None


def _lower_quantized(lw, var, name: str, fn: relax.Function) -> Tensor:
    group = CompositeBody(fn)
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
    handler = _MORE.get(name)
    if handler is not None:
        return handler(lw, var, group)
    raise HhbcError(f"internal: no lowering for composite {name}")


def _bias(lw, group: CompositeBody) -> np.ndarray | None:
    add = group.calls.get("relax.add")
    if add is None:
        return None
    deq = group.op(add.args[1], "relax.dequantize")
    if deq is None or any(z != 0 for z in _quant_of(deq).zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 bias must be an int32 constant with zero point 0")
    return _np(deq.args[0]).astype(np.int32).reshape(-1)


def _qconv(lw, var, g: CompositeBody) -> Tensor:
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
    onnx = _onnx(lw)
    lo, hi = _act_range(g, out_q, onnx)
    pad = [int(p) for p in attrs.padding]
    params = {
        "per_channel": int(len(w_q.scale) > 1), "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
        "pad_top": pad[0], "pad_left": pad[1], "groups": groups,
        "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0], "act_min": lo, "act_max": hi,
    }
    consts = {"weight": lw.const(np.ascontiguousarray(w_data, np.int8), "w")}
    consts.update(_conv_rescale(lw, in_q, w_q, out_q, onnx))
    consts.update(_weight_zp(lw, w_q, oc))
    bias = _bias(lw, g)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    out_shape = tuple(int(d) for d in var.ty.shape)
    macs = int(np.prod(out_shape)) * kh * kw * icg
    return _emit_q(lw, "depthwise_conv2d_i8" if depthwise else "conv2d_i8", var, [x], params, consts,
                   out_q, macs)


def _conv_rescale(lw, in_q: Quant, w_q: Quant, out_q: Quant, onnx: bool) -> dict[str, Tensor]:
    """conv/dense rescaling constants: fixed-point multipliers and shifts (TFLite), or the
    float32 scales of ONNX Runtime's QLinearConv/QGemm (ONNX)."""
    w_scales = np.asarray(w_q.scale, np.float32)
    if onnx:
        return {"scale": lw.const(fp.onnx_conv_scales(in_q.scale[0], w_scales, out_q.scale[0]), "fs")}
    mult, shift = fp.conv_multipliers(in_q.scale[0], w_scales, out_q.scale[0])
    return {"multiplier": lw.const(np.asarray(mult, np.int32), "m"),
            "shift": lw.const(np.asarray(shift, np.int32), "s")}


def _weight_zp(lw, w_q: Quant, channels: int) -> dict[str, Tensor]:
    """Asymmetric weights: their zero points as the int32 [channels] constant "weight_zp" (a
    per-tensor one repeated); the kernels take them out with the window sum. Symmetric: none."""
    if all(z == 0 for z in w_q.zero_point):
        return {}
    if any(not -128 <= z <= 127 for z in w_q.zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 weight zero point out of [-128, 127]")
    zp = np.broadcast_to(np.asarray(w_q.zero_point, np.int32), (channels,))
    return {"weight_zp": lw.const(np.array(zp, np.int32), "wz")}


def _qdense(lw, var, g: CompositeBody) -> Tensor:
    mm = g.calls["relax.matmul"]
    x, in_q = _data_quant(lw, g.op(mm.args[0], "relax.dequantize"))
    w_deq = g.op(mm.args[1], "relax.dequantize")
    w_q = _quant_of(w_deq)
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
    onnx = _onnx(lw)
    lo, hi = _act_range(g, out_q, onnx)
    params = {"per_channel": int(len(w_q.scale) > 1), "m": m, "n": n, "k": k,
              "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0], "act_min": lo, "act_max": hi}
    consts = {"weight": lw.const(np.ascontiguousarray(kn.T), "w")}
    if onnx:
        consts["scale"] = lw.const(fp.onnx_conv_scales(in_q.scale[0], np.asarray(w_q.scale, np.float32),
                                                       out_q.scale[0]), "fs")
    else:
        real = fp.dense_real_scales(in_q.scale[0], np.asarray(w_q.scale, np.float32), out_q.scale[0])
        real = np.asarray(real, np.float64).reshape(-1)
        consts["real_scale"] = Tensor("r", real.shape, "float64", kind="const", data=real)
    consts.update(_weight_zp(lw, w_q, n))
    bias = _bias(lw, g)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    return _emit_q(lw, "dense_i8", var, [x], params, consts, out_q, m * n * k)


def _qadd(lw, var, g: CompositeBody, sub: bool = False) -> Tensor:
    from hhbc.lower.from_relax import broadcast_strides

    add = g.calls["relax.subtract" if sub else "relax.add"]
    a, a_q = _data_quant(lw, g.op(add.args[0], "relax.dequantize"))
    b, b_q = _data_quant(lw, g.op(add.args[1], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    p = fp.add_params(a_q.scale[0], b_q.scale[0], out_q.scale[0])
    onnx = _onnx(lw)
    lo, hi = _act_range(g, out_q, onnx)
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
        "onnx": int(onnx), "a_ratio": 0.0, "b_ratio": 0.0, "fixed": 0.0, "sub": int(sub),
    }
    if onnx:
        o = fp.onnx_add_params(a_q.scale[0], a_q.zero_point[0], b_q.scale[0], b_q.zero_point[0],
                               out_q.scale[0], out_q.zero_point[0])
        params.update(a_ratio=o.a_ratio, b_ratio=o.b_ratio, fixed=o.fixed)
    return _emit_q(lw, "add_i8", var, [a, b], params, {}, out_q)


def _qsub(lw, var, g: CompositeBody) -> Tensor:
    """TFLite int8 SUB: ADD's arithmetic (same multipliers and shifts), input 2's term subtracted."""
    if _onnx(lw):
        raise HhbcError(f"layer '{lw.layer}': int8 SUB of an ONNX QDQ model is not supported")
    return _qadd(lw, var, g, sub=True)


def _qsoftmax(lw, var, g: CompositeBody) -> Tensor:
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


_NO_ONNX_POOL = {"rounding": "tflite", "count_include_pad": 0, "input_zp": 0, "output_zp": 0,
                 "input_scale": 0.0, "output_scale": 0.0, "scale": 0.0}


def _qavg_pool(lw, var, g: CompositeBody) -> Tensor:
    """TFLite's form (TVM pools int8 in int32, input and output share their quantization) or
    ONNX's (quantize(avg_pool2d(dequantize(x))), each side quantized on its own)."""
    pool = g.calls["relax.nn.avg_pool2d"]
    attrs = pool.attrs
    if str(attrs.layout) != "NHWC" or any(int(d) != 1 for d in attrs.dilation) or bool(attrs.ceil_mode):
        raise HhbcError(f"layer '{lw.layer}': int8 average pool must be NHWC, undilated, floor mode")
    deq = g.op(pool.args[0], "relax.dequantize")
    x = lw.tensor((deq if deq is not None else g.op(pool.args[0], "relax.astype")).args[0])
    if x.dtype != "int8":
        raise HhbcError(f"layer '{lw.layer}': average pool of {x.dtype}")
    pad = [int(p) for p in attrs.padding]
    params = {"kind": "avg", "kernel_h": int(attrs.pool_size[0]), "kernel_w": int(attrs.pool_size[1]),
              "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
              "pad_top": pad[0], "pad_left": pad[1], **_NO_ONNX_POOL}
    out_q = x.quant
    if deq is not None:
        _, in_q = _data_quant(lw, deq)
        out_q = _quant_of(g.calls["relax.quantize"])
        params.update(_onnx_pool(x, params, in_q, out_q, bool(attrs.count_include_pad)))
    params["act_min"], params["act_max"] = _act_range(g, out_q, deq is not None)
    return _emit_q(lw, "pool2d_i8", var, [x], params, {}, out_q)


def _onnx_pool(x: Tensor, params: dict, in_q: Quant, out_q: Quant, count_include_pad: bool) -> dict:
    """QLinearAveragePool as ONNX Runtime runs it: a window over the whole unpadded image
    takes its global-pool path (integer sum, one float32 scale), any other the float one."""
    kh, kw = params["kernel_h"], params["kernel_w"]
    whole = (kh, kw) == tuple(x.shape[1:3]) and params["pad_top"] == 0 and params["pad_left"] == 0
    return {"rounding": "onnx_whole" if whole else "onnx_float", "count_include_pad": int(count_include_pad),
            "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0],
            "input_scale": in_q.scale[0], "output_scale": out_q.scale[0],
            "scale": fp.onnx_whole_pool_scale(in_q.scale[0], kh * kw, out_q.scale[0])}


# ---------------------------------------------------------------------------------------
# MUL, MAX_POOL_2D, PAD, MEAN, CONCATENATION, LOGISTIC/TANH, HARD_SWISH, RELU*/QUANTIZE,
# and the float <-> int8 ends of a model
# ---------------------------------------------------------------------------------------

def _qmul(lw, var, g: CompositeBody) -> Tensor:
    from hhbc.lower.from_relax import broadcast_strides

    mul = g.calls["relax.multiply"]
    a, a_q = _data_quant(lw, g.op(mul.args[0], "relax.dequantize"))
    b, b_q = _data_quant(lw, g.op(mul.args[1], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    m, s = fp.mul_multiplier(a_q.scale[0], b_q.scale[0], out_q.scale[0])
    lo, hi = _act_range(g, out_q)
    out_shape = tuple(int(d) for d in var.ty.shape) or (1,)
    params = {
        "shape": {"ndim": len(out_shape), "out_dim": list(out_shape),
                  "a_stride": broadcast_strides(a.shape, out_shape),
                  "b_stride": broadcast_strides(b.shape, out_shape)},
        "a_zp": a_q.zero_point[0], "b_zp": b_q.zero_point[0], "output_zp": out_q.zero_point[0],
        "output_multiplier": m, "output_shift": s, "act_min": lo, "act_max": hi,
    }
    return _emit_q(lw, "mul_i8", var, [a, b], params, {}, out_q)


def _int8_input(lw, expr, what: str) -> Tensor:
    x = lw.tensor(expr)
    if x.dtype != "int8" or x.quant is None:
        raise HhbcError(f"layer '{lw.layer}': int8 {what} of a tensor without int8 quantization")
    return x


def _qmax_pool(lw, var, g: CompositeBody) -> Tensor:
    """TFLite's int8 MAX_POOL_2D: input and output share their parameters (TVM's importer
    asserts it); a fused activation arrives as an int8 clip."""
    pool = g.calls["relax.nn.max_pool2d"]
    attrs = pool.attrs
    if str(attrs.layout) != "NHWC" or any(int(d) != 1 for d in attrs.dilation) or bool(attrs.ceil_mode):
        raise HhbcError(f"layer '{lw.layer}': int8 max pool must be NHWC, undilated, floor mode")
    x = _int8_input(lw, pool.args[0], "max pool")
    pad = [int(p) for p in attrs.padding]
    lo, hi = _act_range(g, x.quant, _onnx(lw))
    params = {"kind": "max", "kernel_h": int(attrs.pool_size[0]), "kernel_w": int(attrs.pool_size[1]),
              "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
              "pad_top": pad[0], "pad_left": pad[1], "act_min": lo, "act_max": hi, **_NO_ONNX_POOL}
    return _emit_q(lw, "pool2d_i8", var, [x], params, {}, x.quant)


def _qpad(lw, var, g: CompositeBody) -> Tensor:
    """PAD fills with the zero point, PADV2 with its int8 constant (TVM's pad_value); both
    keep the input's parameters (TVM's importer asserts input and output agree)."""
    pad = g.calls["relax.nn.pad"]
    if str(pad.attrs.pad_mode) != "constant":
        raise HhbcError(f"layer '{lw.layer}': int8 pad mode {pad.attrs.pad_mode} (constant only)")
    x = _int8_input(lw, pad.args[0], "pad")
    value = float(pad.attrs.pad_value or 0.0) if len(pad.args) < 2 else float(_np(pad.args[1]))
    if value != int(value) or not -128 <= value <= 127:
        raise HhbcError(f"layer '{lw.layer}': int8 pad value {value:g} is not an int8")
    width = [int(w) for w in pad.attrs.pad_width]
    rank = len(x.shape)
    params = {"value": int(value), "ndim": rank, "in_dim": list(x.shape),
              "out_dim": [int(d) for d in var.ty.shape], "before": [width[2 * i] for i in range(rank)]}
    if any(w < 0 for w in width):
        raise HhbcError(f"layer '{lw.layer}': negative padding")
    return _emit_q(lw, "pad_i8", var, [x], params, {}, x.quant)


def reduced_axes(x: Tensor, call: relax.Call) -> tuple[list[int], int]:
    """A reduction's axes as a 0/1 flag per input axis, and how many elements each output sums."""
    rank = len(x.shape)
    axes = range(rank) if call.attrs.axis is None else {int(a) % rank for a in call.attrs.axis}
    reduced = [int(d in axes) for d in range(rank)]
    return reduced, int(np.prod([x.shape[d] for d in range(rank) if reduced[d]], dtype=np.int64))


def _qmean(lw, var, g: CompositeBody) -> Tensor:
    mean = g.calls["relax.mean"]
    x, in_q = _data_quant(lw, g.op(mean.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    reduced, count = reduced_axes(x, mean)
    m, s = fp.mean_multiplier(in_q.scale[0], out_q.scale[0], count)
    params = {"ndim": len(x.shape), "in_dim": list(x.shape), "reduced": reduced, "count": count,
              "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0],
              "multiplier": m, "shift": s}
    return _emit_q(lw, "mean_i8", var, [x], params, {}, out_q)


def _requant_node(lw, x: Tensor, in_q: Quant, out_q: Quant) -> Tensor:
    """x rescaled to out_q by its own requantize node (QUANTIZE int8 -> int8 arithmetic)."""
    m, s = fp.requant_multiplier(in_q.scale[0], out_q.scale[0])
    out = Tensor(f"{x.name} requantized", x.shape, "int8", quant=out_q)
    onnx = _onnx(lw)
    params = {"rq.input_zp": in_q.zero_point[0], "rq.output_zp": out_q.zero_point[0],
              "rq.multiplier": m, "rq.shift": s, "act_min": -128, "act_max": 127, "onnx": int(onnx),
              "input_scale": in_q.scale[0] if onnx else 0.0, "output_scale": out_q.scale[0] if onnx else 0.0}
    lw.nodes.append(Node("requantize_i8", [x], out, params, {}, lw.layer))
    return out


def _qconcat(lw, var, g: CompositeBody) -> Tensor:
    """CONCATENATION: TFLite's int8 kernel copies inputs that share the output's parameters;
    an input quantized differently is first requantized to them (what the converter writes
    as an int8 QUANTIZE before the concat, and what the dequantize -> concat -> quantize
    of a QDQ graph means)."""
    cat = g.calls["relax.concat"]
    out_q = _quant_of(g.calls["relax.quantize"])
    fields = g.value(cat.args[0]).fields
    inputs = []
    for f in fields:
        x, q = _data_quant(lw, g.op(f, "relax.dequantize"))
        if (q.scale[0], q.zero_point[0]) != (out_q.scale[0], out_q.zero_point[0]):
            x = _requant_node(lw, x, q, out_q)
        inputs.append(x)
    out_shape = tuple(int(d) for d in var.ty.shape)
    axis = int(cat.attrs.axis) % len(out_shape)
    params = {"num_inputs": len(inputs),
              "outer": int(np.prod(out_shape[:axis], dtype=np.int64)),
              "inner": int(np.prod(out_shape[axis + 1:], dtype=np.int64)),
              "axis_dim": [t.shape[axis] for t in inputs]}
    return _emit_q(lw, "concat_i8", var, inputs, params, {}, out_q)


def _qlut(lw, var, g: CompositeBody) -> Tensor:
    """LOGISTIC and TANH: TFLite's 256-entry table, made here (an ONNX model's: as
    onnxruntime's QLinearSigmoid makes it, fixedpoint.onnx_lut_table)."""
    fn = g.calls["relax.sigmoid"] if "relax.sigmoid" in g.calls else g.calls["relax.tanh"]
    x, in_q = _data_quant(lw, g.op(fn.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    args = (in_q.scale[0], in_q.zero_point[0], out_q.scale[0], out_q.zero_point[0])
    if _onnx(lw):
        table = fp.onnx_lut_table(fn.op.name.removeprefix("relax."), *args)
    else:
        table = (fp.logistic_table if fn.op.name == "relax.sigmoid" else fp.tanh_table)(*args)
    return _emit_q(lw, "lut_i8", var, [x], {}, {"table": lw.const(table, "table")}, out_q)


_TABLE_OPS = {"relax.abs": "ABS", "relax.exp": "EXP", "relax.log": "LOG", "relax.rsqrt": "RSQRT",
              "relax.nn.leakyrelu": "LEAKY_RELU"}


def _qunary_table(lw, var, g: CompositeBody) -> Tensor:
    """ABS, EXP, LOG, RSQRT, LEAKY_RELU: each of the 256 int8 inputs computed at compile time
    as TFLite's int8 kernel does (fixedpoint.*_table), run by lut_i8."""
    name = next(op for op in _TABLE_OPS if op in g.calls)
    fn = g.calls[name]
    if _onnx(lw):
        raise HhbcError(f"layer '{lw.layer}': int8 {_TABLE_OPS[name]} of an ONNX QDQ model is not supported")
    x, in_q = _data_quant(lw, g.op(fn.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    args = (in_q.scale[0], in_q.zero_point[0], out_q.scale[0], out_q.zero_point[0])
    if name == "relax.abs":
        table = fp.abs_table(*args)
    elif name == "relax.nn.leakyrelu":
        table = fp.leaky_relu_table(*args, float(fn.attrs.alpha))
    else:
        table = fp.float_fn_table(name.removeprefix("relax."), *args)
    return _emit_q(lw, "lut_i8", var, [x], {}, {"table": lw.const(table, "table")}, out_q)


def _qprelu(lw, var, g: CompositeBody) -> Tensor:
    """PRELU (H3c): a [C, 256] table of TFLite's int8 arithmetic (fixedpoint.prelu_table), one
    row per channel of the last axis, run by prelu_i8."""
    fn = g.calls["relax.nn.prelu"]
    if _onnx(lw):
        raise HhbcError(f"layer '{lw.layer}': int8 PRELU of an ONNX QDQ model is not supported")
    x, in_q = _data_quant(lw, g.op(fn.args[0], "relax.dequantize"))
    a_deq = g.op(fn.args[1], "relax.dequantize")
    a_q = _quant_of(a_deq)
    alpha = _np(a_deq.args[0]).reshape(-1)
    if len(a_q.scale) != 1 or int(fn.attrs.axis) not in (-1, len(x.shape) - 1) or alpha.size != x.shape[-1]:
        raise HhbcError(f"layer '{lw.layer}': int8 PRELU needs one per-tensor quantized slope per channel "
                        "of the last axis")
    out_q = _quant_of(g.calls["relax.quantize"])
    table = fp.prelu_table(in_q.scale[0], in_q.zero_point[0], a_q.scale[0], a_q.zero_point[0],
                           [int(v) for v in alpha], out_q.scale[0], out_q.zero_point[0])
    return _emit_q(lw, "prelu_i8", var, [x], {"channels": int(alpha.size)},
                   {"table": lw.const(table.reshape(-1), "table")}, out_q)


def _qhardswish(lw, var, g: CompositeBody) -> Tensor:
    mul = g.calls["relax.multiply"]
    add = g.calls["relax.add"]
    clip = g.calls["relax.clip"]
    div = g.calls["relax.divide"]
    d1, d2 = g.op(mul.args[0], "relax.dequantize"), g.op(add.args[0], "relax.dequantize")
    consts = (float(_np(add.args[1])), float(clip.args[1].value), float(clip.args[2].value),
              float(_np(div.args[1])))
    if consts != (3.0, 0.0, 6.0, 6.0) or not d1.args[0].same_as(d2.args[0]) \
            or _quant_of(d1) != _quant_of(d2):
        raise HhbcError(f"layer '{lw.layer}': not a hard-swish x * relu6(x + 3) / 6 (int8)")
    x, in_q = _data_quant(lw, d1)
    out_q = _quant_of(g.calls["relax.quantize"])
    try:
        p = fp.hardswish_params(in_q.scale[0], out_q.scale[0])
    except ValueError as err:
        raise HhbcError(f"layer '{lw.layer}': {err}") from None
    params = {"input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0],
              "output_multiplier": p.output_multiplier, "output_exponent": p.output_exponent,
              "reluish_multiplier": p.reluish_multiplier, "reluish_exponent": p.reluish_exponent}
    return _emit_q(lw, "hardswish_i8", var, [x], params, {}, out_q)


def _qrequantize(lw, var, g: CompositeBody) -> Tensor:
    """int8 -> int8 QUANTIZE (in_scale / out_scale in double) and standalone RELU, RELU6,
    RELU_N1_TO_1 (TFLite divides those scales in float32, then clamps)."""
    quant = g.calls["relax.quantize"]
    deq = g.op(quant.args[0], "relax.dequantize")
    x, in_q = _data_quant(lw, deq if deq is not None else _first_deq(g))
    out_q = _quant_of(quant)
    onnx = _onnx(lw)
    if deq is not None:
        m, s = fp.requant_multiplier(in_q.scale[0], out_q.scale[0])
        lo, hi = _act_range(g, out_q, True) if onnx else (-128, 127)
    else:
        m, s = fp.relu_multiplier(in_q.scale[0], out_q.scale[0])
        lo, hi = _act_range(g, out_q, onnx)
    params = {"rq.input_zp": in_q.zero_point[0], "rq.output_zp": out_q.zero_point[0],
              "rq.multiplier": m, "rq.shift": s, "act_min": lo, "act_max": hi, "onnx": int(onnx),
              "input_scale": in_q.scale[0] if onnx else 0.0, "output_scale": out_q.scale[0] if onnx else 0.0}
    return _emit_q(lw, "requantize_i8", var, [x], params, {}, out_q)


def _first_deq(g: CompositeBody) -> relax.Call:
    return g.calls["relax.dequantize"]


def _affine(lw, q: Quant) -> dict:
    """QUANTIZE/DEQUANTIZE parameters; an ONNX model's quantize rounds half to even."""
    if len(q.scale) != 1:
        raise HhbcError(f"layer '{lw.layer}': per-channel quantize/dequantize of an activation")
    return {"scale": q.scale[0], "zero_point": q.zero_point[0], "onnx": int(_onnx(lw))}


def _qquantize(lw, var, g: CompositeBody) -> Tensor:
    """float -> int8 (a QUANTIZE at a model input). A float op between an int8 tensor and
    this quantize is an int8 op hhbc has no pattern for: refused, never computed in float."""
    quant = g.calls["relax.quantize"]
    x = lw.tensor(quant.args[0])
    _refuse_float_island(lw, x)
    out_q = _quant_of(quant)
    return _emit_q(lw, "quantize_i8", var, [x], _affine(lw, out_q), {}, out_q)


def _qdequantize(lw, var, g: CompositeBody) -> Tensor:
    """int8 -> float (a DEQUANTIZE at a model output)."""
    deq = g.calls["relax.dequantize"]
    x = lw.tensor(deq.args[0])
    return lw.emit("dequantize_i8", var, [x], _affine(lw, _quant_of(deq)))


def _refuse_float_island(lw, x: Tensor) -> None:
    """Raise if float kernels compute x from a dequantized int8 tensor."""
    producers = {id(n.output): n for n in lw.nodes}
    first = producers.get(id(x.storage()))
    stack, seen = [first], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "dequantize_i8":
            if node is first:
                return
            what = first.params.get("op") if isinstance(first.params.get("op"), str) else first.op
            raise HhbcError(f"layer '{first.layer}': no int8 kernel for this op (its float form, "
                            f"{what}, sits between dequantize and quantize and would compute in float)")
        stack.extend(producers.get(id(t.storage())) for t in node.inputs if t.dtype == "float32")


# ---------------------------------------------------------------------------------------
# MAXIMUM, MINIMUM, REDUCE_MAX, REDUCE_MIN: raw int8 comparisons
# ---------------------------------------------------------------------------------------

def _same_scale_inputs(lw, g: CompositeBody, call: relax.Call, what: str) -> tuple[list[Tensor], Quant]:
    """The int8 operands of a comparison op and the output's quantization. TFLite's int8 kernels
    compare raw values and need one scale and zero point everywhere (its converter gives them
    that); a QDQ graph that rescales between them would mean float arithmetic: refused."""
    out_q = _quant_of(g.calls["relax.quantize"])
    inputs = []
    for arg in call.args:
        x, q = _data_quant(lw, g.op(arg, "relax.dequantize"))
        if (q.scale[0], q.zero_point[0]) != (out_q.scale[0], out_q.zero_point[0]):
            raise HhbcError(f"layer '{lw.layer}': int8 {what} whose inputs and output are quantized "
                            f"differently (scale {q.scale[0]:g} zp {q.zero_point[0]} -> scale "
                            f"{out_q.scale[0]:g} zp {out_q.zero_point[0]})")
        inputs.append(x)
    return inputs, out_q


def _qmaxmin(lw, var, g: CompositeBody) -> Tensor:
    from hhbc.lower.from_relax import broadcast_strides

    call = g.calls["relax.maximum"] if "relax.maximum" in g.calls else g.calls["relax.minimum"]
    kind = "max" if call.op.name == "relax.maximum" else "min"
    (a, b), out_q = _same_scale_inputs(lw, g, call, "MAXIMUM" if kind == "max" else "MINIMUM")
    out_shape = tuple(int(d) for d in var.ty.shape) or (1,)
    params = {"op": kind, "ndim": len(out_shape), "out_dim": list(out_shape),
              "a_stride": broadcast_strides(a.shape, out_shape), "b_stride": broadcast_strides(b.shape, out_shape),
              "act": {"kind": "none", "lo": 0.0, "hi": 0.0, "alpha": 0.0}}
    return _emit_q(lw, "binary", var, [a, b], params, {}, out_q)


def _qreduce_maxmin(lw, var, g: CompositeBody) -> Tensor:
    call = g.calls["relax.max"] if "relax.max" in g.calls else g.calls["relax.min"]
    kind = "max" if call.op.name == "relax.max" else "min"
    (x,), out_q = _same_scale_inputs(lw, g, call, "REDUCE_MAX" if kind == "max" else "REDUCE_MIN")
    rank = len(x.shape)
    axes = sorted({int(a) % rank for a in call.attrs.axis}) if call.attrs.axis is not None else list(range(rank))
    kept = [1 if i in axes else d for i, d in enumerate(x.shape)]
    strides = [int(np.prod(kept[i + 1:], dtype=np.int64)) for i in range(rank)]
    params = {"op": kind, "ndim": rank, "in_dim": list(x.shape),
              "out_stride": [0 if i in axes else s for i, s in enumerate(strides)],
              "out_size": int(np.prod(kept, dtype=np.int64)),
              "reduce_count": int(np.prod([x.shape[a] for a in axes], dtype=np.int64))}
    return _emit_q(lw, "reduce", var, [x], params, {}, out_q)


_MORE = {
    "hhbc.qmaxmin": _qmaxmin, "hhbc.qreduce_maxmin": _qreduce_maxmin,
    "hhbc.qmul": _qmul, "hhbc.qmax_pool2d": _qmax_pool, "hhbc.qpad": _qpad, "hhbc.qmean": _qmean,
    "hhbc.qconcat": _qconcat, "hhbc.qlut": _qlut, "hhbc.qunary_table": _qunary_table, "hhbc.qsub": _qsub, "hhbc.qprelu": _qprelu, "hhbc.qhardswish": _qhardswish,
    "hhbc.qrequantize": _qrequantize, "hhbc.qquantize": _qquantize, "hhbc.qdequantize": _qdequantize,
    "hhbc.qdeconv2d": quantized_resample.qdeconv2d, "hhbc.qresize_bilinear": quantized_resample.qresize_bilinear,
}

# H2: SQUARED_DIFFERENCE, DIV, SUM, L2_NORMALIZATION, SQRT, ELU, NEG, FLOOR (it uses this module's helpers)
from hhbc.lower.quantized_math import HANDLERS as _MATH_HANDLERS  # noqa: E402
_MORE.update(_MATH_HANDLERS)
