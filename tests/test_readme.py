"""The README's CMake, Python API and Pictures sections run as written, in order, in a scratch
folder (the blocks marked `<!-- readme-test -->`), with the venv's commands on PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MARKED_BLOCK = re.compile(r"<!-- readme-test -->\n```(sh|python)\n(.*?)\n```", re.DOTALL)


def marked_blocks() -> list[tuple[str, str]]:
    return MARKED_BLOCK.findall((ROOT / "README.md").read_text())


def test_readme_marks_the_three_sections():
    text = (ROOT / "README.md").read_text()
    kinds = [kind for kind, _ in marked_blocks()]
    assert kinds == ["sh", "python", "sh"], kinds
    for heading in ("### CMake", "### Python API", "### Pictures"):
        assert heading in text


def _machine(elf: Path) -> str:
    with open(elf, "rb") as f:
        return ELFFile(f)["e_machine"]


@pytest.mark.slow
@pytest.mark.qemu
def test_readme_sections_run_as_written(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    for kind, body in marked_blocks():
        cmd = ["bash", "-euo", "pipefail", "-c", body] if kind == "sh" else [sys.executable, "-c", body]
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, f"README block failed:\n{body}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
    assert _machine(tmp_path / "build" / "model") == "EM_RISCV"
    assert _machine(tmp_path / "build_host" / "model") != "EM_RISCV"
    with Image.open(tmp_path / "profile.png") as png:
        assert png.width > 300 and png.height > 200
    for svg in ("c906-vs-c908.svg", "graph.svg"):
        assert (tmp_path / svg).read_text().lstrip().startswith(("<?xml", "<svg")), svg
