"""The table of op-level int8 TFLite cases: tiny models built and quantized by TensorFlow.

Each case is a float TensorFlow function over seeded constant weights. `convert(case)`
runs the TFLite converter on it with full-integer post-training quantization
(`Optimize.DEFAULT`, a seeded representative dataset, `TFLITE_BUILTINS_INT8`) and
returns the flatbuffer bytes: int8 inputs and outputs, or float ones for
`float_io` cases (the converter then puts QUANTIZE at the input and DEQUANTIZE at
the output). Per-tensor weight cases turn the converter's per-channel weights off.

tests/ops/test_tflite_int8_ops.py compiles each model with hhbc, runs it and
compares it bit for bit with the TFLite interpreter's reference kernels.

To add a case, append it to the section of its op. `fn(rng)` gets a
numpy Generator seeded from the case id and returns the TF function body; weights
drawn from it are baked into the graph as constants. `ops` lists the TFLite
builtins the converted model must contain, so a case that stops exercising its
op (the converter fused or folded it away) fails instead of passing vacuously.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

F32 = np.float32
CALIBRATION_SAMPLES = 32


@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[[np.random.Generator], Callable]   # rng -> body of the TF function
    inputs: tuple[tuple[int, ...], ...]
    ops: frozenset[str]                   # TFLite builtins the converted model must contain
    per_channel: bool = True              # False: per-tensor weight scales
    float_io: bool = False                # float32 IO: QUANTIZE in, DEQUANTIZE out
    ranges: tuple[float, ...] = ()        # calibration spread per input (default 1.0 each)
    qemu: bool = False                    # also run on the RISC-V targets under QEMU
    rewrite: Callable[[bytes], bytes] | None = None   # applied to the converted flatbuffer

    def seed(self) -> int:
        return zlib.crc32(self.id.encode())


def _tf():
    """TensorFlow, imported on first conversion only (it takes seconds to load)."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    return tf


def converter_for(case) -> object:
    """A TFLiteConverter for the case's TF function over its seeded weights (the same graph on
    every run). Autograph is off: it caches converted lambdas by their code, so cases built
    from one lambda expression could get each other's graphs."""
    tf = _tf()
    tf.random.set_seed(case.seed())
    body = case.fn(np.random.default_rng(case.seed()))
    sig = [tf.TensorSpec(shape, tf.float32, name=f"x{k}") for k, shape in enumerate(case.inputs)]
    module = tf.Module()
    module.f = tf.function(body, input_signature=sig, autograph=False)
    return tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)


def convert(case: Case) -> bytes:
    """The .tflite bytes of a case; the same bytes on every run (seeded weights and data)."""
    tf = _tf()
    converter = converter_for(case)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: _calibration(case)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not case.float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    if not case.per_channel:
        converter._experimental_disable_per_channel = True
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    with warnings.catch_warnings():   # the calibrator still reads signatures with tf.lite.Interpreter
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        data = converter.convert()
    return case.rewrite(data) if case.rewrite is not None else data


def _calibration(case: Case):
    """Seeded representative data: each input normal with the case's spread for it. Keyed by
    signature name: the converter may order the model's inputs differently from the function's."""
    rng = np.random.default_rng(case.seed() ^ 0x5EED)
    ranges = case.ranges or (1.0,) * len(case.inputs)
    for _ in range(CALIBRATION_SAMPLES):
        yield {f"x{k}": (rng.standard_normal(shape) * r).astype(F32)
               for k, (shape, r) in enumerate(zip(case.inputs, ranges))}


def model_ops(data: bytes) -> set[str]:
    """The builtin op names of a .tflite flatbuffer."""
    import tflite
    from tflite.BuiltinOperator import BuiltinOperator

    names = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    model = tflite.Model.GetRootAsModel(data, 0)
    sg = model.Subgraphs(0)
    ops = set()
    for i in range(sg.OperatorsLength()):
        code = model.OperatorCodes(sg.Operators(i).OpcodeIndex())
        ops.add(names[max(code.DeprecatedBuiltinCode(), code.BuiltinCode())])
    return ops


WEIGHT_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


def weight_scale_counts(data: bytes) -> list[int]:
    """How many scales each int8 weight (filter/matrix operand 1 of a WEIGHT_OPS op) carries:
    1 per-tensor, the output channel count per-channel."""
    import tflite
    from tflite.BuiltinOperator import BuiltinOperator

    codes = {getattr(BuiltinOperator, name) for name in WEIGHT_OPS}
    model = tflite.Model.GetRootAsModel(data, 0)
    sg = model.Subgraphs(0)
    counts = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        if max(code.DeprecatedBuiltinCode(), code.BuiltinCode()) in codes:
            q = sg.Tensors(int(op.Inputs(1))).Quantization()
            counts.append(q.ScaleLength() if q is not None else 0)
    return counts


