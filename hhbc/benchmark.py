"""`hhbc bench`: per-layer instruction counts under QEMU, RAM and flash of a compiled model."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from hhbc.build import build
from hhbc.compiler import Compiled, Progress, compile_model
from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions
from hhbc.quantize.ptq import PtqOptions
from hhbc.profile import COUNTERS, count_instructions
from hhbc.runner import default_inputs
from hhbc.targets import Target

PROFILE_FLAG = "-DHHBC_PROFILE"


@dataclass
class LayerCounts:
    index: int
    name: str
    op: str
    kernel: str
    macs: int
    counts: dict[str, int]
    vector: bool = False          # ran in a vector kernel


@dataclass
class BenchResult:
    model: str
    target: str
    vlen: int | None
    macs: int
    layers: list[LayerCounts]
    arena_bytes: int
    arena_lower_bound: int
    weight_bytes: int
    code_bytes: int
    totals: dict[str, int] = field(default_factory=dict)
    vector_mac_share: float = 0.0
    scheme: str = "float32"

    @property
    def instructions(self) -> int:
        return self.totals["total"]

    @property
    def rows(self) -> list[dict]:
        """One flat dict per layer (index, name, op, kernel, macs, vector, then the counters and
        the LMUL-weighted total): `pandas.DataFrame(result.rows)` without hhbc needing pandas."""
        return [{"index": l.index, "name": l.name, "op": l.op, "kernel": l.kernel, "macs": l.macs,
                 "vector": l.vector, **l.counts, "lmul_weighted": lmul_weighted(l.counts)} for l in self.layers]

    def report(self) -> str:
        """The table `hhbc bench` prints."""
        return format_report(self)

    @property
    def lmul_weighted(self) -> int:
        """Total with each vector instruction counted LMUL times: a result cannot come from a
        large LMUL alone."""
        return lmul_weighted(self.totals)

    def vector_lower_bound(self, sew_bits: int = 32) -> int | None:
        """MACs / (VLEN/SEW): one LMUL-1 vector MAC per VLEN/SEW multiply-accumulates."""
        return None if not self.vlen else -(-self.macs // (self.vlen // sew_bits))


def lmul_weighted(counts: dict[str, int]) -> int:
    """Scalar and vsetvl instructions once, vector arithmetic and load/store LMUL times."""
    return counts["scalar"] + counts["vsetvl"] + counts["vec_lmul_weighted"]


def code_bytes(elf: Path, prefix: str) -> int:
    """Bytes of machine code in the model's and kernels' functions (not libc or main)."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if symtab is None:
            raise HhbcError(f"{elf}: no symbol table; build without -s to measure code size")
        return sum(s["st_size"] for s in symtab.iter_symbols()
                   if s["st_info"]["type"] == "STT_FUNC"
                   and (s.name.startswith("hhbc_") or s.name.startswith(prefix + "_")))


def bench(model_path: str | Path, target: Target, *, vlen: int | None = None,
          inputs: Sequence[np.ndarray] | None = None, options: ImportOptions = ImportOptions(),
          prefix: str = "model", out_dir: str | Path | None = None,
          progress: Progress | None = None, scheme: str = "float32",
          ptq: PtqOptions | None = None, verbose: bool = False) -> BenchResult:
    """Compile with layer markers, run once under the counting plugin, attribute counts."""
    progress = progress or Progress(False)
    if target.is_host:
        raise HhbcError(f"hhbc bench counts instructions under QEMU; target '{target.name}' runs natively")
    with tempfile.TemporaryDirectory(prefix="hhbc-bench-") as tmp:
        project = Path(out_dir) if out_dir is not None else Path(tmp) / "project"
        compiled = compile_model(model_path, target, project, options=options, prefix=prefix, vlen=vlen,
                                 progress=progress, scheme=scheme, ptq=ptq, verbose=verbose)
        progress(f"building for {target.name} with layer markers")
        elf = build(project, target, extra_cflags=PROFILE_FLAG)
        arrays = list(inputs) if inputs is not None else default_inputs(compiled.model.inputs)
        args = []
        for k, array in enumerate(arrays):
            path = Path(tmp) / f"in_{k}.bin"
            np.ascontiguousarray(array, dtype=compiled.model.inputs[k].dtype).tofile(path)
            args.append(str(path))
        args += [str(Path(tmp) / f"out_{k}.bin") for k in range(len(compiled.model.outputs))]
        progress(f"counting instructions under QEMU ({target.qemu_cpu_for(compiled.manifest['vlen'])})")
        regions = count_instructions(elf, target, compiled.manifest["vlen"], args)
        code = code_bytes(elf, compiled.manifest["prefix"])
    return _result(compiled, regions, code, target)


def _result(compiled: Compiled, regions: dict[int, dict[str, int]], code: int, target: Target) -> BenchResult:
    m = compiled.manifest
    empty = {k: 0 for k in COUNTERS}
    layers = [LayerCounts(l["index"], l["name"], l["op"], l["kernel"], l["macs"],
                          regions.get(l["index"] + 1, dict(empty)), l["vector"]) for l in m["layers"]]
    totals = {k: sum(layer.counts[k] for layer in layers) for k in COUNTERS}
    return BenchResult(str(compiled.model.source.name), target.name, m["vlen"], m["macs"], layers,
                       m["arena_bytes"], m["arena_lower_bound"], m["weight_bytes"], code, totals,
                       m["vector_mac_share"], m.get("scheme", "float32"))


def format_report(r: BenchResult) -> str:
    """The table `hhbc bench` prints."""
    lines = [f"{r.model} on {r.target}" + (f" (VLEN {r.vlen})" if r.vlen else "") + f", {r.scheme}",
             f"{'#':>3}  {'layer':32} {'kernel':32} {'MACs':>9} {'instructions':>12} {'insn/MAC':>8} "
             f"{'vector':>7} {'LMUL-wtd':>9}"]
    for layer in r.layers:
        c = layer.counts
        vec = c["vec_arith"] + c["vec_mem"] + c["vsetvl"]
        per_mac = f"{c['total'] / layer.macs:8.2f}" if layer.macs else f"{'-':>8}"
        name = layer.name if len(layer.name) <= 32 else layer.name[:29] + "..."
        kernel = layer.kernel if len(layer.kernel) <= 32 else layer.kernel[:29] + "..."
        lines.append(f"{layer.index:>3}  {name:32} {kernel:32} {layer.macs:>9} {c['total']:>12} {per_mac} "
                     f"{100.0 * vec / max(c['total'], 1):6.1f}% {lmul_weighted(c):>9}")
    t = r.totals
    lines.append(f"total: {t['total']} instructions per inference ({t['scalar']} scalar, {t['vec_arith']} vector "
                 f"arithmetic, {t['vec_mem']} vector load/store, {t['vsetvl']} vsetvl); "
                 f"LMUL-weighted {r.lmul_weighted}")
    sew, kind = {"float16": (16, "fp16"), "int8": (8, "int8")}.get(
        "int8" if r.scheme.startswith("int8") else "float16" if r.scheme.startswith("float16") else r.scheme,
        (32, "fp32"))
    bound = r.vector_lower_bound(sew)
    lines.append(f"MACs: {r.macs}, {100 * r.vector_mac_share:.1f}% in vector kernels"
                 + (f"; {kind} vector lower bound {bound} instructions" if bound else ""))
    lines.append(f"RAM: arena {r.arena_bytes} B (liveness lower bound {r.arena_lower_bound} B); "
                 f"flash: weights {r.weight_bytes} B + code {r.code_bytes} B")
    return "\n".join(lines)
