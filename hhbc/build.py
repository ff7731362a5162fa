"""Cross-compiling a generated project: `make` in it, failures reported loudly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from hhbc.errors import HhbcError, ToolchainError
from hhbc.targets import Target

BUILD_TIMEOUT_S = 900


def build(project: Path, target: Target, cc: str | None = None, extra_cflags: str = "") -> Path:
    """Run make in `project`; return the ELF. Compiler errors become one ToolchainError."""
    make = shutil.which("make")
    if make is None:
        raise HhbcError("building needs 'make' on PATH")
    cmd = [make, "-C", str(project), "--no-print-directory"]
    if cc:
        cmd.append(f"CC={cc}")
    if extra_cflags:
        cmd.append(f"CFLAGS_EXTRA={extra_cflags}")
    env = dict(os.environ)
    env.pop("CFLAGS", None)     # the project's own flags are the contract
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"building for '{target.name}' took longer than {BUILD_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        log = (proc.stderr or proc.stdout).strip().splitlines()
        errors = [l for l in log if "error" in l.lower()] or log
        detail = "\n  ".join(errors[:15])
        raise ToolchainError(f"compiling {project} for '{target.name}' failed "
                             f"({shlex.join(cmd)}):\n  {detail}")
    return project / "model"
