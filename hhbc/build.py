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


def warm_toolchain() -> None:
    """Build a trivial program once per distinct -mcpu so zig caches musl for each.

    The first zig cc build for a new -mcpu rebuilds musl (20-70 s); doing it up
    front, in parallel, keeps later builds near 0.1 s.
    """
    import concurrent.futures
    import sys
    import tempfile

    from hhbc.targets import RISCV_TRIPLE, TARGETS

    mcpus = sorted({t.zig_mcpu for t in TARGETS.values() if t.zig_mcpu})
    with tempfile.TemporaryDirectory(prefix="hhbc-warm-") as tmp:
        src = Path(tmp) / "warm.c"
        src.write_text("#include <math.h>\n#include <stdio.h>\n"
                       "int main(void) { printf(\"%f\\n\", (double)expf(1.0f)); return 0; }\n")

        def one(mcpu: str) -> str:
            out = Path(tmp) / f"warm_{mcpu.replace('+', '_')}"
            cmd = [sys.executable, "-m", "ziglang", "cc", "-target", RISCV_TRIPLE, f"-mcpu={mcpu}",
                   "-std=c99", "-O2", str(src), "-static", "-Wl,--gc-sections", "-lm", "-o", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolchainError(f"zig cc failed for -mcpu={mcpu}: {proc.stderr.strip()[:500]}")
            return mcpu

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(mcpus)) as pool:
            for mcpu in pool.map(one, mcpus):
                print(f"hhbc: zig cc ready for -mcpu={mcpu}", file=sys.stderr)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--warm"]:
        warm_toolchain()
    else:
        raise SystemExit("usage: python -m hhbc.build --warm")
