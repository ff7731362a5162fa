"""The table of op-level float32 TFLite cases: tiny models built and converted by TensorFlow.

Each case is a float TensorFlow function over seeded constant weights, converted without
any optimization (float32 weights, float32 IO). tests/ops/test_tflite_float_ops.py compiles
each with hhbc, runs it and compares it with the TFLite interpreter's reference kernels
under hhbc's float tolerance.

To add a case, append it to the section of its op. `fn(rng)` returns the body of the TF
function; `ops` lists the TFLite builtins the converted model must contain, so that a case
whose op the converter fused or folded away fails instead of passing vacuously.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
from tflite_int8_cases import _reshape_as, _tf, _unfold_dilated_conv, converter_for, model_ops  # noqa: F401

F32 = np.float32


@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[[np.random.Generator], Callable]   # rng -> body of the TF function
    inputs: tuple[tuple[int, ...], ...]
    ops: frozenset[str]          # TFLite builtins the converted model must contain
    qemu: bool = False           # also run on c908 under QEMU
    positive: bool = False       # inputs |x| + 0.1 (LOG, SQRT, RSQRT, DIV denominators)
    rewrite: Callable[[bytes], bytes] | None = None   # applied to the converted flatbuffer
    needs: str = ""              # a Relax op whose hhbc handler the case waits for (skipped until then)

    def seed(self) -> int:
        return zlib.crc32(self.id.encode())

    def input_arrays(self, shapes, k: int = 0) -> list[np.ndarray]:
        """Seeded normal inputs (input set k) for the model's input shapes."""
        rng = np.random.default_rng(self.seed() + 1 + k)
        arrays = [rng.standard_normal(s).astype(F32) for s in shapes]
        return [np.abs(a) + F32(0.1) for a in arrays] if self.positive else arrays


def convert(case: Case) -> bytes:
    """The float .tflite bytes of a case (seeded weights: the same bytes on every run)."""
    data = bytes(converter_for(case).convert())
    return case.rewrite(data) if case.rewrite is not None else data


def _op(f: Callable):
    """A model of one op; f(tf, *inputs) -> output(s)."""
    def make(rng):
        tf = _tf()
        return lambda *xs: f(tf, *xs)
    return make


def _with_weights(f: Callable):
    """f(tf, rng, *inputs): for ops with seeded constant operands."""
    def make(rng):
        tf = _tf()
        return lambda *xs: f(tf, rng, *xs)
    return make


def _prelu(alpha_shape):
    """relu(x) + (-alpha) * relu(-x): the converter writes one PRELU (slope of alpha_shape)."""
    def f(tf, rng, x):
        alpha = rng.uniform(0.05, 0.5, alpha_shape).astype(F32)
        return tf.nn.relu(x) + (-alpha) * tf.nn.relu(-x)
    return _with_weights(f)


