"""Deterministic per-region instruction counts under QEMU (DESIGN §6).

Timers mean nothing inside qemu-user, so performance is measured by counting executed guest
instructions with a TCG plugin (hhbc/toolchain/insn_count.c).  Regions are delimited by
`slti x0, x0, id` HINTs; a model built with -DHHBC_PROFILE marks layer i with id i+1 and
the end of inference with id 0, so one run gives per-layer counts.

    counts = count_instructions(binary, get_target("c908"), None, [in.bin, out.bin])
    counts[3]["total"], counts[3]["vec_lmul_weighted"], ...
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from hhbc.emulate import describe_failure, emulator_command
from hhbc.errors import HhbcError, ToolchainError
from hhbc.targets import Target

PLUGIN_SOURCE = Path(__file__).resolve().parent / "toolchain" / "insn_count.c"
PLUGIN_CFLAGS = ("-target", "x86_64-linux-gnu", "-shared", "-fPIC", "-O2")
COUNTERS = ("total", "scalar", "vec_arith", "vec_mem", "vsetvl", "vec_lmul_weighted")
OUTPUT_FORMAT = "hhbc-insn-count-1"
BUILD_TIMEOUT_S = 300
RUN_TIMEOUT_S = 900


def cache_dir() -> Path:
    """Per-user cache: $HHBC_CACHE_DIR, else $XDG_CACHE_HOME/hhbc, else ~/.cache/hhbc."""
    explicit = os.environ.get("HHBC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hhbc"


def build_plugin() -> Path:
    """Compile the counting plugin once per source version; return the cached .so.

    The file name carries a hash of the source and flags.  It is built under a temporary
    name in the cache directory and renamed into place, so concurrent callers (threads,
    pytest-xdist workers) either find a complete plugin or race to produce identical ones.
    """
    try:
        source = PLUGIN_SOURCE.read_bytes()
    except OSError as exc:
        raise HhbcError(f"the instruction-counting plugin source is missing ({PLUGIN_SOURCE}): "
                        f"{exc.strerror}") from None
    key = hashlib.sha256(source + b"\0" + " ".join(PLUGIN_CFLAGS).encode()).hexdigest()[:16]
    directory = cache_dir()
    plugin = directory / f"insn_count-{key}.so"
    if plugin.is_file():
        return plugin
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".insn_count-", suffix=".so.tmp", dir=directory)
        os.close(fd)
    except OSError as exc:
        raise HhbcError(f"cannot create the cache directory {directory} for the "
                        f"instruction-counting plugin: {exc.strerror} (set HHBC_CACHE_DIR)") from None
    tmp = Path(tmp_name)
    cmd = [sys.executable, "-m", "ziglang", "cc", *PLUGIN_CFLAGS, str(PLUGIN_SOURCE), "-o", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if proc.returncode != 0:
            detail = "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[:15])
            raise ToolchainError(f"building the instruction-counting plugin failed "
                                 f"({' '.join(cmd)}):\n  {detail}")
        os.replace(tmp, plugin)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"building the instruction-counting plugin took longer than "
                             f"{BUILD_TIMEOUT_S} s") from None
    finally:
        tmp.unlink(missing_ok=True)
    return plugin


def plugin_args(target: Target, out_path: Path) -> list[str]:
    """The QEMU options that load the plugin for `target` (xuantie-qemu `arg=` syntax)."""
    spec = f"{build_plugin()},arg=out={out_path}"
    if target.vector_isa == "rvv0.7.1":
        spec += ",arg=vtype=v07"
    return ["-plugin", spec]


def count_instructions(binary: Path, target: Target, vlen: int | None, args: Sequence[str],
                       *, cwd: Path | None = None,
                       timeout: float = RUN_TIMEOUT_S) -> dict[int, dict[str, int]]:
    """Run `binary args...` under QEMU with the counting plugin; return counts per region.

    Keys are region ids (the marker immediates; 0 is everything before the first marker and
    after a `slti x0,x0,0`); values map each of COUNTERS to an instruction count.  Only
    regions that executed at least one instruction appear.
    """
    if target.is_host:
        raise HhbcError(f"instruction counts need QEMU, but target '{target.name}' runs natively; "
                        "choose a RISC-V target (e.g. c906, c908, rvv, rv64gc)")
    binary = Path(binary)
    if not binary.is_file():
        raise HhbcError(f"cannot count instructions: {binary} does not exist")
    where = f"target '{target.name}' (QEMU cpu {target.qemu_cpu_for(vlen)})"
    with tempfile.TemporaryDirectory(prefix="hhbc-count-") as tmp:
        out = Path(tmp) / "counts.json"
        cmd = [*emulator_command(target, vlen, plugin_args(target, out)), str(binary), *map(str, args)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"counting instructions of {binary.name} did not finish within "
                                 f"{timeout:g} s on {where}") from None
        if "Could not load plugin" in (proc.stderr or ""):
            raise ToolchainError(f"QEMU could not load the instruction-counting plugin: "
                                 f"{proc.stderr.strip().splitlines()[-1]}")
        if proc.returncode != 0:
            raise ToolchainError(f"{binary.name} failed while counting instructions on {where}: "
                                 f"{describe_failure(proc)}")
        try:
            report = json.loads(out.read_text())
        except (OSError, ValueError) as exc:
            raise ToolchainError(f"the instruction-counting plugin wrote no readable report "
                                 f"({exc}); QEMU stderr: {(proc.stderr or '').strip()[-300:]}") from None
    if report.get("format") != OUTPUT_FORMAT:
        raise ToolchainError(f"unexpected instruction-count report format {report.get('format')!r}")
    return {int(region): {name: int(values[name]) for name in COUNTERS}
            for region, values in report["regions"].items()}
