"""The target registry. Every per-target fact lives here, as data."""

from __future__ import annotations

from dataclasses import dataclass, field

from hhbc.errors import HhbcError
from hhbc.limits import GiB, MiB

RISCV_TRIPLE = "riscv64-linux-musl"


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    zig_mcpu: str | None            # None: built with the host compiler
    march: str | None               # the same ISA for gcc/clang users (CC=...)
    vector_isa: str | None          # "rvv0.7.1", "rvv1.0" or None
    default_vlen: int | None
    qemu_cpu: str | None            # None: runs natively
    default_scheme: str
    kernel_variants: tuple[str, ...] = ("ref",)   # preferred first; "ref" always last
    float16: bool = False           # runs the float16 scheme (vector f16, or _Float16 on the host)
    vlen_choices: tuple[int, ...] = field(default_factory=tuple)
    # vendor vector extensions beyond vector_isa that the core (and its QEMU cpu) has, e.g.
    # "xtheadvdot" (th.vmaqa int8 dot products): kernels using one are a variant in the chain
    vector_extensions: tuple[str, ...] = ()
    # RAM budget of the activation arena (hhbc.limits): the RAM of the reference board named
    # beside each target; a model whose arena is larger is refused unless --max-arena raises it.
    # None: no budget. Flash is not budgeted: these boards boot Linux from SD/eMMC, and the
    # weights are bounded by --max-weights.
    ram_bytes: int | None = None

    @property
    def is_host(self) -> bool:
        return self.qemu_cpu is None

    def qemu_cpu_for(self, vlen: int | None) -> str:
        """The -cpu string, with the vector length where the core lets us choose it."""
        if self.qemu_cpu is None:
            raise HhbcError(f"target '{self.name}' runs natively, not under QEMU")
        if "{vlen}" in self.qemu_cpu:
            return self.qemu_cpu.format(vlen=vlen or self.default_vlen)
        return self.qemu_cpu


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            name="c906",
            description="XuanTie C906, RVV 0.7.1 (XTheadVector), VLEN 128",
            zig_mcpu="baseline_rv64+zfh",
            march="rv64gc_zfh",
            vector_isa="rvv0.7.1",
            default_vlen=128,
            qemu_cpu="c906fdv",
            default_scheme="float16",
            kernel_variants=("c906", "ref"),
            float16=True,
            ram_bytes=64 * MiB,      # Milk-V Duo (CV1800B: C906 @ 1 GHz): 64 MB DDR2 in package
        ),
        Target(
            name="c908",
            description="XuanTie C908, RVV 1.0, VLEN 128",
            zig_mcpu="baseline_rv64+v+zfh+zvfh",
            march="rv64gcv_zfh",   # GCC 12 binutils lack zvfh
            vector_isa="rvv1.0",
            default_vlen=128,
            qemu_cpu="c908v",
            default_scheme="int8",
            kernel_variants=("c908", "rvv", "ref"),
            float16=True,
            vector_extensions=("xtheadvdot",),
            ram_bytes=512 * MiB,     # CanMV-K230 (Kendryte K230: C908 @ 1.6 GHz): 512 MB LPDDR3
        ),
        Target(
            name="rvv",
            description="generic rv64gcv, RVV 1.0, VLEN-agnostic code (--vlen 128/256/512)",
            zig_mcpu="baseline_rv64+v+zfh+zvfh",
            march="rv64gcv_zfh",   # GCC 12 binutils lack zvfh
            vector_isa="rvv1.0",
            default_vlen=128,
            qemu_cpu="rv64,x-v=true,vlen={vlen}",
            default_scheme="float32",
            kernel_variants=("rvv", "ref"),
            float16=True,
            vlen_choices=(128, 256, 512),
            ram_bytes=2 * GiB,       # Banana Pi BPI-F3 (SpacemiT K1, RVV 1.0 VLEN 256): 2 GB, its smallest
        ),
        Target(
            name="rv64gc",
            description="scalar rv64gc, no vector unit",
            zig_mcpu="baseline_rv64",
            march="rv64gc",
            vector_isa=None,
            default_vlen=None,
            qemu_cpu="c906fd",
            default_scheme="float32",
            ram_bytes=64 * MiB,      # the C906 boards above without the vector unit (QEMU c906fd)
        ),
        Target(
            name="host",
            description="the machine running hhbc, built with its own cc (fast tests, sanitizers)",
            zig_mcpu=None,
            march=None,
            vector_isa=None,
            default_vlen=None,
            qemu_cpu=None,
            default_scheme="float32",
            float16=True,   # the _Float16 reference kernels, for fast tests
            ram_bytes=2 * GiB,       # not a board: a bound on what `hhbc run` allocates on this machine
        ),
    )
}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise HhbcError(
            f"unknown target '{name}' (choose from: {', '.join(TARGETS)})"
        ) from None


def check_scheme_on(target: Target, scheme: str) -> None:
    """A scheme the target cannot run is a one-line error naming the ones that can."""
    if scheme in ("float16", "float16_w_int8") and not target.float16:
        able = ", ".join(t.name for t in TARGETS.values() if t.float16)
        raise HhbcError(f"-qs {scheme}: target '{target.name}' has no vector float16 unit "
                        f"(float16 runs on: {able})")


def check_vlen(target: Target, vlen: int | None) -> int | None:
    """Validate --vlen against what the target's emulated core allows."""
    if vlen is None:
        return target.default_vlen
    if not target.vlen_choices:
        if vlen != target.default_vlen:
            raise HhbcError(
                f"--vlen {vlen}: target '{target.name}' has a fixed VLEN "
                f"({target.default_vlen or 'no vector unit'})"
            )
        return vlen
    if vlen not in target.vlen_choices:
        raise HhbcError(
            f"--vlen {vlen}: target '{target.name}' supports "
            f"{', '.join(map(str, target.vlen_choices))}"
        )
    return vlen
