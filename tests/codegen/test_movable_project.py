"""A generated project its user can move and own (docs/project.md): a copied out/ builds without
hhbc's venv, the caller may supply the arena, the arena and the weights can go into named
linker sections, and model.h describes every input and output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from elftools.elf.elffile import ELFFile
from onnx import TensorProto, helper

from hhbc.build import build, ziglang_zig
from hhbc.compiler import compile_model
from hhbc.emulate import qemu_binary, run_binary, run_model
from hhbc.errors import HhbcError
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]

BASE_PATH = "/usr/bin:/bin"   # no venv, no zig


def _needs_riscv(target: str) -> None:
    if target == "host":
        return
    try:
        ziglang_zig()
        qemu_binary()
    except HhbcError as err:
        pytest.skip(f"{target} needs ziglang and xuantie-qemu: {err}")


@pytest.fixture(scope="module")
def demo_input() -> np.ndarray:
    return np.random.default_rng(11).standard_normal((1, 1, 49, 10)).astype(np.float32)


@pytest.fixture(scope="module")
def projects(demo_model, demo_input, tmp_path_factory):
    """target -> (project dir, manifest, the outputs of its own harness built by hhbc)."""
    made = {}

    def get(target: str, guard: bool = False):
        key = (target, guard)
        if key not in made:
            _needs_riscv(target)
            out = tmp_path_factory.mktemp(f"{target}_{'guard' if guard else 'plain'}") / "out"
            compiled = compile_model(demo_model, get_target(target), out, prefix="kws", guard=guard)
            elf = build(out, get_target(target))
            got = run_model(elf, get_target(target), None, [demo_input], compiled.manifest["outputs"],
                            out.parent / "io")
            made[key] = (out, compiled.manifest, got)
        return made[key]
    return get


def _copy(project: Path, dest: Path) -> Path:
    """The project as a user copies it: sources only, no build products."""
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("model", "build.log"))
    return dest


def _make(project: Path, *args: str, path: str = BASE_PATH, env: dict | None = None):
    """make in `project` with a bare environment: PATH as given, HOME (zig's cache), nothing
    of hhbc's venv."""
    environ = {"PATH": path, "HOME": os.environ.get("HOME", "/root")}
    environ.update(env or {})
    return subprocess.run(["make", "-C", str(project), "--no-print-directory", *args], capture_output=True,
                          text=True, env=environ, timeout=900)


def _bin_with(tmp_path: Path, name: str, script: str) -> Path:
    """A folder holding one executable shell script `name`."""
    folder = tmp_path / f"bin_{name}_{len(list(tmp_path.glob('bin_*')))}"
    folder.mkdir()
    (folder / name).write_text("#!/bin/sh\n" + script + "\n")
    (folder / name).chmod(0o755)
    return folder


# ---- moving out/ --------------------------------------------------------------------------

def test_makefile_names_no_interpreter_of_hhbc(projects):
    out, _, _ = projects("c906")
    text = (out / "Makefile").read_text()
    assert sys.executable not in text and sys.prefix not in text and "PYTHON" not in text


def test_zig_search_order(projects, tmp_path):
    """ZIG first, then the ziglang of the first python3 on PATH, then zig on PATH, else an error
    naming the three fixes (make -n: the command make would run)."""
    out, _, _ = projects("c906")
    copy = _copy(out, tmp_path / "moved")
    zig = ziglang_zig()
    failing_zig = _bin_with(tmp_path, "zig", "exit 1")
    real_zig = tmp_path / "realzig"
    real_zig.mkdir()
    (real_zig / "zig").symlink_to(zig)
    venv_python3 = _bin_with(tmp_path, "python3", f'exec "{sys.executable}" "$@"')

    def compiler(**kw) -> str:
        proc = _make(copy, "-n", **kw)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()[0]

    assert compiler(env={"ZIG": "/opt/my/zig"}, path=f"{real_zig}:{BASE_PATH}") == "/opt/my/zig"
    assert Path(compiler(path=f"{real_zig}:{venv_python3}:{BASE_PATH}")).resolve() == zig.resolve()
    assert Path(compiler(path=f"{venv_python3}:{BASE_PATH}")).resolve() == zig.resolve()
    python3_has_ziglang = subprocess.run(["python3", "-c", "import ziglang"], env={"PATH": BASE_PATH},
                                         capture_output=True).returncode == 0
    if not python3_has_ziglang:   # then zig on PATH is the one
        assert compiler(path=f"{failing_zig}:{BASE_PATH}") == str(failing_zig / "zig")
    # CC wins over everything (a failing zig on PATH is not even asked)
    proc = _make(copy, "-n", "CC=riscv64-linux-gnu-gcc", path=f"{failing_zig}:{BASE_PATH}")
    assert proc.returncode == 0 and proc.stdout.startswith("riscv64-linux-gnu-gcc -march=rv64gc_zfh"), proc
    proc = subprocess.run(["python3", "-c", "import ziglang"], env={"PATH": BASE_PATH}, capture_output=True)
    if proc.returncode == 0:
        pytest.skip("the system python3 has ziglang: the no-zig error cannot be shown")
    proc = _make(copy, path=BASE_PATH)
    assert proc.returncode != 0
    assert "no zig for c906: pip install ziglang, or make ZIG=/path/to/zig, or make CC=" in proc.stderr, proc.stderr
    assert _make(copy, "clean", path=BASE_PATH).returncode == 0, "make clean needs no compiler"


def test_hhbc_builds_with_its_own_zig_whatever_path_says(projects, demo_input, tmp_path, monkeypatch):
    """hhbc's build passes ZIG= the installed ziglang's zig: a PATH without zig or a python3
    that has ziglang changes nothing."""
    out, manifest, original = projects("c906")
    assert f"ZIG={ziglang_zig()}" in (out / "build.log").read_text().splitlines()[0]
    copy = _copy(out, tmp_path / "bare")
    monkeypatch.setenv("PATH", f"{_bin_with(tmp_path, 'zig', 'exit 1')}:{BASE_PATH}")   # a broken zig first
    elf = build(copy, get_target("c906"))
    monkeypatch.undo()
    got = run_model(elf, get_target("c906"), None, [demo_input], manifest["outputs"], tmp_path / "io")
    np.testing.assert_array_equal(got[0], original[0])


@pytest.mark.parametrize("target", ["c906", "host"])
def test_copied_project_builds_elsewhere_without_the_venv(target, projects, demo_input, tmp_path):
    """The user's own python3 with ziglang (not hhbc's venv on PATH) is enough for c906; the
    system cc for host. The moved build's outputs equal the original's bit for bit."""
    out, manifest, original = projects(target)
    copy = _copy(out, tmp_path / "elsewhere" / "firmware" / "kws")
    path = BASE_PATH
    if target != "host":
        own_python3 = _bin_with(tmp_path, "python3", f'exec "{sys.executable}" "$@"')
        path = f"{own_python3}:{BASE_PATH}"
    proc = _make(copy, path=path)
    assert proc.returncode == 0, proc.stderr
    assert str(ROOT / ".venv" / "bin") not in proc.stdout
    got = run_model(copy / "model", get_target(target), None, [demo_input], manifest["outputs"], tmp_path / "io")
    for g, o in zip(got, original):
        np.testing.assert_array_equal(g, o)


# ---- a caller-supplied arena ----------------------------------------------------------------

HARNESS = r"""
/* ./model in_0.bin ... out_0.bin ... after_0.bin ...: runs in a caller's arena full of
 * garbage (and, with the static arena, checks that run() gives the same bytes); after_i.bin is
 * input i after the run. */
#include <stdio.h>
#include <string.h>
#include "model.h"

static unsigned char caller[{P}_ARENA_BYTES + 16] __attribute__((aligned({P}_ARENA_ALIGN)));

static int io(const char *path, void *p, size_t n, int out)
{{
    FILE *f = fopen(path, out ? "wb" : "rb");
    if (!f) return 1;
    size_t done = out ? fwrite(p, 1, n, f) : fread(p, 1, n, f);
    fclose(f);
    return done != n;
}}

int main(int argc, char **argv)
{{
    const int ni = {P}_NUM_INPUTS, no = {P}_NUM_OUTPUTS;
    if (argc != 1 + 2 * ni + no) return 2;
    if ({p}_run_with(NULL) != 2 || {p}_run_with(caller + 8) != 2) return 10;   /* refused */
    if ({p}_input_in(caller, ni) != NULL || {p}_output_in(caller, -1) != NULL) return 11;
    memset(caller, 0x7f, sizeof caller);   /* a caller's arena need not be zeroed */
    for (int i = 0; i < ni; i++)
        if (io(argv[1 + i], {p}_input_in(caller, i), {p}_input_bytes(i), 0)) return 3;
#ifndef HHBC_NO_STATIC_ARENA
    for (int i = 0; i < ni; i++) memcpy({p}_input(i), {p}_input_in(caller, i), {p}_input_bytes(i));
    if ({p}_run() != 0) return 12;
#endif
    if ({p}_run_with(caller) != 0) return 4;
#ifndef HHBC_NO_STATIC_ARENA
    for (int o = 0; o < no; o++)
        if (memcmp({p}_output(o), {p}_output_in(caller, o), {p}_output_bytes(o)) != 0) return 13;
#endif
    for (int o = 0; o < no; o++)
        if (io(argv[1 + ni + o], (void *){p}_output_in(caller, o), {p}_output_bytes(o), 1)) return 3;
    for (int i = 0; i < ni; i++)
        if (io(argv[1 + ni + no + i], {p}_input_in(caller, i), {p}_input_bytes(i), 1)) return 3;
    return 0;
}}
"""


def _with_harness(project: Path, dest: Path, prefix: str) -> Path:
    copy = _copy(project, dest)
    (copy / "main.c").write_text(HARNESS.format(p=prefix, P=prefix.upper()))
    return copy


def _run_harness(elf: Path, target: str, manifest: dict, inputs: list[np.ndarray], work: Path):
    """(outputs, the inputs as the arena holds them after the run)."""
    work.mkdir(parents=True, exist_ok=True)
    ins = [work / f"in_{k}.bin" for k in range(len(inputs))]
    for path, array in zip(ins, inputs):
        np.ascontiguousarray(array).tofile(path)
    outs = [work / f"out_{k}.bin" for k in range(len(manifest["outputs"]))]
    after = [work / f"after_{k}.bin" for k in range(len(inputs))]
    run_binary(elf, get_target(target), None, [str(p) for p in [*ins, *outs, *after]])
    got = [np.fromfile(p, o["dtype"]).reshape(o["shape"]) for p, o in zip(outs, manifest["outputs"])]
    kept = [np.fromfile(p, a.dtype).reshape(a.shape) for p, a in zip(after, inputs)]
    return got, kept


def _symbols(elf: Path) -> dict[str, str]:
    """symbol name -> the name of the section it is defined in (objects and functions)."""
    with open(elf, "rb") as f:
        e = ELFFile(f)
        table = e.get_section_by_name(".symtab")
        found = {}
        for sym in table.iter_symbols():
            if sym["st_info"]["type"] in ("STT_OBJECT", "STT_FUNC") and isinstance(sym["st_shndx"], int):
                found[sym.name] = e.get_section(sym["st_shndx"]).name
        return found


@pytest.mark.parametrize("target,guard", [("host", False), ("host", True), ("c906", False), ("c906", True)])
@pytest.mark.parametrize("static_arena", [True, False], ids=["static", "no_static"])
def test_run_with_a_caller_arena(target, guard, static_arena, projects, demo_input, tmp_path):
    """<p>_run_with(buffer) gives the bytes <p>_run() gives and the original harness wrote;
    -DHHBC_NO_STATIC_ARENA leaves no arena in the ELF but the caller's."""
    out, manifest, original = projects(target, guard)
    copy = _with_harness(out, tmp_path / "app", "kws")
    flags = "" if static_arena else "-DHHBC_NO_STATIC_ARENA"
    elf = build(copy, get_target(target), extra_cflags=flags)
    got, _ = _run_harness(elf, target, manifest, [demo_input], tmp_path / "io")
    for g, o in zip(got, original):
        np.testing.assert_array_equal(g, o)
    symbols = _symbols(elf)
    assert "caller" in symbols and "kws_run_with" in symbols
    assert ("kws_arena" in symbols) == static_arena, sorted(s for s in symbols if "arena" in s)
    assert ("kws_run" in symbols) == static_arena
    if static_arena:
        assert symbols["kws_arena"].startswith(".bss"), symbols["kws_arena"]


def test_generated_harness_runs_without_a_static_arena(projects, demo_input, tmp_path):
    """The project's own main.c with -DHHBC_NO_STATIC_ARENA runs the model in an arena of its own."""
    out, manifest, original = projects("host")
    copy = _copy(out, tmp_path / "nostatic")
    elf = build(copy, get_target("host"), extra_cflags="-DHHBC_NO_STATIC_ARENA")
    assert "kws_arena" not in _symbols(elf) and "harness_arena" in _symbols(elf)
    got = run_model(elf, get_target("host"), None, [demo_input], manifest["outputs"], tmp_path / "io")
    np.testing.assert_array_equal(got[0], original[0])


# ---- sections -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["host", "c906"])
def test_arena_and_weights_in_named_sections(target, projects, demo_input, tmp_path):
    out, manifest, original = projects(target)
    weights = re.findall(r"^extern const \w+ (\w+)", (out / "weights.h").read_text(), re.M)
    assert len(weights) > 5
    default = _symbols(out / "model")
    assert default["kws_arena"].startswith(".bss")
    assert all(default[w].startswith(".rodata") for w in weights), {w: default[w] for w in weights}

    # the Makefile's variables
    copy = _copy(out, tmp_path / "vars")
    make_args = ["ARENA_SECTION=.npu_sram", "WEIGHTS_SECTION=.flash_weights"]
    if target != "host":
        make_args.append(f"ZIG={ziglang_zig()}")
    proc = _make(copy, *make_args)
    assert proc.returncode == 0, proc.stderr
    placed = _symbols(copy / "model")
    assert placed["kws_arena"] == ".npu_sram"
    assert {placed[w] for w in weights} == {".flash_weights"}
    got = run_model(copy / "model", get_target(target), None, [demo_input], manifest["outputs"], tmp_path / "io")
    np.testing.assert_array_equal(got[0], original[0])

    # the macros themselves, as another build system passes them (string literals)
    copy = _copy(out, tmp_path / "macros")
    elf = build(copy, get_target(target),
                extra_cflags="""'-DHHBC_ARENA_SECTION=".sram"' '-DHHBC_WEIGHTS_SECTION=".rom_weights"'""")
    placed = _symbols(elf)
    assert placed["kws_arena"] == ".sram" and {placed[w] for w in weights} == {".rom_weights"}


# ---- model.h ----------------------------------------------------------------------------------

def _macros(header: Path) -> dict[str, str]:
    return dict(re.findall(r"^#define (\w+) (.+?)(?:\s+/\*.*\*/)?$", header.read_text(), re.M))


def _check_io_macros(header: Path, prefix: str, kind: str, index: int, shape, dtype: str, ctype: str):
    m = _macros(header)
    name = f"{prefix.upper()}_{kind.upper()}{index}"
    count = int(np.prod(shape))
    assert int(m[f"{name}_RANK"]) == len(shape)
    assert [int(m[f"{name}_DIM{d}"]) for d in range(len(shape))] == list(shape)
    assert f"{name}_DIM{len(shape)}" not in m
    assert m[f"{name}_SHAPE"] == "{" + ", ".join(map(str, shape)) + "}"
    assert int(m[f"{name}_ELEMENTS"]) == count
    assert int(m[f"{name}_BYTES"]) == count * np.dtype(dtype).itemsize
    assert m[f"{name}_DTYPE"] == f'"{dtype}"' and m[f"{name}_TYPE"] == ctype
    return m, name


def test_model_h_describes_float_io(demo_model, projects, tmp_path):
    out, manifest, _ = projects("host")
    graph = onnx.load(str(demo_model)).graph
    for kind, values in (("input", graph.input), ("output", graph.output)):
        for k, v in enumerate(values):
            shape = [d.dim_value for d in v.type.tensor_type.shape.dim]
            m, name = _check_io_macros(out / "model.h", "kws", kind, k, shape, "float32", "float")
            assert f"{name}_SCALE" not in m and f"{name}_ZERO_POINT" not in m
            assert int(m[f"{name}_OFFSET"]) % 16 == 0
    # and it compiles as C: the macros are usable as types, initializers and constants
    src = tmp_path / "use.c"
    src.write_text("""#include "model.h"
static const int shape[] = KWS_INPUT0_SHAPE;
typedef char bytes_ok[sizeof(KWS_INPUT0_TYPE) * KWS_INPUT0_ELEMENTS == KWS_INPUT0_BYTES ? 1 : -1];
typedef char rank_ok[sizeof shape / sizeof shape[0] == KWS_INPUT0_RANK ? 1 : -1];
typedef char offset_ok[KWS_OUTPUT0_OFFSET + KWS_OUTPUT0_BYTES <= KWS_ARENA_BYTES ? 1 : -1];
int main(void) { return shape[0] - 1; }
""")
    proc = subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-unused-local-typedefs",
                           f"-I{out}", str(src), "-o", str(tmp_path / "use")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("model", ["tflite/mlperf_tiny/ad01_int8.tflite", "tflite/mlperf_tiny/kws_ref_model.tflite"])
def test_model_h_int8_scale_and_zero_point(model, models_dir, tmp_path):
    """The scale and zero point of int8 IO as the TFLite interpreter reports them."""
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    path = models_dir / model
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    interpreter = litert.Interpreter(model_path=str(path))
    compile_model(path, get_target("host"), tmp_path / "out", prefix="q8")
    header = tmp_path / "out" / "model.h"
    for kind, details in (("input", interpreter.get_input_details()), ("output", interpreter.get_output_details())):
        for k, d in enumerate(details):
            assert d["dtype"] == np.int8
            m, name = _check_io_macros(header, "q8", kind, k, [int(v) for v in d["shape"]], "int8", "int8_t")
            scale, zero_point = d["quantization"]
            assert m[f"{name}_SCALE"].endswith("f")
            assert np.float32(float(m[f"{name}_SCALE"][:-1])) == np.float32(scale), (m[f"{name}_SCALE"], scale)
            assert int(m[f"{name}_ZERO_POINT"]) == zero_point


def _residual_model(path: Path) -> Path:
    """y = x + sigmoid(x): the input lives until the last layer, nothing may reuse its bytes."""
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"], name="sig"),
             helper.make_node("Add", ["x", "s"], ["y"], name="add")]
    graph = helper.make_graph(nodes, "residual", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.mark.parametrize("guard", [False, True])
def test_preserved_says_whether_a_run_overwrites_an_input(guard, demo_model, tmp_path):
    """<P>_INPUTi_PRESERVED is 1 exactly when the input's bytes hold the same values after a run:
    the DS-CNN's input is dead after its first layer and its bytes reused, the residual model's
    is read by the last layer."""
    rng = np.random.default_rng(5)
    cases = [(demo_model, rng.standard_normal((1, 1, 49, 10)).astype(np.float32), 0),
             (_residual_model(tmp_path / "residual.onnx"), rng.standard_normal((1, 64)).astype(np.float32), 1)]
    for k, (model, x, expected) in enumerate(cases):
        out = tmp_path / f"p{k}"
        compiled = compile_model(model, get_target("host"), out, prefix="pm", guard=guard)
        assert int(_macros(out / "model.h")["PM_INPUT0_PRESERVED"]) == expected, model
        copy = _with_harness(out, tmp_path / f"h{k}", "pm")
        elf = build(copy, get_target("host"))
        got, (after,) = _run_harness(elf, "host", compiled.manifest, [x], tmp_path / f"io{k}")
        np.testing.assert_allclose(got[0], compiled.model.reference([x])[0], rtol=1e-4, atol=1e-5)
        assert np.array_equal(after, x) == bool(expected), model


# ---- global symbols -------------------------------------------------------------------------

def test_two_projects_share_no_global_symbol_but_kernels(demo_model, tmp_path):
    """Every global symbol of model.c and weights.c carries the --name prefix; two projects have
    none in common (their kernels, identical files, are the only shared code)."""
    globals_of = {}
    for prefix in ("alpha", "beta"):
        out = tmp_path / prefix
        compile_model(demo_model, get_target("host"), out, prefix=prefix, guard=prefix == "beta")
        names = set()
        for src in ("model.c", "weights.c"):
            obj = tmp_path / f"{prefix}_{src}.o"
            subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-c", f"-I{out / 'kernels'}",
                            str(out / src), "-o", str(obj)], check=True)
            with open(obj, "rb") as f:
                for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
                    if sym["st_info"]["bind"] == "STB_GLOBAL" and sym["st_shndx"] != "SHN_UNDEF":
                        names.add(sym.name)
        assert names and all(n.startswith(prefix + "_") for n in names), sorted(names)
        globals_of[prefix] = names
    assert not globals_of["alpha"] & globals_of["beta"]
    assert {"alpha_run", "alpha_run_with", "alpha_input_in", "alpha_output_in"} <= globals_of["alpha"]
