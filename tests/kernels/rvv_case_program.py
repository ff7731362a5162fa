"""One C program of many kernel cases, each comparing an RVV 1.0 kernel with its reference kernel
byte for byte and printing PASS or FAIL: built once per test file with zig cc, run under
xuantie-qemu on every RVV 1.0 cpu (the C908 and generic cores at VLEN 128/256/512)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from c_harness import INCLUDE, QEMU, REF, ROOT

RVV = ROOT / "hhbc" / "kernels" / "rvv"
ZIG = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh",
       "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
CPUS = ["c908v", "rv64,x-v=true,vlen=128", "rv64,x-v=true,vlen=256", "rv64,x-v=true,vlen=512"]

# The C side of the check: outputs land in `got` (a guard zone of 0xA5 behind them), the
# reference's in `want`; check() prints PASS or FAIL and counts failures.
CHECK_C = r"""
#define GUARD 64
static int failures = 0;
static int8_t got[1 << 17];
static int8_t want[1 << 17];

static void check(const char *label, int32_t n)
{
    int32_t bad = -1, nbad = 0;
    for (int32_t i = 0; i < n; i++)
        if (got[i] != want[i]) { if (bad < 0) bad = i; nbad++; }
    int guard_ok = 1;
    for (int32_t i = 0; i < GUARD; i++) if ((uint8_t)got[n + i] != 0xA5) guard_ok = 0;
    if (bad >= 0 || !guard_ok) {
        failures++;
        printf("FAIL %s mismatches=%d first=%d (got %d want %d) guard=%d\n", label, (int)nbad, (int)bad,
               bad >= 0 ? got[bad] : 0, bad >= 0 ? want[bad] : 0, guard_ok);
    } else {
        printf("PASS %s n=%d\n", label, (int)n);
    }
}

static void prepare(int32_t n)
{
    memset(got, 0xA5, (size_t)n + GUARD);
    memset(want, 0, (size_t)n);
}
"""
OUT_BYTES = (1 << 17) - 64   # the most output bytes one case may write

_BUILT: dict[Path, tuple[Path, int]] = {}


def build_case_program(tmp_dir: Path, name: str, prelude: str, decls: list[str], calls: list[str],
                       ref_sources: list[str], rvv_sources: list[str]) -> tuple[Path, int]:
    """The program (built once per tmp_dir) and how many cases it runs."""
    if tmp_dir in _BUILT:
        return _BUILT[tmp_dir]
    main = tmp_dir / f"{name}.c"
    main.write_text(prelude + "\n".join(decls) + "\n\nint main(void)\n{\n" + "\n".join(calls)
                    + '\n    printf("failures=%d\\n", failures);\n    return failures != 0;\n}\n')
    objs = []
    for src in [*(REF / f for f in ref_sources), *(RVV / f for f in rvv_sources), main]:
        obj = tmp_dir / f"{src.parent.name}_{src.stem}.o"
        flags = ZIG if src != main else [f for f in ZIG if f != "-Werror"]
        cmd = [sys.executable, "-m", "ziglang", "cc", *flags, "-I", str(INCLUDE), "-I", str(RVV), "-I", str(REF),
               "-c", str(src), "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{src.name}:\n{res.stderr[-4000:]}"
        objs.append(str(obj))
    exe = tmp_dir / name
    res = subprocess.run([sys.executable, "-m", "ziglang", "cc", *ZIG[:2], *objs, "-o", str(exe), "-lm"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    _BUILT[tmp_dir] = (exe, len(calls))
    return _BUILT[tmp_dir]


def run_case_program(exe: Path, cases: int, cpu: str) -> None:
    """Every case printed PASS on this cpu (a FAIL line, or an indented detail line, fails)."""
    res = subprocess.run([str(QEMU), "-cpu", cpu, str(exe)], capture_output=True, text=True, timeout=900)
    fails = [ln for ln in res.stdout.splitlines() if ln.startswith("FAIL") or ln.startswith("  ")]
    assert res.returncode == 0 and not fails, "\n".join(fails[:40]) + res.stderr[-2000:]
    assert "failures=0" in res.stdout
    assert res.stdout.count("PASS") == cases