# ---------------------------------------------------------------- builders
def _activation(tf, x, act: str):
    if act == "relu":
        return tf.nn.relu(x)
    if act == "relu6":
        return tf.nn.relu6(x)
    return x


def _weights(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """He-scaled normal weights, with per-output-channel spread so per-channel scales differ."""
    w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    spread = np.exp(rng.uniform(-1.0, 1.0, size=shape[-1]))
    return (w * spread).astype(F32)


def _conv(kernel, cout, strides, padding, dilation=1, bias=True, act="none"):
    def make(rng):
        tf = _tf()

        def body(x):
            cin = x.shape[-1]
            w = _weights(rng, (*kernel, cin, cout), kernel[0] * kernel[1] * cin)
            y = tf.nn.conv2d(x, w, strides=strides, padding=padding.upper(), dilations=dilation)
            if bias:
                y = tf.nn.bias_add(y, (rng.standard_normal(cout) * 0.5).astype(F32))
            return _activation(tf, y, act)
        return body
    return make


def _depthwise(kernel, multiplier, strides, padding, act="none"):
    def make(rng):
        tf = _tf()

        def body(x):
            cin = x.shape[-1]
            w = _weights(rng, (*kernel, cin, multiplier), kernel[0] * kernel[1])
            y = tf.nn.depthwise_conv2d(x, w, strides=[1, strides, strides, 1], padding=padding.upper())
            y = tf.nn.bias_add(y, (rng.standard_normal(cin * multiplier) * 0.5).astype(F32))
            return _activation(tf, y, act)
        return body
    return make


def _dense(units, bias=True, act="none", flatten=False):
    def make(rng):
        tf = _tf()

        def body(x):
            if flatten:
                x = tf.reshape(x, [x.shape[0], -1])
            w = _weights(rng, (x.shape[-1], units), x.shape[-1])
            y = tf.matmul(x, w)
            if bias:
                y = tf.nn.bias_add(y, (rng.standard_normal(units) * 0.5).astype(F32))
            return _activation(tf, y, act)
        return body
    return make


def _binary(op: str, act="none"):
    def make(rng):
        tf = _tf()

        def body(a, b):
            y = tf.add(a, b) if op == "add" else tf.multiply(a, b)
            return _activation(tf, y, act)
        return body
    return make


def _pool(kind: str, size, strides, padding):
    def make(rng):
        tf = _tf()

        def body(x):
            pool = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
            return pool(x, ksize=size, strides=strides, padding=padding.upper())
        return body
    return make


def _unary(f: Callable):
    """A model of one elementwise/shape op; f(tf, x) -> y."""
    def make(rng):
        tf = _tf()
        return lambda x: f(tf, x)
    return make


def _concat(axis: int):
    def make(rng):
        tf = _tf()
        return lambda *xs: tf.concat(list(xs), axis=axis)
    return make


def _hard_swish(tf, x):
    """The x * relu6(x + 3) / 6 form the converter fuses into HARD_SWISH."""
    return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def _concat_fixed_scales(rng):
    """concat(x0, softmax(x1)): softmax's output scale is fixed at 1/256, so the converter
    requantizes it (an int8->int8 QUANTIZE) to the concatenation's shared scale."""
    tf = _tf()
    return lambda a, b: tf.concat([a, tf.nn.softmax(b)], axis=-1)


def _concat_three_scales(rng):
    """concat(tanh(x0), x1, logistic(x2)): two fixed-scale operands (1/128, 1/256) and one
    calibrated one, each requantized to the concatenation's scale."""
    tf = _tf()
    return lambda a, b, c: tf.concat([tf.tanh(a), b, tf.sigmoid(c)], axis=-1)


# ---------------------------------------------------------------- the table
def _conv_cases() -> list[Case]:
    rows = [   # (kernel, cout, stride, padding, dilation, bias, act, per-channel, input shape)
        ((1, 1), 5, 1, "valid", 1, True, "none", True, (1, 6, 7, 3)),
        ((1, 1), 7, 2, "valid", 1, False, "relu", False, (1, 7, 6, 5)),
        ((3, 3), 5, 1, "same", 1, True, "relu", True, (1, 8, 9, 3)),
        ((3, 3), 5, 1, "same", 1, True, "relu6", False, (1, 8, 9, 3)),
        ((3, 3), 7, 2, "same", 1, True, "relu6", True, (1, 9, 8, 5)),
        ((3, 3), 7, 2, "valid", 1, True, "none", False, (1, 9, 8, 5)),
        ((3, 3), 6, 1, "valid", 1, False, "none", True, (1, 7, 7, 4)),
        ((3, 3), 9, 2, "same", 1, False, "relu6", False, (1, 10, 10, 3)),
        ((5, 3), 5, 1, "valid", 1, True, "relu6", True, (1, 9, 7, 3)),
        ((5, 3), 5, 2, "same", 1, True, "none", False, (1, 9, 7, 3)),
        ((3, 3), 5, 1, "same", 2, True, "relu", True, (1, 9, 9, 3)),
        ((3, 3), 4, 1, "valid", 2, True, "none", False, (1, 9, 10, 5)),
    ]
    cases = []
    for kernel, cout, stride, padding, dilation, bias, act, pc, shape in rows:
        kid = f"{kernel[0]}x{kernel[1]}"
        sid = f"d{dilation}" if dilation > 1 else f"s{stride}"
        cid = f"conv2d-{kid}-{sid}-{padding}-{act}{'' if bias else '-nobias'}-{'pc' if pc else 'pt'}"
        cases.append(Case(cid, _conv(kernel, cout, stride, padding, dilation, bias, act), (shape,),
                          frozenset({"CONV_2D"}), per_channel=pc,
                          qemu=cid == "conv2d-3x3-s2-same-relu6-pc"))
    return cases


def _depthwise_cases() -> list[Case]:
    rows = [   # (kernel, multiplier, stride, padding, act, per-channel, input shape)
        ((3, 3), 1, 1, "same", "relu6", True, (1, 8, 8, 5)),
        ((3, 3), 1, 1, "valid", "none", False, (1, 8, 8, 5)),
        ((3, 3), 1, 2, "same", "relu6", False, (1, 9, 9, 3)),
        ((3, 3), 1, 2, "valid", "relu6", True, (1, 9, 9, 3)),
        ((3, 3), 2, 1, "same", "none", True, (1, 7, 8, 3)),
        ((3, 3), 2, 2, "same", "relu6", False, (1, 7, 8, 3)),
        ((5, 3), 1, 2, "same", "none", True, (1, 10, 9, 4)),
        ((3, 3), 2, 2, "valid", "relu6", True, (1, 9, 9, 5)),
    ]
    cases = []
    for kernel, mult, stride, padding, act, pc, shape in rows:
        cid = f"dwconv-{kernel[0]}x{kernel[1]}-m{mult}-s{stride}-{padding}-{act}-{'pc' if pc else 'pt'}"
        cases.append(Case(cid, _depthwise(kernel, mult, stride, padding, act), (shape,),
                          frozenset({"DEPTHWISE_CONV_2D"}), per_channel=pc,
                          qemu=cid == "dwconv-3x3-m2-s2-same-relu6-pt"))
    return cases


def _dense_cases() -> list[Case]:
    rows = [   # (units, bias, act, per-channel, flatten, input shape)
        (10, True, "none", False, False, (1, 20)),
        (7, True, "relu", False, False, (1, 33)),
        (9, False, "none", False, False, (1, 16)),
        (10, True, "none", True, False, (1, 20)),
        (5, True, "relu", True, False, (3, 12)),
        (6, True, "relu", False, True, (1, 4, 4, 3)),
        (8, True, "none", True, True, (1, 3, 5, 2)),
    ]
    cases = []
    for units, bias, act, pc, flatten, shape in rows:
        cid = (f"fc-{'4d' if flatten else '2d'}-{units}-{act}{'' if bias else '-nobias'}"
               f"{'-b' + str(shape[0]) if shape[0] > 1 else ''}-{'pc' if pc else 'pt'}")
        ops = {"FULLY_CONNECTED"} | ({"RESHAPE"} if flatten else set())
        cases.append(Case(cid, _dense(units, bias, act, flatten), (shape,), frozenset(ops),
                          per_channel=pc, qemu=cid == "fc-2d-7-relu-pt"))
    return cases


def _elementwise_cases() -> list[Case]:
    s = (1, 5, 6, 4)
    return [
        Case("add-same", _binary("add"), (s, s), frozenset({"ADD"}), ranges=(1.0, 3.0), qemu=True),
        Case("add-broadcast-c", _binary("add"), (s, (1, 1, 1, 4)), frozenset({"ADD"}), ranges=(2.0, 0.5)),
        Case("add-broadcast-hw", _binary("add"), (s, (1, 5, 6, 1)), frozenset({"ADD"})),
        Case("add-same-relu", _binary("add", "relu"), (s, s), frozenset({"ADD"}), ranges=(1.0, 0.3)),
        Case("add-broadcast-relu", _binary("add", "relu"), ((1, 3, 4, 5), (1, 1, 4, 5)), frozenset({"ADD"})),
        Case("mul-same", _binary("mul"), (s, s), frozenset({"MUL"}), ranges=(1.0, 3.0)),
        Case("mul-broadcast-c", _binary("mul"), (s, (1, 1, 1, 4)), frozenset({"MUL"}), ranges=(2.0, 0.5)),
        Case("mul-broadcast-hw", _binary("mul"), ((1, 4, 5, 3), (1, 4, 5, 1)), frozenset({"MUL"})),
    ]


def _pool_cases() -> list[Case]:
    rows = [   # (size, stride, padding, input shape)
        ((2, 2), 2, "valid", (1, 8, 8, 3)),
        ((3, 3), 1, "same", (1, 7, 7, 5)),
        ((3, 3), 2, "same", (1, 9, 8, 4)),
        ((3, 2), 2, "valid", (1, 9, 7, 3)),
        ((5, 5), 1, "valid", (1, 5, 5, 6)),     # global
    ]
    cases = []
    for kind, op in (("avg", "AVERAGE_POOL_2D"), ("max", "MAX_POOL_2D")):
        for size, stride, padding, shape in rows:
            cid = f"{kind}pool-{size[0]}x{size[1]}-s{stride}-{padding}"
            cases.append(Case(cid, _pool(kind, size, stride, padding), (shape,), frozenset({op}),
                              qemu=cid == "avgpool-3x3-s2-same"))
    return cases


def _other_cases() -> list[Case]:
    return [
        Case("mean-hw-keepdims", _unary(lambda tf, x: tf.reduce_mean(x, axis=[1, 2], keepdims=True)),
             ((1, 6, 5, 12),), frozenset({"MEAN"})),
        Case("mean-hw", _unary(lambda tf, x: tf.reduce_mean(x, axis=[1, 2])),
             ((1, 4, 7, 16),), frozenset({"MEAN"})),
        Case("softmax-2d", _unary(lambda tf, x: tf.nn.softmax(x)), ((1, 10),), frozenset({"SOFTMAX"}),
             ranges=(3.0,), qemu=True),
        Case("softmax-2d-wide", _unary(lambda tf, x: tf.nn.softmax(x)), ((1, 32),), frozenset({"SOFTMAX"}),
             ranges=(12.0,)),
        Case("softmax-4d", _unary(lambda tf, x: tf.nn.softmax(x)), ((1, 3, 4, 7),), frozenset({"SOFTMAX"})),
        Case("concat-2-channel", _concat(-1), ((1, 4, 5, 3), (1, 4, 5, 2)), frozenset({"CONCATENATION"}),
             ranges=(1.0, 4.0)),
        Case("concat-3-channel", _concat(-1), ((1, 3, 3, 2), (1, 3, 3, 5), (1, 3, 3, 1)),
             frozenset({"CONCATENATION"}), ranges=(0.5, 1.0, 3.0)),
        Case("concat-2-width", _concat(2), ((1, 3, 2, 4), (1, 3, 5, 4)), frozenset({"CONCATENATION"}),
             ranges=(2.0, 1.0)),
        # The converter gives every operand of a concatenation the output's scale (TFLite's int8
        # CONCATENATION refuses differing ones); operands whose scale is fixed elsewhere arrive
        # through int8->int8 QUANTIZE (requantize) ops.
        Case("concat-2-requantize-softmax", _concat_fixed_scales, ((1, 4, 5, 3), (1, 4, 5, 2)),
             frozenset({"SOFTMAX", "QUANTIZE", "CONCATENATION"}), ranges=(4.0, 1.0)),
        Case("concat-3-requantize-tanh-logistic", _concat_three_scales,
             ((1, 3, 4, 3), (1, 3, 4, 2), (1, 3, 4, 4)),
             frozenset({"TANH", "LOGISTIC", "QUANTIZE", "CONCATENATION"}), ranges=(2.0, 3.0, 1.0)),
        Case("pad-constant", _unary(lambda tf, x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]])),
             ((1, 4, 5, 3),), frozenset({"PAD"}), ranges=(2.0,)),
        Case("pad-constant-value", _unary(lambda tf, x: tf.pad(x, [[0, 0], [2, 0], [1, 1], [0, 0]],
                                                               constant_values=0.75)),
             ((1, 3, 4, 5),), frozenset({"PADV2"}), ranges=(2.0,)),
        Case("relu", _unary(lambda tf, x: tf.nn.relu(x)), ((1, 4, 5, 3),), frozenset({"RELU"})),
        Case("relu6", _unary(lambda tf, x: tf.nn.relu6(x)), ((1, 4, 5, 3),), frozenset({"RELU6"}),
             ranges=(5.0,)),
        Case("relu-n1-to-1", _unary(lambda tf, x: tf.clip_by_value(x, -1.0, 1.0)), ((1, 4, 5, 3),),
             frozenset({"RELU_N1_TO_1"}), ranges=(2.0,)),
        Case("logistic", _unary(lambda tf, x: tf.sigmoid(x)), ((1, 4, 4, 5),), frozenset({"LOGISTIC"}),
             ranges=(4.0,)),
        Case("tanh", _unary(lambda tf, x: tf.tanh(x)), ((1, 4, 4, 5),), frozenset({"TANH"}), ranges=(2.0,)),
        Case("hard-swish", _unary(_hard_swish), ((1, 4, 4, 5),), frozenset({"HARD_SWISH"}), ranges=(4.0,)),
        Case("reshape", _unary(lambda tf, x: tf.reshape(x, [1, 6, 8])), ((1, 4, 6, 2),),
             frozenset({"RESHAPE"})),
    ]


