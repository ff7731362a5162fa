"""The README's support tables list exactly the ops each frontend accepts."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from hhbc.targets import TARGETS

README = Path(__file__).resolve().parent.parent / "README.md"
FRONTENDS = ["onnx", "tensorflow", "caffe", "tflite"]


def _ops_table(fmt: str) -> set[str]:
    text = README.read_text()
    marker = f"<!-- ops-table:{fmt} "
    assert marker in text, f"README has no {fmt} ops table"
    section = text.split(marker, 1)[1].split("\n\n", 1)[0]
    ops = set()
    for row in section.splitlines()[3:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        listed = re.sub(r"\([^)]*\)", "", cells[1])
        ops |= {item.strip() for item in listed.split(",") if item.strip()}
    return ops


@pytest.mark.parametrize("fmt", FRONTENDS)
def test_readme_op_table_matches_frontend(fmt):
    module = importlib.import_module(f"hhbc.frontends.{fmt}")
    assert _ops_table(fmt) == set(module.SUPPORTED_OPS)


def test_readme_int8_op_table_matches_frontend():
    from hhbc.frontends.tflite_int8 import INT8_OPS
    assert _ops_table("tflite-int8") == set(INT8_OPS)


def test_readme_lists_every_target():
    text = README.read_text()
    for name in TARGETS:
        assert f"| `{name}` |" in text
