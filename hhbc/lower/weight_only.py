"""Weight-only int8 composites (optimize/weight_only.py) -> float kernels reading int8 weights.

A composite holds `op(x, relayout(astype(W_int8, float32) * scale)) [+ bias] [-> act]`, where
W, scale and bias arrive as parameters (the caller's constants) and relayout is whatever the
importer and the layout pass left between the widening and the op (permute_dims, reshape).
The relayout is replayed here on the int8 weight and, alongside, on the scale each weight
element is multiplied by; the kernel needs that scale to be one per output channel.
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.lower.composite import CompositeBody
from hhbc.lower.graph import Tensor


class _Body(CompositeBody):
    """A composite body whose parameters resolve to the lowered (constant) tensors."""

    def __init__(self, lw, fn: relax.Function):
        super().__init__(fn)
        self.lw = lw

    def array(self, expr) -> np.ndarray:
        """A parameter (the caller's constant) or a constant, as numpy."""
        if isinstance(expr, tvm.ir.GenericConst):
            return expr.value.numpy()
        t = self.lw.values.get(expr) if isinstance(expr, relax.Var) else None
        if not isinstance(t, Tensor) or t.kind != "const" or t.data is None:
            raise HhbcError(f"layer '{self.lw.layer}': int8 weight, scale or bias is not a constant")
        return t.data


def _widened_weight(body: _Body, expr) -> tuple[np.ndarray, np.ndarray]:
    """(int8 weight, float32 scale of each element) as the op reads them: the relayout
    between astype(W) * scale and the op is replayed on both."""
    call = body.call(expr)
    if call is None:
        raise HhbcError(f"layer '{body.lw.layer}': weight of a weight-only int8 op is not widened int8")
    name = call.op.name
    if name == "relax.multiply":
        widen = body.call(call.args[0])
        if widen is None or widen.op.name != "relax.astype":
            raise HhbcError(f"layer '{body.lw.layer}': int8 weight is not widened by astype")
        q = body.array(widen.args[0])
        if q.dtype != np.int8:
            raise HhbcError(f"layer '{body.lw.layer}': {q.dtype} weights in a weight-only int8 op")
        scale = np.broadcast_to(body.array(call.args[1]).astype(np.float32), q.shape)
        return q, scale
    q, scale = _widened_weight(body, call.args[0])
    if name == "relax.permute_dims":
        axes = None if call.attrs.axes is None else [int(a) for a in call.attrs.axes]
        return q.transpose(axes), scale.transpose(axes)
    if name == "relax.reshape":
        shape = tuple(int(d) for d in call.ty.shape)
        return q.reshape(shape), scale.reshape(shape)
    raise HhbcError(f"layer '{body.lw.layer}': {name} between an int8 weight and its op")


def _channel_scale(lw, scale: np.ndarray, axis: int) -> np.ndarray:
    """The per-output-channel scales, given each element's scale with channels on `axis`."""
    moved = np.moveaxis(scale, axis, 0).reshape(scale.shape[axis], -1)
    if moved.size and not np.all(moved == moved[:, :1]):
        raise HhbcError(f"layer '{lw.layer}': int8 weight scales vary along an axis other than "
                        "the output channels")
    return np.ascontiguousarray(moved[:, 0], np.float32)


def _act(body: _Body) -> dict:
    from hhbc.lower.from_relax import _act, _act_from_call
    for name in ("relax.nn.relu", "relax.clip", "relax.nn.leakyrelu", "relax.sigmoid"):
        if name in body.calls:
            return _act_from_call(body.calls[name])
    return _act()


def _bias(body: _Body, channels: int) -> np.ndarray | None:
    add = body.calls.get("relax.add")
    if add is None:
        return None
    bias = body.array(add.args[1]).astype(np.float32)
    if bias.size == 1:
        return np.full(channels, float(bias.reshape(-1)[0]), np.float32)
    if bias.size != channels or bias.shape[-1] != channels:
        raise HhbcError(f"layer '{body.lw.layer}': bias is not per output channel")
    return bias.reshape(-1)


def lower_weight_only(lw, var, name: str, fn: relax.Function) -> Tensor:
    body = _Body(lw, fn)
    if name.startswith(("hhbc.w8_conv2d", "hhbc.w8_depthwise_conv2d")):
        return _conv(lw, var, body, name.startswith("hhbc.w8_depthwise_conv2d"))
    if name.startswith("hhbc.w8_dense"):
        return _dense(lw, var, body)
    raise HhbcError(f"internal: no lowering for composite {name}")


def _conv(lw, var, body: _Body, depthwise: bool) -> Tensor:
    conv = body.calls["relax.nn.conv2d"]
    attrs = conv.attrs
    if str(attrs.data_layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': weight-only int8 conv2d in layout {attrs.data_layout}")
    x = lw.values[conv.args[0]]
    q, scale = _widened_weight(body, conv.args[1])
    order = [str(attrs.kernel_layout).index(c) for c in "OHWI"]
    q, scale = q.transpose(order), scale.transpose(order)              # [O][KH][KW][I/g]
    oc, kh, kw, icg = q.shape
    w_scale = _channel_scale(lw, scale, 0)
    pad = [int(p) for p in attrs.padding]
    params = {
        "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
        "pad_top": pad[0], "pad_left": pad[1], "groups": int(attrs.groups), "act": _act(body),
    }
    weight = q.reshape(oc, kh, kw).transpose(1, 2, 0) if depthwise else q    # depthwise: [KH][KW][OC]
    consts = {"weight": lw.const(np.ascontiguousarray(weight, np.int8), "w"),
              "w_scale": lw.const(w_scale, "s")}
    bias = _bias(body, oc)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    macs = int(np.prod([int(d) for d in var.ty.shape])) * kh * kw * icg
    return lw.emit("depthwise_conv2d_w8" if depthwise else "conv2d_w8", var, [x], params, consts, macs)


def _dense(lw, var, body: _Body) -> Tensor:
    mm = body.calls["relax.matmul"]
    x = lw.values[mm.args[0]]
    q, scale = _widened_weight(body, mm.args[1])                         # [K][N]
    if q.ndim != 2:
        raise HhbcError(f"layer '{lw.layer}': weight-only int8 matmul with a rank-{q.ndim} weight")
    k, n = q.shape
    consts = {"weight": lw.const(np.ascontiguousarray(q.T, np.int8), "w"),   # [N][K]
              "w_scale": lw.const(_channel_scale(lw, scale, 1), "s")}
    bias = _bias(body, n)
    if bias is not None:
        consts["bias"] = lw.const(bias, "b")
    m = x.size // k
    return lw.emit("dense_w8", var, [x], {"m": m, "n": n, "k": k, "act": _act(body)}, consts, m * n * k)
