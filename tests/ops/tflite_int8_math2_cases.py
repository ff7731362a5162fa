"""Int8 TFLite cases of H2's math ops, in the format of tflite_int8_cases.py.

SQUARED_DIFFERENCE, DIV, SUM, L2_NORMALIZATION and SQRT are TFLite int8 kernels. ELU, NEG
and FLOOR have none: the converter writes DEQUANTIZE -> float op -> QUANTIZE, which hhbc
compiles to one table of the interpreter's float steps; the cases check that the converter
still writes them that way (the float op and the DEQUANTIZE around it in `ops`).
"""

from __future__ import annotations

from tflite_int8_cases import Case, _tf, _unary

S4 = (1, 4, 4, 5)

# int8 SUM's reference kernel (BUILTIN_REF) returns -1 for every output (ai-edge-litert 2.3.0):
# the model's reference (hhbc/frontends/tflite.py) runs the builtin kernels for it.


def _binary(f):
    """f(tf, a, b) of two model inputs."""
    def make(rng):
        tf = _tf()
        return lambda a, b: f(tf, a, b)
    return make


def _squared_difference(tf, a, b):
    return tf.math.squared_difference(a, b)


def _squared_difference_const(rng):
    """(x - c)^2 with a constant c per channel: an int8 constant operand."""
    tf = _tf()
    c = rng.standard_normal(5).astype("float32")
    return lambda x: tf.math.squared_difference(x, c)


def _div_const_numerator(rng):
    """c / (|x| + 0.5) with a constant c per channel: an int8 constant numerator."""
    tf = _tf()
    c = rng.uniform(-2.0, 2.0, 5).astype("float32")
    return lambda x: c / (tf.abs(x) + 0.5)


def _div(tf, a, b):
    return tf.math.divide(a, b)


def _sum(axes, keepdims):
    return _unary(lambda tf, x: tf.reduce_sum(x, axis=axes, keepdims=keepdims))


