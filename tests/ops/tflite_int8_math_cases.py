"""Int8 TFLite cases of elementwise math ops (H3b), in the format of tflite_int8_cases.py.

Unary ops compile to a 256-entry table of TFLite's own int8 arithmetic; the inputs of the test
(the full int8 range, then only -128/127) reach every entry class, including saturation. The
calibration spreads put the table's rounding ties and its clamps inside the tested range.

Ops the converter keeps in float for an int8 model (no int8 kernel in TFLite: ELU, NEG and FLOOR
come out as DEQUANTIZE -> float op -> QUANTIZE) have their cases in tflite_int8_math2_cases.py.
"""

from __future__ import annotations

from tflite_int8_cases import Case, _activation, _tf, _unary, _weights

S4 = (1, 4, 4, 5)


def _sub(act="none"):
    """a - b (H3c): TFLite's int8 SUB, the ADD arithmetic with input 2's term subtracted."""
    def make(rng):
        tf = _tf()
        return lambda a, b: _activation(tf, tf.subtract(a, b), act)
    return make


def _fc_rank3(units, keep_dims):
    """FULLY_CONNECTED on a rank-3 input (H3c): keep_num_dims (tensordot) keeps [B, T, units];
    without it (matmul of the reshaped input, folded into the FC) TFLite flattens to [-1, K]."""
    def make(rng):
        tf = _tf()

        def body(x):
            k = x.shape[-1]
            w = _weights(rng, (k, units), k)
            y = tf.tensordot(x, w, axes=1) if keep_dims else tf.matmul(tf.reshape(x, [-1, k]), w)
            return tf.nn.bias_add(y, (rng.standard_normal(units) * 0.5).astype("float32"))
        return body
    return make


def _prelu(alpha_shape, low=0.05, high=0.5):
    """relu(x) + (-alpha) * relu(-x) (H3c): the converter writes one int8 PRELU, the slope an
    int8 constant of alpha_shape with its own scale and zero point."""
    def make(rng):
        tf = _tf()
        alpha = rng.uniform(low, high, alpha_shape).astype("float32")
        return lambda x: tf.nn.relu(x) + (-alpha) * tf.nn.relu(-x)
    return make


def _cases() -> list[Case]:
    u = _unary
    return [
        Case("abs", u(lambda tf, x: tf.abs(x)), (S4,), frozenset({"ABS"}), qemu=True),
        Case("abs-wide", u(lambda tf, x: tf.abs(x) * 1.0), ((2, 3, 7),), frozenset({"ABS"}), ranges=(4.0,)),
        Case("exp", u(lambda tf, x: tf.exp(x)), (S4,), frozenset({"EXP"}), qemu=True),
        Case("exp-wide", u(lambda tf, x: tf.exp(x)), ((1, 6, 7),), frozenset({"EXP"}), ranges=(3.0,)),
        Case("log", u(lambda tf, x: tf.math.log(tf.abs(x) + 0.1)), (S4,), frozenset({"ABS", "ADD", "LOG"}),
             qemu=True),
        Case("rsqrt", u(lambda tf, x: tf.math.rsqrt(tf.abs(x) + 0.1)), (S4,), frozenset({"ABS", "ADD", "RSQRT"}),
             qemu=True),
        Case("leaky-relu", u(lambda tf, x: tf.nn.leaky_relu(x, 0.2)), (S4,), frozenset({"LEAKY_RELU"}), qemu=True),
        Case("leaky-relu-0.01", u(lambda tf, x: tf.nn.leaky_relu(x, 0.01)), ((1, 5, 9),),
             frozenset({"LEAKY_RELU"}), ranges=(3.0,)),
        # H3c: SUB, same shapes and broadcast either way, with a fused RELU
        Case("sub-same", _sub(), (S4, S4), frozenset({"SUB"}), ranges=(1.0, 3.0), qemu=True),
        Case("sub-broadcast-c", _sub(), (S4, (1, 1, 1, 5)), frozenset({"SUB"}), ranges=(2.0, 0.5)),
        Case("sub-broadcast-a", _sub(), ((1, 4, 1, 5), S4), frozenset({"SUB"})),
        Case("sub-relu", _sub("relu"), (S4, S4), frozenset({"SUB"}), ranges=(1.0, 0.3)),
        # H3c: FULLY_CONNECTED on a rank-3 input, flattened or keep_num_dims
        Case("fc-rank3-flatten", _fc_rank3(5, False), ((2, 3, 6),), frozenset({"FULLY_CONNECTED"}), qemu=True),
        Case("fc-rank3-keep-dims", _fc_rank3(7, True), ((1, 4, 6),), frozenset({"FULLY_CONNECTED"})),
        # H3c: PRELU, a slope per channel (also negative slopes) and one shared slope
        Case("prelu-slope-11c", _prelu((1, 1, 5)), (S4,), frozenset({"PRELU"}), qemu=True),
        Case("prelu-slope-c-signed", _prelu((1, 1, 7), -0.8, 1.5), ((1, 3, 3, 7),), frozenset({"PRELU"}), ranges=(3.0,)),
        Case("prelu-slope-1", _prelu((1,), 0.2, 0.2), ((2, 9),), frozenset({"PRELU"})),
    ]


CASES: list[Case] = _cases()
