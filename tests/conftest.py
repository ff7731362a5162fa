"""Shared fixtures: the real-model folder, the CLI, and ONNX model builders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODELS = ROOT.parent / "shared" / "models"


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory) -> Path:
    """The bundled demo DS-CNN keyword spotter (examples/make_kws_dscnn.py), saved once per session."""
    import onnx

    sys.path.insert(0, str(ROOT / "examples"))
    from make_kws_dscnn import build_model

    path = tmp_path_factory.mktemp("demo") / "kws_dscnn.onnx"
    onnx.save(build_model(), str(path))
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """../shared/models, or a skip naming what is missing (a user's clone has no shared/)."""
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"real models not available: {SHARED_MODELS} does not exist "
                    "(it sits beside the project root in the team's workspace)")
    return SHARED_MODELS


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600, env: dict | None = None,
            preexec_fn=None) -> subprocess.CompletedProcess:
    """`hhbc ARGS` in a subprocess, as a user runs it; `env` adds to (or, with None values,
    removes from) the environment."""
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run([sys.executable, "-m", "hhbc", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=environ, preexec_fn=preexec_fn)


@pytest.fixture
def cli():
    return run_cli


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    """The CLI's contract for bad input: exit `code`, no traceback, one `hhbc: error:` line
    containing every needle. Returns that line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("hhbc: error:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
