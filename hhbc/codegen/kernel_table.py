"""The kernel table: every C kernel hhbc can emit, one row each, as data.

A row says which KernelGraph op a C function implements, for which ISA variant (a folder
under kernels/), which activation dtypes it reads and writes, which nodes it takes
(`supports`), how it wants its constants laid out (`pack`), and which sources and headers
it needs. A new ISA is a folder under kernels/ plus its rows (table_<variant>.py);
`hhbc.codegen.kernels.select_kernel` walks the target's variant chain through this table.
"""

from __future__ import annotations

from dataclasses import replace

from hhbc.codegen import table_c906, table_c908, table_rvv
from hhbc.codegen.kernel_impl import KernelImpl

F32 = ("float32", "float32")
I8 = ("int8", "int8")
I8_HEADERS = ("include/hhbc_kernels_i8.h", "include/hhbc_fixedpoint.h")
W8_HEADERS = ("include/hhbc_kernels_w8.h",)


# int8 and weight-only instances of a float loop nest: the op -> the body they include
SHARED_BODY = {"conv2d_i8": "ref/conv2d_body.h", "conv2d_w8": "ref/conv2d_body.h"}


def _rows(variant: str, dtypes: tuple[str, str], headers: tuple[str, ...],
          entries: list[tuple[str, str, str, str | None, str]]) -> list[KernelImpl]:
    """(op, function, source, params struct, signature) entries of one variant and dtype."""
    return [KernelImpl(op, variant, function, signature, (source,), params,
                       headers=(*headers, *([SHARED_BODY[op]] if op in SHARED_BODY else [])), dtypes=dtypes)
            for op, function, source, params, signature in entries]


# ---- float32 reference kernels (kernels/ref, portable C99) ------------------------------
REF_F32 = _rows("ref", F32, (), [
    # op                 function                    source                   params struct               signature
    ("conv2d",           "hhbc_conv2d_f32",           "ref/conv2d.c",           "hhbc_conv2d_params",        "unary"),
    ("depthwise_conv2d", "hhbc_depthwise_conv2d_f32", "ref/depthwise_conv2d.c", "hhbc_conv2d_params",        "unary"),
    ("dense",            "hhbc_dense_f32",            "ref/dense.c",            "hhbc_dense_params",         "unary"),
    ("matmul",           "hhbc_matmul_f32",           "ref/matmul.c",           "hhbc_matmul_params",        "binary"),
    ("binary",           "hhbc_binary_f32",           "ref/binary.c",           "hhbc_binary_params",        "binary"),
    ("unary",            "hhbc_unary_f32",            "ref/unary.c",            "hhbc_unary_params",         "unary"),
    ("prelu",            "hhbc_prelu_f32",            "ref/prelu.c",            "hhbc_prelu_params",         "unary"),
    ("pool2d",           "hhbc_pool2d_f32",           "ref/pool2d.c",           "hhbc_pool2d_params",        "unary"),
    ("reduce",           "hhbc_reduce_f32",           "ref/reduce.c",           "hhbc_reduce_params",        "unary"),
    ("concat",           "hhbc_concat_f32",           "ref/concat.c",           "hhbc_concat_params",        "list"),
    ("transpose",        "hhbc_transpose_f32",        "ref/transpose.c",        "hhbc_transpose_params",     "unary"),
    ("pad",              "hhbc_pad_f32",              "ref/pad.c",              "hhbc_pad_params",           "unary"),
    ("softmax",          "hhbc_softmax_f32",          "ref/softmax.c",          "hhbc_softmax_params",       "unary"),
    ("resize2d",         "hhbc_resize2d_f32",         "ref/resize2d.c",         "hhbc_resize2d_params",      "unary"),
    ("copy",             "hhbc_copy_f32",             "ref/copy.c",             None,                        "plain"),
    ("deconv2d",         "hhbc_deconv2d_f32",         "ref/deconv2d.c",         "hhbc_deconv2d_params",      "unary"),
    ("strided_slice",    "hhbc_strided_slice_f32",    "ref/strided_slice.c",    "hhbc_strided_slice_params", "unary"),
    ("lrn",              "hhbc_lrn_f32",              "ref/lrn.c",              "hhbc_lrn_params",           "unary"),
    ("gather",           "hhbc_gather_f32",           "ref/gather.c",           "hhbc_gather_params",        "binary"),
    ("where",            "hhbc_where_f32",            "ref/where.c",            "hhbc_where_params",         "binary"),
])

