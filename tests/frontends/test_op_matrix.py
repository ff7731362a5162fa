"""The op matrix (hhbc/frontends/op_matrix.py) against the frontends' live op sets.

The rule: where a format has an op that an existing kernel computes, its frontend maps
it. The matrix says which ops of the four formats compute the same thing; these tests
fail when a frontend accepts an op the matrix does not place, when the matrix names an
op its frontend does not map (unless PLANNED says it is under way), and when the
tables in README.md and docs/op-matrix.md differ from the generated one.
"""

from __future__ import annotations

import pytest

from hhbc.codegen.kernel_table import TABLE
from hhbc.frontends import op_matrix as m


@pytest.mark.parametrize("fmt", m.FORMATS)
def test_every_supported_op_is_in_the_matrix(fmt):
    missing = m.reachable(fmt) - m.listed(fmt)
    assert not missing, f"{m.TITLES[fmt]} ops the matrix does not place in a row: {sorted(missing)}"


@pytest.mark.parametrize("fmt", m.FORMATS)
def test_every_matrix_op_is_mapped_by_its_frontend(fmt):
    """A row names the op, so a kernel computes it: its frontend must map it, or the
    op must be listed in PLANNED (work under way)."""
    unmapped = sorted(op for op in m.listed(fmt) if m.status(fmt, op) == "missing")
    assert not unmapped, (f"the matrix says a kernel computes these {m.TITLES[fmt]} ops, but "
                          f"hhbc.frontends.{fmt} does not map them: {unmapped}")


@pytest.mark.parametrize("fmt", m.FORMATS)
def test_planned_ops_are_not_yet_supported(fmt):
    """PLANNED means "not in float32 yet" (an op may already compile in fully-int8 models)."""
    done = sorted(m.PLANNED[fmt] & m.supported(fmt))
    assert not done, f"{m.TITLES[fmt]} ops now supported: drop them from op_matrix.PLANNED: {done}"
    stray = sorted(m.PLANNED[fmt] - m.listed(fmt))
    assert not stray, f"PLANNED {m.TITLES[fmt]} ops that no row names: {stray}"


def test_onnx_int8_ops_are_supported():
    assert m.ONNX_INT8 <= m.supported("onnx"), sorted(m.ONNX_INT8 - m.supported("onnx"))


def test_rows_name_existing_kernels():
    kernels = {row.op for row in TABLE}
    for row in m.ROWS:
        if not row.planned_kernel:
            unknown = set(row.kernels) - kernels
            assert not unknown, f"row '{row.what}': no kernel {sorted(unknown)} in kernel_table"


def test_rows_are_distinct():
    seen = [(row.kernels, row.what) for row in m.ROWS]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("path", m.DOCUMENTS, ids=lambda p: p.name)
def test_committed_table_is_generated(path):
    table = m.committed(path)
    assert table is not None, f"{path.name} has no op matrix between the markers"
    assert table == m.markdown(), (f"{path.name}'s op matrix is stale: run "
                                   "`python -m hhbc.frontends.op_matrix --write`")


def test_command_line_prints_the_table(capsys):
    assert m.main(["--markdown"]) == 0
    assert capsys.readouterr().out == m.markdown()
