"""Which TFLite builtins hhbc compiles in int8."""

# TFLite builtins of fully-int8 models: TVM imports each as dequantize -> float op -> quantize
# (MAX_POOL_2D, PAD, PADV2 and RESHAPE directly on int8), which optimize/quantized.py groups
# and lower/quantized.py maps to an int8 kernel. QUANTIZE is float -> int8 at a model input or
# int8 -> int8 (a requantize); DEQUANTIZE is int8 -> float at a model output.
INT8_OPS = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE",
    "FULLY_CONNECTED", "HARD_SWISH", "LOGISTIC", "MAX_POOL_2D", "MEAN", "MUL", "PAD", "PADV2",
    "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "SOFTMAX", "TANH",
}) | frozenset({
    # data movement and selection: raw int8, the input's quantization kept (TFLite's kernels copy
    # or compare int8 values); TVM leaves most on int8, MAXIMUM/MINIMUM/REDUCE_* as QDQ groups
    "DEPTH_TO_SPACE", "EXPAND_DIMS", "MAXIMUM", "MINIMUM", "PACK", "REDUCE_MAX", "REDUCE_MIN",
    "RESIZE_NEAREST_NEIGHBOR", "SLICE", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQUEEZE",
    "STRIDED_SLICE", "TRANSPOSE", "UNPACK", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND",
    "ARG_MAX", "ARG_MIN", "GATHER",
}) | frozenset({
    # elementwise math (H3b): one int8 input -> int8 output, a 256-entry table made at compile
    # time with TFLite's own arithmetic (fixedpoint.py)
    "ABS", "EXP", "LOG", "LEAKY_RELU", "RSQRT",
}) | frozenset({
    # H3c: SUB (the ADD kernel, input 2 subtracted); PRELU (a per-channel table)
    "SUB", "PRELU",
}) | frozenset({
    # H1: TFLite's integer bilinear resize; transposed convolution (per-channel weights, bias optional)
    "RESIZE_BILINEAR", "TRANSPOSE_CONV",
}) | frozenset({
    # H2: SQUARED_DIFFERENCE, DIV, SUM, L2_NORMALIZATION and SQRT have int8 kernels in TFLite;
    # ELU, NEG and FLOOR the converter leaves float between DEQUANTIZE and QUANTIZE, which
    # hhbc compiles as one int8 table of that float arithmetic (lower/quantized_math.py)
    "SQUARED_DIFFERENCE", "DIV", "SUM", "L2_NORMALIZATION", "SQRT", "ELU", "NEG", "FLOOR",
})

# Int8 ops whose plain (unquantized) int32 constant operands are shapes, axes or paddings,
# not data: RESHAPE's new shape, MEAN's axes, PAD's and PADV2's paddings.
INT8_INDEX_OPERAND_OPS = frozenset({"RESHAPE", "MEAN", "PAD", "PADV2"}) | frozenset({
    "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "TRANSPOSE", "EXPAND_DIMS", "RESIZE_NEAREST_NEIGHBOR",
    "REDUCE_MAX", "REDUCE_MIN", "GATHER", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "ARG_MAX", "ARG_MIN",
}) | frozenset({"RESIZE_BILINEAR", "TRANSPOSE_CONV"})   # H1: the size; the output shape
INT8_INDEX_OPERAND_OPS |= frozenset({"SUM"})   # H2: the axes

# Int8 ops whose output is an integer index tensor (int32/int64, not quantized), not int8.
INT8_INDEX_OUTPUT_OPS = frozenset({"ARG_MAX", "ARG_MIN"})


def prelu(conv, op):
    """Int8 PRELU (H3c) as quantize(prelu(dequantize(x), dequantize(alpha), axis=-1)), the slope
    an int8 constant varying along the last axis only ([C], [1, 1, C] or one value); TVM's
    importer has no int8 PRELU. optimize/quantized.py groups it as hhbc.qprelu."""
    import numpy as np
    from tvm import relax

    from hhbc.errors import HhbcError

    x_t, alpha_t = conv.get_input_tensors(op)
    out_t = conv.get_output_tensors(op)[0]
    shape = [int(d) for d in conv.get_tensor_shape(x_t)]
    if conv.has_expr(alpha_t.tensor_idx) or alpha_t.qnn_params is None or not shape:
        raise HhbcError("int8 PRELU: the slope must be an int8 constant")
    alpha = np.asarray(conv.get_tensor_value(alpha_t))
    if alpha.size not in (1, shape[-1]) or (alpha.ndim and alpha.shape[-1] != alpha.size):
        raise HhbcError(f"int8 PRELU: slope of shape {list(alpha.shape)} (only one slope per channel "
                        f"of the last axis is supported, input {shape})")
    slope = np.broadcast_to(alpha.reshape(-1), (shape[-1],)).astype(np.int8)
    a = conv.dequantize(relax.const(slope, "int8"), alpha_t)
    y = relax.op.nn.prelu(conv.dequantize(conv.get_tensor_expr(x_t), x_t), a, axis=len(shape) - 1)
    return conv.quantize(y, out_t)


