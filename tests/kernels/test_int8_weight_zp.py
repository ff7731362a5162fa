"""int8 weights with a zero point (the int8_asym scheme) in the reference conv2d, depthwise and
dense kernels (`weight_zp` in hhbc_conv2d_i8_params / hhbc_dense_i8_params), both flavours:
TFLite fixed point (multiplier/shift; dense also the double `real_scale`) and ONNX float32
(`scale`). TFLite has no int8 weight zero point, so the reference is a numpy model that sums
(x - input_zp) * (w - weight_zp) directly in int64, wraps to int32 as the accumulators do, and
rescales with hhbc/quantize/fixedpoint.py (the kernels instead subtract weight_zp times the window
sum: the identity is what is checked). Weights span [-128, 127] and zero points reach -128 and 127,
so w - weight_zp leaves int8. Host (sanitized) and riscv64 under QEMU on c906.
End to end against onnxruntime: tests/ops/test_onnx_qdq_weight_zp.py."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from c_harness import QEMU, needs_cc
from test_int8_kernels import Case, I8Driver

from hhbc.quantize import fixedpoint as fp

F32 = np.float32


def _wrap32(a: np.ndarray) -> np.ndarray:
    return ((a.astype(np.int64) + 2**31) % 2**32 - 2**31).astype(np.int64)


def _weight_zp(rng, channels: int, per_channel: bool) -> np.ndarray:
    if not per_channel:
        return np.full(channels, int(rng.choice([-128, -37, 45, 127])), np.int32)
    zp = rng.integers(-128, 128, size=channels).astype(np.int32)
    zp[0], zp[-1] = -128, 127
    return zp


def _requant(acc: np.ndarray, chan: np.ndarray, flavour: str, rq: dict, out_zp: int, lo: int, hi: int) -> np.ndarray:
    """acc (int32 values, int64 array) [..., C] -> int8, channel c rescaled by index chan[c]."""
    out = np.empty(acc.shape, np.int64)
    flat, oflat = acc.reshape(-1, acc.shape[-1]), out.reshape(-1, acc.shape[-1])
    for c in range(acc.shape[-1]):
        q = chan[c]
        col = flat[:, c]
        if flavour == "onnx":   # float32(acc) * scale, clamped in float, ties to even
            v = col.astype(F32) * F32(rq["scale"][q])
            v = np.minimum(np.maximum(v, F32(lo - out_zp)), F32(hi - out_zp))
            oflat[:, c] = np.rint(v).astype(np.int64) + out_zp
        elif flavour == "real":   # TFLite reference FULLY_CONNECTED: double, ties away from zero
            r = np.array([fp.round_half_away(float(a) * float(rq["real_scale"][q])) for a in col], np.int64)
            oflat[:, c] = np.clip(np.clip(r, -2**31, 2**31 - 1) + out_zp, lo, hi)
        else:
            m, s = int(rq["multiplier"][q]), int(rq["shift"][q])
            oflat[:, c] = np.clip([fp.multiply_by_quantized_multiplier(int(a), m, s) + out_zp for a in col], lo, hi)
    return np.clip(out, lo, hi).astype(np.int8)


def _rescale_consts(rng, acc: np.ndarray, channels: int, per_channel: bool, flavour: str, in_scale: float) -> dict:
    """Scales that spread the outputs over the int8 range: w_scale per channel (or one), the
    output scale from the accumulators' spread."""
    w_scale = (rng.uniform(0.002, 0.01, size=channels) if per_channel else np.array([0.005])).astype(F32)
    spread = float(np.std(acc)) or 1.0
    out_scale = float(in_scale) * float(np.median(w_scale)) * 2.5 * spread / 127
    if flavour == "onnx":
        return {"scale": np.asarray(fp.onnx_conv_scales(in_scale, w_scale, out_scale), F32).reshape(-1)}
    if flavour == "real":
        return {"real_scale": np.asarray(fp.dense_real_scales(in_scale, w_scale, out_scale), np.float64).reshape(-1)}
    mult, shift = fp.conv_multipliers(in_scale, w_scale, out_scale)
    return {"multiplier": np.asarray(mult, np.int32).reshape(-1), "shift": np.asarray(shift, np.int32).reshape(-1)}


def _c_ptr(arrays: dict, name: str) -> str:
    return name if name in arrays else "NULL"


