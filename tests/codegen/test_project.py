"""The generated firmware project: self-contained, warning-free, no heap, readable, linkable."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_binary, run_model
from hhbc.errors import ToolchainError
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))


@pytest.fixture(scope="module")
def project(demo_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("proj") / "out"
    compiled = compile_model(demo_model, get_target("host"), out)
    return out, compiled


def test_layout_of_the_project(project):
    out, compiled = project
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"model.h", "model.c", "weights.h", "weights.c", "main.c", "Makefile", "manifest.json"} <= files
    kernels = {f for f in files if f.startswith("kernels/")}
    used = {f"kernels/{Path(layer['kernel'].removeprefix('hhbc_').removesuffix('_f32') + '.c')}"
            for layer in compiled.manifest["layers"]}
    used |= {f[:-len(".c")] + "_body.h" for f in used}   # each float ref kernel's type-generic loop nest
    assert kernels == used | {"kernels/hhbc_kernels.h", "kernels/hhbc_act.h"}, "only the kernels the model needs"


def test_no_heap_anywhere(project):
    out, _ = project
    for path in out.rglob("*.[ch]"):
        text = path.read_text()
        assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", text), path


def test_layer_names_shapes_and_macs_in_comments(project):
    out, compiled = project
    text = (out / "model.c").read_text()
    assert "softmax" in text and "pool" in text and "flatten" in text
    conv = next(l for l in compiled.manifest["layers"] if l["op"] == "conv2d")
    assert f"MACs {conv['macs']}" in text
    assert "[1x25x5x64]" in text


def test_manifest_contract(project):
    out, compiled = project
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"] == [{"name": "mfcc", "shape": [1, 1, 49, 10], "dtype": "float32"}]
    assert manifest["outputs"] == [{"name": "probs", "shape": [1, 12], "dtype": "float32"}]
    assert manifest["arena_bytes"] >= manifest["arena_lower_bound"] > 0
    assert manifest["weight_bytes"] > 0 and manifest["macs"] == sum(l["macs"] for l in manifest["layers"])


def test_harness_rejects_a_short_input(project, tmp_path):
    out, _ = project
    elf = build(out, get_target("host"))
    short = tmp_path / "in.bin"
    np.zeros(10, np.float32).tofile(short)
    with pytest.raises(ToolchainError, match="exactly 1960 bytes"):
        run_binary(elf, get_target("host"), None, [str(short), str(tmp_path / "out.bin")])


def test_builds_with_another_compiler(project, tmp_path):
    """`make CC=...`: the host project with gcc, and a RISC-V project with Debian's cross gcc."""
    out, compiled = project
    copy = tmp_path / "gcc"
    shutil.copytree(out, copy)
    elf = build(copy, get_target("host"), cc="gcc")
    x = np.random.default_rng(0).standard_normal((1, 1, 49, 10)).astype(np.float32)
    (probs,) = run_model(elf, get_target("host"), None, [x], compiled.manifest["outputs"], tmp_path / "io")
    (ref,) = compiled.model.reference([x])
    np.testing.assert_allclose(probs, ref, rtol=1e-4, atol=1e-5)


def test_builds_with_debian_riscv_gcc(demo_model, tmp_path):
    """`make CC=...` with another compiler. Debian's GCC 12 has neither RVV intrinsics nor
    _Float16 on RISC-V, so it builds the scalar target (the vector kernels need clang >= 16,
    zig's, or GCC >= 14)."""
    cross = shutil.which("riscv64-linux-gnu-gcc")
    if cross is None:
        pytest.skip("riscv64-linux-gnu-gcc not installed (Debian package gcc-riscv64-linux-gnu; .ci/run installs it)")
    target = get_target("rv64gc")
    compiled = compile_model(demo_model, target, tmp_path / "out")
    elf = build(tmp_path / "out", target, cc=cross)
    x = np.random.default_rng(1).standard_normal((1, 1, 49, 10)).astype(np.float32)
    (probs,) = run_model(elf, target, None, [x], compiled.manifest["outputs"], tmp_path / "io")
    (ref,) = compiled.model.reference([x])
    np.testing.assert_allclose(probs, ref, rtol=1e-4, atol=1e-5)


