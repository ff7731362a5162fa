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
