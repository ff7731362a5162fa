"""QDQ patterns of the int8 math ops of H2 (lowered by lower/quantized_math.py):
SQUARED_DIFFERENCE, DIV, SUM, L2_NORMALIZATION, SQRT, and the float islands ELU, NEG, FLOOR
(DEQUANTIZE -> float op -> QUANTIZE, which the converter writes for ops TFLite has no int8
kernel for). Each is quantize(f(dequantize(...))) as TVM's importer (or, for L2, the frontend,
frontends/tflite_int8.l2_normalization) writes it."""

from __future__ import annotations

from tvm import relax
from tvm.relax.dpl import is_const, is_op, wildcard


def math_patterns(patterns: list[relax.transform.FusionPattern]) -> None:
    from hhbc.optimize.quantized import _deq, _no_leak, _quant, _with_clip

    def add(name, body):
        patterns.append(relax.transform.FusionPattern(name, _quant(body), {"root": body}, _no_leak))

    # L2_NORMALIZATION: x / max(sqrt(sum(x * x, last axis)), eps), x one dequantized tensor
    sq = is_op("relax.multiply")(_deq(wildcard()), _deq(wildcard()))
    norm = is_op("relax.sqrt")(is_op("relax.sum")(sq))
    add("hhbc.ql2norm", is_op("relax.divide")(_deq(wildcard()), is_op("relax.maximum")(norm, is_const())))
    # SQUARED_DIFFERENCE as TVM writes it: (a - b) * (a - b), each operand dequantized twice
    diff = [is_op("relax.subtract")(_deq(wildcard()), _deq(wildcard())) for _ in range(2)]
    add("hhbc.qsquared_difference", is_op("relax.multiply")(*diff))
    # DIV; TVM applies a fused RELU/RELU6/RELU_N1_TO_1 in float before quantize (as for ADD)
    div = is_op("relax.divide")(_deq(wildcard()), _deq(wildcard()))
    for act in (is_op("relax.nn.relu")(div), is_op("relax.clip")(div, wildcard(), wildcard()), div):
        _with_clip(_quant(act), "hhbc.qdiv", patterns, div)
    add("hhbc.qsum", is_op("relax.sum")(_deq(wildcard())))
    for op in ("relax.sqrt", "relax.negative", "relax.floor"):
        add("hhbc.qmath_table", is_op(op)(_deq(wildcard())))
    # ELU as TVM's importer writes it: -relu(1 - exp(x)) + relu(x), x one dequantized tensor
    neg = is_op("relax.multiply")(is_const(), is_op("relax.nn.relu")(
        is_op("relax.subtract")(is_const(), is_op("relax.exp")(_deq(wildcard())))))
    add("hhbc.qelu", is_op("relax.add")(neg, is_op("relax.nn.relu")(_deq(wildcard()))))