def conv_case(rng, depthwise: bool, n, h, w, c, oc, kh, kw, stride=(1, 1), dil=(1, 1), pad=(0, 0, 0, 0),
              groups=1, zp_per_channel=True, scale_per_channel=True, flavour="qm", bias=True,
              in_zp=-5, out_zp=3, act=(-128, 127)) -> Case:
    """pad = (top, bottom, left, right); depthwise: oc = c * multiplier."""
    pt, pb, pl, pr = pad
    sh, sw = stride
    dh, dw = dil
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (w + pl + pr - (kw - 1) * dw - 1) // sw + 1
    x = rng.integers(-128, 128, size=(n, h, w, c), dtype=np.int8)
    icg = 1 if depthwise else c // groups
    wt = rng.integers(-128, 128, size=(oc, kh, kw, icg), dtype=np.int8)   # [OC][KH][KW][ICg]
    wzp = _weight_zp(rng, oc, zp_per_channel)
    b = rng.integers(-30000, 30000, size=oc, dtype=np.int32)

    xp = np.full((n, h + pt + pb, w + pl + pr, c), in_zp, np.int64)   # padding reads the zero point
    xp[:, pt:pt + h, pl:pl + w] = x
    xc = xp - in_zp
    wc = wt.astype(np.int64) - wzp.astype(np.int64)[:, None, None, None]
    acc = np.zeros((n, oh, ow, oc), np.int64)
    for o in range(oc):
        ic0 = o // (oc // c) if depthwise else (o // (oc // groups)) * icg
        for i in range(kh):
            for j in range(kw):
                win = xc[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw,
                         ic0:ic0 + icg]
                acc[..., o] += win @ wc[o, i, j]
    acc = _wrap32(acc + (b if bias else 0))

    rq = _rescale_consts(rng, acc, oc, scale_per_channel, flavour, 0.05)
    chan = np.arange(oc) if scale_per_channel else np.zeros(oc, np.int64)
    y = _requant(acc, chan, flavour, rq, out_zp, *act)

    arrays = {"x": x, "w": wt.transpose(1, 2, 3, 0).reshape(kh, kw, oc) if depthwise else wt, "wz": wzp, **rq}
    if bias:
        arrays["b"] = b
    names = {"multiplier": "multiplier", "shift": "shift", "scale": "scale"}
    fields = ", ".join(f".{f} = {_c_ptr(arrays, k)}" for f, k in names.items())
    body = f"""
hhbc_conv2d_i8_params p = {{.weight = w, .bias = {_c_ptr(arrays, 'b')}, {fields},
    .per_channel = {int(scale_per_channel)}, .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {sh},
    .stride_w = {sw}, .dilation_h = {dh}, .dilation_w = {dw}, .pad_top = {pt}, .pad_left = {pl},
    .groups = {groups}, .input_zp = {in_zp}, .output_zp = {out_zp}, .act_min = {act[0]}, .act_max = {act[1]},
    .weight_zp = wz}};
{'hhbc_depthwise_conv2d_i8' if depthwise else 'hhbc_conv2d_i8'}(&t_x, &t_out, &p);
"""
    label = (f"{'depthwise' if depthwise else 'conv'} x{[n, h, w, c]} w{list(wt.shape)} s{stride} d{dil} pad{pad} "
             f"g{groups} {flavour} zp {'per-channel' if zp_per_channel else f'per-tensor {wzp[0]}'} "
             f"scale {'per-channel' if scale_per_channel else 'per-tensor'} bias={bias} in_zp={in_zp} act={act}")
    return Case(label, body, y, arrays, {"x": x.shape})


