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
from dataclasses import dataclass
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

    def seed(self) -> int:
        return zlib.crc32(self.id.encode())


def _tf():
    """TensorFlow, imported on first conversion only (it takes seconds to load)."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    return tf


def convert(case: Case) -> bytes:
    """The .tflite bytes of a case; the same bytes on every run (seeded weights and data)."""
    tf = _tf()
    tf.random.set_seed(case.seed())
    body = case.fn(np.random.default_rng(case.seed()))
    sig = [tf.TensorSpec(shape, tf.float32, name=f"x{k}") for k, shape in enumerate(case.inputs)]
    module = tf.Module()
    module.f = tf.function(body, input_signature=sig)
    concrete = module.f.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
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
        return converter.convert()


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
        Case("float-io-fc-2d-8-none-pt", _dense(8), ((1, 12),),
             frozenset({"QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"}), per_channel=False, float_io=True),
    ]


CASES: list[Case] = (_conv_cases() + _depthwise_cases() + _dense_cases() + _elementwise_cases()
                     + _pool_cases() + _other_cases())
FLOAT_IO_CASES: list[Case] = _float_io_cases()
