"""The op matrix: which op of each format reaches which kernel.

One row per computation a KernelGraph kernel (or a short chain of kernels) performs,
with the ONNX ops, TFLite builtins, TensorFlow ops and Caffe layers that lower to it.
The rows are data written here: that `Conv`, `CONV_2D`, `Conv2D` and `Convolution`
are the same computation is knowledge no frontend holds. Whether an op is supported
is not data: it comes from each frontend's live `SUPPORTED_OPS` (and TFLite's
`INT8_OPS`), so the rendered table cannot drift from the code.

The rule the matrix enforces (tests/frontends/test_op_matrix.py): where a format has
an op that an existing kernel computes, its frontend maps it. Every op a row names is
in its frontend's SUPPORTED_OPS, or is listed in PLANNED (work under way, shown as
"planned" in the table); every supported op appears in some row.

    python -m hhbc.frontends.op_matrix --markdown   # the kernel table, as README shows it
    python -m hhbc.frontends.op_matrix --write      # rewrite the tables in README.md and docs/op-matrix.md
    python -m hhbc.frontends.op_matrix --gaps       # planned ops a sibling format already reaches
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FORMATS = ("onnx", "tflite", "tensorflow", "caffe")
TITLES = {"onnx": "ONNX", "tflite": "TFLite", "tensorflow": "TensorFlow", "caffe": "Caffe"}


@dataclass(frozen=True)
class Row:
    kernels: tuple[str, ...]   # KernelGraph ops (kernel_table op names); () = no kernel at run time
    what: str                  # the computation, e.g. "add", "elu (composed)"
    onnx: tuple[str, ...] = ()
    tflite: tuple[str, ...] = ()
    tensorflow: tuple[str, ...] = ()
    caffe: tuple[str, ...] = ()
    planned_kernel: bool = False   # the kernel itself does not exist yet

    def ops(self, fmt: str) -> tuple[str, ...]:
        return getattr(self, fmt)


def _row(kernels: str, what: str, onnx: str = "", tflite: str = "", tf: str = "", caffe: str = "",
         planned_kernel: bool = False) -> Row:
    return Row(tuple(kernels.split()), what, tuple(onnx.split()), tuple(tflite.split()),
               tuple(tf.split()), tuple(caffe.split()), planned_kernel)


# A kernel row: the computation, then the ops of each format that lower to it (space-separated).
ROWS: tuple[Row, ...] = (
    # -- convolution, dense
    _row("conv2d", "convolution (groups, dilation; bias, BatchNorm folded)",
         "Conv", "CONV_2D", "Conv2D", "Convolution"),
    _row("depthwise_conv2d", "depthwise convolution",
         "Conv", "DEPTHWISE_CONV_2D", "DepthwiseConv2dNative", "Convolution"),
    _row("conv2d depthwise_conv2d", "dilated convolution written as space-to-batch, conv, batch-to-space",
         "", "SPACE_TO_BATCH_ND BATCH_TO_SPACE_ND", "SpaceToBatchND BatchToSpaceND"),
    _row("deconv2d", "transposed convolution",
         "ConvTranspose", "TRANSPOSE_CONV Convolution2DTransposeBias",
         "Conv2DBackpropInput DepthwiseConv2dNativeBackpropInput", "Deconvolution"),
    _row("dense", "fully connected (constant weights)",
         "Gemm MatMul", "FULLY_CONNECTED", "MatMul", "InnerProduct"),
    _row("matmul", "matrix product of two activations",
         "MatMul", "BATCH_MATMUL", "MatMul BatchMatMul BatchMatMulV2 BatchMatMulV3"),
    _row("binary", "bias add", "", "", "BiasAdd BiasAddV1", "Bias"),
    _row("conv2d binary", "batch norm (folded into the conv / dense before it, else multiply-add)",
         "BatchNormalization", "", "FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3", "BatchNorm Scale"),
    # -- elementwise binary
    _row("binary", "add", "Add Sum", "ADD ADD_N", "Add AddV2 AddN", "Eltwise"),
    _row("binary", "subtract", "Sub", "SUB", "Sub"),
    _row("binary", "multiply", "Mul", "MUL", "Mul", "Eltwise Scale"),
    _row("binary", "divide", "Div", "DIV", "RealDiv Div"),
    _row("binary", "maximum", "Max", "MAXIMUM", "Maximum", "Eltwise"),
    _row("binary", "minimum", "Min", "MINIMUM", "Minimum"),
    _row("binary", "power", "Pow", "POW", "Pow", "Power"),
    _row("binary", "mean of inputs", "Mean"),
    _row("binary", "squared difference (sub, mul)", "", "SQUARED_DIFFERENCE", "SquaredDifference"),
    _row("binary", "square (mul)", "", "SQUARE", "Square"),
    # -- elementwise unary
    _row("unary", "tanh", "Tanh", "TANH", "Tanh", "TanH"),
    _row("unary", "exp", "Exp", "EXP", "Exp", "Exp"),
    _row("unary", "log", "Log", "LOG", "Log", "Log"),
    _row("unary", "sqrt", "Sqrt", "SQRT", "Sqrt"),
    _row("unary", "rsqrt", "", "RSQRT", "Rsqrt"),
    _row("unary", "abs", "Abs", "ABS", "Abs", "AbsVal"),
    _row("unary", "neg", "Neg", "NEG", "Neg"),
    _row("unary", "erf", "Erf", "", "Erf"),
    _row("unary", "relu", "Relu", "RELU", "Relu", "ReLU"),
    _row("unary", "clip (relu6, relu-n1-to-1)", "Clip", "RELU6 RELU_N1_TO_1", "Relu6 ClipByValue", "Clip"),
    _row("unary", "leaky relu", "LeakyRelu", "LEAKY_RELU", "LeakyRelu", "ReLU"),
    _row("unary", "sigmoid", "Sigmoid", "LOGISTIC", "Sigmoid", "Sigmoid"),
    _row("unary", "hard swish", "HardSwish", "HARD_SWISH"),
    _row("unary binary", "hard sigmoid (multiply-add, clip)", "HardSigmoid"),
    _row("unary binary", "elu (composed)", "Elu", "ELU", "Elu", "ELU"),
    _row("unary binary", "selu (composed)", "Selu", "", "Selu"),
    _row("unary", "softplus", "Softplus", "", "Softplus", "BNLL"),
    _row("unary binary", "softsign (composed)", "Softsign", "", "Softsign"),
    _row("unary binary", "swish: x * sigmoid(beta * x) (composed)", "", "", "", "Swish"),
    _row("unary binary", "celu, shrink, mish, gelu (composed)", "Celu Shrink Mish Gelu", "GELU"),
    _row("where", "select with a constant condition", "Where", "SELECT SELECT_V2", "Select SelectV2"),
    _row("unary binary", "threshold: x > t ? 1 : 0, as relu(sign(x - t))", "", "", "", "Threshold"),
    _row("binary", "reciprocal (divide)", "Reciprocal", "", "Reciprocal"),
    _row("unary", "floor, ceil, round (half to even), sign", "Floor Ceil Round Sign", "FLOOR",
         "Floor Ceil Round Sign"),
    _row("prelu", "parametric relu (constant slope; TF: Keras' relu(x) - alpha * relu(-x) pattern)",
         "PRelu", "PRELU", "", "PReLU"),
    # -- pooling, reduction, normalization
    _row("pool2d", "max pooling", "MaxPool GlobalMaxPool", "MAX_POOL_2D", "MaxPool MaxPoolV2", "Pooling"),
    _row("pool2d", "average pooling", "AveragePool GlobalAveragePool", "AVERAGE_POOL_2D", "AvgPool", "Pooling"),
    _row("reduce", "mean", "ReduceMean", "MEAN", "Mean", "Reduction"),
    _row("reduce", "sum", "ReduceSum", "SUM", "Sum", "Reduction"),
    _row("reduce", "max", "ReduceMax", "REDUCE_MAX", "Max"),
    _row("reduce", "min", "ReduceMin", "REDUCE_MIN", "Min"),
    _row("softmax", "softmax", "Softmax", "SOFTMAX", "Softmax", "Softmax"),
    _row("softmax", "log softmax", "LogSoftmax", "LOG_SOFTMAX", "LogSoftmax"),
    _row("lrn", "local response normalization", "LRN", "LOCAL_RESPONSE_NORMALIZATION", "LRN", "LRN"),
    _row("reduce binary", "instance normalization (composed)", "InstanceNormalization"),
    _row("reduce unary binary", "L2 normalization (composed)", "", "L2_NORMALIZATION"),
    # -- data movement
    _row("concat", "concatenation", "Concat", "CONCATENATION", "ConcatV2 Concat", "Concat"),
    _row("concat", "stack", "", "PACK", "Pack"),
    _row("transpose", "tile, broadcast to a shape (a strided copy)", "Tile Expand", "TILE BROADCAST_TO",
         "Tile BroadcastTo", "Tile"),
    _row("transpose", "transpose", "Transpose", "TRANSPOSE", "Transpose", "Permute"),
    _row("transpose", "depth to space, space to depth",
         "DepthToSpace SpaceToDepth", "DEPTH_TO_SPACE SPACE_TO_DEPTH", "DepthToSpace SpaceToDepth"),
    _row("pad", "constant padding", "Pad", "PAD PADV2", "Pad PadV2"),
    _row("pad", "reflect / edge padding", "Pad", "MIRROR_PAD", "MirrorPad"),
    _row("gather", "symmetric mirror padding (one gather per padded axis)", "", "MIRROR_PAD", "MirrorPad"),
    _row("resize2d", "nearest resize", "Resize Upsample", "RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighbor"),
    _row("resize2d", "bilinear resize", "Resize Upsample", "RESIZE_BILINEAR", "ResizeBilinear"),
    _row("strided_slice", "slice (negative strides: a flipped copy first)", "Slice", "STRIDED_SLICE SLICE",
         "StridedSlice Slice", "Slice Crop"),
    _row("strided_slice", "split, unstack", "Split", "SPLIT SPLIT_V UNPACK", "Split SplitV Unpack", "Slice"),
    _row("gather", "gather", "Gather", "GATHER", "GatherV2"),
    _row("argreduce", "arg max / arg min (int32 / int64 indices)", "ArgMax ArgMin", "ARG_MAX ARG_MIN",
         "ArgMax ArgMin"),
    _row("argreduce gather", "arg max as a float index (a gather from [0, 1, ...]), or the maximum",
         "", "", "", "ArgMax"),
    # -- no computation at run time
    _row("", "view: reshape, squeeze, expand dims (a copy only at a model output)",
         "Reshape Flatten Squeeze Unsqueeze", "RESHAPE SQUEEZE EXPAND_DIMS", "Reshape Squeeze ExpandDims",
         "Reshape Flatten"),
    _row("", "pass-through", "Identity Dropout", "", "Identity IdentityN StopGradient Snapshot CheckNumerics "
         "PreventGradient PlaceholderWithDefault", "Input Split Dropout"),
    _row("", "constants and shape arithmetic, evaluated at import",
         "Constant", "", "Const Shape Size Rank Cast Fill Range ZerosLike OnesLike FloorDiv FloorMod Prod"),
    _row("quantize_i8 dequantize_i8 requantize_i8", "int8 quantization boundaries",
         "QuantizeLinear DequantizeLinear", "QUANTIZE DEQUANTIZE"),
)

# Ops the matrix lists that their frontend does not map in float32 yet: work the issue asks
# for (issue 11, sections 2-4). Each is shown as "planned" (or "i8 only" where fully-int8
# models already reach it); once its frontend maps it, drop it here (the test insists).
PLANNED: dict[str, frozenset[str]] = {
    "onnx": frozenset(),
    "tflite": frozenset(),
    "tensorflow": frozenset(),
    "caffe": frozenset(),
}

# ONNX ops whose QDQ-wrapped form runs in int8 kernels (optimize/quantized.py groups them;
# tests/frontends/test_onnx_qdq.py checks them against onnxruntime).
ONNX_INT8: frozenset[str] = frozenset({
    "Conv", "Gemm", "Add", "AveragePool", "GlobalAveragePool", "MaxPool", "Concat", "Sigmoid",
    "Tanh", "Relu", "Clip", "Reshape", "Flatten", "QuantizeLinear", "DequantizeLinear",
})

_MODULES = {"onnx": "hhbc.frontends.onnx", "tflite": "hhbc.frontends.tflite",
            "tensorflow": "hhbc.frontends.tensorflow", "caffe": "hhbc.frontends.caffe"}


@lru_cache(maxsize=None)
def supported(fmt: str) -> frozenset[str]:
    """The live SUPPORTED_OPS of one frontend (with TFLite's supported custom ops)."""
    module = importlib.import_module(_MODULES[fmt])
    return frozenset(module.SUPPORTED_OPS) | frozenset(getattr(module, "SUPPORTED_CUSTOM_OPS", ()))


@lru_cache(maxsize=None)
def int8_ops(fmt: str) -> frozenset[str]:
    """The ops a format compiles to int8 kernels (TFLite: the live INT8_OPS; ONNX: ONNX_INT8)."""
    if fmt == "tflite":
        from hhbc.frontends.tflite_int8 import INT8_OPS
        return frozenset(INT8_OPS)
    return ONNX_INT8 if fmt == "onnx" else frozenset()


def listed(fmt: str) -> set[str]:
    """Every op of a format that some row names."""
    return {op for row in ROWS for op in row.ops(fmt)}


def reachable(fmt: str) -> frozenset[str]:
    """Every op a format's frontend accepts, float or int8."""
    return supported(fmt) | int8_ops(fmt)


def status(fmt: str, op: str) -> str:
    """'float32+int8', 'float32', 'int8', 'planned', or 'missing' (none of these: a matrix error)."""
    f32, i8 = op in supported(fmt), op in int8_ops(fmt)
    if f32 or i8:
        return "float32+int8" if f32 and i8 else "float32" if f32 else "int8"
    return "planned" if op in PLANNED[fmt] else "missing"


_REACHED = ("float32+int8", "float32", "int8")


def gaps() -> list[tuple[str, str, str]]:
    """(format, op, row) for every op a row names that its frontend does not map yet,
    in rows where a sibling format's op is supported."""
    out = []
    for row in ROWS:
        reached = any(status(f, op) in _REACHED for f in FORMATS for op in row.ops(f))
        for fmt in FORMATS:
            for op in row.ops(fmt):
                if status(fmt, op) not in _REACHED and reached:
                    out.append((fmt, op, row.what))
    return out


# ---------------------------------------------------------------- markdown
_MARK = {"float32+int8": " (i8)", "float32": "", "int8": " (i8 only)", "planned": " (planned)",
         "missing": " (MISSING)"}


def _cell(fmt: str, ops: tuple[str, ...]) -> str:
    return ", ".join(f"{op}{_MARK[status(fmt, op)]}" for op in ops) or "–"


def markdown() -> str:
    """The kernel table (README's "Op coverage" and docs/op-matrix.md)."""
    lines = ["| kernel | computes | " + " | ".join(TITLES[f] for f in FORMATS) + " |",
             "|---|---|" + "---|" * len(FORMATS)]
    for row in ROWS:
        kernel = ", ".join(f"`{k}`" for k in row.kernels) or "none"
        if row.planned_kernel:
            kernel += " (planned)"
        lines.append(f"| {kernel} | {row.what} | " + " | ".join(_cell(f, row.ops(f)) for f in FORMATS) + " |")
    return "\n".join(lines) + "\n"


BEGIN = ("<!-- op-matrix:begin (generated by `python -m hhbc.frontends.op_matrix --write`; "
         "checked by tests/frontends/test_op_matrix.py) -->")
END = "<!-- op-matrix:end -->"
ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "op-matrix.md")


def committed(path: Path) -> str | None:
    """The table between the markers of a document, or None without markers."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(path: Path) -> bool:
    """Replace the table between the markers; True if the file changed."""
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = f"{head}{BEGIN}\n{markdown()}{END}{tail}"
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hhbc.frontends.op_matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the kernel table")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in README.md and docs/op-matrix.md")
    parser.add_argument("--gaps", action="store_true",
                        help="list the ops a sibling format reaches but this one does not")
    args = parser.parse_args(argv)
    if args.write:
        for path in DOCUMENTS:
            print(f"{path.relative_to(ROOT)}: {'updated' if write(path) else 'up to date'}")
    if args.gaps:
        for fmt, op, what in gaps():
            print(f"{TITLES[fmt]:<10} {op:<28} {what}")
    if args.markdown or not (args.write or args.gaps):
        sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
