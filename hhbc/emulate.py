"""Running a built model: natively for `host`, under xuantie-qemu otherwise."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np

from hhbc.errors import HhbcError, ToolchainError
from hhbc.targets import Target

RUN_TIMEOUT_S = 900


def qemu_binary() -> Path:
    """xuantie-qemu's user-mode binary; its console script is broken, so call it by path."""
    spec = importlib.util.find_spec("qemu")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        candidate = Path(loc) / "qemu-riscv64"
        if candidate.is_file():
            return candidate
    raise HhbcError("xuantie-qemu is not installed (pip install xuantie-qemu); "
                    "note that an unrelated PyPI package also named 'qemu' may shadow it")


def emulator_command(target: Target, vlen: int | None, extra: Sequence[str] = ()) -> list[str]:
    if target.is_host:
        return []
    return [str(qemu_binary()), "-cpu", target.qemu_cpu_for(vlen), *extra]


def run_binary(binary: Path, target: Target, vlen: int | None, args: Sequence[str],
               extra_qemu: Sequence[str] = ()) -> subprocess.CompletedProcess:
    cmd = [*emulator_command(target, vlen, extra_qemu), str(binary), *args]
    where = f"target '{target.name}'" + ("" if target.is_host else f" (QEMU cpu {target.qemu_cpu_for(vlen)})")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"the model did not finish within {RUN_TIMEOUT_S} s on {where}") from None
    if proc.returncode != 0:
        raise ToolchainError(f"the model failed on {where}: {describe_failure(proc)}")
    return proc


def describe_failure(proc: subprocess.CompletedProcess) -> str:
    rc = proc.returncode
    text = (proc.stderr or "").strip()
    sig = -rc if rc < 0 else (rc - 128 if rc > 128 else None)
    if sig == signal.SIGILL or "Illegal instruction" in text:
        return "illegal instruction (the binary uses an instruction this core does not have)"
    if sig in (signal.SIGSEGV, signal.SIGBUS) or "Segmentation fault" in text:
        return "crashed with a memory fault"
    if sig is not None and sig > 0:
        try:
            return f"killed by signal {signal.Signals(sig).name}"
        except ValueError:
            pass
    last = text.splitlines()[-1] if text else ""
    return f"exit code {rc}" + (f": {last}" if last else "")


def run_model(binary: Path, target: Target, vlen: int | None, inputs: Sequence[np.ndarray],
              outputs: Sequence[dict], workdir: Path) -> list[np.ndarray]:
    """Write inputs, run `model in_*.bin out_*.bin`, read outputs (manifest dicts)."""
    workdir.mkdir(parents=True, exist_ok=True)
    in_paths = []
    for k, array in enumerate(inputs):
        path = workdir / f"in_{k}.bin"
        np.ascontiguousarray(array).tofile(path)
        in_paths.append(path)
    out_paths = [workdir / f"out_{k}.bin" for k in range(len(outputs))]
    for p in out_paths:
        p.unlink(missing_ok=True)
    run_binary(binary, target, vlen, [str(p) for p in [*in_paths, *out_paths]])
    results = []
    for path, info in zip(out_paths, outputs):
        data = np.fromfile(path, dtype=info["dtype"])
        results.append(data.reshape(info["shape"]))
    return results
