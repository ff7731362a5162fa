"""The params struct of every kernel op, field by field, in struct order.

One entry per op, shared by every variant and dtype of that op (an optimized kernel keeps
the reference kernel's params struct). Codegen renders a node's `params`/`consts` through
these into a C designated initializer.
"""

from __future__ import annotations

# Params struct fields per op, in struct order: (field, kind).
# kind: int | float | ints | act | enum:<PREFIX> | const:<key> (pointer, NULL if absent)
#       | const?:<key> (pointer, left out of the initializer if absent: zero, NULL)
#       | array:int32 (inline compound literal)
PARAM_FIELDS: dict[str, list[tuple[str, str]]] = {
    "conv2d": [("weight", "const:weight"), ("bias", "const:bias"), ("kernel_h", "int"), ("kernel_w", "int"),
               ("stride_h", "int"), ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"),
               ("pad_top", "int"), ("pad_left", "int"), ("groups", "int"), ("act", "act")],
    "dense": [("weight", "const:weight"), ("bias", "const:bias"), ("m", "int"), ("n", "int"), ("k", "int"),
              ("act", "act")],
    "matmul": [("batch", "int"), ("m", "int"), ("n", "int"), ("k", "int"), ("a_batch_stride", "int"),
               ("b_batch_stride", "int")],
    "binary": [("op", "enum:HHBC_BIN_"), ("ndim", "int"), ("out_dim", "ints"), ("a_stride", "ints"),
               ("b_stride", "ints"), ("act", "act")],
    "unary": [("op", "enum:HHBC_UN_"), ("size", "int"), ("act", "act")],
    "prelu": [("slope", "const:slope"), ("outer", "int"), ("channels", "int"), ("inner", "int")],
    "pool2d": [("kind", "enum:HHBC_POOL_"), ("kernel_h", "int"), ("kernel_w", "int"), ("stride_h", "int"),
               ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"), ("pad_top", "int"),
               ("pad_left", "int"), ("pad_bottom", "int"), ("pad_right", "int"), ("count_include_pad", "int")],
    "reduce": [("op", "enum:HHBC_RED_"), ("ndim", "int"), ("in_dim", "ints"), ("out_stride", "ints"),
               ("out_size", "int"), ("reduce_count", "int")],
    "concat": [("num_inputs", "int"), ("outer", "int"), ("inner", "int"), ("axis_dim", "array:int32")],
    "transpose": [("ndim", "int"), ("out_dim", "ints"), ("in_stride", "ints")],
    "pad": [("mode", "enum:HHBC_PAD_"), ("value", "float"), ("ndim", "int"), ("in_dim", "ints"),
            ("out_dim", "ints"), ("before", "ints")],
    "softmax": [("outer", "int"), ("axis_size", "int"), ("inner", "int"), ("log", "int")],
    "resize2d": [("mode", "enum:HHBC_RESIZE_"), ("y0", "const:y0"), ("y1", "const:y1"), ("x0", "const:x0"),
                 ("x1", "const:x1"), ("wy", "const:wy"), ("wx", "const:wx")],
    "copy": [],
}
PARAM_FIELDS["depthwise_conv2d"] = PARAM_FIELDS["conv2d"]
PARAM_FIELDS["deconv2d"] = PARAM_FIELDS["conv2d"]
PARAM_FIELDS["strided_slice"] = [("ndim", "int"), ("out_dim", "ints"), ("in_stride", "ints"), ("offset", "int")]
PARAM_FIELDS["cast"] = [("size", "int")]
PARAM_FIELDS["gather"] = [("outer", "int"), ("axis_dim", "int"), ("inner", "int"), ("num_indices", "int"),
                          ("index_bytes", "int")]
PARAM_FIELDS["argreduce"] = [("op", "enum:HHBC_ARG_"), ("outer", "int"), ("axis_dim", "int"), ("inner", "int"),
                             ("select_last", "int"), ("out_bytes", "int")]
