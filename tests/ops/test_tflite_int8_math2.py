"""H2: SQUARED_DIFFERENCE, DIV, SQRT and the float islands ELU, NEG, FLOOR on every int8 input
(every pair of inputs for the binary ops), bit for bit against the TFLite interpreter; and the
facts the lowering relies on (what the converter writes for each op).

The random-input cases of these ops run in test_tflite_int8_ops.py (tflite_int8_math2_cases.py).

    pytest tests/ops/test_tflite_int8_math2.py -n 2
"""

from __future__ import annotations

import numpy as np
import pytest
from tflite_int8_cases import convert, model_ops
from tflite_int8_math2_cases import EXHAUSTIVE_CASES

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

ALL = np.arange(-128, 128, dtype=np.int8)


def _every_value(compiled) -> list[np.ndarray]:
    """Every int8 value along each input's long axis."""
    return [ALL.reshape(info.shape) for info in compiled.model.inputs]


@pytest.mark.parametrize("target_name", ["host", pytest.param("c908", marks=pytest.mark.qemu)])
@pytest.mark.parametrize("case", EXHAUSTIVE_CASES, ids=[c.id for c in EXHAUSTIVE_CASES])
def test_every_input(case, target_name, tmp_path):
    data = convert(case)
    assert case.ops <= model_ops(data), sorted(model_ops(data))
    path = tmp_path / f"{case.id}.tflite"
    path.write_bytes(data)
    target = get_target(target_name)
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    arrays = _every_value(compiled)
    got = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"], tmp_path / "io")
    ref = compiled.model.reference(arrays)
    assert got[0].dtype == ref[0].dtype and got[0].shape == ref[0].shape
    bad = np.argwhere(got[0] != ref[0])
    assert bad.size == 0, (f"{len(bad)} of {got[0].size} outputs differ; first at {bad[0].tolist()}: "
                           f"hhbc {got[0][tuple(bad[0])]}, TFLite {ref[0][tuple(bad[0])]}")
    # the outputs are not all one value: the test can tell a wrong table from a right one
    assert len(np.unique(ref[0])) > 16


@pytest.mark.parametrize("op, body", [
    ("NEG", lambda tf, x: tf.negative(x)),
    ("FLOOR", lambda tf, x: tf.floor(x)),
    ("ELU", lambda tf, x: tf.nn.elu(x)),
])
def test_converter_keeps_float_island(op, body):
    """TFLite has no int8 ELU, NEG or FLOOR: the converter writes DEQUANTIZE -> float op ->
    QUANTIZE, the form lower/quantized_math.py turns into one table."""
    from tflite_int8_cases import Case, _unary

    data = convert(Case(f"island-{op}", _unary(body), ((1, 8),), frozenset()))
    assert model_ops(data) == {"DEQUANTIZE", op, "QUANTIZE"}


def test_l2norm_row_sums(tmp_path):
    """L2_NORMALIZATION on rows whose sums of squares take every branch of TFLite's inverse
    square root: 0 and 1 (its special case), a random row, and a row of -128s whose sum,
    ~40000 * 128^2, is past 2^29 (the loop that divides it by 4)."""
    from tflite_int8_cases import Case, _unary

    depth = 40000
    case = Case("l2norm-row-sums", _unary(lambda tf, x: tf.math.l2_normalize(x, axis=-1)), ((4, depth),),
                frozenset({"L2_NORMALIZATION"}))
    path = tmp_path / "m.tflite"
    path.write_bytes(convert(case))
    target = get_target("host")
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    zp = compiled.manifest["inputs"][0]["quant"]["zero_point"][0]
    x = np.full((4, depth), zp, np.int8)
    x[1, 7] = zp + 1
    x[2] = np.random.default_rng(5).integers(-128, 128, depth, dtype=np.int8)
    x[3] = -128
    assert int(((x[3].astype(np.int64) - zp) ** 2).sum()) >= 1 << 29
    got = run_model(elf, target, compiled.manifest["vlen"], [x], compiled.manifest["outputs"], tmp_path / "io")
    ref = compiled.model.reference([x])
    assert np.array_equal(got[0], ref[0]), [int((got[0][r] != ref[0][r]).sum()) for r in range(4)]
    assert ref[0][1, 7] == 127 and ref[0][3, 0] < 0   # the unit row saturates; the -128 row is negative
