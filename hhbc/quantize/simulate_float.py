"""Float kernels of the host simulation (hhbc/quantize/simulate.py): approximate by design.

The float ops an int8 graph can hold at its edges (the Softmax after an ONNX QDQ model's last
DequantizeLinear), the float kernels of a float graph (conv, depthwise, deconv, dense, matmul,
pools, PReLU, LRN, elementwise math, softmax) and the weight-only int8 kernels of hybrid models
(float activations): numpy sums in float64, rounded to float32 once, where the C kernels sum in
float32 in their own order and call libm. `binary` also takes int8 MAXIMUM/MINIMUM, exactly.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.graph import Node
from hhbc.quantize.simulate import F32, OPS, _broadcast_pair, _const, _taps


def _act(v: np.ndarray, act: dict) -> np.ndarray:
    kind = act.get("kind", "none")
    if kind == "relu":
        return np.maximum(v, F32(0))
    if kind == "clip":
        return np.minimum(np.maximum(v, F32(act["lo"])), F32(act["hi"]))
    if kind == "leaky_relu":
        return np.where(v >= 0, v, F32(act["alpha"]) * v)
    if kind == "hardswish":
        return v * np.minimum(np.maximum(v + F32(3), F32(0)), F32(6)) / F32(6)
    if kind == "sigmoid":
        return F32(1) / (F32(1) + np.exp(-v))
    return v


def _binary(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    av, bv = _broadcast_pair(a, b, p)
    op = p["op"]
    if a.dtype == np.int8:
        if op not in ("max", "min") or p.get("act", {}).get("kind", "none") != "none":
            raise HhbcError(f"host simulation: no model of kernel op 'binary' {op} on int8 (layer '{node.layer}')")
        return (np.maximum(av, bv) if op == "max" else np.minimum(av, bv)).reshape(node.output.shape)
    av, bv = av.astype(F32), bv.astype(F32)
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "max": np.fmax,
          "min": np.fmin, "pow": np.power}[op]
    with np.errstate(all="ignore"):
        return _act(fn(av, bv).astype(F32), p["act"]).astype(F32).reshape(node.output.shape)


_UNARY: dict[str, Callable] = {
    "act": lambda v: v, "tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "rsqrt": lambda v: F32(1) / np.sqrt(v), "abs": np.abs, "neg": np.negative, "floor": np.floor,
    "ceil": np.ceil, "round": np.rint, "sign": np.sign, "softplus": lambda v: np.logaddexp(F32(0), v),
    "erf": np.frompyfunc(math.erf, 1, 1),
}


def _unary(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    fn = _UNARY.get(p["op"])
    if fn is None or x.dtype != np.float32:
        raise HhbcError(f"host simulation: no model of kernel op 'unary' {p['op']} (layer '{node.layer}')")
    with np.errstate(all="ignore"):
        return _act(fn(x).astype(F32), p["act"]).astype(F32).reshape(node.output.shape)


def _softmax(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    v = x.reshape(p["outer"], p["axis_size"], p["inner"]).astype(F32)
    d = (v - v.max(axis=1, keepdims=True)).astype(F32)
    e = np.exp(d.astype(np.float64)).astype(F32)        # expf, correctly rounded (glibc's is, nearly)
    total = np.cumsum(e, axis=1, dtype=F32)[:, -1:, :]   # the kernel's sequential float32 sum
    if p.get("log"):
        y = (d - np.log(total.astype(np.float64)).astype(F32)).astype(F32)
    else:
        y = (e / total).astype(F32)
    return y.reshape(node.output.shape)


def _float_finish(acc: np.ndarray, node: Node) -> np.ndarray:
    """x the channel scale (weight-only int8 kernels), + bias, the fused activation, rounded
    once to float32 (sums in float64 here)."""
    w_scale = _const(node, "w_scale")
    if w_scale is not None:
        acc = acc * w_scale.astype(np.float64)
    bias = _const(node, "bias")
    if bias is not None:
        acc = acc + bias.astype(np.float64)
    return _act(acc.astype(F32), node.params["act"]).astype(F32)


def _conv2d(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n_, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.float64)        # [OC][KH][KW][IC/g]
    groups = p["groups"]
    icg, ocg = x.shape[3] // groups, oc_n // groups
    cols = np.stack([np.where(valid[None, :, :, None], patch, 0.0)
                     for _, _, patch, valid in _taps(x.astype(np.float64), oh_n, ow_n, p)], axis=3)
    acc = np.empty((n_, oh_n, ow_n, oc_n), np.float64)
    for g in range(groups):
        a = cols[..., g * icg:(g + 1) * icg].reshape(n_ * oh_n * ow_n, -1)
        acc[..., g * ocg:(g + 1) * ocg] = (a @ w[g * ocg:(g + 1) * ocg].reshape(ocg, -1).T).reshape(
            n_, oh_n, ow_n, ocg)
    return _float_finish(acc, node)


def _depthwise_conv2d(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n_, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.float64)        # [KH][KW][OC]
    xf = np.repeat(x.astype(np.float64), oc_n // x.shape[3], axis=3)
    acc = np.zeros((n_, oh_n, ow_n, oc_n), np.float64)
    for kh, kw, patch, valid in _taps(xf, oh_n, ow_n, p):
        acc += np.where(valid[None, :, :, None], patch, 0.0) * w[kh, kw]
    return _float_finish(acc, node)


def _deconv2d(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    n_, h, w_, ic = x.shape
    _, oh_n, ow_n, oc_n = node.output.shape
    w = _const(node, "weight").astype(np.float64)        # [OC][KH][KW][IC/g]
    groups = p["groups"]
    icg, ocg = ic // groups, oc_n // groups
    sh, sw, dh, dw = p["stride_h"], p["stride_w"], p["dilation_h"], p["dilation_w"]
    pt, pl = p["pad_top"], p["pad_left"]
    full = np.zeros((n_, max((h - 1) * sh + (p["kernel_h"] - 1) * dh + 1, pt + oh_n),
                     max((w_ - 1) * sw + (p["kernel_w"] - 1) * dw + 1, pl + ow_n), oc_n), np.float64)
    xf = x.astype(np.float64)
    for g in range(groups):
        xg = xf[..., g * icg:(g + 1) * icg].reshape(-1, icg)
        for kh in range(p["kernel_h"]):
            for kw in range(p["kernel_w"]):
                contrib = (xg @ w[g * ocg:(g + 1) * ocg, kh, kw, :].T).reshape(n_, h, w_, ocg)
                full[:, kh * dh:kh * dh + (h - 1) * sh + 1:sh, kw * dw:kw * dw + (w_ - 1) * sw + 1:sw,
                     g * ocg:(g + 1) * ocg] += contrib
    return _float_finish(full[:, pt:pt + oh_n, pl:pl + ow_n], node)


def _dense(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    w = _const(node, "weight").astype(np.float64).reshape(p["n"], p["k"])
    acc = x.reshape(p["m"], p["k"]).astype(np.float64) @ w.T
    return _float_finish(acc, node).reshape(node.output.shape)


def _matmul(node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = node.params
    batch, m, n, k = p["batch"], p["m"], p["n"], p["k"]
    am = a.reshape(-1, m, k).astype(np.float64)
    bm = b.reshape(-1, k, n).astype(np.float64)
    am = am if p["a_batch_stride"] else np.broadcast_to(am[:1], (batch, m, k))
    bm = bm if p["b_batch_stride"] else np.broadcast_to(bm[:1], (batch, k, n))
    return (am @ bm).astype(F32).reshape(node.output.shape)


def _pool2d(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    _, oh_n, ow_n, _ = node.output.shape
    h, w = x.shape[1], x.shape[2]
    xf = x.astype(np.float64)
    if p["kind"] == "max":
        acc = np.full(node.output.shape, -np.inf)
        for _, _, patch, valid in _taps(xf, oh_n, ow_n, p):
            acc = np.where(valid[None, :, :, None], np.maximum(acc, patch), acc)
        return acc.astype(F32)
    acc = np.zeros(node.output.shape)
    count = np.zeros((oh_n, ow_n))
    for _, _, patch, valid in _taps(xf, oh_n, ow_n, p):
        acc += np.where(valid[None, :, :, None], patch, 0.0)
        count += valid
    if p["count_include_pad"]:
        ih = np.arange(oh_n)[:, None] * p["stride_h"] - p["pad_top"] + np.arange(p["kernel_h"]) * p["dilation_h"]
        iw = np.arange(ow_n)[:, None] * p["stride_w"] - p["pad_left"] + np.arange(p["kernel_w"]) * p["dilation_w"]
        rows = ((ih >= -p["pad_top"]) & (ih < h + p["pad_bottom"])).sum(axis=1)
        cols = ((iw >= -p["pad_left"]) & (iw < w + p["pad_right"])).sum(axis=1)
        count = (rows[:, None] * cols[None, :]).astype(np.float64)
    cnt = count[None, :, :, None]
    return np.where(cnt > 0, acc / np.maximum(cnt, 1), 0.0).astype(F32)


def _prelu(node: Node, x: np.ndarray) -> np.ndarray:
    p = node.params
    v = x.reshape(p["outer"], p["channels"], p["inner"]).astype(F32)
    slope = _const(node, "slope").astype(F32).reshape(1, -1, 1)
    return np.where(v >= 0, v, slope * v).astype(F32).reshape(node.output.shape)


def _lrn(node: Node, x: np.ndarray) -> np.ndarray:
    """x * (k + alpha / size * sum of x^2 over the channel window)^-beta."""
    p = node.params
    c_n = p["channels"]
    v = x.reshape(p["outer"], c_n, p["inner"]).astype(np.float64)
    csum = np.concatenate([np.zeros_like(v[:, :1]), np.cumsum(v * v, axis=1)], axis=1)
    c = np.arange(c_n)
    lo = np.clip(c - p["pre_pad"], 0, c_n)
    hi = np.clip(c - p["pre_pad"] + p["size"], 0, c_n)
    window = csum[:, hi] - csum[:, lo]
    y = v * np.power(p["k"] + p["alpha_over_size"] * window, -p["beta"])
    return y.astype(F32).reshape(node.output.shape)


FLOAT_KERNELS: dict[str, Callable] = {
    "binary": _binary, "unary": _unary, "softmax": _softmax, "conv2d": _conv2d,
    "depthwise_conv2d": _depthwise_conv2d, "deconv2d": _deconv2d, "dense": _dense, "matmul": _matmul,
    "pool2d": _pool2d, "prelu": _prelu, "lrn": _lrn,
    # weight-only int8 (hybrid TFLite models): float activations, int8 weights x channel scale
    "conv2d_w8": _conv2d, "depthwise_conv2d_w8": _depthwise_conv2d, "dense_w8": _dense,
}
OPS.update(FLOAT_KERNELS)   # registered in simulate.py's table (which imports this module)
