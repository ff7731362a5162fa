"""Fixtures for the op-level differential tests."""

from __future__ import annotations

import pytest

from hhbc.targets import get_target


@pytest.fixture(scope="session", params=["host", pytest.param("c908", marks=pytest.mark.qemu)])
def target(request):
    """Every case runs natively (target host) and under QEMU (target c908)."""
    return get_target(request.param)