def transpose_conv(conv, op, convert_float):
    """TRANSPOSE_CONV (H1). TVM's importer drops the fused activation that TRANSPOSE_CONV
    version 4 carries (the converter fuses a following ReLU into it), and sizes the output from
    its SAME padding alone. Float: TVM's conversion (`convert_float`), then the activation.
    Int8: dequantize -> conv2d_transpose -> [+ bias] -> quantize -> int8 clip of the activation,
    padded as TFLite's kernel pads (ComputePaddingHeightWidth on the output size) and sized to
    the output tensor; optimize/quantized.py groups it as hhbc.qdeconv2d."""
    import numpy as np
    import tflite
    from tvm import relax

    from hhbc.errors import HhbcError

    opts = tflite.TransposeConvOptions()
    raw = op.BuiltinOptions()
    opts.Init(raw.Bytes, raw.Pos)
    act = opts.FusedActivationFunction()
    tensors = conv.get_input_tensors(op)
    x_t, w_t = tensors[2], tensors[1]
    out_t = conv.get_output_tensors(op)[0]
    if x_t.qnn_params is None:
        return conv.convert_fused_activation_function(conv.stamper.normalize(convert_float(op)), act)
    name = out_t.tensor.Name()
    what = f"int8 TRANSPOSE_CONV -> '{name.decode() if isinstance(name, bytes) else name}'"
    if conv.has_expr(w_t.tensor_idx) or w_t.qnn_params is None:
        raise HhbcError(f"{what}: the filter must be an int8 constant")
    if int(w_t.qnn_params["axis"]) != 0 and np.asarray(w_t.tensor.Quantization().ScaleAsNumpy()).size > 1:
        raise HhbcError(f"{what}: filter quantized along axis {w_t.qnn_params['axis']} "
                        "(per output channel, axis 0, expected)")
    w = np.asarray(conv.get_tensor_value(w_t))                       # [OC][KH][KW][IC]
    oc, kh, kw, ic = (int(d) for d in w.shape)
    _, in_h, in_w, in_c = (int(d) for d in conv.get_tensor_shape(x_t))
    out_shape = [int(d) for d in conv.get_tensor_shape(out_t)]
    if in_c != ic or out_shape[3] != oc:
        raise HhbcError(f"{what}: filter {list(w.shape)} does not fit input channels {in_c} "
                        f"and output {out_shape}")
    strides = (int(opts.StrideH()), int(opts.StrideW()))
    pads, extra = [], []
    for n_in, n_out, k, s in ((in_h, out_shape[1], kh, strides[0]), (in_w, out_shape[2], kw, strides[1])):
        total = max(((n_out + s - 1) // s - 1) * s + k - n_out, 0) if opts.Padding() == 0 else 0   # SAME
        first = total // 2
        full = (n_in - 1) * s + k - first                                # rows the kernel reaches
        pads.append((first, max(full - n_out, 0)))
        extra.append(max(n_out - full, 0))
        if extra[-1] >= s:
            raise HhbcError(f"{what}: output {out_shape[1:3]} is larger than input "
                            f"{[in_h, in_w]}, kernel {[kh, kw]}, strides {list(strides)} reach")
    weight = conv.exp_tab.new_const(np.ascontiguousarray(w.transpose(3, 0, 1, 2)), dtype="int8",
                                    source_name=w_t.tensor.Name())            # IOHW
    w_q = w_t.qnn_params
    w_f = relax.op.dequantize(weight, scale=w_q["scale"], zero_point=w_q["zero_point"], axis=1)
    y = relax.op.nn.conv2d_transpose(
        conv.dequantize(conv.get_tensor_expr(x_t), x_t), w_f, strides=strides,
        padding=(pads[0][0], pads[1][0], pads[0][1], pads[1][1]), output_padding=tuple(extra),
        data_layout="NHWC", kernel_layout="IOHW", out_dtype="float32")
    if len(tensors) > 3 and tensors[3].tensor_idx >= 0:
        b_t = tensors[3]
        if conv.has_expr(b_t.tensor_idx) or b_t.qnn_params is None:
            raise HhbcError(f"{what}: the bias must be a quantized int32 constant")
        bias = conv.exp_tab.new_const(np.asarray(conv.get_tensor_value(b_t)).reshape(oc), dtype="int32",
                                      source_name=b_t.tensor.Name())
        b_q = b_t.qnn_params
        y = relax.op.add(y, relax.op.dequantize(bias, scale=b_q["scale"], zero_point=b_q["zero_point"], axis=0))
    y = conv.quantize(y, out_t)
    scale = float(np.asarray(out_t.tensor.Quantization().ScaleAsNumpy()).reshape(-1)[0])
    zero = int(np.asarray(out_t.tensor.Quantization().ZeroPointAsNumpy()).reshape(-1)[0])
    return conv.convert_qnn_fused_activation_function(y, act, scale, zero, "int8")


def l2_normalization(conv, op):
    """Int8 L2_NORMALIZATION (H2) as quantize(x / max(sqrt(sum(x * x, last axis)), 1e-6)),
    x = dequantize(input) bound once; TVM's importer has no quantized L2_NORMALIZATION.
    optimize/quantized_math.py groups it as hhbc.ql2norm (TFLite's integer kernel)."""
    import tflite
    from tvm import relax

    from hhbc.errors import HhbcError

    (x_t,) = conv.get_input_tensors(op)
    out_t = conv.get_output_tensors(op)[0]
    raw = op.BuiltinOptions()
    opts = tflite.L2NormOptions()
    opts.Init(raw.Bytes, raw.Pos)
    if opts.FusedActivationFunction() != 0:
        raise HhbcError("int8 L2_NORMALIZATION with a fused activation is not supported")
    rank = len(conv.get_tensor_shape(x_t))
    x = conv.stamper.emit(conv.dequantize(conv.get_tensor_expr(x_t), x_t))
    norm = relax.op.sqrt(relax.op.sum(relax.op.multiply(x, x), axis=[rank - 1], keepdims=True))
    y = relax.op.divide(x, relax.op.maximum(norm, relax.const(1e-6, "float32")))
    return conv.quantize(y, out_t)
