"""Kernel table rows of the c906 variant: XuanTie C906 kernels (kernels/c906/, RVV 0.7.1 through .insn lines, VLEN 128): target c906.

Rows within a variant are tried in order: special cases (1x1, 3x3) before general ones.
"""

from __future__ import annotations

from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.packing import conv_gkkio, dense_kn, is_depthwise_multiplier1, is_pointwise  # noqa: F401
from hhbc.codegen.packing_c906 import conv_i8_c906, depthwise_i8_c906

F32 = ("float32", "float32")
F16 = ("float16", "float16")
I8 = ("int8", "int8")
I8_C906 = ("include/hhbc_kernels_i8.h", "include/hhbc_fixedpoint.h", "c906/hhbc_rvv071.h", "c906/hhbc_c906_i8.h")

ROWS: list[KernelImpl] = [
    # convolution, dense
    # 1x1 stride 1 unpadded one group: a GEMM over the pixels, weights [IC][OC]
    *[KernelImpl("conv2d", "c906", f"hhbc_conv2d_1x1_{t}_c906", "unary", ("c906/conv2d_1x1.c",),
                 "hhbc_conv2d_params", pack=conv_gkkio,
                 # the GEMM takes its pixel count from the input: also refuse 1x1 convs whose
                 # bottom/right padding makes the output larger than the input
                 supports=lambda n: (is_pointwise(n)
                                     and tuple(n.output.shape[:-1]) == tuple(n.inputs[0].shape[:-1])),
                 headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h", "c906/hhbc_c906_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    # any kernel size, stride, padding, dilation and groups; weights [G][KH][KW][ICg][OCg]
    *[KernelImpl("conv2d", "c906", f"hhbc_conv2d_{t}_c906", "unary", ("c906/conv2d.c",),
                 "hhbc_conv2d_params", supports=lambda n: True, pack=conv_gkkio,
                 headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h", "c906/hhbc_c906_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    # multiplier 1, any kernel, stride, padding, dilation; weights [KH][KW][C] as they are
    *[KernelImpl("depthwise_conv2d", "c906", f"hhbc_depthwise_conv2d_{t}_c906", "unary",
                 ("c906/depthwise_conv2d.c",), "hhbc_conv2d_params", supports=is_depthwise_multiplier1,
                 headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h", "c906/hhbc_c906_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],
    # weights [K][N]
    *[KernelImpl("dense", "c906", f"hhbc_dense_{t}_c906", "unary", ("c906/dense.c",),
                 "hhbc_dense_params", pack=dense_kn,
                 headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h", "c906/hhbc_c906_conv.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))],

    # pooling, elementwise, data movement
    *[KernelImpl(op, "c906", f"hhbc_{op}_{t}_c906", sig, (f"c906/{op}.c",), params, supports=ok,
                 headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h"), dtypes=dt)
      for t, dt in (("f32", F32), ("f16", F16))
      for op, sig, params, ok in (
          # any kernel, stride, padding, dilation, count_include_pad; global pools too
          ("pool2d", "unary", "hhbc_pool2d_params", lambda n: True),
          ("binary", "binary", "hhbc_binary_params", lambda n: n.params["op"] != "pow"),
          ("unary", "unary", "hhbc_unary_params",
           lambda n: n.params["op"] in ("act", "tanh", "exp", "sqrt", "rsqrt", "abs", "neg")),
          ("softmax", "unary", "hhbc_softmax_params", lambda n: not (n.params["log"] and n.params["inner"] > 1)),
          ("prelu", "unary", "hhbc_prelu_params", lambda n: True),
          # the reduced axes (extent > 1) form one block: [A][R][C] -> [A][C]
          ("reduce", "unary", "hhbc_reduce_params",
           lambda n: "k" not in "".join("r" if s == 0 else "k" for d, s in
                                        zip(n.params["in_dim"], n.params["out_stride"]) if d > 1).strip("k")),
          ("pad", "unary", "hhbc_pad_params", lambda n: n.params["mode"] == "constant"),
          ("concat", "list", "hhbc_concat_params", lambda n: True),
          ("copy", "plain", None, lambda n: True),
      )],
    # float16 scheme: the casts at the model's IO
    KernelImpl("cast", "c906", "hhbc_cast_f32_f16_c906", "unary", ("c906/cast.c",), "hhbc_cast_params",
               headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h"), dtypes=("float32", "float16")),
    KernelImpl("cast", "c906", "hhbc_cast_f16_f32_c906", "unary", ("c906/cast.c",), "hhbc_cast_params",
               headers=("c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h"), dtypes=("float16", "float32")),

    # float16_w_int8 scheme: float16 activations, int8 weights widened to half in a stack slab per
    # strip (kernels/c906/conv2d_f16w8.c); other conv shapes and depthwise multipliers > 1: ref
    *[KernelImpl(op, "c906", fn, "unary", ("c906/conv2d_f16w8.c",), params, supports=ok, pack=pack,
                 headers=("include/hhbc_kernels_w8.h", "c906/hhbc_rvv071.h", "c906/hhbc_c906_eltwise.h",
                          "c906/hhbc_c906_conv.h"), dtypes=F16)
      for op, fn, params, ok, pack in (
          ("conv2d_w8", "hhbc_conv2d_1x1_f16w8_c906", "hhbc_conv2d_w8_params",
           lambda n: is_pointwise(n) and tuple(n.output.shape[:-1]) == tuple(n.inputs[0].shape[:-1]), conv_gkkio),
          # one group, the [KH][KW][IC] weights of a strip in the 8 KiB slab
          ("conv2d_w8", "hhbc_conv2d_f16w8_c906", "hhbc_conv2d_w8_params",
           lambda n: n.params["groups"] == 1
           and n.params["kernel_h"] * n.params["kernel_w"] * n.inputs[0].shape[-1] <= 128, conv_gkkio),
          ("depthwise_conv2d_w8", "hhbc_depthwise_conv2d_f16w8_c906", "hhbc_conv2d_w8_params",
           lambda n: is_depthwise_multiplier1(n) and n.params["kernel_h"] * n.params["kernel_w"] <= 128, None),
          ("dense_w8", "hhbc_dense_f16w8_c906", "hhbc_dense_w8_params", lambda n: True, dense_kn))],

    # int8 (TFLite arithmetic, bit-exact with the reference kernels; kernels/c906/*_i8.c,
    # constant layouts in packing_c906.py). The ONNX float flavours stay on the reference.
    KernelImpl("conv2d_i8", "c906", "hhbc_conv2d_i8_c906", "unary", ("c906/conv2d_i8.c",), "hhbc_conv2d_i8_params",
               supports=lambda n: "multiplier" in n.consts, pack=conv_i8_c906, headers=I8_C906, dtypes=I8),
    KernelImpl("depthwise_conv2d_i8", "c906", "hhbc_depthwise_conv2d_i8_c906", "unary",
               ("c906/depthwise_conv2d_i8.c",), "hhbc_conv2d_i8_params",
               supports=lambda n: "multiplier" in n.consts and is_depthwise_multiplier1(n),
               pack=depthwise_i8_c906, headers=I8_C906, dtypes=I8),
    KernelImpl("dense_i8", "c906", "hhbc_dense_i8_c906", "unary", ("c906/dense_i8.c",), "hhbc_dense_i8_params",
               pack=dense_kn, headers=I8_C906, dtypes=I8),
    KernelImpl("pool2d_i8", "c906", "hhbc_pool2d_i8_c906", "unary", ("c906/pool2d_i8.c",), "hhbc_pool2d_i8_params",
               supports=lambda n: n.params["kind"] == "max" or n.params["rounding"] == "tflite",
               headers=I8_C906, dtypes=I8),
    KernelImpl("add_i8", "c906", "hhbc_add_i8_c906", "binary", ("c906/add_i8.c",), "hhbc_add_i8_params",
               supports=lambda n: (not n.params["onnx"] and n.params["shape"]["a_stride"][-1] in (0, 1)
                                   and n.params["shape"]["b_stride"][-1] in (0, 1)),
               headers=I8_C906, dtypes=I8),
]
