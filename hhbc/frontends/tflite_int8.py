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
})

# Int8 ops whose plain (unquantized) int32 constant operands are shapes, axes or paddings,
# not data: RESHAPE's new shape, MEAN's axes, PAD's and PADV2's paddings.
INT8_INDEX_OPERAND_OPS = frozenset({"RESHAPE", "MEAN", "PAD", "PADV2"}) | frozenset({
    "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "TRANSPOSE", "EXPAND_DIMS", "RESIZE_NEAREST_NEIGHBOR",
    "REDUCE_MAX", "REDUCE_MIN", "GATHER", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "ARG_MAX", "ARG_MIN",
})

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
