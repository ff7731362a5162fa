"""Which TFLite builtins hhbc compiles in int8."""

# TFLite builtins of fully-int8 models: TVM imports each as dequantize -> float op -> quantize,
# which optimize/quantized.py groups and lower/quantized.py maps to an int8 kernel.
INT8_OPS = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX",
})
