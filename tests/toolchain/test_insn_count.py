"""The instruction-counting TCG plugin (hhbc/toolchain/insn_count.c) through hhbc.profile.

Guest programs live in insn_count_prog.c (one mode per argv[1]); they are cross-compiled
with zig cc for each target's -mcpu and run under xuantie-qemu with the plugin.  Expected
counts come from the assembly written in that file, so most checks are exact.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hhbc.errors import HhbcError, ToolchainError
from hhbc.profile import COUNTERS, build_plugin, count_instructions
from hhbc.targets import RISCV_TRIPLE, get_target

HERE = Path(__file__).resolve().parent
PROG = HERE / "insn_count_prog.c"


def _have_qemu() -> bool:
    try:
        from hhbc.emulate import qemu_binary
        qemu_binary()
        return True
    except HhbcError:
        return False


pytestmark = [pytest.mark.qemu,
              pytest.mark.skipif(not _have_qemu(), reason="xuantie-qemu is not installed")]

_built: dict[str, Path] = {}
_lock = threading.Lock()


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("insn_count")


def prog_for(target_name: str, build_dir: Path) -> Path:
    """insn_count_prog.c built for the target's -mcpu (one build per -mcpu per session)."""
    mcpu = get_target(target_name).zig_mcpu
    with _lock:
        if mcpu not in _built:
            out = build_dir / f"prog_{mcpu.replace('+', '_')}"
            cmd = [sys.executable, "-m", "ziglang", "cc", "-target", RISCV_TRIPLE, f"-mcpu={mcpu}",
                   "-O2", "-Wall", "-Wextra", "-Werror", str(PROG), "-o", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
            _built[mcpu] = out
        return _built[mcpu]


def count(target_name: str, build_dir: Path, *args, vlen: int | None = None, target=None):
    target = target or get_target(target_name)
    return count_instructions(prog_for(target_name, build_dir), target, vlen, [str(a) for a in args])


def counters(total, scalar, vec_arith=0, vec_mem=0, vsetvl=0, vec_lmul_weighted=0) -> dict:
    return dict(total=total, scalar=scalar, vec_arith=vec_arith, vec_mem=vec_mem,
                vsetvl=vsetvl, vec_lmul_weighted=vec_lmul_weighted)


def check_consistent(counts: dict[int, dict[str, int]]) -> None:
    for region, c in counts.items():
        assert set(c) == set(COUNTERS), region
        assert c["total"] == c["scalar"] + c["vec_arith"] + c["vec_mem"] + c["vsetvl"], (region, c)


# ----------------------------------------------------------------------------------
# (a) scalar loop: exact counts, exact linearity, a shared subroutine in two regions
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("target_name", ["rvv", "rv64gc", "c906"])
def test_scalar_loop_counts_exactly(target_name, build_dir):
    n = 1000
    small = count(target_name, build_dir, "scalar", n)
    large = count(target_name, build_dir, "scalar", 2 * n)
    check_consistent(small)
    check_consistent(large)
    body = 4  # addi, nop, nop, bnez
    # region 1: marker, mv, jal, N iterations, jr; region 2: marker, slli, jal, 2N iterations, jr
    assert small[1] == counters(total=body * n + 4, scalar=body * n + 4)
    assert small[2] == counters(total=body * 2 * n + 4, scalar=body * 2 * n + 4)
    assert large[1]["total"] - small[1]["total"] == n * body
    assert large[2]["total"] - small[2]["total"] == 2 * n * body
    # start-up (region 0) and exit (region 3) do not depend on the loop
    assert small[0]["total"] > 0 and small[3]["total"] > 0
    assert large[3] == small[3]


def test_ten_million_instructions_profile_quickly(build_dir):
    n = 2_500_000
    prog_for("rvv", build_dir)                 # build outside the timed part
    build_plugin()
    start = time.monotonic()
    counts = count("rvv", build_dir, "scalar", n)
    elapsed = time.monotonic() - start
    assert counts[1]["total"] == 4 * n + 4
    assert counts[2]["total"] == 8 * n + 4
    assert elapsed < 15, f"30M instructions took {elapsed:.1f} s under the plugin"


# ----------------------------------------------------------------------------------
# (b) RVV 1.0 intrinsics loop at VLEN 128 and 256
# ----------------------------------------------------------------------------------

def test_rvv_intrinsics_loop_scales_with_vlen(build_dir):
    by_vlen = {vlen: count("rvv", build_dir, "vadd", vlen=vlen) for vlen in (128, 256)}
    iterations = {128: 256 // 8, 256: 256 // 16}   # 256 floats, e32 m2: VLEN/16 per strip
    for vlen, counts in by_vlen.items():
        check_consistent(counts)
        r = counts[1]
        it = iterations[vlen]
        assert r["vsetvl"] == it, (vlen, r)
        assert r["vec_mem"] == 3 * it, (vlen, r)          # vle32, vle32, vse32
        assert r["vec_arith"] == it, (vlen, r)            # vfadd
        assert r["vec_lmul_weighted"] == 2 * (r["vec_arith"] + r["vec_mem"]), (vlen, r)
        assert r["scalar"] > it                           # pointer bumps and the branch
    per_iteration, rest = divmod(by_vlen[128][1]["total"] - by_vlen[256][1]["total"],
                                 iterations[128] - iterations[256])
    assert rest == 0 and per_iteration >= 6
    assert by_vlen[256][1]["total"] < by_vlen[128][1]["total"]


def test_dynamic_lmul_of_shared_code(build_dir):
    """One vadd.vv,vadd.vv subroutine run under LMUL 4, 8 and 1/2 (a TB without vsetvli)."""
    counts = count("rvv", build_dir, "lmul")
    check_consistent(counts)
    # marker, vsetvli, jal | vadd.vv, vadd.vv, jr
    assert counts[1] == counters(6, 3, vec_arith=2, vsetvl=1, vec_lmul_weighted=2 * 4)
    assert counts[2] == counters(6, 3, vec_arith=2, vsetvl=1, vec_lmul_weighted=2 * 8)
    assert counts[3] == counters(6, 3, vec_arith=2, vsetvl=1, vec_lmul_weighted=2 * 1)  # mf2
    # marker, vsetivli m2, vl4re32.v (weight 4), vlm.v (weight 1), flw (scalar)
    assert counts[4] == counters(5, 2, vec_mem=2, vsetvl=1, vec_lmul_weighted=4 + 1)


# ----------------------------------------------------------------------------------
# (c) determinism
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("vadd",), ("scalar", 777)])
def test_two_runs_give_identical_counts(args, build_dir):
    first = count("rvv", build_dir, *args, vlen=128)
    second = count("rvv", build_dir, *args, vlen=128)
    assert first == second
    assert len(first) >= 3


