"""What every C kernel test shares: paths, compilers and flags, C literal helpers."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INCLUDE = ROOT / "hhbc" / "kernels" / "include"
REF = ROOT / "hhbc" / "kernels" / "ref"

HOST_CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
STRICT_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes"]
ZIG_FLAGS = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64",
             "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
RUN_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")

needs_cc = pytest.mark.skipif(HOST_CC is None, reason="no host C compiler (cc/gcc/clang) on PATH")


def ilist(xs) -> str:
    return "{" + ", ".join(str(int(v)) for v in xs) + "}"


def cstr(path) -> str:
    return json.dumps(str(path))


@functools.lru_cache(maxsize=None)
def sanitizer_flags() -> tuple[str, ...]:
    """ASan/UBSan flags if the host toolchain can build and run with them, else ()."""
    if HOST_CC is None:
        return ()
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "probe.c"
        src.write_text("#include <stdlib.h>\nint main(void) { int *p = malloc(4); *p = 0;"
                       " int r = *p; free(p); return r; }\n")
        exe = Path(d) / "probe"
        try:
            subprocess.run([HOST_CC, *SAN_FLAGS, str(src), "-o", str(exe)], check=True,
                           capture_output=True, timeout=60)
            subprocess.run([str(exe)], check=True, capture_output=True, env=RUN_ENV, timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return ()
    return tuple(SAN_FLAGS)
