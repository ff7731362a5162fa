"""What every C kernel test shares: paths, compilers and flags, C literal helpers."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
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


def fl(x) -> str:
    """Exact C99 float literal (hex) of x rounded to float32."""
    import numpy as np
    return float(np.float32(x)).hex() + "f"


def tensor(data: str, shape) -> str:
    """A hhbc_tensor initializer."""
    return f"{{.data = {data}, .dim = {ilist(shape)}, .ndim = {len(shape)}}}"


def act_c(kind="NONE", lo=0.0, hi=0.0, alpha=0.0) -> str:
    return f"{{.kind = HHBC_ACT_{kind}, .lo = {fl(lo)}, .hi = {fl(hi)}, .alpha = {fl(alpha)}}}"


# every fused activation, with a narrow clip and a leaky slope
ACTS = [dict(kind="NONE"), dict(kind="RELU"), dict(kind="CLIP", lo=0.0, hi=6.0),
        dict(kind="CLIP", lo=-0.5, hi=0.25), dict(kind="LEAKY_RELU", alpha=0.1),
        dict(kind="HARDSWISH"), dict(kind="SIGMOID")]


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


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


def build_strict_host(tmp_path: Path, sources: list[Path]) -> list[str]:
    """Compile every source with the strict host flags; return the object stems built."""
    cmd = [HOST_CC, *STRICT_FLAGS, "-I", str(INCLUDE), "-c", *map(str, sources)]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return sorted(p.stem for p in tmp_path.glob("*.o"))


def build_riscv64_zig(tmp_path: Path, sources: list[Path]) -> list[str]:
    """Cross-compile each source with zig for riscv64 (-Werror); check every object is an
    ELF64 RISC-V file; return the object stems built."""
    # one source per invocation: zig cc keeps only one object when given several with -c
    for src in sources:
        cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_FLAGS, "-I", str(INCLUDE),
               "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{src.name}:\n{res.stderr}"
    objs = sorted(tmp_path.glob("*.o"))
    for obj in objs:   # ELF64, machine EM_RISCV (243)
        head = obj.read_bytes()[:20]
        assert head[:4] == b"\x7fELF" and head[4] == 2, obj.name
        assert int.from_bytes(head[18:20], "little") == 243, obj.name
    return [p.stem for p in objs]


needs_zig = pytest.mark.skipif(importlib.util.find_spec("ziglang") is None,
                               reason="ziglang not importable: no `python -m ziglang` riscv64 cross compiler")


def _qemu():
    try:
        from hhbc.emulate import qemu_binary
        return qemu_binary()
    except Exception:   # noqa: BLE001 - any failure means "not installed"
        return None


QEMU = _qemu()
# the marks of a file of vector-kernel tests: built with zig cc, run under xuantie-qemu
VECTOR_KERNEL_MARKS = [pytest.mark.qemu, needs_zig,
                       pytest.mark.skipif(QEMU is None, reason="xuantie-qemu is not installed")]
