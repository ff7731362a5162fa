"""The int8 kernels (hhbc_kernels_i8.h): TFLite-exact, quantization parameters prepared at
compile time (hhbc/quantize/fixedpoint.py) and emitted as constants. Fields named in the
header as "ONNX" select ONNX Runtime's float32 rounding for a model from ONNX QDQ."""

from __future__ import annotations

from hhbc.codegen.kernels import PARAM_FIELDS, REGISTRY, KernelImpl

_I8_CLAMP = [("input_zp", "int"), ("output_zp", "int"), ("act_min", "int"), ("act_max", "int")]
PARAM_FIELDS["conv2d_i8"] = [
    ("weight", "const:weight"), ("bias", "const:bias"), ("multiplier", "const:multiplier"),
    ("shift", "const:shift"), ("per_channel", "int"), ("kernel_h", "int"), ("kernel_w", "int"),
    ("stride_h", "int"), ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"),
    ("pad_top", "int"), ("pad_left", "int"), ("groups", "int"), *_I8_CLAMP, ("scale", "const:scale")]
PARAM_FIELDS["depthwise_conv2d_i8"] = PARAM_FIELDS["conv2d_i8"]
PARAM_FIELDS["dense_i8"] = [
    ("weight", "const:weight"), ("bias", "const:bias"), ("multiplier", "const:multiplier"),
    ("shift", "const:shift"), ("real_scale", "const:real_scale"), ("per_channel", "int"),
    ("m", "int"), ("n", "int"), ("k", "int"), *_I8_CLAMP, ("scale", "const:scale")]
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
    ("fixed", "float")]
PARAM_FIELDS["mul_i8"] = [
    ("shape", "broadcast"), ("a_zp", "int"), ("b_zp", "int"), ("output_zp", "int"),
    ("output_multiplier", "int"), ("output_shift", "int"), ("act_min", "int"), ("act_max", "int")]
PARAM_FIELDS["mean_i8"] = [
    ("ndim", "int"), ("in_dim", "ints"), ("reduced", "ints"), ("count", "int"), ("input_zp", "int"),
    ("output_zp", "int"), ("multiplier", "int"), ("shift", "int")]
PARAM_FIELDS["lut_i8"] = [("table", "const:table")]
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
PARAM_FIELDS["dequantize_i8"] = PARAM_FIELDS["quantize_i8"]
I8_HEADERS = ("include/hhbc_kernels_i8.h", "include/hhbc_fixedpoint.h")


def _ref_i8(op: str, signature: str = "unary", params: str | None = None,
            dtypes: tuple[str, str] = ("int8", "int8")) -> KernelImpl:
    return KernelImpl(op, "ref", f"hhbc_{op}", signature, (f"ref/{op}.c",),
                      params or f"hhbc_{op}_params", headers=I8_HEADERS, dtypes=dtypes)


REGISTRY.extend([
    _ref_i8("conv2d_i8"), _ref_i8("depthwise_conv2d_i8", params="hhbc_conv2d_i8_params"),
    _ref_i8("dense_i8"), _ref_i8("pool2d_i8"), _ref_i8("softmax_i8"), _ref_i8("add_i8", "binary"),
    _ref_i8("mul_i8", "binary"), _ref_i8("mean_i8"), _ref_i8("lut_i8"), _ref_i8("hardswish_i8"),
    _ref_i8("requantize_i8"), _ref_i8("concat_i8", "list"), _ref_i8("pad_i8"),
    _ref_i8("quantize_i8", params="hhbc_affine_i8_params", dtypes=("float32", "int8")),
    _ref_i8("dequantize_i8", params="hhbc_affine_i8_params", dtypes=("int8", "float32")),
    # a model output that is a view of another tensor is copied out
    KernelImpl("copy", "ref", "hhbc_copy_i8", "plain", ("ref/copy_i8.c",), None, headers=I8_HEADERS,
               dtypes=("int8", "int8")),
])