def _cases() -> list[Case]:
    u = _unary
    island = frozenset({"DEQUANTIZE", "QUANTIZE"})
    return [
        # SQUARED_DIFFERENCE: same shapes, broadcast either way, unequal scales
        Case("squared-difference-same", _binary(_squared_difference), (S4, S4), frozenset({"SQUARED_DIFFERENCE"}),
             ranges=(1.0, 3.0), qemu=True),
        Case("squared-difference-broadcast-c", _binary(_squared_difference), (S4, (1, 1, 1, 5)),
             frozenset({"SQUARED_DIFFERENCE"}), ranges=(2.0, 0.5)),
        Case("squared-difference-broadcast-a", _binary(_squared_difference), ((1, 4, 1, 5), S4),
             frozenset({"SQUARED_DIFFERENCE"})),
        Case("squared-difference-const", _squared_difference_const, (S4,), frozenset({"SQUARED_DIFFERENCE"}),
             ranges=(2.0,)),
        # DIV: same shapes and broadcast; the divisor's zero point is never hit by the inputs
        # only by chance, so each input set is checked as it comes (see the test)
        Case("div-same", _binary(_div), (S4, S4), frozenset({"DIV"}), ranges=(1.0, 3.0), qemu=True),
        Case("div-broadcast-c", _binary(_div), (S4, (1, 1, 1, 5)), frozenset({"DIV"}), ranges=(2.0, 0.5)),
        Case("div-relu", _binary(lambda tf, a, b: tf.nn.relu(a / (tf.abs(b) + 0.5))), (S4, S4),
             frozenset({"DIV"}), ranges=(2.0, 1.0)),
        Case("div-relu6", _binary(lambda tf, a, b: tf.nn.relu6(a / (tf.abs(b) + 0.5))), (S4, S4),
             frozenset({"DIV"}), ranges=(2.0, 1.0)),
        Case("div-const-numerator", _div_const_numerator, (S4,), frozenset({"DIV"}), ranges=(1.0,)),
        Case("div-positive-divisor", _binary(lambda tf, a, b: a / (tf.abs(b) + 0.5)), (S4, S4),
             frozenset({"ABS", "ADD", "DIV"})),
        # SUM: axes and keepdims
        Case("sum-hw-keepdims", _sum([1, 2], True), (S4,), frozenset({"SUM"}), qemu=True),
        Case("sum-c", _sum([3], False), (S4,), frozenset({"SUM"}), ranges=(0.3,)),
        Case("sum-rank3-axis1", _sum([1], False), ((2, 6, 3),), frozenset({"SUM"})),
        Case("sum-all-but-batch", _sum([1, 2, 3], True), ((2, 3, 2, 4),), frozenset({"SUM"}), ranges=(2.0,)),
        # L2_NORMALIZATION: last axis, rank 4 and rank 2
        Case("l2norm", u(lambda tf, x: tf.math.l2_normalize(x, axis=-1)), (S4,), frozenset({"L2_NORMALIZATION"}),
             qemu=True),
        Case("l2norm-rank2", u(lambda tf, x: tf.math.l2_normalize(x, axis=-1)), ((3, 17),),
             frozenset({"L2_NORMALIZATION"}), ranges=(0.2,)),
        # SQRT: TFLite's int8 kernel (a negative input is an interpreter error: abs first)
        Case("sqrt", u(lambda tf, x: tf.sqrt(tf.abs(x))), (S4,), frozenset({"ABS", "SQRT"}), qemu=True),
        Case("sqrt-wide", u(lambda tf, x: tf.sqrt(tf.abs(x) + 0.25)), ((1, 6, 7),), frozenset({"SQRT"}),
             ranges=(5.0,)),
        # float islands: DEQUANTIZE -> ELU / NEG / FLOOR -> QUANTIZE
        Case("elu", u(lambda tf, x: tf.nn.elu(x)), (S4,), island | {"ELU"}, qemu=True),
        Case("elu-wide", u(lambda tf, x: tf.nn.elu(x)), ((1, 6, 7),), island | {"ELU"}, ranges=(4.0,)),
        Case("neg", u(lambda tf, x: tf.negative(x)), (S4,), island | {"NEG"}, qemu=True),
        Case("floor", u(lambda tf, x: tf.floor(x * 3.0)), (S4,), island | {"FLOOR"}, qemu=True),
        Case("floor-fine", u(lambda tf, x: tf.floor(x)), ((2, 3, 9),), island | {"FLOOR"}, ranges=(6.0,)),
    ]


CASES: list[Case] = _cases()


def _exhaustive_cases() -> list[Case]:
    """Models whose inputs test_tflite_int8_math2.py fills with every int8 value (every pair,
    for two inputs broadcast [256, 1] against [1, 256]): each table entry, each rounding tie and
    clamp of the op's arithmetic at the calibrated scales is reached. DIV divides by |b| + 1
    (the interpreter refuses a divisor equal to its zero point)."""
    u = _unary
    return [
        Case("x-sqrt-all", u(lambda tf, x: tf.sqrt(tf.nn.relu(x))), ((1, 256),), frozenset({"SQRT"}), ranges=(3.0,)),
        Case("x-elu-all", u(lambda tf, x: tf.nn.elu(x)), ((1, 256),), frozenset({"ELU"}), ranges=(2.0,)),
        Case("x-neg-all", u(lambda tf, x: tf.negative(x)), ((1, 256),), frozenset({"NEG"}), ranges=(0.7,)),
        Case("x-floor-all", u(lambda tf, x: tf.floor(x)), ((1, 256),), frozenset({"FLOOR"}), ranges=(9.0,)),
        Case("x-squared-difference-all", _binary(_squared_difference), ((256, 1), (1, 256)),
             frozenset({"SQUARED_DIFFERENCE"}), ranges=(1.0, 2.5)),
        Case("x-div-all", _binary(lambda tf, a, b: a / (tf.abs(b) + 1.0)), ((256, 1), (1, 256)),
             frozenset({"DIV"}), ranges=(1.5, 2.0)),
    ]


EXHAUSTIVE_CASES: list[Case] = _exhaustive_cases()
