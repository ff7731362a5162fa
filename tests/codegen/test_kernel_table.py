"""The kernel table is consistent with the C sources it names and with the target registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hhbc.codegen.kernel_table import TABLE
from hhbc.codegen.params import PARAM_FIELDS
from hhbc.targets import TARGETS

KERNELS = Path(__file__).resolve().parents[2] / "hhbc" / "kernels"
ROW_IDS = [f"{r.variant}:{r.function}" for r in TABLE]


@pytest.mark.parametrize("row", TABLE, ids=ROW_IDS)
def test_row_names_real_files_and_a_defined_function(row):
    for rel in (*row.sources, *row.headers):
        assert (KERNELS / rel).is_file(), f"{row.function}: {rel} missing"
    text = "\n".join((KERNELS / s).read_text() for s in row.sources)
    assert re.search(rf"^\s*void\s+{row.function}\s*\(", text, re.M) or \
        re.search(rf"\b{row.function}\b", text), f"{row.function} is not defined in {row.sources}"
    assert row.op in PARAM_FIELDS or row.signature == "plain", f"{row.op}: no params fields"
    assert all(s.startswith(f"{row.variant}/") for s in row.sources), "a variant's sources sit in its folder"
    if row.variant != "ref":
        assert row.function.endswith(f"_{row.variant}"), "vector kernels carry their variant in the name"


def test_functions_are_unique():
    seen: dict[str, tuple] = {}
    for row in TABLE:
        key = (row.sources, row.params_type, row.signature)
        assert seen.setdefault(row.function, key) == key, f"{row.function} registered twice differently"


def test_every_kernel_source_is_in_the_table():
    used = {s for row in TABLE for s in row.sources}
    for variant_dir in KERNELS.iterdir():
        if variant_dir.name == "include" or not variant_dir.is_dir():
            continue
        for src in variant_dir.glob("*.c"):
            rel = f"{variant_dir.name}/{src.name}"
            # a type-generic body included by its instantiations is not compiled on its own
            included = any(f'"{src.name}"' in (KERNELS / s).read_text() for s in used)
            assert rel in used or included, f"{rel} is in no row of the kernel table"


@pytest.mark.parametrize("target", TARGETS.values(), ids=list(TARGETS))
def test_target_chains_name_variants_of_the_table(target):
    variants = {row.variant for row in TABLE}
    assert target.kernel_variants[-1] == "ref", "every chain ends in the portable reference"
    assert set(target.kernel_variants) <= variants | {"ref"}
    if target.vector_isa is None:
        assert target.kernel_variants == ("ref",), "a core without a vector unit runs the reference kernels"
