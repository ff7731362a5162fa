"""Cross-compiling a generated project: `make` in it, failures reported loudly."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from hhbc.codegen.outdir import replace_file
from hhbc.errors import ToolchainError
from hhbc.targets import Target

BUILD_TIMEOUT_S = 900
BUILD_LOG = "build.log"
# Lines that carry a compiler's or linker's verdict, in the order tools print them.
_ERROR_LINE = re.compile(r"error:|undefined reference|no space left|file too large|cannot find|"
                         r"not found|no such file|killed", re.IGNORECASE)
_MAKE_LINE = re.compile(r"^make(\[\d+\])?: \*\*\*")


def build(project: Path, target: Target, cc: str | None = None, extra_cflags: str = "") -> Path:
    """Run make in `project`; return the ELF. A failure is one ToolchainError (exit 3) with
    the first error line and the path of the full log, which is kept in project/build.log."""
    make = shutil.which("make")
    if make is None:
        raise ToolchainError("building needs 'make' on PATH (Debian: apt install make)")
    check_compiler(target, cc)
    for product in ("model", BUILD_LOG):
        if (project / product).is_symlink():
            raise ToolchainError(f"{project / product} is a symlink; hhbc never writes through one "
                                 f"(remove it)")
    cmd = [make, "-C", str(project), "--no-print-directory"]
    if cc:
        cmd.append(f"CC={cc}")
    elif target.zig_mcpu:    # the installed ziglang's zig, not whatever PATH finds
        cmd.append(f"ZIG={ziglang_zig()}")
    if extra_cflags:
        cmd.append(f"CFLAGS_EXTRA={extra_cflags}")
    env = dict(os.environ)
    env.pop("CFLAGS", None)     # the project's own flags are the contract
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                              timeout=BUILD_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"building for '{target.name}' took longer than {BUILD_TIMEOUT_S} s") from None
    except OSError as err:
        raise ToolchainError(f"could not run make: {err.strerror}") from None
    log = f"$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}"
    log_path = project / BUILD_LOG
    try:
        replace_file(log_path, log.encode())
    except OSError as err:   # a full disk: still report the compiler's own words
        log_path = Path(f"(not written: {err.strerror})")
    if proc.returncode != 0:
        raise ToolchainError(f"building {project} for '{target.name}' failed: "
                             f"{first_error(proc.stderr + proc.stdout)} (full log: {log_path})")
    return project / "model"


def first_error(log: str) -> str:
    """The line a user needs first: the compiler's or linker's first error, not make's summary."""
    lines = [l.strip() for l in log.splitlines() if l.strip() and not _MAKE_LINE.match(l.strip())]
    for line in lines:
        if _ERROR_LINE.search(line):
            return line
    return lines[0] if lines else "no output from the compiler"


def ziglang_zig() -> Path:
    """The zig executable of the installed `ziglang` package (what `python -m ziglang` runs)."""
    spec = importlib.util.find_spec("ziglang")
    if spec is None or spec.origin is None:
        raise ToolchainError("zig cc comes from the 'ziglang' package: pip install ziglang")
    zig = Path(spec.origin).parent / ("zig.exe" if os.name == "nt" else "zig")
    if not zig.is_file():
        raise ToolchainError(f"the 'ziglang' package has no zig executable at {zig} "
                             f"(pip install --force-reinstall ziglang)")
    return zig


def check_compiler(target: Target, cc: str | None) -> None:
    """A missing compiler is named before make runs, with the command that installs it."""
    if cc:
        program = shlex.split(cc)[0] if shlex.split(cc) else cc
        if shutil.which(program) is None:
            raise ToolchainError(f"--cc {cc}: '{program}' is not on PATH")
    elif target.zig_mcpu:
        if importlib.util.find_spec("ziglang") is None:
            raise ToolchainError(f"building for '{target.name}' needs zig cc, from the 'ziglang' package "
                                 f"(pip install ziglang), or another compiler with --cc")
    elif shutil.which("cc") is None:
        raise ToolchainError(f"building for '{target.name}' needs a C compiler 'cc' on PATH, or --cc")


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
