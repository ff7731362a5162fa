"""docs/python-api.md: every ```python block runs, in order and in one namespace, in a temporary
directory holding the demo model; every public name of hhbc.api has a section or a mention."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import onnx
import pytest

import hhbc.api

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "python-api.md"

sys.path.insert(0, str(ROOT / "examples"))
from make_kws_dscnn import build_model  # noqa: E402


def _blocks() -> list[tuple[int, str]]:
    """(line number, code) of each ```python block."""
    text = DOC.read_text()
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```$", text, re.M | re.S)]


def test_every_api_name_is_documented():
    text = DOC.read_text()
    for name in hhbc.api.__all__:
        assert name in text, f"docs/python-api.md does not mention {name}"
    for func in ("compile", "run", "bench", "bench_compare"):
        assert f"## hhbc.{func}\n" in text, f"no section for hhbc.{func}"
    assert len(_blocks()) >= 6


def test_python_blocks_run(tmp_path, monkeypatch):
    onnx.save(build_model(), tmp_path / "kws_dscnn.onnx")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__python_api_doc__"}
    for line, code in _blocks():
        try:
            exec(compile(code, f"{DOC}:{line}", "exec"), namespace)
        except Exception as err:
            pytest.fail(f"docs/python-api.md block at line {line}: {type(err).__name__}: {err}")
    # what the blocks say they write
    assert (tmp_path / "out" / "model.c").is_file() and (tmp_path / "tiny-out" / "model").is_file()
    assert (tmp_path / "profile.png").stat().st_size > 0 and (tmp_path / "c906-vs-c908.svg").stat().st_size > 0
    rows = (tmp_path / "profile.csv").read_text().splitlines()
    assert rows[0].startswith("index,name,op,kernel,macs,vector,total,") and len(rows) == 1 + 12
    assert not (tmp_path / "out-bad").exists()
