"""Int8 resampling composites (H1): TRANSPOSE_CONV and RESIZE_BILINEAR of TFLite int8 models.

  * hhbc.qdeconv2d (frontends/tflite_int8.transpose_conv): TFLite's int8 TRANSPOSE_CONV sums
    w * (x - input_zp) into int32 for every output pixel its taps reach, adds the bias and
    requantizes per output channel as CONV_2D does. deconv2d_i8 computes the same sums as a
    gather (integer sums do not depend on their order).
  * hhbc.qresize_bilinear: TFLite's int8 reference kernel interpolates the raw int8 values in
    integer arithmetic, coordinates in 1/1024 steps (resize_bilinear_tables); input and output
    share their quantization.

Both are TFLite arithmetic: a model from ONNX QDQ is refused (its frameworks round in float).
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.composite import CompositeBody
from hhbc.lower.graph import Tensor
from hhbc.quantize import fixedpoint as fp

ONE = 1 << 10   # TFLite's int8 bilinear resize: coordinates in units of 1/1024 pixel


def _refuse_onnx(lw, what: str) -> None:
    from hhbc.lower.quantized import _onnx
    if _onnx(lw):
        raise HhbcError(f"layer '{lw.layer}': int8 {what} of an ONNX QDQ model is not supported")


def qdeconv2d(lw, var, g: CompositeBody) -> Tensor:
    from hhbc.lower.quantized import _act_range, _bias, _data_quant, _emit_q, _np, _quant_of

    _refuse_onnx(lw, "transposed convolution")
    call = g.calls["relax.nn.conv2d_transpose"]
    attrs = call.attrs
    if str(attrs.data_layout) != "NHWC" or any(int(d) != 1 for d in attrs.dilation) or int(attrs.groups) != 1:
        raise HhbcError(f"layer '{lw.layer}': int8 transposed convolution must be NHWC, undilated, one group")
    x, in_q = _data_quant(lw, g.op(call.args[0], "relax.dequantize"))
    w_deq = g.op(call.args[1], "relax.dequantize")
    w_q = _quant_of(w_deq)
    if any(z != 0 for z in w_q.zero_point):
        raise HhbcError(f"layer '{lw.layer}': int8 weights with a nonzero zero point")
    raw = _np(w_deq.args[0])
    layout = str(attrs.kernel_layout)
    if raw.dtype != np.int8 or raw.ndim != 4 or len(w_q.scale) > 1 and w_q.axis != layout.index("O"):
        raise HhbcError(f"layer '{lw.layer}': int8 transposed convolution needs int8 weights quantized "
                        "per output channel")
    weight = raw.transpose([layout.index(c) for c in "OHWI"])          # [OC][KH][KW][IC]
    oc, kh, kw, _ = weight.shape
    out_q = _quant_of(g.calls["relax.quantize"])
    lo, hi = _act_range(g, out_q)
    pad = [int(p) for p in attrs.padding]
    params = {
        "per_channel": int(len(w_q.scale) > 1), "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": 1, "dilation_w": 1, "pad_top": pad[0], "pad_left": pad[1], "groups": 1,
        "input_zp": in_q.zero_point[0], "output_zp": out_q.zero_point[0], "act_min": lo, "act_max": hi,
    }
    mult, shift = fp.conv_multipliers(in_q.scale[0], np.asarray(w_q.scale, np.float32), out_q.scale[0])
    consts = {"weight": lw.const(np.ascontiguousarray(weight, np.int8), "w"),
              "multiplier": lw.const(np.asarray(mult, np.int32), "m"),
              "shift": lw.const(np.asarray(shift, np.int32), "s")}
    bias = _bias(lw, g)
    if bias is not None:
        if bias.size != oc:
            raise HhbcError(f"layer '{lw.layer}': int8 transposed convolution bias of {bias.size} values "
                            f"for {oc} channels")
        consts["bias"] = lw.const(bias, "b")
    macs = x.size * oc * kh * kw
    return _emit_q(lw, "deconv2d_i8", var, [x], params, consts, out_q, macs)


def resize_bilinear_tables(n_in: int, n_out: int, align_corners: bool, half_pixel: bool):
    """Per output row (or column) of TFLite's int8 RESIZE_BILINEAR: the two source indices i0, i1
    and the position d of the sample past i0, in 1/1024 (d may be negative at a half-pixel border,
    where i0 = i1). The scale is (in << 10) / out rounded to nearest ((in - 1) and (out - 1) with
    align_corners); a sample sits at o * scale, or o * scale + scale / 2 - 512 with half-pixel
    centres; i0 = max(that / 1024 truncated, 0), i1 = min(ceil(that / 1024), in - 1)."""
    if align_corners and n_out > 1:
        scale = (ONE * (n_in - 1) + (n_out - 1) // 2) // (n_out - 1)
    else:
        scale = (ONE * n_in + n_out // 2) // n_out
    i0, i1, d = [], [], []
    for o in range(n_out):
        v = o * scale + scale // 2 - ONE // 2 if half_pixel else o * scale
        lo = max(int(v / ONE), 0)                                   # C division truncates
        hi = min(int((v + ONE - 1) / ONE), n_in - 1)
        i0.append(lo)
        i1.append(hi)
        d.append(v - ONE * lo)
    return np.array(i0, np.int32), np.array(i1, np.int32), np.array(d, np.int32)


def qresize_bilinear(lw, var, g: CompositeBody) -> Tensor:
    from hhbc.lower.quantized import _data_quant, _emit_q, _quant_of

    _refuse_onnx(lw, "bilinear resize")
    call = g.calls["relax.image.resize2d"]
    attrs = call.attrs
    if str(attrs.method) != "linear" or str(attrs.layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': int8 resize {attrs.method} in layout {attrs.layout} "
                        "(bilinear NHWC only)")
    mode = str(attrs.coordinate_transformation_mode)
    if mode not in ("asymmetric", "align_corners", "half_pixel"):
        raise HhbcError(f"layer '{lw.layer}': int8 bilinear resize with coordinates '{mode}' "
                        "(TFLite's: asymmetric, align_corners, half_pixel)")
    x, in_q = _data_quant(lw, g.op(call.args[0], "relax.dequantize"))
    out_q = _quant_of(g.calls["relax.quantize"])
    if (in_q.scale[0], in_q.zero_point[0]) != (out_q.scale[0], out_q.zero_point[0]):
        raise HhbcError(f"layer '{lw.layer}': int8 bilinear resize whose input and output are quantized "
                        f"differently (scale {in_q.scale[0]:g} zp {in_q.zero_point[0]} -> scale "
                        f"{out_q.scale[0]:g} zp {out_q.zero_point[0]})")
    out_shape = tuple(int(d) for d in var.ty.shape)
    consts = {}
    for axis, (n_in, n_out) in zip("yx", ((x.shape[1], out_shape[1]), (x.shape[2], out_shape[2]))):
        i0, i1, d = resize_bilinear_tables(n_in, n_out, mode == "align_corners", mode == "half_pixel")
        consts.update({f"{axis}0": lw.const(i0, f"{axis}0"), f"{axis}1": lw.const(i1, f"{axis}1"),
                       f"d{axis}": lw.const(d, f"d{axis}")})
    return _emit_q(lw, "resize_bilinear_i8", var, [x], {}, consts, out_q)