# ----------------------------------------------------------------------------------
# (d) RVV 0.7.1 on c906fdv, hand-encoded
# ----------------------------------------------------------------------------------

def test_c906_rvv071_classes_and_lmul(build_dir):
    counts = count("c906", build_dir, "xthead")
    check_consistent(counts)
    # marker, vsetvli e32,m1, vle.v, vadd.vv, flw, fld, fsw, flh, fsh (scalar FP loads/stores)
    assert counts[1] == counters(9, 6, vec_arith=1, vec_mem=1, vsetvl=1, vec_lmul_weighted=2)
    # marker, vsetvli e16,m4 (vtype 0x06), vle.v, vadd.vv: 0.7.1 reads vlmul = vtype[1:0] = 4
    assert counts[2] == counters(4, 1, vec_arith=1, vec_mem=1, vsetvl=1, vec_lmul_weighted=8)


def test_c908_vmaqa_counts_as_vector_arithmetic_at_its_lmul(build_dir):
    """XTheadVdot's th.vmaqa* (custom-0 opcode) are vector MACs, weighted by LMUL like OP-V."""
    counts = count("c908", build_dir, "vmaqa")
    check_consistent(counts)
    # region 1: marker, vsetvli e32,m2, three vmaqa at LMUL 2
    assert counts[1] == counters(5, 1, vec_arith=3, vsetvl=1, vec_lmul_weighted=6)


def test_c906_vtype_layout_is_selected_by_target(build_dir):
    """Read as RVV 1.0, vtype 0x06 is LMUL 1/4 (weight 1): the v07 argument matters."""
    as_v10 = dataclasses.replace(get_target("c906"), vector_isa="rvv1.0")
    counts = count("c906", build_dir, "xthead", target=as_v10)
    assert counts[2]["vec_lmul_weighted"] == 2


# ----------------------------------------------------------------------------------
# the Python API
# ----------------------------------------------------------------------------------

def test_host_target_is_rejected(build_dir):
    with pytest.raises(HhbcError, match="need QEMU"):
        count_instructions(prog_for("rvv", build_dir), get_target("host"), None, [])


def test_failing_program_is_reported(build_dir):
    with pytest.raises(ToolchainError, match="exit code 2"):
        count("rvv", build_dir, "no-such-mode")


def test_plugin_is_built_once_and_concurrently(tmp_path, monkeypatch):
    monkeypatch.setenv("HHBC_CACHE_DIR", str(tmp_path / "cache"))
    results: list[Path] = []
    errors: list[BaseException] = []

    def build():
        try:
            results.append(build_plugin())
        except BaseException as exc:  # noqa: BLE001 -- re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(results)) == 1
    plugin = results[0]
    assert plugin.parent == tmp_path / "cache" and plugin.is_file()
    assert [p.name for p in plugin.parent.iterdir()] == [plugin.name]   # no temp files left
    mtime = plugin.stat().st_mtime_ns
    assert build_plugin() == plugin and plugin.stat().st_mtime_ns == mtime
