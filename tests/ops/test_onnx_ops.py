"""Op-level differential tests: every supported ONNX op, compiled by hhbc, against onnxruntime.

The cases live in onnx_cases.py as a table; each one is compiled for the target,
built, run (natively for `host`, under QEMU for `c908`) and compared output by
output with onnxruntime under hhbc's float tolerance.

    pytest tests/ops -n 2              # all cases, both targets (about a minute)
    pytest tests/ops -k "host and conv"
"""

from __future__ import annotations

import onnx
import pytest
from onnx_cases import CASES   # tests/ops/onnx_cases.py (pytest puts tests/ops on sys.path)

from hhbc.frontends.onnx import SUPPORTED_OPS
from hhbc.runner import run_and_compare


def test_every_supported_op_has_cases():
    covered = set().union(*(c.ops for c in CASES))
    missing = SUPPORTED_OPS - covered
    assert not missing, f"supported ONNX ops without a differential case: {sorted(missing)}"
    unsupported = covered - SUPPORTED_OPS
    assert not unsupported, f"cases use ops hhbc does not support: {sorted(unsupported)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_onnx_op(case, target, tmp_path):
    path = tmp_path / f"{case.id}.onnx"
    onnx.save(case.model(), path)
    result = run_and_compare(path, target, inputs=case.input_arrays(), out_dir=tmp_path / "out")
    report = f"{case.id} on {target.name}:\n" + "\n".join(c.line() for c in result.comparisons)
    assert len(result.outputs) == len(result.references) == len(case.outputs), report
    for got, ref, name in zip(result.outputs, result.references, case.outputs):
        assert got.shape == ref.shape, f"{name}: hhbc shape {got.shape}, onnxruntime {ref.shape}\n{report}"
    assert result.ok, report
