"""Files hhbc ships for building its output elsewhere: CMake toolchain files (docs/cmake.md) and
the QEMU instruction-counting plugin's source (insn_count.c, used by hhbc.profile)."""

from __future__ import annotations

from pathlib import Path

from hhbc.errors import HhbcError
from hhbc.targets import TARGETS, get_target

CMAKE_DIR = Path(__file__).resolve().parent / "cmake"

# --cc-like compiler families -> toolchain file. Every RISC-V target shares one file per
# compiler: the core's own flags (-mcpu / -march) are in the generated CMakeLists.txt.
CMAKE_TOOLCHAINS = {
    "zig": "riscv64-zig.cmake",                  # zig cc from the ziglang package
    "gcc": "riscv64-linux-gnu-gcc.cmake",        # Debian's gcc-riscv64-linux-gnu
    "thead": "riscv64-thead-gcc.cmake",          # T-Head's Xuantie GCC, by HHBC_THEAD_PREFIX
}


def cmake_file(target: str, compiler: str = "zig") -> Path:
    """The CMake toolchain file that builds a project generated for `target` with `compiler`
    ("zig", "gcc" or "thead"). The host target is built by the machine's own compiler and
    needs none: asking for one is an HhbcError saying so."""
    t = get_target(target)
    if t.is_host:
        cross = ", ".join(name for name, tt in TARGETS.items() if not tt.is_host)
        raise HhbcError(f"target 'host' needs no CMake toolchain file: configure without "
                        f"-DCMAKE_TOOLCHAIN_FILE (toolchain files are for {cross})")
    try:
        name = CMAKE_TOOLCHAINS[compiler]
    except KeyError:
        raise HhbcError(f"unknown compiler '{compiler}' for a CMake toolchain file "
                        f"(choose from: {', '.join(CMAKE_TOOLCHAINS)})") from None
    return CMAKE_DIR / name