def _prelu_slope_1d(data: bytes) -> bytes:
    """The PRELU's [1, 1, C] slope rewritten to [C] (as some MediaPipe models store it)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    code = schema.BuiltinOperator.PRELU
    for op in sg.operators:
        oc = model.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            alpha = sg.tensors[op.inputs[1]]
            alpha.shape, alpha.shapeSignature = [int(np.prod(alpha.shape))], None
    return pack_model(model, len(data))


def pack_model(model, size_hint: int) -> bytes:
    """A schema ModelT back to .tflite bytes."""
    import flatbuffers

    builder = flatbuffers.Builder(size_hint * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _transpose_conv(kernel, cout, stride, padding, bias):
    def f(tf, rng, x):
        n, h, w, cin = x.shape
        out_h = h * stride if padding == "SAME" else (h - 1) * stride + kernel
        out_w = w * stride if padding == "SAME" else (w - 1) * stride + kernel
        wt = (rng.standard_normal((kernel, kernel, cout, cin)) * 0.3).astype(F32)
        y = tf.nn.conv2d_transpose(x, wt, [n, out_h, out_w, cout], stride, padding)
        if bias:
            y = tf.nn.bias_add(y, (rng.standard_normal(cout) * 0.5).astype(F32))
        return y
    return _with_weights(f)


def _dilated_conv(depthwise: bool):
    """A dilated convolution; the converter writes it as one CONV_2D with dilation, or as
    SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND."""
    def f(tf, rng, x):
        cin = x.shape[-1]
        if depthwise:
            wt = (rng.standard_normal((3, 3, cin, 1)) * 0.3).astype(F32)
            return tf.nn.depthwise_conv2d(x, wt, [1, 1, 1, 1], "SAME", dilations=[2, 2])
        wt = (rng.standard_normal((3, 3, cin, 4)) * 0.3).astype(F32)
        return tf.nn.conv2d(x, wt, 1, "SAME", dilations=2)
    return _with_weights(f)


def _fc_rank3(units, keep_dims):
    def f(tf, rng, x):
        wt = (rng.standard_normal((x.shape[-1], units)) * 0.3).astype(F32)
        y = tf.tensordot(x, wt, axes=1) if keep_dims else tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), wt)
        return y + (rng.standard_normal(units) * 0.5).astype(F32)
    return _with_weights(f)


S4 = (1, 5, 6, 4)


def _shape_cases() -> list[Case]:
    return [
        Case("strided-slice-box", _op(lambda tf, x: x[:, 1:4, 1:6:2, :]), (S4,), frozenset({"STRIDED_SLICE"}),
             qemu=True),
        Case("strided-slice-negative-step", _op(lambda tf, x: x[:, ::-1, 4:0:-2, 1:]), (S4,),
             frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-shrink", _op(lambda tf, x: x[:, 2, :, 1:3]), (S4,), frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-ellipsis-newaxis", _op(lambda tf, x: x[..., tf.newaxis, 1:3]), (S4,),
             frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-masks", _op(lambda tf, x: tf.strided_slice(
            x, [0, -4, 1, 0], [0, -1, 0, 3], [1, 1, 2, 1], begin_mask=0b1001, end_mask=0b0101)), (S4,),
             frozenset({"STRIDED_SLICE"})),
        Case("split-v-inferred-negative-axis", _op(lambda tf, x: tf.split(x, [2, -1], axis=-1)), (S4,),
             frozenset({"SPLIT_V"})),
        Case("slice", _op(lambda tf, x: tf.slice(x, [0, 1, 2, 0], [1, 3, -1, 3])), (S4,), frozenset({"SLICE"})),
        Case("split", _op(lambda tf, x: tf.split(x, 2, axis=3)), (S4,), frozenset({"SPLIT"}), qemu=True),
        Case("split-v", _op(lambda tf, x: tf.split(x, [1, 3, 2], axis=2)), (S4,), frozenset({"SPLIT_V"})),
        Case("pack", _op(lambda tf, a, b: tf.stack([a, b], axis=1)), ((1, 3, 4), (1, 3, 4)),
             frozenset({"PACK"})),
        Case("unpack", _op(lambda tf, x: tf.unstack(x, axis=3)), ((1, 3, 4, 3),), frozenset({"UNPACK"})),
        Case("gather-axis1", _op(lambda tf, x: tf.gather(x, [3, 0, 2, 2], axis=1)), (S4,),
             frozenset({"GATHER"}), needs="relax.take"),
        Case("gather-axis3", _op(lambda tf, x: tf.gather(x, [1, 3], axis=3)), (S4,), frozenset({"GATHER"}),
             needs="relax.take"),
        Case("transpose", _op(lambda tf, x: tf.transpose(x, [0, 3, 1, 2])), (S4,), frozenset({"TRANSPOSE"})),
        Case("squeeze", _op(lambda tf, x: tf.squeeze(x, axis=[2]) * 2.0), ((1, 4, 1, 3),),
             frozenset({"SQUEEZE"}), rewrite=_reshape_as("SQUEEZE", 2)),
        Case("expand-dims", _op(lambda tf, x: tf.expand_dims(x, 1) * 2.0), ((1, 4, 3),),
             frozenset({"EXPAND_DIMS"}), rewrite=_reshape_as("EXPAND_DIMS", 1)),
        Case("depth-to-space", _op(lambda tf, x: tf.nn.depth_to_space(x, 2)), ((1, 3, 4, 8),),
             frozenset({"DEPTH_TO_SPACE"}), qemu=True),
        Case("space-to-depth", _op(lambda tf, x: tf.nn.space_to_depth(x, 2)), ((1, 4, 6, 3),),
             frozenset({"SPACE_TO_DEPTH"})),
        Case("space-to-batch", _op(lambda tf, x: tf.space_to_batch_nd(x, [2, 2], [[1, 1], [0, 2]])),
             ((1, 4, 6, 3),), frozenset({"SPACE_TO_BATCH_ND"})),
        Case("batch-to-space", _op(lambda tf, x: tf.batch_to_space(x, [2, 2], [[0, 1], [1, 0]])),
             ((4, 3, 3, 2),), frozenset({"BATCH_TO_SPACE_ND"})),
        Case("resize-bilinear-half-pixel", _op(lambda tf, x: tf.image.resize(x, [8, 9], "bilinear")), (S4,),
             frozenset({"RESIZE_BILINEAR"}), qemu=True),
        Case("resize-bilinear-align-corners",
             _op(lambda tf, x: tf.compat.v1.image.resize_bilinear(x, [9, 11], align_corners=True)), (S4,),
             frozenset({"RESIZE_BILINEAR"})),
        Case("resize-bilinear-legacy",
             _op(lambda tf, x: tf.compat.v1.image.resize_bilinear(x, [7, 4])), (S4,),
             frozenset({"RESIZE_BILINEAR"})),
        Case("resize-nearest-half-pixel", _op(lambda tf, x: tf.image.resize(x, [10, 12], "nearest")), (S4,),
             frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
        Case("resize-nearest-align-corners",
             _op(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [9, 11], align_corners=True)),
             (S4,), frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
        Case("resize-nearest-legacy",
             _op(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [3, 8])), (S4,),
             frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
    ]


def _conv_like_cases() -> list[Case]:
    return [
        Case("prelu-slope-11c", _prelu((1, 1, 4)), (S4,), frozenset({"PRELU"}), qemu=True),
        Case("prelu-slope-c", _prelu((1, 1, 4)), (S4,), frozenset({"PRELU"}), rewrite=_prelu_slope_1d),
        Case("prelu-slope-hwc", _prelu((5, 6, 4)), (S4,), frozenset({"PRELU"})),
        Case("transpose-conv-same-s2", _transpose_conv(3, 5, 2, "SAME", True), ((1, 4, 5, 3),),
             frozenset({"TRANSPOSE_CONV"}), qemu=True),
        Case("transpose-conv-valid-s1-nobias", _transpose_conv(3, 4, 1, "VALID", False), ((1, 4, 4, 2),),
             frozenset({"TRANSPOSE_CONV"})),
        Case("transpose-conv-valid-s2", _transpose_conv(2, 3, 2, "VALID", True), ((1, 3, 5, 4),),
             frozenset({"TRANSPOSE_CONV"})),
        Case("conv-dilated", _dilated_conv(False), ((1, 10, 10, 3),), frozenset({"CONV_2D"})),
        Case("conv-dilated-s2b-b2s", _dilated_conv(False), ((1, 10, 10, 3),),
             frozenset({"CONV_2D", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"}), rewrite=_unfold_dilated_conv,
             qemu=True),
        Case("depthwise-dilated-s2b-b2s", _dilated_conv(True), ((1, 10, 10, 3),),
             frozenset({"DEPTHWISE_CONV_2D", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"}),
             rewrite=_unfold_dilated_conv),
        Case("fc-rank3-keep-dims", _fc_rank3(5, True), ((1, 4, 6),), frozenset({"FULLY_CONNECTED"})),
        Case("fc-rank3-flatten", _fc_rank3(5, False), ((2, 3, 6),), frozenset({"FULLY_CONNECTED"})),
    ]


def _elementwise_cases() -> list[Case]:
    pair = (S4, S4)
    return [
        Case("squared-difference", _op(lambda tf, a, b: tf.math.squared_difference(a, b)), pair,
             frozenset({"SQUARED_DIFFERENCE"})),
        Case("rsqrt", _op(lambda tf, x: tf.math.rsqrt(x)), (S4,), frozenset({"RSQRT"}), positive=True),
        Case("sqrt", _op(lambda tf, x: tf.sqrt(x)), (S4,), frozenset({"SQRT"}), positive=True),
        Case("exp", _op(lambda tf, x: tf.exp(x)), (S4,), frozenset({"EXP"})),
        Case("log", _op(lambda tf, x: tf.math.log(x)), (S4,), frozenset({"LOG"}), positive=True),
        Case("abs", _op(lambda tf, x: tf.abs(x)), (S4,), frozenset({"ABS"})),
        Case("neg", _op(lambda tf, x: tf.negative(x)), (S4,), frozenset({"NEG"})),
        Case("maximum", _op(lambda tf, a, b: tf.maximum(a, b)), pair, frozenset({"MAXIMUM"})),
        Case("minimum-broadcast", _op(lambda tf, a, b: tf.minimum(a, b)), (S4, (1, 1, 1, 4)),
             frozenset({"MINIMUM"})),
        Case("div", _op(lambda tf, a, b: a / (tf.abs(b) + 0.5)), pair, frozenset({"DIV"})),
        Case("sub-broadcast", _op(lambda tf, a, b: a - b), (S4, (1, 5, 1, 4)), frozenset({"SUB"}), qemu=True),
        Case("floor", _op(lambda tf, x: tf.floor(x * 3.0)), (S4,), frozenset({"FLOOR"}),
             needs="relax.floor"),
        Case("leaky-relu", _op(lambda tf, x: tf.nn.leaky_relu(x, 0.15)), (S4,), frozenset({"LEAKY_RELU"})),
        Case("elu", _op(lambda tf, x: tf.nn.elu(x)), (S4,), frozenset({"ELU"}), qemu=True),
        Case("l2-normalization", _op(lambda tf, x: tf.math.l2_normalize(x, axis=-1)), (S4,),
             frozenset({"L2_NORMALIZATION"})),
    ]


def _reduce_cases() -> list[Case]:
    return [
        Case("reduce-max", _op(lambda tf, x: tf.reduce_max(x, axis=[1, 2])), (S4,), frozenset({"REDUCE_MAX"})),
        Case("reduce-min-keepdims", _op(lambda tf, x: tf.reduce_min(x, axis=3, keepdims=True)), (S4,),
             frozenset({"REDUCE_MIN"})),
        Case("sum", _op(lambda tf, x: tf.reduce_sum(x, axis=[1])), (S4,), frozenset({"SUM"})),
        Case("mean", _op(lambda tf, x: tf.reduce_mean(x, axis=[1, 2], keepdims=True)), (S4,),
             frozenset({"MEAN"})),
        Case("arg-max", _op(lambda tf, x: tf.argmax(x, axis=3, output_type=tf.int32)), (S4,),
             frozenset({"ARG_MAX"}), needs="relax.argmax"),
        Case("arg-min", _op(lambda tf, x: tf.argmin(x, axis=1)), (S4,), frozenset({"ARG_MIN"}),
             needs="relax.argmin"),
    ]


def _dev_zoo_cases() -> list[Case]:
    """The ops the dev zoo already used, one small case each (so every SUPPORTED_OPS has one)."""
    def conv_pool(tf, rng, x):
        w = (rng.standard_normal((3, 3, 4, 6)) * 0.3).astype(F32)
        y = tf.nn.relu6(tf.nn.conv2d(x, w, 1, "SAME"))
        return tf.nn.max_pool2d(y, 2, 2, "VALID"), tf.nn.avg_pool2d(y, 3, 1, "SAME")

    def dw_fc_softmax(tf, rng, x):
        w = (rng.standard_normal((3, 3, 4, 1)) * 0.3).astype(F32)
        y = tf.nn.relu(tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID"))
        y = tf.reshape(y, [1, -1])
        fc = (rng.standard_normal((y.shape[-1], 7)) * 0.3).astype(F32)
        return tf.nn.softmax(tf.matmul(y, fc))

    return [
        Case("conv-relu6-pools", _with_weights(conv_pool), (S4,),
             frozenset({"CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"}), qemu=True),
        Case("depthwise-reshape-fc-softmax", _with_weights(dw_fc_softmax), (S4,),
             frozenset({"DEPTHWISE_CONV_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"})),
        Case("add-mul-concat", _op(lambda tf, a, b: tf.concat([a + b, a * b], axis=3)), (S4, S4),
             frozenset({"ADD", "MUL", "CONCATENATION"})),
        Case("activations", _op(lambda tf, x: tf.concat(
            [tf.nn.relu(x), tf.nn.relu6(x), tf.clip_by_value(x, -1.0, 1.0), tf.sigmoid(x), tf.tanh(x),
             x * tf.nn.relu6(x + 3.0) / 6.0], axis=3)), (S4,),
             frozenset({"RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH", "HARD_SWISH"})),
        Case("pad", _op(lambda tf, x: tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]])), (S4,), frozenset({"PAD"})),
        Case("padv2", _op(lambda tf, x: tf.pad(x, [[0, 0], [1, 0], [2, 1], [0, 0]], constant_values=0.5)),
             (S4,), frozenset({"PADV2"})),
    ]


def _select_const(v2: bool):
    """where(constant condition, a, b): SELECT_V2 (broadcast condition) or SELECT."""
    def f(tf, rng, a, b):
        if v2:
            cond = rng.integers(0, 2, (1, 1, 6, 4)).astype(bool)
            return tf.where(cond, a, b)
        cond = rng.integers(0, 2, a.shape).astype(bool)
        return tf.compat.v1.where(cond, a, b)
    return _with_weights(f)


def _micro_cases() -> list[Case]:
    """Float builtins TFLite Micro's op resolver offers that an existing kernel computes."""
    pair = (S4, S4)
    return [
        Case("add-n", _op(lambda tf, a, b, c: tf.math.add_n([a, b, c])), (S4, S4, S4), frozenset({"ADD_N"}),
             qemu=True),
        Case("batch-matmul", _op(lambda tf, a, b: tf.matmul(a, b)), ((2, 3, 4), (2, 4, 5)),
             frozenset({"BATCH_MATMUL"}), qemu=True),
        Case("batch-matmul-adj-broadcast", _op(lambda tf, a, b: tf.matmul(a, b, transpose_a=True,
                                                                          transpose_b=True)),
             ((2, 3, 4, 3), (1, 5, 4)), frozenset({"BATCH_MATMUL"})),
        Case("batch-matmul-const-rhs", _with_weights(lambda tf, rng, a: tf.matmul(
            a, (rng.standard_normal((2, 4, 5)) * 0.3).astype(F32))), ((2, 3, 4),), frozenset({"BATCH_MATMUL"})),
        Case("broadcast-to", _op(lambda tf, x: tf.broadcast_to(x, [2, 5, 6, 4])), ((1, 5, 1, 4),),
             frozenset({"BROADCAST_TO"}), qemu=True),
        Case("gelu-exact", _op(lambda tf, x: tf.nn.gelu(x, approximate=False)), (S4,), frozenset({"GELU"}),
             qemu=True),
        Case("gelu-tanh", _op(lambda tf, x: tf.nn.gelu(x, approximate=True)), (S4,), frozenset({"GELU"})),
        Case("lrn", _op(lambda tf, x: tf.nn.local_response_normalization(x, 2, 1.5, 0.3, 0.75)), ((1, 4, 5, 7),),
             frozenset({"LOCAL_RESPONSE_NORMALIZATION"}), qemu=True),
        Case("lrn-radius-wide", _op(lambda tf, x: tf.nn.local_response_normalization(x, 5, 0.5, 0.1, 0.5)),
             ((1, 3, 3, 4),), frozenset({"LOCAL_RESPONSE_NORMALIZATION"})),
        Case("log-softmax", _op(lambda tf, x: tf.nn.log_softmax(x)), (S4,), frozenset({"LOG_SOFTMAX"}),
             qemu=True),
        Case("mirror-pad-reflect", _op(lambda tf, x: tf.pad(x, [[0, 0], [2, 1], [1, 3], [0, 0]], "REFLECT")),
             (S4,), frozenset({"MIRROR_PAD"}), qemu=True),
        Case("mirror-pad-symmetric", _op(lambda tf, x: tf.pad(x, [[0, 0], [2, 1], [0, 6], [1, 0]], "SYMMETRIC")),
             (S4,), frozenset({"MIRROR_PAD"}), qemu=True),
        Case("pow", _op(lambda tf, a, b: tf.pow(tf.abs(a) + 0.5, b)), pair, frozenset({"POW"}), qemu=True),
        Case("select-v2-const-cond", _select_const(True), pair, frozenset({"SELECT_V2"}), qemu=True),
        Case("select-const-cond", _select_const(False), pair, frozenset({"SELECT"})),
        Case("square", _op(lambda tf, x: tf.square(x)), (S4,), frozenset({"SQUARE"}), qemu=True),
        Case("tile", _op(lambda tf, x: tf.tile(x, [1, 2, 1, 3])), (S4,), frozenset({"TILE"}), qemu=True),
    ]