# Every float reference kernel is one type-generic loop nest, ref/<op>_body.h, instantiated
# for float32 by ref/<op>.c and for float16 by ref/<op>_f16.c; a row lists that body among its headers.
REF_F32 = [replace(r, headers=(f"{r.sources[0][:-2]}_body.h",)) for r in REF_F32]

# ---- float16 reference kernels (_Float16 activations and conv/dense weights; bias, slopes,
# resize weights and act params float32; computed in float32, rounded once per output) ---
F16 = ("float16", "float16")
REF_F16: list[KernelImpl] = [
    replace(r, function=f"{r.function[:-len('_f32')]}_f16", sources=(f"{r.sources[0][:-2]}_f16.c",), dtypes=F16)
    for r in REF_F32
] + [
    KernelImpl("cast", "ref", "hhbc_cast_f32_f16", "unary", ("ref/cast.c",), "hhbc_cast_params",
               dtypes=("float32", "float16")),
    KernelImpl("cast", "ref", "hhbc_cast_f16_f32", "unary", ("ref/cast.c",), "hhbc_cast_params",
               dtypes=("float16", "float32")),
]

# ---- int8 reference kernels (TFLite-exact; ONNX rounding flavour selected by params) -----
REF_I8 = _rows("ref", I8, I8_HEADERS, [
    ("conv2d_i8",           "hhbc_conv2d_i8",           "ref/conv2d_i8.c",           "hhbc_conv2d_i8_params",      "unary"),
    ("depthwise_conv2d_i8", "hhbc_depthwise_conv2d_i8", "ref/depthwise_conv2d_i8.c", "hhbc_conv2d_i8_params",      "unary"),
    ("dense_i8",            "hhbc_dense_i8",            "ref/dense_i8.c",            "hhbc_dense_i8_params",       "unary"),
    ("pool2d_i8",           "hhbc_pool2d_i8",           "ref/pool2d_i8.c",           "hhbc_pool2d_i8_params",      "unary"),
    ("softmax_i8",          "hhbc_softmax_i8",          "ref/softmax_i8.c",          "hhbc_softmax_i8_params",     "unary"),
    ("add_i8",              "hhbc_add_i8",              "ref/add_i8.c",              "hhbc_add_i8_params",         "binary"),
    ("mul_i8",              "hhbc_mul_i8",              "ref/mul_i8.c",              "hhbc_mul_i8_params",         "binary"),
    ("mean_i8",             "hhbc_mean_i8",             "ref/mean_i8.c",             "hhbc_mean_i8_params",        "unary"),
    ("lut_i8",              "hhbc_lut_i8",              "ref/lut_i8.c",              "hhbc_lut_i8_params",         "unary"),
    ("prelu_i8",            "hhbc_prelu_i8",            "ref/prelu_i8.c",            "hhbc_prelu_i8_params",       "unary"),
    ("hardswish_i8",        "hhbc_hardswish_i8",        "ref/hardswish_i8.c",        "hhbc_hardswish_i8_params",   "unary"),
    ("requantize_i8",       "hhbc_requantize_i8",       "ref/requantize_i8.c",       "hhbc_requantize_i8_params",  "unary"),
    ("concat_i8",           "hhbc_concat_i8",           "ref/concat_i8.c",           "hhbc_concat_i8_params",      "list"),
    ("pad_i8",              "hhbc_pad_i8",              "ref/pad_i8.c",              "hhbc_pad_i8_params",         "unary"),
    # H2: TFLite SQUARED_DIFFERENCE, DIV, L2_NORMALIZATION
    ("squared_difference_i8", "hhbc_squared_difference_i8", "ref/squared_difference_i8.c",
     "hhbc_squared_difference_i8_params", "binary"),
    ("div_i8",              "hhbc_div_i8",              "ref/div_i8.c",              "hhbc_div_i8_params",         "binary"),
    ("l2norm_i8",           "hhbc_l2norm_i8",           "ref/l2norm_i8.c",           "hhbc_l2norm_i8_params",      "unary"),
    ("sum_i8",              "hhbc_sum_i8",              "ref/sum_i8.c",              "hhbc_sum_i8_params",         "unary"),
    ("deconv2d_i8",         "hhbc_deconv2d_i8",         "ref/deconv2d_i8.c",         "hhbc_conv2d_i8_params",      "unary"),
    ("resize_bilinear_i8",  "hhbc_resize_bilinear_i8",  "ref/resize_bilinear_i8.c",  "hhbc_resize_bilinear_i8_params", "unary"),
    # a model output that is a view of another tensor is copied out
    ("copy",                "hhbc_copy_i8",             "ref/copy_i8.c",             None,                         "plain"),
]) + [
    # data movement and selection on raw int8 (TFLite keeps the input's scale and zero point):
    # the float op's params struct and type-generic loop nest, ref/<op>_body.h, for int8_t
    KernelImpl(op, "ref", f"hhbc_{op}_i8", signature, (f"ref/{op}_i8.c",), f"hhbc_{op}_params",
               supports=supports, headers=(*I8_HEADERS, f"ref/{op}_body.h"), dtypes=I8)
    for op, signature, supports in [
        ("strided_slice", "unary", lambda n: True),
        ("transpose", "unary", lambda n: True),
        ("gather", "binary", lambda n: True),   # indices: the second input, int32 or int64
        ("resize2d", "unary", lambda n: n.params.get("mode") == "nearest"),
        ("binary", "binary", lambda n: n.params.get("op") in ("max", "min")
         and n.params.get("act", {}).get("kind", "none") == "none"),
        ("reduce", "unary", lambda n: n.params.get("op") in ("max", "min")),
    ]
] + [
    KernelImpl("quantize_i8", "ref", "hhbc_quantize_i8", "unary", ("ref/quantize_i8.c",), "hhbc_affine_i8_params",
               headers=I8_HEADERS, dtypes=("float32", "int8")),
    KernelImpl("dequantize_i8", "ref", "hhbc_dequantize_i8", "unary", ("ref/dequantize_i8.c",),
               "hhbc_affine_i8_params", headers=I8_HEADERS, dtypes=("int8", "float32")),
] + [
    # ArgMax/ArgMin: float32, float16 or raw int8 values in; int32 or int64 indices out
    KernelImpl("argreduce", "ref", f"hhbc_argreduce_{t}", "unary", (f"ref/{src}",), "hhbc_argreduce_params",
               headers=(*headers, "ref/argreduce_body.h"), dtypes=(din, dout))
    for t, src, din, headers in (("f32", "argreduce.c", "float32", ()), ("f16", "argreduce_f16.c", "float16", ()),
                                 ("i8", "argreduce_i8.c", "int8", I8_HEADERS))
    for dout in ("int32", "int64")
]

