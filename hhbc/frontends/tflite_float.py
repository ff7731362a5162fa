"""Float TFLite ops where TVM's TFLite importer is wrong, wasteful or missing, written as
Relax by hhbc: PRELU, L2_NORMALIZATION, FULLY_CONNECTED on rank > 2 inputs, MediaPipe's
custom op Convolution2DTransposeBias, and TFLite Micro builtins (BATCH_MATMUL, BROADCAST_TO,
GELU, LOCAL_RESPONSE_NORMALIZATION, MIRROR_PAD, SELECT/SELECT_V2, SQUARE; ADD_N, LOG_SOFTMAX,
POW and TILE are TVM's converters as they are). Each takes hhbc's converter (tflite.py) and the op.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError


def _tvm():
    """TVM's own OperatorConverter, whose methods these fall back to."""
    from tvm.relax.frontend.tflite import tflite_frontend as tvm_tflite
    return tvm_tflite.OperatorConverter


def prelu(conv, op):
    """PRELU with its slope kept per channel when it varies along the last axis only
    ([C], [1, 1, C]: MediaPipe's form): TVM's importer broadcasts the slope to the whole
    input (a constant as large as the activation) and flattens the tensor."""
    from tvm import relax

    x_t, alpha_t = conv.get_input_tensors(op)
    shape = [int(d) for d in conv.get_tensor_shape(x_t)]
    if conv.has_expr(alpha_t.tensor_idx) or not shape:
        return _tvm().convert_prelu(conv, op)
    alpha = np.asarray(conv.get_tensor_value(alpha_t), np.float32)
    if alpha.size not in (1, shape[-1]) or (alpha.ndim and alpha.shape[-1] != alpha.size):
        return _tvm().convert_prelu(conv, op)
    slope = np.broadcast_to(alpha.reshape(-1), (shape[-1],)).astype(np.float32)
    return relax.op.nn.prelu(conv.get_tensor_expr(x_t), relax.const(slope, "float32"),
                             axis=len(shape) - 1)


def l2_normalization(conv, op):
    """L2_NORMALIZATION as TFLite computes it: x / max(sqrt(sum(x * x)), 1e-6) over the
    last axis (TVM's importer writes sqrt(sum + 1e-12) with relax.square)."""
    import tflite
    from tvm import relax

    if conv.is_quantized(op):   # int8 (H2)
        from hhbc.frontends.tflite_int8 import l2_normalization
        return l2_normalization(conv, op)
    (x_t,) = conv.get_input_tensors(op)
    x = conv.get_tensor_expr(x_t)
    rank = len(conv.get_tensor_shape(x_t))
    norm = relax.op.sqrt(relax.op.sum(relax.op.multiply(x, x), axis=[rank - 1], keepdims=True))
    out = relax.op.divide(x, relax.op.maximum(norm, relax.const(1e-6, "float32")))
    raw = op.BuiltinOptions()
    opts = tflite.L2NormOptions()
    opts.Init(raw.Bytes, raw.Pos)
    return conv.convert_fused_activation_function(conv.stamper.normalize(out),
                                                  opts.FusedActivationFunction())


def fully_connected(conv, op):
    """FULLY_CONNECTED with TFLite's output shape: without keep_num_dims an input of rank
    > 2 is flattened to [-1, K] (TVM's importer keeps its leading dims)."""
    from tvm import relax

    out = _tvm().convert_fully_connected(conv, op)
    want = [int(d) for d in conv.get_tensor_shape(conv.get_output_tensors(op)[0])]
    got = conv.stamper.normalize(out)
    have = [int(d) for d in got.ty.shape]
    return relax.op.reshape(got, want) if want and have != want else got


def custom(conv, op):
    """The custom ops hhbc knows (SUPPORTED_CUSTOM_OPS); _check_supported refused others."""
    code = conv.model.OperatorCodes(op.OpcodeIndex()).CustomCode()
    code = code.decode() if code is not None else ""
    if code == "Convolution2DTransposeBias":
        return transpose_conv_bias(conv, op)
    raise HhbcError(f"custom op '{code}' is not supported")


