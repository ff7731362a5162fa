"""Weight-only int8 kernels: float activations, int8 weights kept in flash with per-channel
scales (TFLite's dynamic-range "hybrid" models, HHB's float16_w_int8 idea)."""

from __future__ import annotations

from hhbc.codegen.kernels import PARAM_FIELDS, REGISTRY, KernelImpl

_SCALED = [("weight", "const:weight"), ("w_scale", "const:w_scale"), ("bias", "const:bias")]
PARAM_FIELDS["conv2d_w8"] = [
    *_SCALED, ("kernel_h", "int"), ("kernel_w", "int"), ("stride_h", "int"), ("stride_w", "int"),
    ("dilation_h", "int"), ("dilation_w", "int"), ("pad_top", "int"), ("pad_left", "int"),
    ("groups", "int"), ("act", "act")]
PARAM_FIELDS["depthwise_conv2d_w8"] = PARAM_FIELDS["conv2d_w8"]
PARAM_FIELDS["dense_w8"] = [*_SCALED, ("m", "int"), ("n", "int"), ("k", "int"), ("act", "act")]
W8_HEADERS = ("include/hhbc_kernels_w8.h",)


def _ref_w8(op: str, params: str | None = None) -> KernelImpl:
    return KernelImpl(op, "ref", f"hhbc_{op}", "unary", (f"ref/{op}.c",),
                      params or f"hhbc_{op}_params", headers=W8_HEADERS)


REGISTRY.extend([
    _ref_w8("conv2d_w8"), _ref_w8("depthwise_conv2d_w8", "hhbc_conv2d_w8_params"), _ref_w8("dense_w8"),
])
