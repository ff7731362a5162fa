"""Op-level differential tests for the TensorFlow frontend: hhbc against TensorFlow.

Every case builds a tiny TF 1.x-style graph (placeholders, constant weights: a
frozen GraphDef as TensorFlow writes it) with seeded random constants, saves it
as a .pb in tmp_path, compiles it with hhbc for the target, runs it (natively
for `host`, under QEMU for `c908`) and compares with TensorFlow running the same
file, under hhbc's float tolerance.

    pytest tests/frontends/test_tf_ops.py -n 2
    pytest tests/frontends/test_tf_ops.py -k "host and conv"
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
tf1 = tf.compat.v1

from hhbc.frontends import ImportOptions  # noqa: E402
from hhbc.frontends.tensorflow import SUPPORTED_OPS  # noqa: E402
from hhbc.runner import run_and_compare  # noqa: E402
from hhbc.targets import get_target  # noqa: E402

F32 = np.float32


@dataclass
class Case:
    id: str
    inputs: dict[str, tuple]          # placeholder -> shape (None: unknown to TF, 1 to hhbc)
    build: Callable                   # (rng, *placeholders) -> tensor or list of tensors
    ops: frozenset                    # TF ops the graph must contain
    positive: bool = False            # inputs in [0.1, ...) (Rsqrt, Sqrt, denominators)

    def graph(self):
        """(GraphDef, output tensor names)."""
        graph = tf.Graph()
        with graph.as_default():
            xs = [tf1.placeholder(tf.float32, list(s), name=n) for n, s in self.inputs.items()]
            outs = self.build(np.random.default_rng(zlib.crc32(self.id.encode()) + 1), *xs)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return graph.as_graph_def(), [t.name for t in outs]

    def arrays(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        arrays = []
        for shape in self.inputs.values():
            a = rng.standard_normal([d or 1 for d in shape]).astype(F32)
            arrays.append(np.abs(a) + F32(0.1) if self.positive else a)
        return arrays


CASES: list[Case] = []


def case(id, inputs, build, ops, **kw):
    CASES.append(Case(id, inputs, build, frozenset(ops), **kw))


def w(rng, *shape, positive=False):
    a = rng.standard_normal(shape).astype(F32)
    return np.abs(a) + F32(0.5) if positive else a


def bn_params(rng, c):
    return w(rng, c), w(rng, c), w(rng, c), w(rng, c, positive=True)


# ---------------------------------------------------------------- Conv2D
case("conv_same_s1", {"x": (1, 8, 8, 3)}, lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 3, 4), 1, "SAME"), {"Conv2D"})
case("conv_valid_s2", {"x": (1, 9, 9, 3)}, lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 3, 5), 2, "VALID"), {"Conv2D"})
case("conv_same_s2_odd_pad", {"x": (1, 7, 6, 2)},
     lambda r, x: tf.nn.conv2d(x, w(r, 2, 3, 2, 4), [1, 2, 2, 1], "SAME"), {"Conv2D"})
case("conv_strides_hw", {"x": (1, 10, 7, 1)},
     lambda r, x: tf.nn.conv2d(x, w(r, 10, 4, 1, 6), [1, 2, 1, 1], "VALID"), {"Conv2D"})
case("conv_dilated_same", {"x": (1, 9, 9, 2)},
     lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 2, 3), 1, "SAME", dilations=2), {"Conv2D"})
case("conv_explicit_pads", {"x": (1, 6, 6, 2)},
     lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 2, 3), 1, [[0, 0], [1, 2], [0, 1], [0, 0]]), {"Conv2D"})
case("conv_nchw", {"x": (1, 3, 7, 6)},
     lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 3, 4), [1, 1, 2, 2], "SAME", data_format="NCHW"), {"Conv2D"})
case("conv_grouped", {"x": (1, 6, 6, 4)},
     lambda r, x: tf.nn.conv2d(x, w(r, 3, 3, 2, 6), 1, "SAME"), {"Conv2D"})
case("conv_bias_relu", {"x": (2, 5, 5, 4)},
     lambda r, x: tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w(r, 1, 1, 4, 8), 1, "VALID"), w(r, 8))),
     {"Conv2D", "BiasAdd", "Relu"})

# ---------------------------------------------------------------- DepthwiseConv2dNative
case("dw_same_m1", {"x": (1, 7, 7, 4)},
     lambda r, x: tf.nn.depthwise_conv2d(x, w(r, 3, 3, 4, 1), [1, 1, 1, 1], "SAME"), {"DepthwiseConv2dNative"})
case("dw_valid_s2_m2", {"x": (1, 9, 8, 3)},
     lambda r, x: tf.nn.depthwise_conv2d(x, w(r, 3, 3, 3, 2), [1, 2, 2, 1], "VALID"), {"DepthwiseConv2dNative"})
case("dw_same_s2_m3", {"x": (1, 6, 6, 2)},
     lambda r, x: tf.nn.depthwise_conv2d(x, w(r, 3, 2, 2, 3), [1, 2, 2, 1], "SAME"), {"DepthwiseConv2dNative"})
case("dw_dilated", {"x": (1, 9, 9, 3)},
     lambda r, x: tf.raw_ops.DepthwiseConv2dNative(input=x, filter=w(r, 3, 3, 3, 1), strides=[1, 1, 1, 1],
                                                   padding="SAME", dilations=[1, 2, 2, 1]),
     {"DepthwiseConv2dNative"})
case("dw_single_channel", {"x": (1, 6, 6, 1)},
     lambda r, x: tf.nn.depthwise_conv2d(x, w(r, 3, 3, 1, 4), [1, 1, 1, 1], "SAME"), {"DepthwiseConv2dNative"})
case("dw_nchw", {"x": (1, 3, 6, 6)},
     lambda r, x: tf.nn.depthwise_conv2d(x, w(r, 3, 3, 3, 2), [1, 1, 1, 1], "SAME", data_format="NCHW"),
     {"DepthwiseConv2dNative"})

# ---------------------------------------------------------------- BiasAdd, MatMul
case("bias_add_nchw", {"x": (1, 3, 4, 5)}, lambda r, x: tf.nn.bias_add(x, w(r, 3), data_format="NCHW"),
     {"BiasAdd"})
case("bias_add_rank2", {"x": (3, 6)}, lambda r, x: tf.nn.bias_add(x, w(r, 6)), {"BiasAdd"})
case("matmul_bias", {"x": (2, 6)}, lambda r, x: tf.nn.bias_add(tf.matmul(x, w(r, 6, 5)), w(r, 5)),
     {"MatMul", "BiasAdd"})
case("matmul_transpose_b", {"x": (3, 6)}, lambda r, x: tf.matmul(x, w(r, 4, 6), transpose_b=True), {"MatMul"})
case("matmul_transpose_a", {"x": (6, 3)}, lambda r, x: tf.matmul(x, w(r, 6, 4), transpose_a=True), {"MatMul"})
case("matmul_two_inputs", {"a": (3, 5), "b": (4, 5)},
     lambda r, a, b: tf.matmul(a, b, transpose_b=True), {"MatMul"})
case("matmul_const_left", {"x": (5, 3)}, lambda r, x: tf.matmul(w(r, 2, 5), x), {"MatMul"})
case("batch_matmul", {"a": (2, 3, 4), "b": (2, 4, 5)}, lambda r, a, b: tf.matmul(a, b), {"BatchMatMulV2"})
case("batch_matmul_adj", {"a": (2, 4, 3), "b": (1, 5, 4)},
     lambda r, a, b: tf.matmul(a, b, adjoint_a=True, adjoint_b=True), {"BatchMatMulV2"})
case("batch_matmul_v1", {"a": (3, 2, 4)},
     lambda r, a: tf.raw_ops.BatchMatMul(x=a, y=w(r, 3, 4, 2)), {"BatchMatMul"})

# ---------------------------------------------------------------- elementwise binary
case("add_same", {"a": (2, 3, 4), "b": (2, 3, 4)}, lambda r, a, b: tf.raw_ops.Add(x=a, y=b), {"Add"})
case("addv2_broadcast", {"a": (2, 3, 4), "b": (4,)}, lambda r, a, b: a + b, {"AddV2"})
case("sub_broadcast_both", {"a": (2, 1, 4), "b": (3, 1)}, lambda r, a, b: a - b, {"Sub"})
case("sub_const_left", {"x": (2, 5)}, lambda r, x: w(r, 5) - x, {"Sub"})
case("mul_const", {"x": (2, 3, 4)}, lambda r, x: x * w(r, 3, 1), {"Mul"})
case("realdiv", {"a": (2, 6), "b": (2, 6)}, lambda r, a, b: a / b, {"RealDiv"}, positive=True)
case("realdiv_scalar", {"x": (3, 4)}, lambda r, x: x / 3.0, {"RealDiv"})
case("maximum_minimum", {"a": (2, 5), "b": (5,)},
     lambda r, a, b: tf.minimum(tf.maximum(a, b), 0.25), {"Maximum", "Minimum"})

# Constants after a conv / MatMul fold into its weights; these cases check the folds.
case("conv_mul_add_fold", {"x": (1, 6, 6, 3)},
     lambda r, x: tf.nn.relu(tf.nn.conv2d(x, w(r, 3, 3, 3, 4), 1, "SAME") * w(r, 4) + w(r, 1, 1, 4)),
     {"Conv2D", "Mul", "AddV2"})
case("matmul_sub_fold", {"x": (2, 6)}, lambda r, x: tf.matmul(x, w(r, 6, 3)) - w(r, 3), {"MatMul", "Sub"})
case("conv_shared_output", {"x": (1, 5, 5, 2)},   # two readers: no fold
     lambda r, x: (lambda c: [c * w(r, 3), tf.nn.relu(c)])(tf.nn.conv2d(x, w(r, 3, 3, 2, 3), 1, "SAME")),
     {"Conv2D", "Mul", "Relu"})
case("conv_add_non_channel", {"x": (1, 4, 4, 2)},   # not per-channel: stays an add
     lambda r, x: tf.nn.conv2d(x, w(r, 1, 1, 2, 3), 1, "SAME") + w(r, 4, 1, 1), {"Conv2D", "AddV2"})

# ---------------------------------------------------------------- activations, unary
case("relu", {"x": (2, 3, 5)}, lambda r, x: tf.nn.relu(x), {"Relu"})
case("relu6", {"x": (2, 3, 5)}, lambda r, x: tf.nn.relu6(x * 4.0), {"Relu6"})
case("leaky_relu", {"x": (2, 7)}, lambda r, x: tf.nn.leaky_relu(x, 0.1), {"LeakyRelu"})
case("sigmoid", {"x": (3, 4)}, lambda r, x: tf.sigmoid(x * 3.0), {"Sigmoid"})
case("tanh", {"x": (3, 4)}, lambda r, x: tf.tanh(x * 2.0), {"Tanh"})
case("rsqrt", {"x": (3, 4)}, lambda r, x: tf.math.rsqrt(x), {"Rsqrt"}, positive=True)
case("sqrt", {"x": (3, 4)}, lambda r, x: tf.sqrt(x), {"Sqrt"}, positive=True)
case("exp", {"x": (3, 4)}, lambda r, x: tf.exp(x), {"Exp"})
case("neg_abs", {"x": (3, 4)}, lambda r, x: tf.abs(-x + 0.5), {"Neg", "Abs"})

# ---------------------------------------------------------------- pooling
case("maxpool_same_s2", {"x": (1, 6, 8, 3)},
     lambda r, x: tf.nn.max_pool2d(x, 3, 2, "SAME"), {"MaxPool"})
case("maxpool_valid", {"x": (1, 8, 6, 2)},
     lambda r, x: tf.nn.max_pool2d(x, [2, 3], [2, 1], "VALID"), {"MaxPool"})
case("avgpool_same_excludes_pad", {"x": (1, 7, 6, 3)},
     lambda r, x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), {"AvgPool"})
case("avgpool_valid_global", {"x": (1, 25, 5, 4)},
     lambda r, x: tf.nn.avg_pool2d(x, [25, 5], 2, "VALID"), {"AvgPool"})
case("avgpool_nchw", {"x": (1, 2, 6, 6)},
     lambda r, x: tf.nn.avg_pool2d(x, 2, 2, "SAME", data_format="NCHW"), {"AvgPool"})
case("maxpool_nchw", {"x": (1, 2, 5, 5)},
     lambda r, x: tf.nn.max_pool2d(x, 3, 2, "SAME", data_format="NCHW"), {"MaxPool"})

# ---------------------------------------------------------------- shapes
case("reshape_minus_one", {"x": (2, 3, 4)}, lambda r, x: tf.reshape(x, [-1, 4]) * 2.0, {"Reshape"})
case("squeeze_dims", {"x": (1, 3, 1, 4)}, lambda r, x: tf.squeeze(x, [0, 2]) + 1.0, {"Squeeze"})
case("squeeze_all", {"x": (1, 3, 1, 1)}, lambda r, x: tf.squeeze(x) + 1.0, {"Squeeze"})
case("squeeze_negative", {"x": (2, 3, 1)}, lambda r, x: tf.squeeze(x, [-1]) + 1.0, {"Squeeze"})
case("expand_dims", {"x": (2, 3)}, lambda r, x: tf.expand_dims(x, 1) + tf.constant(w(r, 4, 1)), {"ExpandDims"})
case("expand_dims_negative", {"x": (2, 3)}, lambda r, x: tf.expand_dims(x, -1) * tf.constant(w(r, 2)), {"ExpandDims"})
case("transpose", {"x": (2, 3, 4)}, lambda r, x: tf.transpose(x, [2, 0, 1]), {"Transpose"})
case("transpose_nhwc_nchw", {"x": (1, 4, 5, 3)}, lambda r, x: tf.transpose(x, [0, 3, 1, 2]), {"Transpose"})

# ---------------------------------------------------------------- reductions, softmax
case("argmax_argmin", {"x": (2, 5, 7)},
     lambda r, x: [tf.argmax(x, -1), tf.argmin(x, 1, output_type=tf.int32), tf.argmax(x * 2.0, 0, output_type=tf.int32)],
     {"ArgMax", "ArgMin"})
case("mean_spatial", {"x": (1, 5, 4, 3)}, lambda r, x: tf.reduce_mean(x, [1, 2]), {"Mean"})
case("mean_keep_dims", {"x": (2, 5, 4)}, lambda r, x: tf.reduce_mean(x, [1], keepdims=True), {"Mean"})
case("mean_negative_axis", {"x": (2, 5, 4)}, lambda r, x: tf.reduce_mean(x, -1), {"Mean"})
case("sum_max_min", {"x": (2, 5, 4)},
     lambda r, x: [tf.reduce_sum(x, 1), tf.reduce_max(x, [0, 2], keepdims=True), tf.reduce_min(x, -1)],
     {"Sum", "Max", "Min"})
case("softmax", {"x": (2, 12)}, lambda r, x: tf.nn.softmax(x * 3.0), {"Softmax"})
case("softmax_rank3", {"x": (2, 3, 5)}, lambda r, x: tf.nn.softmax(x), {"Softmax"})
case("log_softmax", {"x": (2, 7)}, lambda r, x: tf.nn.log_softmax(x), {"LogSoftmax"})

# ---------------------------------------------------------------- concat, pack, pad
case("concat_last", {"a": (1, 4, 4, 2), "b": (1, 4, 4, 3)}, lambda r, a, b: tf.concat([a, b], -1), {"ConcatV2"})
case("concat_axis1_const", {"a": (2, 3, 4)}, lambda r, a: tf.concat([a, w(r, 2, 1, 4), a], 1), {"ConcatV2"})
case("concat_negative_axis", {"a": (2, 3), "b": (2, 3)}, lambda r, a, b: tf.concat([a, b], -2), {"ConcatV2"})
case("concat_v1", {"a": (2, 3), "b": (2, 2)},
     lambda r, a, b: tf.raw_ops.Concat(concat_dim=1, values=[a, b]), {"Concat"})
case("pack_tensors", {"a": (2, 3), "b": (2, 3)}, lambda r, a, b: tf.stack([a, b], 1), {"Pack"})
case("pad_spatial", {"x": (1, 3, 4, 2)}, lambda r, x: tf.pad(x, [[0, 0], [1, 2], [2, 0], [0, 0]]), {"Pad"})
case("padv2_value", {"x": (2, 3)}, lambda r, x: tf.pad(x, [[1, 0], [0, 2]], constant_values=1.5), {"PadV2"})

# ---------------------------------------------------------------- batch norm
case("fused_bn_v3_alone", {"x": (1, 4, 4, 3)},
     lambda r, x: tf1.nn.fused_batch_norm(x, *bn_params(r, 3), epsilon=1e-3, is_training=False)[0],
     {"FusedBatchNormV3"})
case("fused_bn_v1_after_conv", {"x": (1, 5, 5, 2)},
     lambda r, x: tf.nn.relu(tf.raw_ops.FusedBatchNorm(
         x=tf.nn.bias_add(tf.nn.conv2d(x, w(r, 3, 3, 2, 4), 1, "SAME"), w(r, 4)),
         scale=w(r, 4), offset=w(r, 4), mean=w(r, 4), variance=w(r, 4, positive=True),
         epsilon=1e-3, is_training=False)[0]),
     {"Conv2D", "BiasAdd", "FusedBatchNorm", "Relu"})
case("fused_bn_after_depthwise", {"x": (1, 5, 5, 3)},
     lambda r, x: tf1.nn.fused_batch_norm(
         tf.nn.depthwise_conv2d(x, w(r, 3, 3, 3, 2), [1, 1, 1, 1], "SAME"), *bn_params(r, 6),
         is_training=False)[0],
     {"DepthwiseConv2dNative", "FusedBatchNormV3"})
case("fused_bn_v2_nchw", {"x": (1, 3, 4, 4)},
     lambda r, x: tf.raw_ops.FusedBatchNormV2(x=x, scale=w(r, 3), offset=w(r, 3), mean=w(r, 3),
                                               variance=w(r, 3, positive=True), is_training=False,
                                               data_format="NCHW")[0],
     {"FusedBatchNormV2"})
case("fused_bn_after_conv_nchw", {"x": (1, 2, 5, 5)},
     lambda r, x: tf1.nn.fused_batch_norm(tf.nn.conv2d(x, w(r, 3, 3, 2, 3), 1, "SAME", data_format="NCHW"),
                                          *bn_params(r, 3), is_training=False, data_format="NCHW")[0],
     {"Conv2D", "FusedBatchNormV3"})

# ---------------------------------------------------------------- shape arithmetic, folded at import
case("flatten_dynamic_batch", {"x": (None, 4, 4, 3)},
     lambda r, x: tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), w(r, 48, 5)),
     {"Shape", "StridedSlice", "Pack", "Reshape", "MatMul"})
case("shape_arithmetic", {"x": (None, 6, 4)},
     lambda r, x: tf.reshape(x, tf.stack([tf.shape(x)[0], tf.reduce_prod(tf.shape(x)[1:]) // 4,
                                          tf.shape(x)[2] % 3 + 1, tf.size(x) // tf.size(x) * 2])),
     {"Shape", "StridedSlice", "Prod", "FloorDiv", "FloorMod", "AddV2", "Mul", "Size", "Pack"})
case("fill_range_gather", {"x": (None, 3, 4)},
     lambda r, x: x * tf.fill(tf.gather(tf.shape(x), [2]), 0.5)
     + tf.cast(tf.range(4), tf.float32)
     + tf.cast(tf.raw_ops.Rank(input=x), tf.float32)
     + tf.cast(tf.reduce_sum(tf.slice(tf.shape(x), [1], [2])), tf.float32)
     + tf.cast(tf.unstack(tf.shape(x))[1], tf.float32)
     + tf.raw_ops.ZerosLike(x=w(r, 4)) + tf.raw_ops.OnesLike(x=w(r, 4)),
     {"Fill", "GatherV2", "Range", "Cast", "Rank", "Slice", "Sum", "Unpack", "ZerosLike", "OnesLike"})
case("const_arithmetic", {"x": (2, 4)},   # batch-norm done by hand on constants, as in CNN_S
     lambda r, x: tf.matmul(x, w(r, 4, 3)) * (tf.math.rsqrt(w(r, 3, positive=True) + 1e-3) * w(r, 3))
     + (w(r, 3) - w(r, 3) * tf.sqrt(w(r, 3, positive=True))) / 2.0 + tf.nn.relu(w(r, 3)),
     {"MatMul", "Rsqrt", "Sqrt", "Mul", "Sub", "RealDiv", "AddV2", "Relu"})
case("pass_through", {"x": (2, 3)},
     lambda r, x: tf.identity_n([tf.stop_gradient(tf.identity(x)), x])[0]
     + tf.raw_ops.Snapshot(input=tf.debugging.check_numerics(x, "x"))
     + tf.raw_ops.PreventGradient(input=x)
     + tf1.placeholder_with_default(w(r, 2, 3), [2, 3]),
     {"IdentityN", "StopGradient", "Identity", "Snapshot", "CheckNumerics", "PreventGradient",
      "PlaceholderWithDefault"})

# ---------------------------------------------------------------- more activations (composed kernels)
case("elu_selu", {"x": (2, 3, 5)}, lambda r, x: [tf.nn.elu(x * 2.0), tf.nn.selu(x * 2.0)], {"Elu", "Selu"})
case("softplus_softsign", {"x": (2, 9)}, lambda r, x: [tf.nn.softplus(x * 30.0), tf.nn.softsign(x * 3.0)],
     {"Softplus", "Softsign"})
case("floor_ceil_round_sign", {"x": (3, 8)},
     lambda r, x: [tf.floor(x * 3.0), tf.math.ceil(x * 3.0), tf.round(x * 4.0), tf.round(tf.constant(
         np.array([[0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -2.5, 3.5]] * 3, np.float32)) + x * 0.0), tf.sign(x - 0.2)],
     {"Floor", "Ceil", "Round", "Sign"})
case("log_erf_square_reciprocal", {"x": (3, 4)},
     lambda r, x: [tf.math.log(x), tf.math.erf(x - 1.0), tf.square(x), tf.math.reciprocal(x)],
     {"Log", "Erf", "Square", "Reciprocal"}, positive=True)
case("pow_squared_difference", {"a": (2, 5), "b": (5,)},
     lambda r, a, b: [tf.pow(a, b), tf.math.squared_difference(a, b * 3.0), tf.pow(a, 2.5)],
     {"Pow", "SquaredDifference"}, positive=True)
case("add_n_div_clip", {"a": (2, 5), "b": (2, 5), "c": (2, 5)},
     lambda r, a, b, c: [tf.add_n([a, b, c, a]), tf.raw_ops.Div(x=a, y=b),
                         tf.raw_ops.ClipByValue(t=a, clip_value_min=-0.5, clip_value_max=0.75),
                         tf.raw_ops.ClipByValue(t=b, clip_value_min=w(r, 2, 5) + 0.0, clip_value_max=w(r, 2, 5) + 1.5)],
     {"AddN", "Div", "ClipByValue"}, positive=True)
case("v1_v2_v3_variants", {"x": (1, 6, 6, 2)},
     lambda r, x: [tf.raw_ops.MaxPoolV2(input=x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME"),
                   tf.raw_ops.BiasAddV1(value=x, bias=w(r, 2)),
                   tf.raw_ops.BatchMatMulV3(x=x, y=w(r, 1, 2, 3), Tout=tf.float32)],
     {"MaxPoolV2", "BiasAddV1", "BatchMatMulV3"})
case("keras_prelu", {"x": (1, 4, 5, 3)},   # relu(x) - alpha * relu(-x): one prelu kernel
     lambda r, x: tf.nn.relu(x) + (-w(r, 1, 1, 3)) * tf.nn.relu(-x), {"Relu", "Neg", "Mul", "AddV2"})
case("keras_prelu_shared_after_conv", {"x": (1, 5, 5, 2)},
     lambda r, x: (lambda c: tf.raw_ops.Add(x=tf.multiply(np.float32(-0.25), tf.nn.relu(tf.negative(c))),
                                            y=tf.nn.relu(c)))(
         tf.nn.conv2d(x, w(r, 3, 3, 2, 4), 1, "SAME")), {"Conv2D", "Relu", "Neg", "Mul", "Add"})
case("lrn", {"x": (1, 4, 5, 7)},
     lambda r, x: tf.nn.local_response_normalization(x, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75), {"LRN"})
case("lrn_default_radius", {"x": (1, 3, 3, 12)}, lambda r, x: tf.nn.lrn(x * 2.0), {"LRN"})

# ---------------------------------------------------------------- data movement on activations
case("strided_slice_tensor", {"x": (1, 6, 7, 4)},
     lambda r, x: [x[:, 1:5:2, ::3, 1:], x[0, :, -1], x[..., 2], x[:, tf.newaxis, 2:4]], {"StridedSlice"})
case("strided_slice_negative_strides", {"x": (1, 5, 6, 3)},   # BGR <-> RGB, flips
     lambda r, x: [x[..., ::-1], x[:, ::-2, 1:5], x[:, 3:0:-1, ::-3, 1]], {"StridedSlice"})
case("slice_tensor", {"x": (2, 5, 6)}, lambda r, x: tf.slice(x, [0, 1, 2], [1, -1, 3]), {"Slice"})
case("split_equal", {"x": (1, 4, 6, 6)}, lambda r, x: [p * 1.0 for p in tf.split(x, 3, axis=-1)], {"Split"})
case("split_v", {"x": (2, 7, 3)}, lambda r, x: tf.split(x, [2, -1, 1], axis=1), {"SplitV"})
case("unpack_tensor", {"x": (2, 3, 4)}, lambda r, x: [v + 1.0 for v in tf.unstack(x, axis=1)], {"Unpack"})
case("gather_tensor", {"x": (2, 6, 3)},
     lambda r, x: [tf.gather(x, [4, 0, 1, 2, 2], axis=1), tf.gather(x, 1, axis=2), tf.gather(x, [[1], [0]]),
                   tf.gather(x, [2, 3, 4], axis=-2)],
     {"GatherV2"})
case("tile", {"x": (1, 3, 2, 2)}, lambda r, x: tf.tile(x, [1, 2, 1, 3]), {"Tile"})
case("tile_many_axes", {"x": (2, 3, 2, 2)}, lambda r, x: tf.tile(x, [2, 2, 3, 2]), {"Tile"})   # > 6 copy axes
case("select_constant_condition", {"a": (2, 3, 4), "b": (2, 3, 4)},
     lambda r, a, b: [tf.where(r.standard_normal((2, 3, 4)) > 0, a, b),
                      tf.where(r.standard_normal((3, 1)) > 0, a, w(r, 4)),
                      tf.raw_ops.Select(condition=np.array([True, False]), x=a, y=b)],
     {"SelectV2", "Select"})
case("broadcast_to", {"x": (3, 1)}, lambda r, x: tf.broadcast_to(x, [2, 3, 4]), {"BroadcastTo"})
case("depth_to_space", {"x": (1, 3, 4, 8)}, lambda r, x: tf.nn.depth_to_space(x, 2), {"DepthToSpace"})
case("space_to_depth", {"x": (1, 6, 4, 3)}, lambda r, x: tf.nn.space_to_depth(x, 2), {"SpaceToDepth"})
case("mirror_pad_reflect", {"x": (1, 5, 6, 2)},
     lambda r, x: tf.pad(x, [[0, 0], [2, 1], [1, 3], [0, 0]], mode="REFLECT"), {"MirrorPad"})
case("mirror_pad_symmetric", {"x": (1, 5, 6, 2)},   # the border repeated; pads up to the axis
     lambda r, x: tf.pad(x, [[0, 0], [2, 5], [6, 1], [1, 2]], mode="SYMMETRIC"), {"MirrorPad"})
case("resize_bilinear", {"x": (1, 5, 4, 3)},
     lambda r, x: [tf1.image.resize_bilinear(x, [9, 7]), tf1.image.resize_bilinear(x, [10, 8], align_corners=True),
                   tf1.image.resize_bilinear(x, [3, 11], half_pixel_centers=True)], {"ResizeBilinear"})
case("resize_nearest", {"x": (1, 4, 5, 2)},
     lambda r, x: [tf1.image.resize_nearest_neighbor(x, [8, 10]),
                   tf1.image.resize_nearest_neighbor(x, [7, 3], align_corners=True),
                   tf1.image.resize_nearest_neighbor(x, [6, 9], half_pixel_centers=True)],
     {"ResizeNearestNeighbor"})
case("conv_transpose_same_s2", {"x": (1, 4, 5, 3)},
     lambda r, x: tf.nn.conv2d_transpose(x, w(r, 3, 3, 4, 3), [1, 8, 10, 4], 2, "SAME"),
     {"Conv2DBackpropInput"})
case("conv_transpose_valid_odd", {"x": (1, 3, 3, 2)},
     lambda r, x: tf.nn.bias_add(tf.nn.conv2d_transpose(x, w(r, 2, 3, 5, 2), [1, 7, 10, 5], [1, 2, 3, 1], "VALID"),
                                 w(r, 5)), {"Conv2DBackpropInput", "BiasAdd"})
case("conv_transpose_same_odd_out", {"x": (1, 3, 4, 2)},
     lambda r, x: tf.nn.conv2d_transpose(x, w(r, 3, 3, 3, 2), [1, 5, 7, 3], 2, "SAME"), {"Conv2DBackpropInput"})
case("depthwise_transpose_s2", {"x": (1, 3, 4, 6)},   # 3 channels, multiplier 2 -> 6 in, 3 out
     lambda r, x: tf.raw_ops.DepthwiseConv2dNativeBackpropInput(
         input_sizes=[1, 6, 8, 3], filter=w(r, 3, 3, 3, 2), out_backprop=x, strides=[1, 2, 2, 1], padding="SAME"),
     {"DepthwiseConv2dNativeBackpropInput"})
case("depthwise_transpose_valid_m1", {"x": (1, 4, 4, 2)},
     lambda r, x: tf.raw_ops.DepthwiseConv2dNativeBackpropInput(
         input_sizes=[1, 6, 5, 2], filter=w(r, 3, 2, 2, 1), out_backprop=x, strides=[1, 1, 1, 1], padding="VALID"),
     {"DepthwiseConv2dNativeBackpropInput"})
case("dilated_conv_s2b", {"x": (1, 9, 10, 3)},   # what tf.nn.atrous_conv2d and TF1 Keras write
     lambda r, x: tf.nn.bias_add(tf.batch_to_space(tf.nn.conv2d(
         tf.space_to_batch_nd(x, [2, 2], [[2, 3], [2, 2]]), w(r, 3, 3, 3, 4), 1, "VALID"), [2, 2], [[0, 1], [0, 0]]),
         w(r, 4)), {"SpaceToBatchND", "Conv2D", "BatchToSpaceND", "BiasAdd"})
case("dilated_depthwise_s2b", {"x": (1, 8, 8, 3)},
     lambda r, x: tf.nn.relu(tf1.nn.atrous_conv2d(x, w(r, 3, 3, 3, 5), 2, "SAME")
                             + tf.nn.depthwise_conv2d(x, w(r, 3, 3, 3, 1), [1, 1, 1, 1], "SAME",
                                                      dilations=[3, 3])[..., :1]),
     {"SpaceToBatchND", "Conv2D", "BatchToSpaceND", "DepthwiseConv2dNative"})


def _ops_of(graph_def) -> set[str]:
    return {n.op for n in graph_def.node}


def test_every_supported_op_has_cases():
    covered = set().union(*(_ops_of(c.graph()[0]) for c in CASES)) - {"Placeholder"}
    missing = SUPPORTED_OPS - covered
    assert not missing, f"supported TF ops without a differential case: {sorted(missing)}"
    unsupported = covered - SUPPORTED_OPS
    assert not unsupported, f"cases use ops hhbc does not support: {sorted(unsupported)}"


@pytest.fixture(scope="module", params=["host", pytest.param("c908", marks=pytest.mark.qemu)])
def target(request):
    """Every case runs natively (target host) and under QEMU (target c908)."""
    return get_target(request.param)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tf_op(case, target, tmp_path):
    graph_def, outputs = case.graph()
    assert case.ops <= _ops_of(graph_def), f"the graph lacks {sorted(case.ops - _ops_of(graph_def))}"
    path = tmp_path / f"{case.id}.pb"
    path.write_bytes(graph_def.SerializeToString())
    options = ImportOptions(output_names=tuple(outputs))
    result = run_and_compare(path, target, inputs=case.arrays(), options=options, out_dir=tmp_path / "out")
    report = f"{case.id} on {target.name}:\n" + "\n".join(c.line() for c in result.comparisons)
    assert len(result.outputs) == len(result.references) == len(outputs), report
    for got, ref, name in zip(result.outputs, result.references, outputs):
        assert got.shape == ref.shape, f"{name}: hhbc shape {got.shape}, TensorFlow {ref.shape}\n{report}"
    assert result.ok, report