def transpose_conv_bias(conv, op):
    """MediaPipe's Convolution2DTransposeBias: inputs (input NHWC, weights [O, KH, KW, I],
    bias [O]); custom options are TfLiteTransposeConvParams (int32 padding 1 SAME / 2 VALID,
    stride_w, stride_h). The output size is the output tensor's; SAME pads as
    TRANSPOSE_CONV does, (in - 1) * stride + kernel - out split top/left first."""
    from tvm import relax

    x_t, w_t, b_t = conv.get_input_tensors(op)[:3]
    raw = op.CustomOptionsAsNumpy() if op.CustomOptionsLength() else np.zeros(0, np.uint8)
    if raw.size < 12:
        raise HhbcError(f"Convolution2DTransposeBias: {raw.size} bytes of custom options, "
                        "not 12 (padding, stride_w, stride_h)")
    padding, stride_w, stride_h = (int(v) for v in np.frombuffer(raw.tobytes()[:12], "<i4"))
    if padding not in (1, 2) or stride_w < 1 or stride_h < 1:
        raise HhbcError(f"Convolution2DTransposeBias: padding {padding}, strides "
                        f"{stride_h}x{stride_w} (padding must be 1 SAME or 2 VALID)")
    _, in_h, in_w, _ = (int(d) for d in conv.get_tensor_shape(x_t))
    oc, kh, kw, _ = (int(d) for d in conv.get_tensor_shape(w_t))
    out_shape = [int(d) for d in conv.get_tensor_shape(conv.get_output_tensors(op)[0])]
    full_h, full_w = (in_h - 1) * stride_h + kh, (in_w - 1) * stride_w + kw
    if padding == 1:
        pad_h, pad_w = max(full_h - out_shape[1], 0), max(full_w - out_shape[2], 0)
        pads = (pad_h // 2, pad_w // 2, pad_h - pad_h // 2, pad_w - pad_w // 2)
    else:
        pads = (0, 0, 0, 0)
    extra = (out_shape[1] - (full_h - pads[0] - pads[2]), out_shape[2] - (full_w - pads[1] - pads[3]))
    if not (0 <= extra[0] < stride_h and 0 <= extra[1] < stride_w):
        raise HhbcError(f"Convolution2DTransposeBias: output {out_shape[1:3]} does not fit input "
                        f"{[in_h, in_w]}, kernel {[kh, kw]}, strides {[stride_h, stride_w]}")
    if conv.has_expr(w_t.tensor_idx):
        weight = relax.op.permute_dims(conv.get_expr(w_t.tensor_idx), [3, 0, 1, 2])
    else:
        weight = conv.exp_tab.new_const(np.transpose(conv.get_tensor_value(w_t), (3, 0, 1, 2)),
                                        dtype="float32", source_name=w_t.tensor.Name())
    out = relax.op.nn.conv2d_transpose(
        conv.get_tensor_expr(x_t), weight, strides=(stride_h, stride_w), padding=pads,
        output_padding=extra, data_layout="NHWC", kernel_layout="IOHW", out_dtype="float32")
    bias = (conv.get_expr(b_t.tensor_idx) if conv.has_expr(b_t.tensor_idx) else
            conv.exp_tab.new_const(np.asarray(conv.get_tensor_value(b_t), np.float32).reshape(oc),
                                   dtype="float32", source_name=b_t.tensor.Name()))
    return relax.op.add(conv.stamper.normalize(out), bias)


# ---------------------------------------------------------------- TFLite Micro builtins
def _options(op, cls_name: str):
    """The op's builtin options table of class tflite.<cls_name>."""
    import importlib

    raw = op.BuiltinOptions()
    if raw is None:
        return None
    opts = getattr(importlib.import_module(f"tflite.{cls_name}"), cls_name)()
    opts.Init(raw.Bytes, raw.Pos)
    return opts


def _shape(conv, tensor) -> list[int]:
    return [int(d) for d in conv.get_tensor_shape(tensor)]


def batch_matmul(conv, op):
    """BATCH_MATMUL of two tensors of any rank >= 2 (adj_x / adj_y: the last two axes swapped
    first; batch axes broadcast as numpy's matmul, which hhbc's matmul node does itself)."""
    from tvm import relax

    if conv.is_quantized(op):
        return _tvm().convert_batch_matmul(conv, op)
    a_t, b_t = conv.get_input_tensors(op)[:2]
    opts = _options(op, "BatchMatMulOptions")
    operands = []
    for t, adj in ((a_t, opts is not None and opts.AdjX()), (b_t, opts is not None and opts.AdjY())):
        expr = conv.get_tensor_expr(t)
        rank = len(_shape(conv, t))
        if rank < 2:
            raise HhbcError(f"BATCH_MATMUL operand '{t.tensor.Name().decode()}' has rank {rank}")
        if adj:
            expr = relax.op.permute_dims(expr, list(range(rank - 2)) + [rank - 1, rank - 2])
        operands.append(expr)
    return relax.op.matmul(*operands)


def broadcast_to(conv, op):
    """BROADCAST_TO with a constant shape (a shape computed at run time is not static)."""
    from tvm import relax

    if conv.is_quantized(op):
        return _tvm().convert_broadcast_to(conv, op)
    x_t, shape_t = conv.get_input_tensors(op)[:2]
    if conv.has_expr(shape_t.tensor_idx):
        raise HhbcError(f"BROADCAST_TO -> '{conv.get_output_tensors(op)[0].tensor.Name().decode()}': "
                        "the target shape is computed at run time (only a constant shape)")
    shape = [int(v) for v in np.asarray(conv.get_tensor_value(shape_t)).reshape(-1)]
    in_shape = _shape(conv, x_t)
    out = list(np.broadcast_shapes(tuple(in_shape), tuple(shape)))
    x = conv.get_tensor_expr(x_t)
    return x if out == in_shape else relax.op.broadcast_to(x, out)


def gelu(conv, op):
    """GELU, exact or with TFLite's `approximate` option (tanh); TVM's importer ignores
    the option."""
    from hhbc.frontends.onnx_elementwise import gelu_expr

    if conv.is_quantized(op):
        return _tvm().convert_gelu(conv, op)
    (x_t,) = conv.get_input_tensors(op)[:1]
    opts = _options(op, "GeluOptions")
    return gelu_expr(conv.get_tensor_expr(x_t), bool(opts is not None and opts.Approximate()))


def lrn(conv, op):
    """LOCAL_RESPONSE_NORMALIZATION on NHWC: x * (bias + alpha * sum over channels
    [c - r, c + r] of x^2)^-beta, written as Caffe's LRN is (a band 1x1 convolution of x^2),
    which the fusion pattern hhbc.lrn (optimize/fusion.py) turns into the `lrn` kernel."""
    from tvm import relax

    if conv.is_quantized(op):
        return _tvm().convert_lrn(conv, op)
    (x_t,) = conv.get_input_tensors(op)[:1]
    shape = _shape(conv, x_t)
    if len(shape) != 4:
        raise HhbcError(f"LOCAL_RESPONSE_NORMALIZATION of a rank-{len(shape)} tensor (4-D NHWC only)")
    opts = _options(op, "LocalResponseNormalizationOptions")
    radius, bias, alpha, beta = opts.Radius(), opts.Bias(), opts.Alpha(), opts.Beta()
    channels = shape[3]
    band = np.zeros((channels, channels, 1, 1), np.float32)
    for c in range(channels):
        band[c, max(0, c - radius):min(channels, c + radius + 1), 0, 0] = 1.0
    x = conv.get_tensor_expr(x_t)
    total = relax.op.nn.conv2d(relax.op.multiply(x, x), relax.const(band, "float32"),
                               data_layout="NHWC", kernel_layout="OIHW")
    denom = relax.op.add(relax.op.multiply(total, relax.const(np.float32(alpha), "float32")),
                         relax.const(np.float32(bias), "float32"))
    return relax.op.multiply(x, relax.op.power(denom, relax.const(np.float32(-beta), "float32")))


def mirror_pad(conv, op):
    """MIRROR_PAD, REFLECT (the pad kernel's reflect mode) or SYMMETRIC (frontends/mirror_pad.py)."""
    from hhbc.frontends.mirror_pad import mirror_pad as pad

    if conv.is_quantized(op):
        return _tvm().convert_mirror_pad(conv, op)
    x_t, pads_t = conv.get_input_tensors(op)[:2]
    paddings = np.asarray(conv.get_tensor_value(pads_t)).reshape(-1, 2)
    opts = _options(op, "MirrorPadOptions")
    mode = "SYMMETRIC" if opts is not None and opts.Mode() == 1 else "REFLECT"
    name = conv.get_output_tensors(op)[0].tensor.Name().decode()
    return pad(conv.get_tensor_expr(x_t), _shape(conv, x_t), paddings, mode, f"MIRROR_PAD -> '{name}'")


def select(conv, op):
    """SELECT / SELECT_V2 with a constant condition (the `where` kernel); a condition
    computed at run time is refused by name."""
    from tvm import relax

    if conv.is_quantized(op):
        return _tvm().convert_select(conv, op)
    cond_t, a_t, b_t = conv.get_input_tensors(op)[:3]
    if conv.has_expr(cond_t.tensor_idx):
        name = conv.get_output_tensors(op)[0].tensor.Name().decode()
        raise HhbcError(f"SELECT -> '{name}': a condition computed at run time is not supported "
                        "(only a constant condition)")
    cond = relax.const(np.asarray(conv.get_tensor_value(cond_t)).astype(bool), "bool")
    return relax.op.where(cond, conv.get_tensor_expr(a_t), conv.get_tensor_expr(b_t))


def square(conv, op):
    """SQUARE as x * x (one binary node)."""
    from tvm import relax

    if conv.is_quantized(op):
        return _tvm().convert_square(conv, op)
    (x_t,) = conv.get_input_tensors(op)[:1]
    x = conv.get_tensor_expr(x_t)
    return relax.op.multiply(x, x)