# ---- weight-only int8 kernels: float activations, int8 weights + per-channel scales ------
REF_W8 = _rows("ref", F32, W8_HEADERS, [
    ("conv2d_w8",           "hhbc_conv2d_w8",           "ref/conv2d_w8.c",           "hhbc_conv2d_w8_params", "unary"),
    ("depthwise_conv2d_w8", "hhbc_depthwise_conv2d_w8", "ref/depthwise_conv2d_w8.c", "hhbc_conv2d_w8_params", "unary"),
    ("dense_w8",            "hhbc_dense_w8",            "ref/dense_w8.c",            "hhbc_dense_w8_params",  "unary"),
])
# the float16_w_int8 scheme (quantize/float16.py): the same ops on float16 activations
REF_F16W8 = [replace(r, function=f"{r.function[:-len('_w8')]}_f16w8",
                     sources=(f"{r.sources[0][:-len('_w8.c')]}_f16w8.c",), dtypes=F16)
             for r in REF_W8]

TABLE: tuple[KernelImpl, ...] = (*table_c908.ROWS, *table_rvv.ROWS, *table_c906.ROWS, *REF_F32, *REF_F16, *REF_I8, *REF_W8,
                                  *REF_F16W8)

# Weights with a zero point (the int8_asym scheme: a "weight_zp" constant on the node) run the
# reference kernels only: the vector int8 conv, depthwise and dense kernels assume symmetric weights.
WEIGHT_ZP_OPS = frozenset({"conv2d_i8", "depthwise_conv2d_i8", "dense_i8"})


def _symmetric_weights_only(row: KernelImpl) -> KernelImpl:
    if not row.vector or row.op not in WEIGHT_ZP_OPS:
        return row
    takes = row.supports
    return replace(row, supports=lambda n: "weight_zp" not in n.consts and takes(n))


TABLE = tuple(_symmetric_weights_only(r) for r in TABLE)