def _float_io_cases() -> list[Case]:
    return [
        Case("float-io-conv2d-3x3-s1-same-relu-pc", _conv((3, 3), 5, 1, "same", act="relu"), ((1, 6, 6, 3),),
             frozenset({"QUANTIZE", "CONV_2D", "DEQUANTIZE"}), float_io=True),
        Case("float-io-transpose-split", _unary(lambda tf, x: tf.split(tf.transpose(x, [0, 2, 1, 3]), 2, axis=1)),
             ((1, 3, 4, 5),), frozenset({"QUANTIZE", "TRANSPOSE", "SPLIT", "DEQUANTIZE"}), float_io=True),
        Case("float-io-fc-2d-8-none-pt", _dense(8), ((1, 12),),
             frozenset({"QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"}), per_channel=False, float_io=True),
    ]


# ---------------------------------------------------------------- data movement and selection
# Ops that keep their input's quantization (TFLite's int8 kernels copy or compare raw int8
# values): slices, splits, packs, gathers, layout changes, nearest resize, MAXIMUM/MINIMUM,
# REDUCE_MAX/MIN, ARG_MAX/MIN. Multi-output ops (SPLIT, SPLIT_V, UNPACK) return every part.
def _depthwise_dilated(rng):
    tf = _tf()

    def body(x):
        w = _weights(rng, (3, 3, x.shape[-1], 1), 9)
        return tf.nn.depthwise_conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME", dilations=[2, 2])
    return body