PARAM_FIELDS["where"] = [("cond", "const:cond"), ("ndim", "int"), ("out_dim", "ints"), ("a_stride", "ints"),
                         ("b_stride", "ints"), ("c_stride", "ints")]
PARAM_FIELDS["lrn"] = [("outer", "int"), ("channels", "int"), ("inner", "int"), ("size", "int"),
                       ("pre_pad", "int"), ("alpha_over_size", "float"), ("k", "float"), ("beta", "float")]

# ---- int8 kernels (hhbc_kernels_i8.h): quantization parameters prepared at compile time
_I8_CLAMP = [("input_zp", "int"), ("output_zp", "int"), ("act_min", "int"), ("act_max", "int")]
PARAM_FIELDS["conv2d_i8"] = [
    ("weight", "const:weight"), ("bias", "const:bias"), ("multiplier", "const:multiplier"),
    ("shift", "const:shift"), ("per_channel", "int"), ("kernel_h", "int"), ("kernel_w", "int"),
    ("stride_h", "int"), ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"),
    ("pad_top", "int"), ("pad_left", "int"), ("groups", "int"), *_I8_CLAMP, ("scale", "const:scale"),
    ("weight_zp", "const?:weight_zp")]   # [OC] int32, only with asymmetric weights
PARAM_FIELDS["depthwise_conv2d_i8"] = PARAM_FIELDS["conv2d_i8"]
PARAM_FIELDS["dense_i8"] = [
    ("weight", "const:weight"), ("bias", "const:bias"), ("multiplier", "const:multiplier"),
    ("shift", "const:shift"), ("real_scale", "const:real_scale"), ("per_channel", "int"),
    ("m", "int"), ("n", "int"), ("k", "int"), *_I8_CLAMP, ("scale", "const:scale"),
    ("weight_zp", "const?:weight_zp")]   # [N] int32, only with asymmetric weights
PARAM_FIELDS["pool2d_i8"] = [
    ("kind", "enum:HHBC_POOL_"), ("kernel_h", "int"), ("kernel_w", "int"), ("stride_h", "int"),
    ("stride_w", "int"), ("pad_top", "int"), ("pad_left", "int"), ("act_min", "int"), ("act_max", "int"),
    ("rounding", "enum:HHBC_POOL_"), ("count_include_pad", "int"), ("input_zp", "int"), ("output_zp", "int"),
    ("input_scale", "float"), ("output_scale", "float"), ("scale", "float")]
PARAM_FIELDS["softmax_i8"] = [
    ("outer", "int"), ("axis_size", "int"), ("inner", "int"), ("input_multiplier", "int"),
    ("input_left_shift", "int"), ("diff_min", "int")]
PARAM_FIELDS["add_i8"] = [
    ("shape", "broadcast"), ("left_shift", "int"), ("a_zp", "int"), ("a_multiplier", "int"),
    ("a_shift", "int"), ("b_zp", "int"), ("b_multiplier", "int"), ("b_shift", "int"),
    ("output_zp", "int"), ("output_multiplier", "int"), ("output_shift", "int"),
    ("act_min", "int"), ("act_max", "int"), ("onnx", "int"), ("a_ratio", "float"), ("b_ratio", "float"),
    ("fixed", "float"), ("sub", "int")]
PARAM_FIELDS["mul_i8"] = [
    ("shape", "broadcast"), ("a_zp", "int"), ("b_zp", "int"), ("output_zp", "int"),
    ("output_multiplier", "int"), ("output_shift", "int"), ("act_min", "int"), ("act_max", "int")]
PARAM_FIELDS["mean_i8"] = [
    ("ndim", "int"), ("in_dim", "ints"), ("reduced", "ints"), ("count", "int"), ("input_zp", "int"),
    ("output_zp", "int"), ("multiplier", "int"), ("shift", "int")]