def dense_case(rng, m, k, n, zp_per_channel=True, scale_per_channel=True, flavour="qm", bias=True,
               in_zp=7, out_zp=-4, act=(-128, 127)) -> Case:
    x = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    wt = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    wzp = _weight_zp(rng, n, zp_per_channel)
    b = rng.integers(-30000, 30000, size=n, dtype=np.int32)
    acc = (x.astype(np.int64) - in_zp) @ (wt.astype(np.int64) - wzp.astype(np.int64)[:, None]).T
    acc = _wrap32(acc + (b if bias else 0))
    rq = _rescale_consts(rng, acc, n, scale_per_channel, flavour, 0.04)
    chan = np.arange(n) if scale_per_channel else np.zeros(n, np.int64)
    y = _requant(acc, chan, flavour, rq, out_zp, *act)
    arrays = {"x": x, "w": wt, "wz": wzp, **rq}
    if bias:
        arrays["b"] = b
    body = f"""
hhbc_dense_i8_params p = {{.weight = w, .bias = {_c_ptr(arrays, 'b')}, .multiplier = {_c_ptr(arrays, 'multiplier')},
    .shift = {_c_ptr(arrays, 'shift')}, .real_scale = {_c_ptr(arrays, 'real_scale')},
    .per_channel = {int(scale_per_channel)}, .m = {m}, .n = {n}, .k = {k}, .input_zp = {in_zp},
    .output_zp = {out_zp}, .act_min = {act[0]}, .act_max = {act[1]}, .scale = {_c_ptr(arrays, 'scale')},
    .weight_zp = wz}};
hhbc_dense_i8(&t_x, &t_out, &p);
"""
    label = (f"dense [{m}x{k}]x[{n}x{k}]^T {flavour} zp {'per-channel' if zp_per_channel else f'per-tensor {wzp[0]}'} "
             f"scale {'per-channel' if scale_per_channel else 'per-tensor'} bias={bias} in_zp={in_zp} act={act}")
    return Case(label, body, y, arrays, {"x": x.shape})


def conv_cases(rng) -> list[Case]:
    cases = []
    for flavour in ("qm", "onnx"):
        cases += [
            conv_case(rng, False, 1, 7, 6, 5, 7, 3, 3, pad=(1, 1, 1, 1), flavour=flavour),
            conv_case(rng, False, 2, 9, 8, 6, 4, 3, 2, stride=(2, 2), pad=(1, 0, 0, 1), flavour=flavour,
                      zp_per_channel=False, scale_per_channel=False, in_zp=-128),
            conv_case(rng, False, 1, 8, 8, 6, 9, 3, 3, dil=(2, 2), pad=(2, 2, 2, 2), groups=3, flavour=flavour,
                      bias=False, in_zp=127, act=(-20, 90)),
            conv_case(rng, False, 1, 4, 5, 16, 24, 1, 1, flavour=flavour, zp_per_channel=False),   # per-channel scale
            conv_case(rng, False, 1, 10, 4, 1, 8, 10, 4, stride=(2, 1), pad=(4, 5, 1, 2), flavour=flavour),
        ]
    return cases


def depthwise_cases(rng) -> list[Case]:
    cases = []
    for flavour in ("qm", "onnx"):
        cases += [
            conv_case(rng, True, 1, 7, 7, 7, 7, 3, 3, pad=(1, 1, 1, 1), flavour=flavour),
            conv_case(rng, True, 2, 9, 8, 3, 6, 5, 5, stride=(2, 2), pad=(2, 2, 2, 2), flavour=flavour,
                      zp_per_channel=False, in_zp=-128),                                      # multiplier 2
            conv_case(rng, True, 1, 6, 9, 17, 17, 3, 3, stride=(1, 2), dil=(2, 1), pad=(2, 2, 0, 1),
                      flavour=flavour, bias=False, scale_per_channel=False, zp_per_channel=False, act=(-128, 60)),
        ]
    return cases


def dense_cases(rng) -> list[Case]:
    cases = []
    for flavour in ("qm", "real", "onnx"):
        cases += [
            dense_case(rng, 1, 24, 10, flavour=flavour),
            dense_case(rng, 3, 70, 17, flavour=flavour, zp_per_channel=False, scale_per_channel=False,
                       in_zp=-128, act=(-128, 0)),
            dense_case(rng, 2, 9, 5, flavour=flavour, bias=False, scale_per_channel=False, in_zp=127),
        ]
    return cases


CASES = {"conv2d": conv_cases, "depthwise_conv2d": depthwise_cases, "dense": dense_cases}
TARGETS = [pytest.param(None, id="host"),
           pytest.param("c906", id="c906", marks=[pytest.mark.qemu, pytest.mark.skipif(
               QEMU is None or importlib.util.find_spec("ziglang") is None,
               reason="needs ziglang and xuantie-qemu")])]


@needs_cc
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kernel", sorted(CASES))
def test_weight_zero_point_matches_numpy_model(kernel, target, tmp_path):
    rng = np.random.default_rng(sorted(CASES).index(kernel) + 1)
    drv = I8Driver(tmp_path, kernel, [kernel], "the numpy model (sum of (x - x_zp)(w - w_zp))")
    for case in CASES[kernel](rng):
        drv.case(case)
    assert drv.run(target) >= 6