def _then(make, f: Callable):
    """A case builder followed by f(tf, y) on its result."""
    def wrapped(rng):
        tf = _tf()
        body = make(rng)
        return lambda *xs: f(tf, body(*xs))
    return wrapped


def _reshape_as(builtin: str, axis: int):
    """A rewrite of the model's one RESHAPE into SQUEEZE (squeeze_dims [axis]) or EXPAND_DIMS
    (an int32 axis operand), the ops the converter canonicalizes into RESHAPE for static shapes.
    Same tensors, same quantization: the interpreter runs the op the case is named for."""
    def rewrite(data: bytes) -> bytes:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema

        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
        sg = model.subgraphs[0]
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = getattr(schema.BuiltinOperator, builtin)
        code.version = 1
        model.operatorCodes.append(code)
        reshape = getattr(schema.BuiltinOperator, "RESHAPE")
        (op,) = [o for o in sg.operators
                 if max(model.operatorCodes[o.opcodeIndex].builtinCode,
                        model.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode) == reshape]
        op.opcodeIndex = len(model.operatorCodes) - 1
        if builtin == "SQUEEZE":
            op.inputs = [op.inputs[0]]
            op.builtinOptionsType = schema.BuiltinOptions.SqueezeOptions
            op.builtinOptions = schema.SqueezeOptionsT()
            op.builtinOptions.squeezeDims = [axis]
        else:
            buf = schema.BufferT()
            buf.data = np.frombuffer(np.array([axis], np.int32).tobytes(), np.uint8)
            model.buffers.append(buf)
            t = schema.TensorT()
            t.shape, t.type, t.buffer, t.name = [1], schema.TensorType.INT32, len(model.buffers) - 1, b"axis"
            sg.tensors.append(t)
            op.inputs = [op.inputs[0], len(sg.tensors) - 1]
            op.builtinOptionsType = schema.BuiltinOptions.ExpandDimsOptions
            op.builtinOptions = schema.ExpandDimsOptionsT()
        builder = flatbuffers.Builder(len(data) * 2 + 1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
    return rewrite


def _unfold_dilated_conv(data: bytes) -> bytes:
    """The model's one dilated stride-1 conv rewritten as TF writes a dilated convolution
    (and older converters left it): SPACE_TO_BATCH_ND -> undilated VALID conv ->
    BATCH_TO_SPACE_ND. The interpreter runs this form; hhbc folds it back."""
    import copy

    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    codes = [max(oc.builtinCode, oc.deprecatedBuiltinCode) for oc in model.operatorCodes]
    convs = {schema.BuiltinOperator.CONV_2D, schema.BuiltinOperator.DEPTHWISE_CONV_2D}
    (k,) = [k for k, op in enumerate(sg.operators) if codes[op.opcodeIndex] in convs]
    conv = sg.operators[k]
    opts = conv.builtinOptions
    b = opts.dilationHFactor
    assert b == opts.dilationWFactor > 1 and (opts.strideH, opts.strideW) == (1, 1)
    x, y = sg.tensors[conv.inputs[0]], sg.tensors[conv.outputs[0]]
    kh, kw = sg.tensors[conv.inputs[1]].shape[1:3]
    n, h, w, c = x.shape
    if opts.padding == schema.Padding.SAME:
        pads = [[b * (kh - 1) // 2, b * (kh - 1) - b * (kh - 1) // 2],
                [b * (kw - 1) // 2, b * (kw - 1) - b * (kw - 1) // 2]]
    else:
        pads = [[0, 0], [0, 0]]
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    assert hp % b == 0 and wp % b == 0, "pick shapes that need no extra S2B padding"

    def const(values):
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.asarray(values, np.int32).tobytes(), np.uint8)
        model.buffers.append(buf)
        t = schema.TensorT()
        t.shape, t.type, t.buffer = list(np.shape(values)), schema.TensorType.INT32, len(model.buffers) - 1
        t.name = f"unfold_const_{len(sg.tensors)}"
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def like(t, shape, name):
        u = copy.deepcopy(t)
        u.shape, u.shapeSignature, u.buffer, u.name = list(shape), None, 0, name
        sg.tensors.append(u)
        return len(sg.tensors) - 1

    def opcode(name):
        oc = schema.OperatorCodeT()
        oc.builtinCode = oc.deprecatedBuiltinCode = getattr(schema.BuiltinOperator, name)
        oc.version = 1
        model.operatorCodes.append(oc)
        return len(model.operatorCodes) - 1

    xs = like(x, [n * b * b, hp // b, wp // b, c], "unfold_s2b")
    ys = like(y, [n * b * b, hp // b - (kh - 1), wp // b - (kw - 1), y.shape[3]], "unfold_conv")
    s2b = schema.OperatorT()
    s2b.opcodeIndex, s2b.inputs, s2b.outputs = opcode("SPACE_TO_BATCH_ND"), [conv.inputs[0], const([b, b]),
                                                                             const(pads)], [xs]
    s2b.builtinOptionsType = schema.BuiltinOptions.SpaceToBatchNDOptions
    s2b.builtinOptions = schema.SpaceToBatchNDOptionsT()
    b2s = schema.OperatorT()
    b2s.opcodeIndex, b2s.inputs, b2s.outputs = opcode("BATCH_TO_SPACE_ND"), [ys, const([b, b]),
                                                                             const([[0, 0], [0, 0]])], [conv.outputs[0]]
    b2s.builtinOptionsType = schema.BuiltinOptions.BatchToSpaceNDOptions
    b2s.builtinOptions = schema.BatchToSpaceNDOptionsT()
    conv.inputs = [xs, *conv.inputs[1:]]
    conv.outputs = [ys]
    opts.dilationHFactor = opts.dilationWFactor = 1
    opts.padding = schema.Padding.VALID
    sg.operators[k:k + 1] = [s2b, conv, b2s]
    builder = flatbuffers.Builder(len(data) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _movement_cases() -> list[Case]:
    s4 = (1, 6, 5, 4)

    def u(f):
        return _unary(f)

    def b(f):
        def make(rng):
            tf = _tf()
            return lambda x, y: f(tf, x, y)
        return make

    return [
        Case("strided-slice-step2", u(lambda tf, x: x[:, 1:5, ::2, :]), (s4,), frozenset({"STRIDED_SLICE"}),
             qemu=True),
        Case("strided-slice-reverse", u(lambda tf, x: x[:, ::-1, 1:, 1:3]), (s4,), frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-shrink", u(lambda tf, x: x[:, 2, :, 1:]), (s4,), frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-ellipsis", u(lambda tf, x: x[..., ::2, 1:]), (s4,), frozenset({"STRIDED_SLICE"})),
        Case("strided-slice-new-axis", u(lambda tf, x: x[:, None, 1:-1, :, 2]), (s4,),
             frozenset({"STRIDED_SLICE"})),
        Case("slice", u(lambda tf, x: tf.slice(x, [0, 1, 2, 0], [1, 3, 2, -1])), (s4,), frozenset({"SLICE"}), qemu=True),
        Case("split-3-channel", u(lambda tf, x: tf.split(x, 3, axis=-1)), ((1, 4, 5, 6),),
             frozenset({"SPLIT"}), qemu=True),
        Case("split-2-height", u(lambda tf, x: tf.split(x, 2, axis=1)), (s4,), frozenset({"SPLIT"})),
        Case("split-v", u(lambda tf, x: tf.split(x, [1, 3, 2], axis=-1)), ((1, 4, 5, 6),),
             frozenset({"SPLIT_V"}), qemu=True),
        Case("pack-axis1", b(lambda tf, x, y: tf.stack([x, y], axis=1)), ((1, 5, 4), (1, 5, 4)),
             frozenset({"PACK"}), qemu=True, ranges=(1.0, 3.0)),
        Case("pack-last", b(lambda tf, x, y: tf.stack([x, y], axis=-1)), ((2, 3, 4), (2, 3, 4)),
             frozenset({"PACK"})),
        Case("unpack-axis1", u(lambda tf, x: tf.unstack(x, axis=1)), ((1, 3, 5, 4),), frozenset({"UNPACK"}), qemu=True),
        Case("unpack-last", u(lambda tf, x: tf.unstack(x, axis=-1)), ((1, 4, 5, 3),), frozenset({"UNPACK"})),
        Case("gather-axis1", u(lambda tf, x: tf.gather(x, [4, 0, 2, 2], axis=1)), (s4,), frozenset({"GATHER"}),
             qemu=True),
        Case("gather-last", u(lambda tf, x: tf.gather(x, [3, 1], axis=-1)), (s4,), frozenset({"GATHER"})),
        Case("transpose-nchw", u(lambda tf, x: tf.transpose(x, [0, 3, 1, 2])), (s4,), frozenset({"TRANSPOSE"}),
             qemu=True),
        Case("transpose-3d", u(lambda tf, x: tf.transpose(x, [2, 0, 1])), ((3, 5, 4),), frozenset({"TRANSPOSE"})),
        Case("squeeze", u(lambda tf, x: tf.squeeze(x, axis=[1])), ((1, 1, 5, 4),), frozenset({"SQUEEZE"}),
             rewrite=_reshape_as("SQUEEZE", 1)),
        Case("expand-dims", u(lambda tf, x: tf.expand_dims(x, axis=2)), ((1, 5, 4),), frozenset({"EXPAND_DIMS"}),
             rewrite=_reshape_as("EXPAND_DIMS", 2)),
        Case("depth-to-space", u(lambda tf, x: tf.nn.depth_to_space(x, 2)), ((1, 3, 4, 8),),
             frozenset({"DEPTH_TO_SPACE"}), qemu=True),
        Case("space-to-depth", u(lambda tf, x: tf.nn.space_to_depth(x, 2)), ((1, 4, 6, 3),),
             frozenset({"SPACE_TO_DEPTH"}), qemu=True),
        Case("space-to-batch-nd", u(lambda tf, x: tf.space_to_batch_nd(x, [2, 2], [[1, 1], [0, 1]])),
             ((1, 4, 5, 3),), frozenset({"SPACE_TO_BATCH_ND"})),
        Case("batch-to-space-nd", u(lambda tf, x: tf.batch_to_space(x, [2, 2], [[0, 1], [1, 0]])),
             ((4, 3, 3, 2),), frozenset({"BATCH_TO_SPACE_ND"}), qemu=True),
        # after a ReLU the zero point is -128: TFLite pads with it, not with 0
        Case("relu-space-to-batch-nd", u(lambda tf, x: tf.space_to_batch_nd(tf.nn.relu(x), [2, 2], [[1, 1], [2, 0]])),
             ((1, 4, 4, 3),), frozenset({"RELU", "SPACE_TO_BATCH_ND"}), qemu=True),
        Case("space-to-batch-nd-3d", u(lambda tf, x: tf.space_to_batch_nd(x, [3], [[1, 2]])), ((2, 6, 3),),
             frozenset({"SPACE_TO_BATCH_ND"})),
        Case("batch-to-space-nd-3d", u(lambda tf, x: tf.batch_to_space(x, [2], [[1, 0]])), ((4, 3, 5),),
             frozenset({"BATCH_TO_SPACE_ND"})),
        Case("dilated-conv-unfolded-same", _conv((3, 3), 5, 1, "same", dilation=2, act="relu6"), ((1, 8, 6, 3),),
             frozenset({"SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND"}), rewrite=_unfold_dilated_conv,
             qemu=True),
        Case("dilated-conv-unfolded-valid", _conv((3, 3), 4, 1, "valid", dilation=2), ((1, 8, 10, 3),),
             frozenset({"SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND"}), rewrite=_unfold_dilated_conv),
        Case("dilated-dwconv-unfolded-same", _depthwise_dilated, ((1, 6, 8, 4),),
             frozenset({"SPACE_TO_BATCH_ND", "DEPTHWISE_CONV_2D", "BATCH_TO_SPACE_ND"}),
             rewrite=_unfold_dilated_conv),
        Case("conv-depth-to-space", _then(_conv((3, 3), 12, 1, "same"), lambda tf, y: tf.nn.depth_to_space(y, 2)),
             ((1, 5, 4, 3),), frozenset({"CONV_2D", "DEPTH_TO_SPACE"})),
        Case("conv-split-concat", _then(_conv((1, 1), 6, 1, "valid", act="relu"),
                                        lambda tf, y: tf.concat(tf.split(y, 3, axis=-1)[::-1], axis=-1)),
             ((1, 4, 4, 3),), frozenset({"CONV_2D", "SPLIT", "CONCATENATION"})),
        Case("resize-nearest", u(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [7, 9])),
             ((1, 4, 5, 3),), frozenset({"RESIZE_NEAREST_NEIGHBOR"}), qemu=True),
        Case("resize-nearest-align-corners",
             u(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [7, 9], align_corners=True)),
             ((1, 4, 5, 3),), frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
        Case("resize-nearest-half-pixel",
             u(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [8, 7], half_pixel_centers=True)),
             ((1, 4, 5, 3),), frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
        Case("resize-nearest-down-half-pixel",
             u(lambda tf, x: tf.compat.v1.image.resize_nearest_neighbor(x, [3, 2], half_pixel_centers=True)),
             ((1, 7, 5, 3),), frozenset({"RESIZE_NEAREST_NEIGHBOR"})),
        Case("maximum", b(lambda tf, x, y: tf.maximum(x, y)), (s4, s4), frozenset({"MAXIMUM"}),
             ranges=(1.0, 2.0), qemu=True),
        Case("minimum-broadcast", b(lambda tf, x, y: tf.minimum(x, y)), (s4, (1, 1, 1, 4)),
             frozenset({"MINIMUM"}), qemu=True),
        Case("maximum-constant", u(lambda tf, x: tf.maximum(x, 0.25)), (s4,), frozenset({"MAXIMUM"})),
        Case("minimum-after-conv", _then(_conv((1, 1), 4, 1, "valid"), lambda tf, y: tf.minimum(y, y[:, :, ::-1])),
             (s4,), frozenset({"CONV_2D", "MINIMUM"})),
        Case("reduce-max-all", u(lambda tf, x: tf.reduce_max(x)), ((2, 3, 4),), frozenset({"REDUCE_MAX"})),
        Case("reduce-max-hw", u(lambda tf, x: tf.reduce_max(x, axis=[1, 2])), (s4,), frozenset({"REDUCE_MAX"}),
             qemu=True),
        Case("reduce-min-keepdims", u(lambda tf, x: tf.reduce_min(x, axis=-1, keepdims=True)), (s4,),
             frozenset({"REDUCE_MIN"}), qemu=True),
        Case("arg-max", u(lambda tf, x: tf.argmax(x, axis=-1, output_type=tf.int32)), (s4,),
             frozenset({"ARG_MAX"}), qemu=True),
        Case("conv-arg-max", _then(_conv((1, 1), 6, 1, "valid"), lambda tf, y: tf.argmax(y, axis=-1, output_type=tf.int32)),
             ((1, 4, 5, 3),), frozenset({"CONV_2D", "ARG_MAX"})),
        Case("arg-min-axis1", u(lambda tf, x: tf.argmin(x, axis=1, output_type=tf.int32)), (s4,),
             frozenset({"ARG_MIN"})),
    ]


CASES: list[Case] = (_conv_cases() + _depthwise_cases() + _dense_cases() + _elementwise_cases()
                     + _pool_cases() + _other_cases() + _movement_cases())
FLOAT_IO_CASES: list[Case] = _float_io_cases()


def every_op_on_qemu(cases: list) -> list:
    """Each op runs on the RISC-V targets at least once: the first case of an op that no QEMU
    case covers yet is marked `qemu`, so the vector kernels meet TFLite too (int8 and float cases)."""
    covered = set().union(*(c.ops for c in cases if c.qemu))
    marked = []
    for c in cases:
        if not c.qemu and c.ops - covered:
            c = replace(c, qemu=True)
            covered |= c.ops
        marked.append(c)
    return marked
