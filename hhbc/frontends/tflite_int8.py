"""Which TFLite builtins hhbc compiles in int8."""

# TFLite builtins of fully-int8 models: TVM imports each as dequantize -> float op -> quantize
# (MAX_POOL_2D, PAD, PADV2 and RESHAPE directly on int8), which optimize/quantized.py groups
# and lower/quantized.py maps to an int8 kernel. QUANTIZE is float -> int8 at a model input or
# int8 -> int8 (a requantize); DEQUANTIZE is int8 -> float at a model output.
INT8_OPS = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE",
    "FULLY_CONNECTED", "HARD_SWISH", "LOGISTIC", "MAX_POOL_2D", "MEAN", "MUL", "PAD", "PADV2",
    "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "SOFTMAX", "TANH",
})

# Int8 ops whose plain (unquantized) int32 constant operands are shapes, axes or paddings,
# not data: RESHAPE's new shape, MEAN's axes, PAD's and PADV2's paddings.
INT8_INDEX_OPERAND_OPS = frozenset({"RESHAPE", "MEAN", "PAD", "PADV2"})
