"""Fixtures for the op-level differential tests."""

from __future__ import annotations

import pytest

from hhbc.targets import get_target


@pytest.fixture(scope="session", params=["host", pytest.param("c908", marks=pytest.mark.qemu),
                                         pytest.param("c906", marks=pytest.mark.qemu)])
def target(request):
    """Every case runs natively (target host, the reference kernels) and under QEMU on both
    vector ISAs (c908: the RVV 1.0 kernels; c906: the RVV 0.7.1 kernels)."""
    return get_target(request.param)


def _top_conftest():
    """tests/conftest.py as a plain module. Test modules elsewhere do `from conftest import
    run_cli, assert_one_line_error`; when tests/ops is collected in the same run, the name
    `conftest` can resolve to this file, so it offers the same helpers."""
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("hhbc_tests_top_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_TOP = _top_conftest()
run_cli, assert_one_line_error = _TOP.run_cli, _TOP.assert_one_line_error
