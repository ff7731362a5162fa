"""The table of op-level differential cases: small ONNX models, one feature each.

Every case is a tiny graph built with onnx.helper plus seeded random inputs.
tests/ops/test_onnx_ops.py compiles each with hhbc, runs it on a target and
compares with onnxruntime.

To add a case, append a `case(...)` call to the section of its op; `case`
takes the nodes, the graph inputs (name -> shape), the constant initializers
(name -> array) and the opset. Inputs are standard normal unless
`positive=True` (Log, Sqrt, Pow bases, Div denominators).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper

F32 = np.float32


@dataclass
class Case:
    id: str
    nodes: list
    inputs: dict[str, tuple[int, ...]]
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    opset: int = 13
    outputs: tuple[str, ...] = ("y",)
    positive: bool = False
    ops: frozenset = frozenset()    # the ONNX op types the case exercises
    values: dict = field(default_factory=dict)   # input name -> fixed array (else random)

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, self.id,
            [helper.make_tensor_value_info(n, _ONNX_TYPES[self.input_dtype(n)], list(s))
             for n, s in self.inputs.items()],
            [helper.make_empty_tensor_value_info(n) for n in self.outputs],
            [_initializer(n, a) for n, a in self.inits.items()],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="hhbc-tests")
        model.ir_version = 7 if self.opset <= 12 else 8
        # Output types come from ONNX shape inference, which also validates the graph.
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        onnx.checker.check_model(model, full_check=True)
        return model

    def input_dtype(self, name: str) -> np.dtype:
        """float32, or the dtype of the fixed values an integer input is given (indices)."""
        value = self.values.get(name)
        if value is not None and np.asarray(value).dtype in (np.int32, np.int64):
            return np.asarray(value).dtype
        return np.dtype(F32)

    def input_arrays(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        arrays = []
        for name, shape in self.inputs.items():
            if name in self.values:
                arrays.append(np.asarray(self.values[name], self.input_dtype(name)).reshape(shape))
                continue
            a = rng.standard_normal(shape).astype(F32)
            arrays.append(np.abs(a) + F32(0.1) if self.positive else a)
        return arrays


_ONNX_TYPES = {np.dtype(F32): TensorProto.FLOAT, np.dtype(np.int32): TensorProto.INT32,
               np.dtype(np.int64): TensorProto.INT64}


def _initializer(name: str, array: np.ndarray) -> onnx.TensorProto:
    return onnx.numpy_helper.from_array(np.asarray(array), name)


CASES: list[Case] = []
_rng = np.random.default_rng(1234)


def w(*shape, positive=False) -> np.ndarray:
    """A seeded random constant (weights, biases, broadcast operands)."""
    a = _rng.standard_normal(shape).astype(F32)
    return np.abs(a) + F32(0.5) if positive else a


def i64(*values) -> np.ndarray:
    return np.array(values, np.int64)


def node(op, inputs, outputs="y", **attrs):
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    return helper.make_node(op, list(inputs), outputs, **attrs)


def case(id, nodes, inputs, inits=None, opset=13, positive=False, outputs=("y",), values=None):
    nodes = nodes if isinstance(nodes, list) else [nodes]
    if any(c.id == id for c in CASES):
        raise ValueError(f"duplicate case id {id}")
    CASES.append(Case(id, nodes, dict(inputs), dict(inits or {}), opset, tuple(outputs), positive,
                      frozenset(n.op_type for n in nodes), dict(values or {})))


X4 = {"x": (1, 3, 8, 8)}


# ============================================================== Conv
def conv(id, x, w_shape, bias=True, opset=13, **attrs):
    inits = {"W": w(*w_shape)}
    if bias:
        inits["B"] = w(w_shape[0])
    case(id, node("Conv", ["x", "W", "B"] if bias else ["x", "W"], **attrs), {"x": x}, inits, opset)


conv("conv_3x3_pad1", (1, 3, 8, 8), (4, 3, 3, 3), pads=[1, 1, 1, 1])
conv("conv_stride2_asym_pads", (1, 3, 9, 8), (5, 3, 3, 3), strides=[2, 2], pads=[0, 1, 2, 1])
conv("conv_dilation2", (1, 2, 10, 10), (3, 2, 3, 3), dilations=[2, 2], pads=[2, 1, 2, 1])
conv("conv_1x1_nobias", (1, 6, 5, 7), (4, 6, 1, 1), bias=False)
conv("conv_rect_kernel_stride21", (1, 3, 9, 7), (4, 3, 3, 1), strides=[2, 1], pads=[1, 0, 1, 0])
conv("conv_grouped", (1, 4, 6, 6), (6, 2, 3, 3), group=2, pads=[1, 1, 1, 1])
conv("conv_depthwise_m1", (1, 4, 7, 7), (4, 1, 3, 3), group=4, pads=[1, 1, 1, 1])
conv("conv_depthwise_m2_stride2", (1, 3, 8, 8), (6, 1, 3, 3), group=3, strides=[2, 2], pads=[1, 1, 1, 1])
# odd total padding along H: UPPER and LOWER put the extra row on different sides
conv("conv_same_upper_stride2", (1, 3, 8, 7), (4, 3, 3, 3), auto_pad="SAME_UPPER", strides=[2, 2])
conv("conv_same_lower_stride2", (1, 3, 8, 7), (4, 3, 3, 3), auto_pad="SAME_LOWER", strides=[2, 2])
conv("conv_valid", (1, 3, 8, 8), (4, 3, 3, 3), auto_pad="VALID", strides=[2, 2])
conv("conv_batch2", (2, 3, 6, 6), (4, 3, 3, 3), pads=[1, 1, 1, 1])
conv("conv_opset1", (1, 3, 6, 6), (4, 3, 3, 3), opset=1, pads=[1, 1, 1, 1])

# ============================================================== Gemm / MatMul
case("gemm_bias", node("Gemm", ["x", "W", "C"], transB=1), {"x": (2, 8)}, {"W": w(5, 8), "C": w(5)})
case("gemm_noC", node("Gemm", ["x", "W"]), {"x": (1, 8)}, {"W": w(8, 5)})
case("gemm_transA_alpha_beta", node("Gemm", ["x", "W", "C"], transA=1, alpha=0.5, beta=2.0),
     {"x": (8, 3)}, {"W": w(8, 5), "C": w(1, 5)})
case("gemm_full_C", node("Gemm", ["x", "W", "C"], transB=1, beta=0.5), {"x": (3, 8)},
     {"W": w(4, 8), "C": w(3, 4)})
case("gemm_scalar_C", node("Gemm", ["x", "W", "C"], transB=1), {"x": (1, 8)}, {"W": w(4, 8), "C": w(1)})
case("gemm_two_activations", node("Gemm", ["a", "b", "C"], transA=1, transB=1),
     {"a": (6, 3), "b": (4, 6)}, {"C": w(4)})
case("matmul_const_2d", node("MatMul", ["x", "W"]), {"x": (3, 8)}, {"W": w(8, 5)})
case("matmul_const_3d_input", node("MatMul", ["x", "W"]), {"x": (2, 3, 8)}, {"W": w(8, 5)})
case("matmul_batched_activations", node("MatMul", ["a", "b"]), {"a": (2, 3, 4), "b": (2, 4, 5)})
case("matmul_broadcast_right", node("MatMul", ["a", "b"]), {"a": (2, 3, 4, 5), "b": (5, 6)})
case("matmul_broadcast_both", node("MatMul", ["a", "b"]), {"a": (2, 1, 3, 4), "b": (1, 3, 4, 5)})
case("matmul_vector_right", node("MatMul", ["a", "b"]), {"a": (2, 3, 4), "b": (4,)})
case("matmul_vector_left_const", node("MatMul", ["a", "W"]), {"a": (4,)}, {"W": w(2, 4, 3)})
case("matmul_const_batched_weight", node("MatMul", ["x", "W"]), {"x": (2, 3, 4)}, {"W": w(2, 4, 5)})

# ============================================================== elementwise binary
BROADCASTS = {
    "same": ((2, 3, 4, 5), (2, 3, 4, 5)),
    "scalar": ((2, 3, 4, 5), ()),
    "per_channel": ((1, 4, 3, 3), (4, 1, 1)),
    "rank_mismatch": ((2, 3, 4), (4,)),
    "both_sides": ((1, 3, 1, 5), (2, 1, 4, 1)),
}


def binary(op, pattern, const=False, opset=13, positive=False):
    a, b = BROADCASTS[pattern]
    inputs = {"a": a} if const else {"a": a, "b": b}
    inits = {"b": w(*b, positive=positive)} if const else {}
    case(f"{op.lower()}_{pattern}{'_const' if const else ''}{'' if opset == 13 else f'_opset{opset}'}",
         node(op, ["a", "b"]), inputs, inits, opset, positive=positive)


for _pattern in ("same", "per_channel", "rank_mismatch", "both_sides"):
    binary("Add", _pattern)
binary("Add", "per_channel", const=True)
case("add_constant_node", [node("Constant", [], "k", value=onnx.numpy_helper.from_array(w(4, 1), "k")),
                           node("Add", ["a", "k"])], {"a": (2, 4, 3)})
binary("Add", "scalar", const=True, opset=7)
binary("Sub", "rank_mismatch", const=True)
case("sub_const_left", node("Sub", ["k", "a"]), {"a": (2, 3, 4)}, {"k": w(3, 1)})
binary("Mul", "scalar", const=True)
binary("Mul", "per_channel")
binary("Div", "same", positive=True)
binary("Div", "per_channel", const=True, positive=True)
binary("Max", "scalar", const=True)
binary("Min", "both_sides")
binary("Min", "rank_mismatch", const=True)
binary("Pow", "same", positive=True)
case("pow_int64_exponent", node("Pow", ["a", "e"]), {"a": (2, 3, 4)}, {"e": np.array(3, np.int64)})
case("pow_const_exponent_half", node("Pow", ["a", "e"]), {"a": (2, 3, 4)}, {"e": np.array(0.5, F32)},
     positive=True)
case("max_three_inputs", node("Max", ["a", "b", "c"]), {"a": (2, 3, 4), "b": (3, 4), "c": (2, 1, 4)})
case("sum_three_inputs_broadcast", node("Sum", ["a", "b", "c"]), {"a": (2, 3, 4), "b": (3, 1), "c": (4,)})
case("sum_one_input", node("Sum", ["a"]), {"a": (2, 5)})
case("mean_three_inputs", node("Mean", ["a", "b", "c"]), {"a": (1, 3, 4, 4), "b": (1, 3, 4, 4)},
     {"c": w(3, 1, 1)})
case("mean_two_inputs_broadcast", node("Mean", ["a", "b"]), {"a": (2, 3, 4), "b": (1, 4)})

# ============================================================== activations
def unary(id, op, shape=(1, 3, 5, 5), opset=13, positive=False, **attrs):
    case(id, node(op, ["x"], **attrs), {"x": shape}, opset=opset, positive=positive)


def clip(id, lo, hi, opset=13, shape=(1, 4, 5, 5)):
    if opset < 11:
        attrs = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
        case(id, node("Clip", ["x"], **attrs), {"x": shape}, opset=opset)
        return
    names = ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""]
    while names[-1] == "":
        names.pop()
    inits = {n: np.array(v, F32) for n, v in (("lo", lo), ("hi", hi)) if v is not None}
    case(id, node("Clip", names), {"x": shape}, inits, opset)


unary("relu", "Relu")
clip("clip_relu6_opset6", 0.0, 6.0, opset=6)
clip("clip_relu6", 0.0, 6.0)
clip("clip_minus1_1", -1.0, 1.0, shape=(2, 10))
clip("clip_min_only", -0.5, None)
clip("clip_max_only_opset11", None, 0.3, opset=11)
clip("clip_no_bounds", None, None, shape=(3, 4))
unary("leakyrelu_alpha02", "LeakyRelu", alpha=0.2)
unary("hardswish", "HardSwish", opset=14)
unary("hardsigmoid_alpha_beta", "HardSigmoid", alpha=0.25, beta=0.4)
unary("sigmoid", "Sigmoid")
unary("tanh", "Tanh")
unary("elu_default", "Elu")
unary("elu_alpha05", "Elu", alpha=0.5, shape=(2, 9))
case("prelu_per_channel", node("PRelu", ["x", "s"]), {"x": (1, 4, 5, 5)}, {"s": w(4, 1, 1)})
case("prelu_scalar_slope", node("PRelu", ["x", "s"]), {"x": (1, 4, 5, 5)}, {"s": np.array([0.25], F32)})
case("prelu_2d", node("PRelu", ["x", "s"]), {"x": (3, 6)}, {"s": w(6)})
case("prelu_full_slope", node("PRelu", ["x", "s"]), {"x": (1, 2, 3, 3)}, {"s": w(2, 3, 3)})
case("prelu_opset7", node("PRelu", ["x", "s"]), {"x": (1, 4, 3, 3)}, {"s": w(4, 1, 1)}, opset=7)

# ============================================================== unary math
unary("exp", "Exp")
unary("log", "Log", positive=True)
unary("sqrt", "Sqrt", positive=True)
unary("abs", "Abs")
unary("erf", "Erf")

# ============================================================== fusions
CONV_W = {"W": w(6, 3, 3, 3), "B": w(6)}
CONV = node("Conv", ["x", "W", "B"], "c", pads=[1, 1, 1, 1])
case("fuse_conv_relu", [CONV, node("Relu", ["c"])], X4, CONV_W)
case("fuse_conv_relu6", [CONV, node("Clip", ["c", "lo", "hi"])], X4,
     {**CONV_W, "lo": np.array(0, F32), "hi": np.array(6, F32)})
case("fuse_conv_leakyrelu", [CONV, node("LeakyRelu", ["c"], alpha=0.1)], X4, CONV_W)
case("fuse_conv_hardswish", [CONV, node("HardSwish", ["c"])], X4, CONV_W, opset=14)
case("fuse_conv_sigmoid", [CONV, node("Sigmoid", ["c"])], X4, CONV_W)
case("fuse_dwconv_relu6", [node("Conv", ["x", "Wd", "Bd"], "c", group=3, pads=[1, 1, 1, 1]),
                           node("Clip", ["c", "lo", "hi"])], X4,
     {"Wd": w(3, 1, 3, 3), "Bd": w(3), "lo": np.array(0, F32), "hi": np.array(6, F32)})
case("fuse_conv_output_also_used", [CONV, node("Relu", ["c"], "y"), node("Add", ["c", "y"], "z")], X4, CONV_W,
     outputs=("y", "z"))
case("fuse_gemm_full_C_relu", [node("Gemm", ["x", "W", "C"], "g", transB=1), node("Relu", ["g"])],
     {"x": (3, 8)}, {"W": w(5, 8), "C": w(3, 5)})
case("fuse_gemm_relu", [node("Gemm", ["x", "W", "C"], "g", transB=1), node("Relu", ["g"])],
     {"x": (2, 8)}, {"W": w(5, 8), "C": w(5)})
case("fuse_matmul_add_sigmoid", [node("MatMul", ["x", "W"], "m"), node("Add", ["m", "B"], "a"),
                                 node("Sigmoid", ["a"])], {"x": (1, 8)}, {"W": w(8, 5), "B": w(5)})
BN = {"g": w(6, positive=True), "be": w(6), "mu": w(6), "var": w(6, positive=True)}
case("fuse_conv_bn_relu", [CONV, node("BatchNormalization", ["c", "g", "be", "mu", "var"], "b"),
                           node("Relu", ["b"])], X4, {**CONV_W, **BN})
case("fuse_conv_nobias_bn", [node("Conv", ["x", "W"], "c", strides=[2, 2]),
                             node("BatchNormalization", ["c", "g", "be", "mu", "var"], epsilon=1e-3)],
     X4, {"W": CONV_W["W"], **BN})
case("fuse_gemm_bn", [node("Gemm", ["x", "Wg", "C"], "g", transB=1),
                      node("BatchNormalization", ["g", "g6", "be6", "mu6", "var6"])],
     {"x": (2, 8)}, {"Wg": w(6, 8), "C": w(6), **{k + "6": v for k, v in BN.items()}})
case("conv_relu_bn", [CONV, node("Relu", ["c"], "r"), node("BatchNormalization", ["r", "g", "be", "mu", "var"])],
     X4, {**CONV_W, **BN})
case("conv_residual_add", [node("Conv", ["x", "Wres"], "c", pads=[1, 1, 1, 1]), node("Add", ["c", "x"])],
     X4, {"Wres": w(3, 3, 3, 3)})
case("conv_mul_per_channel_const", [CONV, node("Mul", ["c", "k"])], X4, {**CONV_W, "k": w(6, 1, 1)})
case("conv_add_full_const", [CONV, node("Add", ["c", "k"])], X4, {**CONV_W, "k": w(1, 6, 8, 8)})
case("conv_prelu", [CONV, node("PRelu", ["c", "s"])], X4, {**CONV_W, "s": w(6, 1, 1)})
case("conv_reshape_4d", [CONV, node("Reshape", ["c", "s"])], X4, {**CONV_W, "s": i64(1, 12, 4, 8)})
case("conv_squeeze_batch", [CONV, node("Squeeze", ["c", "ax"])], X4, {**CONV_W, "ax": i64(0)})
case("batchnorm_standalone", node("BatchNormalization", ["x", "g", "be", "mu", "var"]),
     {"x": (1, 6, 4, 4)}, BN)
case("batchnorm_standalone_2d", node("BatchNormalization", ["x", "g", "be", "mu", "var"]),
     {"x": (3, 6)}, BN)

# ============================================================== pooling
def pool(id, op, x=(1, 3, 8, 8), after_conv=False, opset=13, **attrs):
    if after_conv:
        nodes = [node("Conv", ["x", "Wp"], "c", pads=[1, 1, 1, 1]), node(op, ["c"], **attrs)]
        case(id, nodes, {"x": x}, {"Wp": w(4, x[1], 3, 3)}, opset)
    else:
        case(id, node(op, ["x"], **attrs), {"x": x}, opset=opset)


pool("maxpool_k3s2_pads", "MaxPool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
pool("maxpool_asym_pads_after_conv", "MaxPool", after_conv=True, kernel_shape=[3, 2], pads=[0, 1, 2, 0])
pool("maxpool_ceil_last_window_in_pad", "MaxPool", x=(1, 2, 5, 5), kernel_shape=[2, 2], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
pool("avgpool_ceil_last_window_in_pad", "AveragePool", x=(1, 2, 5, 5), kernel_shape=[2, 2], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
pool("maxpool_batch2_after_conv", "MaxPool", x=(2, 3, 6, 6), after_conv=True, kernel_shape=[2, 2],
     strides=[2, 2])
pool("maxpool_ceil_mode", "MaxPool", x=(1, 2, 7, 7), kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
pool("maxpool_dilation2", "MaxPool", x=(1, 2, 9, 9), kernel_shape=[2, 2], dilations=[2, 2])
pool("maxpool_same_upper", "MaxPool", x=(1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2],
     auto_pad="SAME_UPPER")
pool("maxpool_same_lower_stride2_after_conv", "MaxPool", x=(1, 2, 7, 6), after_conv=True, kernel_shape=[2, 3],
     strides=[2, 2], auto_pad="SAME_LOWER")
pool("avgpool_pads_exclude", "AveragePool", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
pool("avgpool_pads_include", "AveragePool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 2],
     count_include_pad=1)
pool("avgpool_ceil_include_pad", "AveragePool", x=(1, 2, 8, 8), kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
pool("avgpool_same_upper", "AveragePool", x=(1, 2, 7, 7), kernel_shape=[2, 2], strides=[2, 2],
     auto_pad="SAME_UPPER")
pool("avgpool_same_lower_stride2", "AveragePool", x=(1, 2, 7, 8), kernel_shape=[3, 3], strides=[2, 2],
     auto_pad="SAME_LOWER")
pool("avgpool_valid_opset7", "AveragePool", x=(1, 2, 7, 7), kernel_shape=[3, 3], auto_pad="VALID",
     opset=7)
pool("globalavgpool", "GlobalAveragePool", x=(1, 5, 6, 7))
pool("globalavgpool_after_conv", "GlobalAveragePool", after_conv=True)
pool("globalmaxpool", "GlobalMaxPool", x=(2, 3, 4, 5))


# ============================================================== ConvTranspose (1-D and 2-D)
def convt(id, x, w_shape, bias=True, opset=13, **attrs):
    inits = {"Wt": w(*w_shape)}   # [C_in, C_out / group, k...]
    if bias:
        inits["Bt"] = w(w_shape[1] * attrs.get("group", 1))
    case(id, node("ConvTranspose", ["x", "Wt", "Bt"] if bias else ["x", "Wt"], **attrs), {"x": x}, inits, opset)


convt("convt_stride2_pads", (1, 4, 5, 5), (4, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
convt("convt_asym_pads_output_padding", (1, 4, 5, 4), (4, 3, 3, 3), strides=[2, 2], pads=[1, 0, 0, 1],
      output_padding=[1, 1])
convt("convt_output_padding_stride3", (1, 2, 3, 3), (2, 3, 2, 2), strides=[3, 3], output_padding=[2, 1])
convt("convt_output_shape", (1, 4, 3, 4), (4, 3, 3, 3), strides=[2, 2], output_shape=[6, 7])
convt("convt_output_shape_larger", (1, 4, 3, 4), (4, 3, 3, 3), strides=[3, 2], output_shape=[10, 8])
convt("convt_same_upper", (1, 4, 3, 4), (4, 3, 3, 3), bias=False, strides=[2, 2], auto_pad="SAME_UPPER")
convt("convt_same_lower", (1, 4, 3, 4), (4, 3, 3, 3), bias=False, strides=[2, 2], auto_pad="SAME_LOWER")
convt("convt_dilation_groups", (1, 4, 5, 5), (4, 3, 3, 3), strides=[2, 1], dilations=[2, 2], group=2,
      pads=[1, 2, 0, 1])
convt("convt_depthwise_stride2", (1, 3, 4, 4), (3, 1, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1], group=3)
convt("convt_opset1_no_attrs", (1, 2, 4, 4), (2, 2, 3, 3), opset=1)
convt("convt_1d_stride2_output_padding", (1, 4, 6), (4, 3, 3), strides=[2], pads=[1, 0], output_padding=[1])
convt("convt_1d_output_shape", (2, 3, 5), (3, 2, 4), strides=[2], output_shape=[11])

# ============================================================== 1-D conv, pooling, BatchNorm ([N, C, L] as H = 1)
conv("conv1d_pad_stride", (1, 3, 12), (4, 3, 3), strides=[2], pads=[1, 2])
conv("conv1d_dilation_groups", (2, 4, 10), (6, 2, 3), dilations=[2], group=2, pads=[2, 2])
conv("conv1d_depthwise_same_upper", (1, 4, 9), (4, 1, 4), bias=False, group=4, strides=[2], auto_pad="SAME_UPPER")
pool("maxpool1d_k3s2_pads", "MaxPool", x=(1, 3, 11), kernel_shape=[3], strides=[2], pads=[1, 1])
pool("maxpool1d_dilation_ceil", "MaxPool", x=(2, 2, 10), kernel_shape=[2], dilations=[2], strides=[3], ceil_mode=1)
pool("avgpool1d_include_pad", "AveragePool", x=(1, 3, 9), kernel_shape=[3], strides=[2], pads=[1, 1],
     count_include_pad=1)
pool("avgpool1d_same_lower_exclude", "AveragePool", x=(1, 3, 8), kernel_shape=[3], strides=[2],
     auto_pad="SAME_LOWER")
case("batchnorm1d_rank3", node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-3),
     {"x": (2, 4, 7)}, {"g": w(4), "b": w(4), "m": w(4), "v": w(4, positive=True)})
case("conv1d_batchnorm_relu_maxpool",
     [node("Conv", ["x", "W1"], "c", pads=[1, 1]), node("BatchNormalization", ["c", "g", "b", "m", "v"], "n"),
      node("Relu", ["n"], "r"), node("MaxPool", ["r"], kernel_shape=[2], strides=[2])],
     {"x": (1, 3, 16)}, {"W1": w(5, 3, 3), "g": w(5), "b": w(5), "m": w(5), "v": w(5, positive=True)})

# ============================================================== LRN
case("lrn_size3_bias2", node("LRN", ["x"], size=3, alpha=1e-3, beta=0.75, bias=2.0), {"x": (1, 6, 5, 5)})
case("lrn_alexnet_size5", node("LRN", ["x"], size=5, alpha=1e-4, beta=0.75), {"x": (1, 8, 6, 6)})
case("lrn_after_conv_size1", [node("Conv", ["x", "W1"], "c", pads=[1, 1, 1, 1]),
                              node("LRN", ["c"], size=1, alpha=0.5, beta=0.5, bias=1.5)],
     {"x": (1, 3, 5, 5)}, {"W1": w(4, 3, 3, 3)}, opset=7)

# ============================================================== Dropout with a mask output
# Inference: the identity; the declared (unused) mask is all true.
case("dropout_mask_declared_opset7", [node("Dropout", ["x"], ["d", "mask"], ratio=0.3), node("Neg", ["d"])],
     {"x": (2, 6)}, opset=7)
case("dropout_mask_declared_opset13", [node("Conv", ["x", "W1"], "c"), node("Dropout", ["c", "r"], ["y", "mask"])],
     {"x": (1, 3, 5, 5)}, {"W1": w(4, 3, 1, 1), "r": np.array(0.5, F32)})

# ============================================================== DepthToSpace / SpaceToDepth
case("depth_to_space_dcr", node("DepthToSpace", ["x"], blocksize=2), {"x": (1, 8, 3, 4)})
case("depth_to_space_crd", node("DepthToSpace", ["x"], blocksize=2, mode="CRD"), {"x": (2, 8, 3, 2)})
case("depth_to_space_crd_b3_after_conv", [node("Conv", ["x", "W1"], "c", pads=[1, 1, 1, 1]),
                                          node("DepthToSpace", ["c"], blocksize=3, mode="CRD")],
     {"x": (1, 3, 4, 4)}, {"W1": w(18, 3, 3, 3)})
case("space_to_depth_b2", node("SpaceToDepth", ["x"], blocksize=2), {"x": (1, 3, 4, 6)})
case("space_to_depth_b3_opset1", node("SpaceToDepth", ["x"], blocksize=3), {"x": (1, 2, 6, 3)}, opset=1)

# ============================================================== Slice / Split
case("slice_steps_negative", node("Slice", ["x", "s", "e", "a", "st"]), {"x": (1, 6, 8, 8)},
     {"s": i64(1, -1), "e": i64(5, -9), "a": i64(1, 3), "st": i64(2, -2)})
case("slice_clamped_ends_no_axes", node("Slice", ["x", "s", "e"]), {"x": (2, 5, 7)},
     {"s": i64(0, 1, -4), "e": i64(1, 1000, 6)})
case("slice_opset10_negative_axis", node("Slice", ["x", "s", "e", "a"]), {"x": (1, 4, 6, 6)},
     {"s": i64(-5), "e": i64(-1), "a": i64(-1)}, opset=10)
case("slice_opset1_attrs", node("Slice", ["x"], starts=[1, -3], ends=[3, 100], axes=[1, 3]),
     {"x": (1, 6, 8, 8)}, opset=1)
case("split_input_sizes", node("Split", ["x", "sp"], ["y", "z"], axis=1), {"x": (1, 6, 4, 4)},
     {"sp": i64(2, 4)}, outputs=("y", "z"))
case("split_attr_opset11", node("Split", ["x"], ["y", "z"], axis=-1, split=[1, 3]), {"x": (1, 6, 4, 4)},
     opset=11, outputs=("y", "z"))
case("split_equal_opset2", node("Split", ["x"], ["y", "z", "u"], axis=1), {"x": (2, 6, 3)}, opset=2,
     outputs=("y", "z", "u"))
case("split_num_outputs_uneven_opset18", node("Split", ["x"], ["y", "z", "u"], axis=2, num_outputs=3),
     {"x": (1, 2, 7, 3)}, opset=18, outputs=("y", "z", "u"))
case("split_glu", [node("Split", ["x"], ["a", "b"], axis=1), node("Sigmoid", ["b"], "s"),
                   node("Mul", ["a", "s"])], {"x": (1, 8, 5)})

# ============================================================== InstanceNormalization
case("instance_norm_2d", node("InstanceNormalization", ["x", "sc", "b"], epsilon=1e-3),
     {"x": (2, 3, 5, 6)}, {"sc": w(3), "b": w(3)})
case("instance_norm_1d_after_conv", [node("Conv", ["x", "W1"], "c", pads=[1, 1]),
                                     node("InstanceNormalization", ["c", "sc", "b"])],
     {"x": (1, 3, 9)}, {"W1": w(4, 3, 3), "sc": w(4), "b": w(4)})

# ============================================================== old opsets (lifted by onnx.version_converter)
# onnxruntime cannot run these; hhbc compares with the model lifted to opset 13.
case("averagepool_opset1", node("AveragePool", ["x"], kernel_shape=[2, 2], strides=[2, 2]), {"x": (1, 3, 6, 6)},
     opset=1)
case("batchnorm_opset6", node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-3, is_test=1),
     {"x": (1, 4, 5, 5)}, {"g": w(4), "b": w(4), "m": w(4), "v": w(4, positive=True)}, opset=6)
case("gemm_opset6_broadcast_bias", node("Gemm", ["x", "Wg", "Bg"], transB=1, broadcast=1),
     {"x": (2, 5)}, {"Wg": w(3, 5), "Bg": w(3)}, opset=6)
case("prelu_opset6_channel_slope", node("PRelu", ["x", "s"]), {"x": (1, 4, 3, 5)}, {"s": w(4)}, opset=6)
case("prelu_opset6_channel_slope_1d", node("PRelu", ["x", "s"]), {"x": (2, 3, 7)}, {"s": w(3)}, opset=6)
case("add_opset6_broadcast_axis1", node("Add", ["x", "b"], broadcast=1, axis=1), {"x": (1, 4, 3, 3)},
     {"b": w(4)}, opset=6)
case("pow_opset1_broadcast", node("Pow", ["x", "p"], broadcast=1), {"x": (1, 3, 4)},
     {"p": np.array([2.0], F32)}, opset=1, positive=True)

# ============================================================== Concat / Transpose
case("concat_axis1_nchw", node("Concat", ["a", "b"], axis=1), {"a": (1, 2, 4, 4), "b": (1, 3, 4, 4)})
case("concat_axis1_after_conv", [node("Conv", ["x", "Wc"], "c"), node("Concat", ["c", "x"], axis=1)],
     {"x": (1, 3, 5, 5)}, {"Wc": w(2, 3, 1, 1)})
case("concat_last_axis_3_inputs", node("Concat", ["a", "b", "c"], axis=-1),
     {"a": (2, 3, 1), "b": (2, 3, 4), "c": (2, 3, 2)})
case("concat_conv_const_axis1", [node("Conv", ["x", "Wc"], "c"), node("Concat", ["c", "k"], axis=1)],
     {"x": (1, 3, 5, 5)}, {"Wc": w(2, 3, 1, 1), "k": w(1, 4, 5, 5)})
case("transpose_default_reverse_3d", node("Transpose", ["x"]), {"x": (2, 3, 4)})
case("transpose_nchw_to_nhwc", node("Transpose", ["x"], perm=[0, 2, 3, 1]), {"x": (1, 3, 4, 5)})
case("transpose_4d_2031", node("Transpose", ["x"], perm=[2, 0, 3, 1]), {"x": (2, 3, 4, 5)})
case("transpose_5d", node("Transpose", ["x"], perm=[4, 0, 2, 1, 3]), {"x": (2, 3, 1, 4, 2)})
case("transpose_after_conv", [node("Conv", ["x", "Wt"], "c"), node("Transpose", ["c"], perm=[0, 3, 1, 2])],
     {"x": (1, 3, 4, 5)}, {"Wt": w(2, 3, 1, 1)})

# ============================================================== Pad
case("pad_constant_value", node("Pad", ["x", "p", "v"]), {"x": (1, 2, 4, 5)},
     {"p": i64(0, 0, 1, 2, 0, 1, 2, 1), "v": np.array(1.5, F32)})
case("pad_constant_default_3d", node("Pad", ["x", "p"]), {"x": (2, 3, 4)}, {"p": i64(0, 1, 2, 1, 0, 3)})
case("pad_constant_opset2", node("Pad", ["x"], pads=[0, 0, 2, 1, 0, 0, 1, 2], value=-0.5),
     {"x": (1, 2, 3, 4)}, opset=2)
case("pad_edge", node("Pad", ["x", "p"], mode="edge"), {"x": (1, 2, 4, 5)}, {"p": i64(0, 0, 2, 1, 0, 0, 1, 3)})
case("pad_reflect", node("Pad", ["x", "p"], mode="reflect"), {"x": (1, 2, 4, 5)},
     {"p": i64(0, 0, 1, 2, 0, 0, 3, 1)})
case("pad_then_conv", [node("Pad", ["x", "p"], "p0"), node("Conv", ["p0", "Wq"])], {"x": (1, 3, 5, 5)},
     {"p": i64(0, 0, 1, 1, 0, 0, 1, 1), "Wq": w(4, 3, 3, 3)})
case("pad_after_conv_edge", [node("Conv", ["x", "Wq"], "c"), node("Pad", ["c", "p"], mode="edge")],
     {"x": (1, 3, 5, 5)}, {"p": i64(0, 0, 1, 0, 0, 0, 2, 1), "Wq": w(4, 3, 3, 3)})

# ============================================================== Softmax / LogSoftmax
case("softmax_last_axis", node("Softmax", ["x"], axis=-1), {"x": (2, 3, 7)})
case("softmax_axis1_4d", node("Softmax", ["x"], axis=1), {"x": (1, 5, 3, 3)})
case("softmax_opset11_2d", node("Softmax", ["x"]), {"x": (3, 10)}, opset=11)
case("softmax_opset11_axis1_flattens", node("Softmax", ["x"], axis=1), {"x": (2, 3, 4)}, opset=11)
case("softmax_opset11_after_conv", [node("Conv", ["x", "Ws"], "c"), node("Softmax", ["c"], axis=1)],
     {"x": (1, 3, 4, 4)}, {"Ws": w(5, 3, 1, 1)}, opset=11)
case("softmax_after_conv_axis1", [node("Conv", ["x", "Ws"], "c"), node("Softmax", ["c"], axis=1)],
     {"x": (1, 3, 4, 4)}, {"Ws": w(5, 3, 1, 1)})
case("logsoftmax_last_axis", node("LogSoftmax", ["x"], axis=-1), {"x": (4, 9)})
case("logsoftmax_opset11_default", node("LogSoftmax", ["x"]), {"x": (2, 3, 4)}, opset=11)

# ============================================================== reductions
def reduce(id, op, x, axes=None, keepdims=1, opset=13, after_conv=False):
    """Reduce with axes as an attribute, or as an input where the opset wants it."""
    axes_input = (op == "ReduceSum" and opset >= 13) or opset >= 18
    attrs = {"keepdims": keepdims}
    inits = {}
    names = ["c" if after_conv else "x"]
    if axes is not None:
        if axes_input:
            inits["axes"] = i64(*axes)
            names.append("axes")
        else:
            attrs["axes"] = list(axes)
    nodes = [node(op, names, **attrs)]
    if after_conv:
        nodes.insert(0, node("Conv", ["x", "Wr"], "c", pads=[1, 1, 1, 1]))
        inits["Wr"] = w(4, x[1], 3, 3)
    case(id, nodes, {"x": x}, inits, opset)


reduce("reducemean_last_nokeep", "ReduceMean", (2, 3, 4), axes=[-1], keepdims=0)
reduce("reducemean_all_opset11", "ReduceMean", (2, 3, 4), opset=11)
reduce("reducemean_axes_input_opset18", "ReduceMean", (2, 3, 4, 2), axes=[1, 3], keepdims=0, opset=18)
reduce("reducemean_after_conv_hw", "ReduceMean", (1, 3, 4, 4), axes=[2, 3], keepdims=0, after_conv=True)
reduce("reducemax_after_conv_c", "ReduceMax", (1, 3, 4, 4), axes=[1], after_conv=True)
reduce("reducesum_axis1_opset13", "ReduceSum", (2, 5, 3), axes=[1])
reduce("reducesum_nokeep_opset11", "ReduceSum", (2, 5, 3), axes=[0, 2], keepdims=0, opset=11)
reduce("reducemax_axis1", "ReduceMax", (2, 4, 3, 3), axes=[1], keepdims=0)
reduce("reducemax_all_keepdims", "ReduceMax", (3, 4))
reduce("reducemin_last", "ReduceMin", (2, 3, 6), axes=[-1])
reduce("reducemin_axes_input_opset18", "ReduceMin", (2, 3, 6), axes=[0, 1], keepdims=0, opset=18)

# ============================================================== shape ops
case("reshape_zero_dim", node("Reshape", ["x", "s"]), {"x": (2, 3, 4)}, {"s": i64(0, 12)})
case("flatten_axis1_after_conv", [node("Conv", ["x", "Wf"], "c"), node("Flatten", ["c"], "f"),
                                  node("Gemm", ["f", "Wg", "Bg"], transB=1)],
     {"x": (1, 3, 4, 4)}, {"Wf": w(2, 3, 1, 1), "Wg": w(5, 32), "Bg": w(5)})
case("squeeze_opset11_attr", node("Squeeze", ["x"], axes=[0, 2]), {"x": (1, 3, 1, 4)}, opset=11)
case("squeeze_opset13_input", node("Squeeze", ["x", "ax"]), {"x": (1, 3, 1, 4)}, {"ax": i64(2)})
case("squeeze_all_unit_dims", node("Squeeze", ["x"]), {"x": (1, 3, 1, 4)})
case("unsqueeze_opset11_attr", node("Unsqueeze", ["x"], axes=[0, 3]), {"x": (3, 4)}, opset=11)
case("unsqueeze_opset13_input", node("Unsqueeze", ["x", "ax"]), {"x": (3, 4)}, {"ax": i64(1, -1)})
case("identity_dropout", [node("Identity", ["x"], "i"), node("Dropout", ["i"], "d"), node("Exp", ["d"])],
     {"x": (2, 6)})
case("dropout_opset7_ratio", [node("Dropout", ["x"], "d", ratio=0.3), node("Neg", ["d"])], {"x": (2, 6)},
     opset=7)
case("two_outputs_alias", [node("Relu", ["x"], "y"), node("Reshape", ["y", "s"], "z")], {"x": (2, 6)},
     {"s": i64(3, 4)}, outputs=("y", "z"))
case("output_also_consumed", [node("Relu", ["x"], "y"), node("Exp", ["y"], "z")], {"x": (2, 6)},
     outputs=("z", "y"))
case("identity_output", node("Identity", ["x"]), {"x": (3, 5)})


# ============================================================== Resize / Upsample
def resize(id, x, mode, coord, nearest_mode=None, scales=None, sizes=None, opset=13, after_conv=False):
    """Resize-11+ with either scales or sizes (optional inputs left empty from opset 13 on)."""
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if nearest_mode:
        attrs["nearest_mode"] = nearest_mode
    src = "c" if after_conv else "x"
    inits = {"scales": np.array(scales if scales is not None else [], F32)}
    if opset < 13:
        inits["roi"] = np.array([], F32)
    names = [src, "roi" if opset < 13 else "", "scales"]
    if sizes is not None:
        inits["sizes"] = i64(*sizes)
        names.append("sizes")
        if opset >= 13:
            names[2] = ""
            inits.pop("scales")
    nodes = [node("Resize", names, **attrs)]
    if after_conv:
        nodes.insert(0, node("Conv", ["x", "Wz"], "c", pads=[1, 1, 1, 1]))
        inits["Wz"] = w(3, x[1], 3, 3)
    case(id, nodes, {"x": x}, inits, opset)


UP2 = [1, 1, 2, 2]
resize("resize_nearest_asym_floor_x2", (1, 2, 3, 4), "nearest", "asymmetric", "floor", scales=UP2)
resize("resize_nearest_halfpixel_prefer_floor", (1, 2, 4, 3), "nearest", "half_pixel", "round_prefer_floor",
       scales=[1, 1, 2.5, 1.5])
resize("resize_nearest_halfpixel_prefer_ceil_sizes", (1, 2, 4, 4), "nearest", "half_pixel",
       "round_prefer_ceil", sizes=[1, 2, 7, 5])
resize("resize_nearest_align_corners_ceil", (1, 2, 3, 3), "nearest", "align_corners", "ceil",
       sizes=[1, 2, 7, 5])
resize("resize_nearest_tf_half_pixel_down", (1, 2, 8, 7), "nearest", "tf_half_pixel_for_nn",
       "round_prefer_ceil", sizes=[1, 2, 3, 4])
resize("resize_nearest_pytorch_half_pixel_down", (1, 2, 8, 8), "nearest", "pytorch_half_pixel", "floor",
       scales=[1, 1, 0.5, 0.5])
resize("resize_nearest_after_conv_x2", (1, 3, 4, 4), "nearest", "asymmetric", "floor", scales=UP2,
       after_conv=True)
# Coordinates within an ulp of an integer: onnxruntime's float32 arithmetic decides the pixel.
resize("resize_nearest_half_pixel_floor_7to9", (1, 2, 7, 7), "nearest", "half_pixel", "floor",
       sizes=[1, 2, 9, 4])
resize("resize_nearest_asym_prefer_ceil_7to4", (1, 2, 7, 7), "nearest", "asymmetric", "round_prefer_ceil",
       sizes=[1, 2, 4, 8])
resize("resize_nearest_batch2_prefer_ceil_x3", (2, 3, 2, 3), "nearest", "half_pixel", "round_prefer_ceil",
       scales=[1, 1, 3, 3])
resize("resize_linear_half_pixel_x2", (1, 2, 3, 4), "linear", "half_pixel", scales=UP2)
resize("resize_linear_align_corners_sizes", (1, 2, 4, 3), "linear", "align_corners", sizes=[1, 2, 7, 8])
resize("resize_linear_asymmetric_down", (1, 2, 8, 9), "linear", "asymmetric", scales=[1, 1, 0.5, 0.75])
resize("resize_linear_pytorch_half_pixel_to1", (1, 2, 5, 6), "linear", "pytorch_half_pixel",
       sizes=[1, 2, 1, 3])
resize("resize_linear_half_pixel_after_conv", (1, 3, 5, 5), "linear", "half_pixel", sizes=[1, 3, 9, 7],
       after_conv=True)
resize("resize_linear_half_pixel_down_opset11", (1, 2, 9, 8), "linear", "half_pixel",
       scales=[1, 1, 0.6, 0.5], opset=11)
# opset 10 Resize: (X, scales), no coordinate_transformation_mode (asymmetric)
case("resize_linear_opset10", node("Resize", ["x", "s"], mode="linear"), {"x": (1, 2, 3, 4)},
     {"s": np.array(UP2, F32)}, opset=10)
case("resize_nearest_opset10_down", node("Resize", ["x", "s"], mode="nearest"), {"x": (1, 2, 9, 8)},
     {"s": np.array([1, 1, 0.6, 0.5], F32)}, opset=10)
case("upsample_nearest_opset9", [node("Upsample", ["x", "s"], mode="nearest")], {"x": (1, 2, 3, 4)},
     {"s": np.array(UP2, F32)}, opset=9)
case("upsample_linear_opset9", [node("Upsample", ["x", "s"], mode="linear")], {"x": (1, 2, 3, 4)},
     {"s": np.array(UP2, F32)}, opset=9)
case("upsample_nearest_opset7_attr", [node("Upsample", ["x"], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])],
     {"x": (1, 2, 3, 2)}, opset=7)


# ============================================================== QuantizeLinear / DequantizeLinear
# Round trips x -> int8 -> float, per tensor. hhbc run compares a dequantized output in steps of
# its scale, and with nothing but quantize/dequantize in between it must be exact (0 steps):
# the inputs sit on .5 ties of x / scale (ONNX rounds them half to even, TFLite away from
# zero) and beyond the int8 range (saturation).
def _ties(scale: float, zp: int, n: int) -> np.ndarray:
    k = np.arange(n, dtype=np.float64) - n // 2
    ties = (k + 0.5) * scale                     # exact .5 ties of x / scale
    ties = ties[np.float32(ties) / np.float32(scale) == (k + 0.5)]
    wide = np.array([(-128 - zp - 40) * scale, (127 - zp + 40) * scale, 0.0, -0.0])
    return np.concatenate([ties, wide, np.linspace(-200 * scale, 200 * scale, 24)]).astype(F32)


def qdq_roundtrip(id, scale, zp, n=72):
    x = _ties(scale, zp, n)
    nodes = [node("QuantizeLinear", ["x", "s", "z"], "q"), node("DequantizeLinear", ["q", "s", "z"])]
    case(id, nodes, {"x": (1, x.size)}, {"s": np.array(scale, F32), "z": np.array(zp, np.int8)},
         values={"x": x})


qdq_roundtrip("qdq_roundtrip_ties_pow2_scale", 0.25, 0)
qdq_roundtrip("qdq_roundtrip_ties_zero_point", 0.5, -7)
qdq_roundtrip("qdq_roundtrip_saturating", 0.03125, 100, n=300)
x_rt = _ties(0.125, 3, 40).reshape(1, 2, 2, -1)
case("qdq_roundtrip_transposed", [node("QuantizeLinear", ["x", "s", "z"], "q"),
                                  node("DequantizeLinear", ["q", "s", "z"], "d"),
                                  node("Transpose", ["d"], perm=[0, 3, 1, 2])],
     {"x": x_rt.shape}, {"s": np.array(0.125, F32), "z": np.array(3, np.int8)}, values={"x": x_rt})


# ============================================================== elementwise math (H1b)
# Values on .5 ties, signed zeros and integers, so Floor/Ceil/Round/Sign see their edge cases.
_ROUNDING = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.0, 0.0, 1.0, -3.0, 2.4999, -2.5001,
                      0.49999997, 7.7, -7.7, 123456.5, -0.2], F32).reshape(2, 9)
for _op in ("Floor", "Ceil", "Round", "Sign"):
    case(f"{_op.lower()}_edge_values", node(_op, ["x"]), {"x": (2, 9)}, values={"x": _ROUNDING})
case("reciprocal_signed", node("Reciprocal", ["x"]), {"x": (2, 5)},
     values={"x": np.array([-4, -2, -0.5, -0.1, 0.3, 1, 3, 8, 0.25, -1], F32)})
case("softplus_wide", node("Softplus", ["x"]), {"x": (2, 8)},
     values={"x": np.array([-90, -30, -5, -1, -0.1, 0, 0.1, 1, 5, 15, 25, 40, 80, -15, 2, -2], F32)})
unary("softsign", "Softsign", shape=(2, 3, 4))
unary("selu_default", "Selu", shape=(1, 3, 5, 5))
unary("selu_alpha_gamma", "Selu", shape=(2, 7), alpha=2.0, gamma=3.0)
unary("celu_default", "Celu", shape=(1, 3, 5, 5), opset=12)
unary("celu_alpha2", "Celu", shape=(2, 7), opset=12, alpha=2.0)
unary("shrink_default", "Shrink", shape=(1, 3, 5, 5), opset=9)
unary("shrink_lambd_bias", "Shrink", shape=(2, 3, 6), opset=9, lambd=0.7, bias=0.3)
unary("shrink_hard", "Shrink", shape=(2, 8), opset=9, lambd=1.0)
unary("gelu_exact", "Gelu", shape=(1, 3, 5, 5), opset=20)
unary("gelu_tanh", "Gelu", shape=(2, 9), opset=20, approximate="tanh")
unary("mish", "Mish", shape=(1, 3, 5, 5), opset=18)
unary("mish_2d", "Mish", shape=(3, 7), opset=18)
case("softplus_after_conv_mish", [CONV, node("Softplus", ["c"], "sp"), node("Tanh", ["sp"], "t"),
                                  node("Mul", ["c", "t"])], X4, CONV_W)

# ============================================================== Gather / Expand / Tile / Where (H1b)
case("gather_axis0_const_indices", node("Gather", ["x", "i"], axis=0), {"x": (5, 4)}, {"i": i64(4, 0, -1, 2)})
case("gather_axis1_negative", node("Gather", ["x", "i"], axis=1), {"x": (2, 6, 3)}, {"i": i64(-6, 5, 1, -2)})
case("gather_axis_last_2d_indices", node("Gather", ["x", "i"], axis=-1), {"x": (2, 3, 5)},
     {"i": np.array([[0, 4], [3, -1]], np.int64)})
case("gather_scalar_index", node("Gather", ["x", "i"], axis=1), {"x": (1, 4, 3, 3)}, {"i": np.array(2, np.int64)})
case("gather_int32_indices", node("Gather", ["x", "i"], axis=2), {"x": (1, 3, 5, 2)},
     {"i": np.array([1, 1, 4], np.int32)})
case("expand_const_shape", node("Expand", ["x", "s"]), {"x": (3, 1)}, {"s": i64(2, 3, 4)})
case("expand_same_rank", node("Expand", ["x", "s"]), {"x": (1, 3, 1, 5)}, {"s": i64(2, 1, 4, 1)})
case("tile_2d", node("Tile", ["x", "r"]), {"x": (2, 3)}, {"r": i64(2, 3)})
case("tile_4d_partial", node("Tile", ["x", "r"]), {"x": (1, 2, 3, 2)}, {"r": i64(1, 2, 1, 3)})
case("where_const_cond_broadcast", node("Where", ["c", "a", "b"]), {"a": (2, 3, 4), "b": (3, 1)},
     {"c": np.array([True, False, True, True], bool)})
case("where_const_cond_const_operand", node("Where", ["c", "a", "k"]), {"a": (2, 4)},
     {"c": np.array([[True, False, False, True], [False, True, True, False]], bool), "k": w(1)})
# Integer model inputs: an int64/int32 input declares its values (valid indices, some negative).
case("gather_embedding_int64_input", node("Gather", ["table", "ids"], axis=0), {"ids": (2, 3)},
     {"table": w(10, 4)}, values={"ids": np.array([[0, 9, -1], [3, 3, -10]], np.int64)})
case("gather_embedding_int32_input_axis1", node("Gather", ["table", "ids"], axis=1), {"ids": (5,)},
     {"table": w(2, 7, 3)}, values={"ids": np.array([6, 0, -3, 2, 2], np.int32)})

# ============================================================== ArgMax / ArgMin (H1b): int64 outputs
# Rows with ties (repeated maxima/minima), so select_last_index decides.
_TIES = np.array([[1, 3, 3, 0, -2, 3], [-1, -1, 2, 2, -1, 0], [5, 4, 5, 4, 5, 4]], F32)
case("argmax_axis1_keepdims", node("ArgMax", ["x"], axis=1), {"x": (2, 5, 3)})
case("argmax_axis0_nokeep", node("ArgMax", ["x"], axis=0, keepdims=0), {"x": (4, 3, 2)})
case("argmin_last_axis", node("ArgMin", ["x"], axis=-1), {"x": (1, 3, 4, 5)})
case("argmax_ties_first", node("ArgMax", ["x"], axis=1, keepdims=0), {"x": (3, 6)}, values={"x": _TIES})
case("argmax_ties_select_last", node("ArgMax", ["x"], axis=1, select_last_index=1), {"x": (3, 6)},
     values={"x": _TIES})
case("argmin_ties_select_last", node("ArgMin", ["x"], axis=1, keepdims=0, select_last_index=1), {"x": (3, 6)},
     values={"x": _TIES})
case("argmax_after_conv", [CONV, node("ArgMax", ["c"], axis=1)], X4, CONV_W)