def test_two_models_link_into_one_firmware(demo_model, tmp_path):
    """--name gives each model its own symbols; one firmware can hold both."""
    from make_kws_dscnn import build_model as again

    other = tmp_path / "other.onnx"
    onnx.save(again(seed=7), str(other))
    a = compile_model(demo_model, get_target("host"), tmp_path / "a", prefix="kws_a")
    b = compile_model(other, get_target("host"), tmp_path / "b", prefix="kws_b")
    app = tmp_path / "app.c"
    app.write_text("""
#include <stdio.h>
#include <string.h>
#include "a/model.h"
#include "b/model.h"
int main(void) {
    memset(kws_a_input(0), 0, kws_a_input_bytes(0));
    memset(kws_b_input(0), 0, kws_b_input_bytes(0));
    kws_a_run(); kws_b_run();
    const float *pa = kws_a_output(0), *pb = kws_b_output(0);
    printf("%.6f %.6f\\n", (double)pa[0], (double)pb[0]);
    return 0;
}
""")
    kernels = sorted({p.name for d in ("a", "b") for p in (tmp_path / d / "kernels").glob("*.c")})
    srcs = [str(app)] + [str(tmp_path / d / f) for d in ("a", "b") for f in ("model.c", "weights.c")]
    srcs += [str(next(p for p in (tmp_path / "a" / "kernels", tmp_path / "b" / "kernels") if (p / k).exists()) / k)
             for k in kernels]
    elf = tmp_path / "app"
    proc = subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{tmp_path / 'a' / 'kernels'}",
                           f"-I{tmp_path}", *srcs, "-lm", "-o", str(elf)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = [float(v) for v in subprocess.run([str(elf)], capture_output=True, text=True, check=True).stdout.split()]
    zero = np.zeros((1, 1, 49, 10), np.float32)
    expected = [a.model.reference([zero])[0].reshape(-1)[0], b.model.reference([zero])[0].reshape(-1)[0]]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_large_constants_are_byte_strings_read_as_their_values(project):
    """A 16 KiB+ weight is written as bytes (fast to compile) and model.c reads it through the
    union's typed member (the union type is named in weights.h, which declares every weight);
    small ones stay numbers."""
    out, compiled = project
    weights, model = (out / "weights.c").read_text(), (out / "model.c").read_text()
    header = (out / "weights.h").read_text()
    assert '#include "weights.h"' in weights and '#include "weights.h"' in model
    assert "extern" not in model, "model.c declares no weight itself"
    big = [t for t in compiled.graph.consts() if t.data.nbytes >= 16384]
    assert big, "the demo model has no constant of 16 KiB or more"
    for t in big:
        assert f" {t.cid}_bytes {t.cid} __attribute__((aligned(16))) HHBC_WEIGHTS_PLACE = {{\n    \"\\x" in weights
        assert (f"typedef union {{ unsigned char bytes[{t.data.nbytes + 1}]; float values[{t.data.size}]; }} "
                f"{t.cid}_bytes;") in header
        assert f"extern const {t.cid}_bytes {t.cid};" in header
        assert f"{t.cid}.values" in model
    for t in compiled.graph.consts():
        if t.data.nbytes < 16384:
            assert f"extern const float {t.cid}[{max(t.data.size, 1)}];" in header
    assert re.search(r"const float \w+\[\d+\] __attribute__\(\(aligned\(16\)\)\) HHBC_WEIGHTS_PLACE = \{\n    -?\d",
                     weights)


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "int32"])
def test_byte_string_constants_hold_the_exact_values(dtype, tmp_path):
    from hhbc.codegen.cvalues import C_TYPES, c_bytes_body

    rng = np.random.default_rng(3)
    data = (rng.standard_normal(1000) * 100).astype(dtype)
    ctype, n = C_TYPES[dtype], data.size
    src = tmp_path / "t.c"
    src.write_text(f"""#include <stdio.h>
#include <stdint.h>
static const union {{ unsigned char bytes[{data.nbytes + 1}]; {ctype} values[{n}]; }} w = {{
    {c_bytes_body(data)}
}};
int main(void) {{ fwrite(w.values, sizeof w.values, 1, stdout); return 0; }}
""")
    exe = tmp_path / "t"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", str(src), "-o", str(exe)], check=True)
    got = np.frombuffer(subprocess.run([str(exe)], check=True, capture_output=True).stdout, dtype)
    np.testing.assert_array_equal(got, data)
