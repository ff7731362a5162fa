"""The README's support table lists exactly the ONNX ops the frontend accepts."""

from __future__ import annotations

import re
from pathlib import Path

from hhbc.frontends.onnx import SUPPORTED_OPS
from hhbc.targets import TARGETS

README = Path(__file__).resolve().parent.parent / "README.md"


def _ops_table() -> set[str]:
    text = README.read_text()
    section = text.split("<!-- ops-table", 1)[1].split("\n\n", 1)[0]
    ops = set()
    for row in section.splitlines()[3:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        listed = re.sub(r"\([^)]*\)", "", cells[1])
        ops |= {item.strip() for item in listed.split(",") if item.strip()}
    return ops


def test_readme_op_table_matches_frontend():
    assert _ops_table() == set(SUPPORTED_OPS)


def test_readme_lists_every_target():
    text = README.read_text()
    for name in TARGETS:
        assert f"| `{name}` |" in text