CASES: list[Case] = (_shape_cases() + _conv_like_cases() + _elementwise_cases() + _reduce_cases()
                     + _dev_zoo_cases() + _micro_cases())


def as_transpose_conv_bias(data: bytes) -> bytes:
    """The model's TRANSPOSE_CONV (inputs output_shape, weights, input, bias) rewritten into
    MediaPipe's custom op Convolution2DTransposeBias (inputs input, weights, bias; custom options
    int32 padding 1 SAME / 2 VALID, stride_w, stride_h). The interpreter does not know the custom
    op: compare with it running the original model."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM, schema.BuiltinOperator.CUSTOM
    code.customCode, code.version = b"Convolution2DTransposeBias", 1
    model.operatorCodes.append(code)
    tconv = schema.BuiltinOperator.TRANSPOSE_CONV
    (op,) = [o for o in sg.operators if max(model.operatorCodes[o.opcodeIndex].builtinCode,
                                            model.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode) == tconv]
    opts = op.builtinOptions
    padding = 1 if opts.padding == schema.Padding.SAME else 2
    bias = op.inputs[3] if len(op.inputs) > 3 and op.inputs[3] >= 0 else -1
    if bias < 0:   # the custom op always has a bias: zeros
        cout = sg.tensors[op.inputs[1]].shape[0]
        buf = schema.BufferT()
        buf.data = np.zeros(cout * 4, np.uint8)
        model.buffers.append(buf)
        t = schema.TensorT()
        t.shape, t.type, t.buffer, t.name = [cout], schema.TensorType.FLOAT32, len(model.buffers) - 1, b"zero_bias"
        sg.tensors.append(t)
        bias = len(sg.tensors) - 1
    op.opcodeIndex = len(model.operatorCodes) - 1
    op.inputs = [op.inputs[2], op.inputs[1], bias]
    op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.NONE, None
    op.customOptions = np.frombuffer(np.array([padding, opts.strideW, opts.strideH], "<i4").tobytes(), np.uint8)
    op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
    return pack_model(model, len(data))


def transpose_conv_cases() -> list[Case]:
    """TRANSPOSE_CONV cases for the custom-op test (the original and its rewrite)."""
    return [c for c in CASES if c.ops == frozenset({"TRANSPOSE_CONV"})]