PARAM_FIELDS["lut_i8"] = [("table", "const:table")]
# H2: SQUARED_DIFFERENCE, DIV, L2_NORMALIZATION
PARAM_FIELDS["squared_difference_i8"] = [
    ("shape", "broadcast"), ("left_shift", "int"), ("a_zp", "int"), ("a_multiplier", "int"),
    ("a_shift", "int"), ("b_zp", "int"), ("b_multiplier", "int"), ("b_shift", "int"),
    ("output_zp", "int"), ("output_multiplier", "int"), ("output_shift", "int")]
PARAM_FIELDS["div_i8"] = [
    ("shape", "broadcast"), ("a_zp", "int"), ("b_zp", "int"), ("output_zp", "int"),
    ("output_multiplier", "int"), ("output_shift", "int"), ("act_min", "int"), ("act_max", "int")]
PARAM_FIELDS["l2norm_i8"] = [("outer", "int"), ("depth", "int"), ("input_zp", "int")]
PARAM_FIELDS["sum_i8"] = [("ndim", "int"), ("in_dim", "ints"), ("reduced", "ints"), ("output_zp", "int"),
                          ("scale", "float"), ("bias", "float")]
PARAM_FIELDS["prelu_i8"] = [("channels", "int"), ("table", "const:table")]
PARAM_FIELDS["hardswish_i8"] = [
    ("input_zp", "int"), ("output_zp", "int"), ("output_multiplier", "int"), ("output_exponent", "int"),
    ("reluish_multiplier", "int"), ("reluish_exponent", "int")]
# "rq.x": a designated initializer of the nested hhbc_requant_i8
PARAM_FIELDS["requantize_i8"] = [
    ("rq.input_zp", "int"), ("rq.output_zp", "int"), ("rq.multiplier", "int"), ("rq.shift", "int"),
    ("act_min", "int"), ("act_max", "int"), ("onnx", "int"), ("input_scale", "float"), ("output_scale", "float")]
# every input already has the output's parameters (the lowering requantizes the others first)
PARAM_FIELDS["concat_i8"] = [
    ("num_inputs", "int"), ("outer", "int"), ("inner", "int"), ("axis_dim", "array:int32"),
    ("requant", "const:requant")]
PARAM_FIELDS["pad_i8"] = [
    ("value", "int"), ("ndim", "int"), ("in_dim", "ints"), ("out_dim", "ints"), ("before", "ints")]
PARAM_FIELDS["quantize_i8"] = [("scale", "float"), ("zero_point", "int"), ("onnx", "int")]
PARAM_FIELDS["deconv2d_i8"] = PARAM_FIELDS["conv2d_i8"]   # H1: TRANSPOSE_CONV
PARAM_FIELDS["resize_bilinear_i8"] = [("y0", "const:y0"), ("y1", "const:y1"), ("dy", "const:dy"),
                                      ("x0", "const:x0"), ("x1", "const:x1"), ("dx", "const:dx")]
PARAM_FIELDS["dequantize_i8"] = PARAM_FIELDS["quantize_i8"]

# ---- weight-only int8 kernels (hhbc_kernels_w8.h)
_SCALED = [("weight", "const:weight"), ("w_scale", "const:w_scale"), ("bias", "const:bias")]
PARAM_FIELDS["conv2d_w8"] = [
    *_SCALED, ("kernel_h", "int"), ("kernel_w", "int"), ("stride_h", "int"), ("stride_w", "int"),
    ("dilation_h", "int"), ("dilation_w", "int"), ("pad_top", "int"), ("pad_left", "int"),
    ("groups", "int"), ("act", "act")]
PARAM_FIELDS["depthwise_conv2d_w8"] = PARAM_FIELDS["conv2d_w8"]
PARAM_FIELDS["dense_w8"] = [*_SCALED, ("m", "int"), ("n", "int"), ("k", "int"), ("act", "act")]
