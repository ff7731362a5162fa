"""The -qs names hhbc has (HHB's spelling): the float ones of float16.py, the int8 ones of ptq.py."""

from __future__ import annotations

from hhbc.errors import HhbcError

# HHB schemes hhbc does not have: named in the error so that a user sees it was understood.
HHB_ONLY = ("uint8_asym", "int16_sym", "int4_asym_w_sym", "int4_sym", "bfloat16", "float16_w_int4")


def schemes() -> tuple[str, ...]:
    from hhbc.quantize.float16 import SCHEMES
    from hhbc.quantize.ptq import INT8_SCHEMES

    return (*SCHEMES, *INT8_SCHEMES)


def check_scheme(scheme: str) -> str:
    """A user's -qs value, or a one-line error naming the schemes hhbc has."""
    have = schemes()
    if scheme in have:
        return scheme
    what = "an HHB scheme hhbc does not implement" if scheme in HHB_ONLY else "unknown quantization scheme"
    raise HhbcError(f"-qs {scheme}: {what} (hhbc has: {', '.join(have)})")


def is_int8(scheme: str) -> bool:
    """Does the scheme quantize a float model to int8 (post-training quantization)?"""
    from hhbc.quantize.ptq import INT8_SCHEMES

    return scheme in INT8_SCHEMES
