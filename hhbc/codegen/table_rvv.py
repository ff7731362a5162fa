"""Kernel table rows of the rvv variant: RVV 1.0 kernels (kernels/rvv/, C intrinsics, VLEN-agnostic): targets c908 and rvv.

Rows within a variant are tried in order: special cases (1x1, 3x3) before general ones.
"""

from __future__ import annotations

from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.packing import always, conv_gkkio, dense_kn, is_depthwise_multiplier1, is_pointwise  # noqa: F401
from hhbc.codegen.packing_i8 import (foldable_i8, is_add_i8_rvv, is_conv_i8_rvv, is_depthwise_i8_rvv,
                                     is_pool_i8_rvv, pack_conv_i8_kkio, pack_dense_i8_kn, pack_depthwise_i8)

F32 = ("float32", "float32")
F16 = ("float16", "float16")
I8 = ("int8", "int8")
I8_HEADERS = ("include/hhbc_kernels_i8.h", "include/hhbc_fixedpoint.h", "rvv/hhbc_rvv_i8.h")

ROWS: list[KernelImpl] = [
    # convolution, dense
    *[KernelImpl("conv2d", "rvv", f"hhbc_conv2d_1x1_{t}_rvv", "unary", ("rvv/conv2d_1x1.c",),
                 "hhbc_conv2d_params", supports=is_pointwise, pack=conv_gkkio,
                 headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    # any kernel size, stride, padding, dilation and groups
    *[KernelImpl("conv2d", "rvv", f"hhbc_conv2d_{t}_rvv", "unary", ("rvv/conv2d.c",),
                 "hhbc_conv2d_params", supports=always, pack=conv_gkkio,
                 headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    # multiplier 1; any kernel size, stride, padding, dilation; weights as they are [KH][KW][C]
    *[KernelImpl("depthwise_conv2d", "rvv", f"hhbc_depthwise_conv2d_{t}_rvv", "unary",
                 ("rvv/depthwise_conv2d.c",), "hhbc_conv2d_params", supports=is_depthwise_multiplier1,
                 headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    *[KernelImpl("dense", "rvv", f"hhbc_dense_{t}_rvv", "unary", ("rvv/dense.c",), "hhbc_dense_params",
                 supports=always, pack=dense_kn, headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],

    # pooling, elementwise, data movement
    *[KernelImpl(op, "rvv", f"hhbc_{op}_{t}_rvv", sig, (f"rvv/{op}.c",), params, supports=ok,
                 headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_math.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))
      for op, sig, params, ok in (
          # any kernel, stride, padding, dilation, count_include_pad; global pools too
          ("pool2d", "unary", "hhbc_pool2d_params", always),
          ("binary", "binary", "hhbc_binary_params", lambda n: n.params["op"] != "pow"),
          ("unary", "unary", "hhbc_unary_params",
           lambda n: n.params["op"] in ("act", "tanh", "exp", "sqrt", "rsqrt", "abs", "neg")),
          ("softmax", "unary", "hhbc_softmax_params", lambda n: not (n.params["log"] and n.params["inner"] > 1)),
          ("prelu", "unary", "hhbc_prelu_params", always),
          # the reduced axes (extent > 1) form one block: [A][R][C] -> [A][C]
          ("reduce", "unary", "hhbc_reduce_params",
           lambda n: "k" not in "".join("r" if s == 0 else "k" for d, s in
                                        zip(n.params["in_dim"], n.params["out_stride"]) if d > 1).strip("k")),
          ("pad", "unary", "hhbc_pad_params", lambda n: n.params["mode"] == "constant"),
          ("concat", "list", "hhbc_concat_params", always),
          # innermost output rows of >= 4 elements (NHWC <-> NCHW); shorter rows: ref
          ("transpose", "unary", "hhbc_transpose_params", lambda n: n.params["out_dim"][-1:] >= [4]),
          ("copy", "plain", None, always),
      )],
    # float16 scheme: the casts at the model's IO
    KernelImpl("cast", "rvv", "hhbc_cast_f32_f16_rvv", "unary", ("rvv/cast.c",), "hhbc_cast_params",
               headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_math.h"), dtypes=("float32", "float16")),
    KernelImpl("cast", "rvv", "hhbc_cast_f16_f32_rvv", "unary", ("rvv/cast.c",), "hhbc_cast_params",
               headers=("rvv/hhbc_rvv.h", "rvv/hhbc_rvv_math.h"), dtypes=("float16", "float32")),

    # float16_w_int8 scheme: float16 activations, int8 weights widened to half in a stack slab per
    # strip (kernels/rvv/conv2d_f16w8.c); other conv shapes and depthwise multipliers > 1: ref
    *[KernelImpl(op, "rvv", fn, "unary", ("rvv/conv2d_f16w8.c",), params, supports=ok, pack=pack,
                 headers=("include/hhbc_kernels_w8.h", "rvv/hhbc_rvv.h", "rvv/hhbc_rvv_conv.h"), dtypes=F16)
      for op, fn, params, ok, pack in (
          ("conv2d_w8", "hhbc_conv2d_1x1_f16w8_rvv", "hhbc_conv2d_w8_params", is_pointwise, conv_gkkio),
          # one group, the [KH][KW][IC] weights of a strip in the 8 KiB slab
          ("conv2d_w8", "hhbc_conv2d_f16w8_rvv", "hhbc_conv2d_w8_params",
           lambda n: n.params["groups"] == 1
           and n.params["kernel_h"] * n.params["kernel_w"] * n.inputs[0].shape[-1] <= 512, conv_gkkio),
          ("depthwise_conv2d_w8", "hhbc_depthwise_conv2d_f16w8_rvv", "hhbc_conv2d_w8_params",
           lambda n: is_depthwise_multiplier1(n) and n.params["kernel_h"] * n.params["kernel_w"] <= 512, None),
          ("dense_w8", "hhbc_dense_f16w8_rvv", "hhbc_dense_w8_params", always, dense_kn))],

    # int8 (TFLite / ONNX exact; kernels/rvv/*_i8.c, packers in packing_i8.py: zero point folded into the bias)
    KernelImpl("conv2d_i8", "rvv", "hhbc_conv2d_i8_rvv", "unary", ("rvv/conv2d_i8.c",), "hhbc_conv2d_i8_params",
               supports=is_conv_i8_rvv, pack=pack_conv_i8_kkio, headers=I8_HEADERS, dtypes=I8),
    KernelImpl("depthwise_conv2d_i8", "rvv", "hhbc_depthwise_conv2d_i8_rvv", "unary", ("rvv/depthwise_conv2d_i8.c",),
               "hhbc_conv2d_i8_params", supports=is_depthwise_i8_rvv, pack=pack_depthwise_i8,
               headers=I8_HEADERS, dtypes=I8),
    KernelImpl("dense_i8", "rvv", "hhbc_dense_i8_rvv", "unary", ("rvv/conv2d_i8.c",), "hhbc_dense_i8_params",
               supports=foldable_i8, pack=pack_dense_i8_kn, headers=I8_HEADERS, dtypes=I8),
    KernelImpl("pool2d_i8", "rvv", "hhbc_pool2d_i8_rvv", "unary", ("rvv/pool2d_i8.c",), "hhbc_pool2d_i8_params",
               supports=is_pool_i8_rvv, headers=I8_HEADERS, dtypes=I8),
    # MEAN, SOFTMAX (TFLite only: ref has no ONNX flavour), CONCATENATION (copies or requantized), PAD
    *[KernelImpl(op, "rvv", f"hhbc_{op}_rvv", sig, (f"rvv/{op}.c",), f"hhbc_{op}_params", headers=I8_HEADERS,
                 dtypes=I8)
      for op, sig in (("mean_i8", "unary"), ("softmax_i8", "unary"), ("concat_i8", "list"), ("pad_i8", "unary"))],
    KernelImpl("add_i8", "rvv", "hhbc_add_i8_rvv", "binary", ("rvv/add_i8.c",), "hhbc_add_i8_params",
               supports=is_add_i8_rvv, headers=I8_HEADERS, dtypes=I8),
    # MUL (TFLite only: no ONNX flavour in ref): operands with innermost stride 0 or 1
    KernelImpl("mul_i8", "rvv", "hhbc_mul_i8_rvv", "binary", ("rvv/mul_i8.c",), "hhbc_mul_i8_params",
               supports=lambda n: all(int(n.params["shape"][k][int(n.params["shape"]["ndim"]) - 1]) in (0, 1)
                                      for k in ("a_stride", "b_stride")),
               headers=I8_HEADERS, dtypes=I8),
    # requantize, quantize, dequantize: both flavours (TFLite and ONNX)
    KernelImpl("requantize_i8", "rvv", "hhbc_requantize_i8_rvv", "unary", ("rvv/requantize_i8.c",),
               "hhbc_requantize_i8_params", headers=I8_HEADERS, dtypes=I8),
    KernelImpl("quantize_i8", "rvv", "hhbc_quantize_i8_rvv", "unary", ("rvv/quantize_i8.c",), "hhbc_affine_i8_params",
               headers=I8_HEADERS, dtypes=("float32", "int8")),
    KernelImpl("dequantize_i8", "rvv", "hhbc_dequantize_i8_rvv", "unary", ("rvv/quantize_i8.c",),
               "hhbc_affine_i8_params", headers=I8_HEADERS, dtypes=("int8", "float32")),
]
