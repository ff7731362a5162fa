"""The generated CMakeLists.txt and the CMake toolchain files in hhbc/toolchain/cmake/ (docs/cmake.md).

Every build here is real: CMake configures with the toolchain file a user passes, zig cc or GCC
compiles, and QEMU (or the host) runs the firmware; its output files are compared bit for bit
with the `make` build of the same project."""

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
from onnx import TensorProto, helper, numpy_helper

import hhbc.toolchain
from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_binary, run_model
from hhbc.errors import HhbcError
from hhbc.targets import TARGETS, get_target

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore")
TIMEOUT_S = 900


def _cmake() -> str:
    """The `cmake` of the test extra (pip's, beside this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "cmake"
    if beside.is_file():
        return str(beside)
    try:
        import cmake  # the PyPI package: its own binary, whatever PATH says
        return str(Path(cmake.CMAKE_BIN_DIR) / "cmake")
    except ImportError:
        pass
    found = shutil.which("cmake")
    if found is None:
        pytest.skip("cmake not found: neither the 'cmake' package of the test extra "
                    "(pip install -e .[test]) nor a cmake on PATH")
    return found


def _env(**extra: str | None) -> dict[str, str]:
    """The environment of a user whose venv is active: its python (with hhbc and ziglang) first
    on PATH; `extra` adds variables (None removes one)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for key in ("CC", "CFLAGS", "LDFLAGS", "ZIG", "HHBC_PYTHON", "HHBC_THEAD_PREFIX"):
        env.pop(key, None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def cmake_build(source: Path, build_dir: Path, *defines: str, env: dict | None = None,
                target: str | None = None) -> subprocess.CompletedProcess:
    """`cmake -S source -B build_dir DEFINES && cmake --build build_dir`; asserts both succeed
    warning-free (-DHHBC_WERROR=ON) and returns the build's process."""
    env = env or _env()
    configure = subprocess.run([_cmake(), "-S", str(source), "-B", str(build_dir), "-DHHBC_WERROR=ON",
                                *defines], capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    cmd = [_cmake(), "--build", str(build_dir), "--verbose"] + (["--target", target] if target else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert "warning" not in proc.stderr.lower(), proc.stderr[-3000:]
    return proc


def toolchain_define(target: str, compiler: str = "zig") -> str:
    return f"-DCMAKE_TOOLCHAIN_FILE={hhbc.toolchain.cmake_file(target, compiler)}"


def _gcc_major(gcc: str) -> int:
    out = subprocess.run([gcc, "-dumpversion"], capture_output=True, text=True).stdout.strip()
    return int(out.split(".")[0]) if out[:1].isdigit() else 0


@pytest.fixture(scope="module")
def kws(demo_model) -> Path:
    """The demo DS-CNN keyword spotter (tests/conftest.py)."""
    return demo_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A second, different model: conv 3x3 + ReLU, global average pool, dense, softmax."""
    rng = np.random.default_rng(3)
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 5])
    inits = [numpy_helper.from_array(rng.standard_normal((6, 3, 3, 3)).astype(np.float32) * 0.3, "cw"),
             numpy_helper.from_array(rng.standard_normal(6).astype(np.float32) * 0.1, "cb"),
             numpy_helper.from_array(rng.standard_normal((6, 5)).astype(np.float32), "fw"),
             numpy_helper.from_array(rng.standard_normal(5).astype(np.float32) * 0.1, "fb")]
    nodes = [helper.make_node("Conv", ["image", "cw", "cb"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], name="fc"),
             helper.make_node("Softmax", ["g"], ["scores"], axis=1, name="softmax")]
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=inits)
    path = tmp_path_factory.mktemp("model") / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def _compile(model: Path, target: str, out: Path, prefix: str = "model", scheme: str | None = None):
    t = get_target(target)
    return compile_model(model, t, out, prefix=prefix, scheme=scheme or t.default_scheme)


def _inputs(manifest: dict, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(i["shape"]).astype(i["dtype"]) for i in manifest["inputs"]]


def _same_as_make(out: Path, build_dir: Path, target: str, tmp: Path) -> None:
    """The CMake-built harness and the make-built one, on the same input, write the same bytes."""
    t = get_target(target)
    manifest = _compile_manifest(out)
    inputs = _inputs(manifest, seed=5)
    by_make = build(out, t)
    want = run_model(by_make, t, manifest["vlen"], inputs, manifest["outputs"], tmp / "make")
    got = run_model(build_dir / "model", t, manifest["vlen"], inputs, manifest["outputs"], tmp / "cmake")
    for k in range(len(manifest["outputs"])):
        a, b = (tmp / "make" / f"out_{k}.bin").read_bytes(), (tmp / "cmake" / f"out_{k}.bin").read_bytes()
        assert a == b, f"output {k} differs between the make and the CMake build"
        assert np.isfinite(got[k]).all() and want[k].size > 0


def _compile_manifest(out: Path) -> dict:
    import json
    return json.loads((out / "manifest.json").read_text())


def _elf_arch(path: Path) -> int:
    """e_machine of an ELF (243: RISC-V)."""
    data = path.read_bytes()[:20]
    assert data[:4] == b"\x7fELF", path
    return int.from_bytes(data[18:20], "little")


# ---- the acceptance commands ----------------------------------------------------------------

@pytest.mark.qemu
@pytest.mark.parametrize("target, scheme", [("c906", None), ("c908", "float32")])
def test_riscv_build_with_zig_toolchain_matches_make(kws, tmp_path, target, scheme):
    """cmake -S out -B build -DCMAKE_TOOLCHAIN_FILE=$(python -c '...cmake_file("c906")') &&
    cmake --build build: the firmware runs under QEMU and writes what the make build writes."""
    out = tmp_path / "out"
    _compile(kws, target, out, prefix="kws", scheme=scheme)
    assert (out / "CMakeLists.txt").is_file()
    define = subprocess.run([sys.executable, "-c", f"import hhbc.toolchain as t; print(t.cmake_file({target!r}))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    proc = cmake_build(out, tmp_path / "build", f"-DCMAKE_TOOLCHAIN_FILE={define}")
    mcpu = TARGETS[target].zig_mcpu
    assert f"-mcpu={mcpu}" in proc.stdout and "-target riscv64-linux-musl" in proc.stdout
    assert "-std=c99" in proc.stdout and "-O2" in proc.stdout and "-Werror" in proc.stdout
    assert _elf_arch(tmp_path / "build" / "model") == 243
    _same_as_make(out, tmp_path / "build", target, tmp_path)


def test_host_build_without_toolchain_matches_make(kws, tmp_path):
    out = tmp_path / "out"
    _compile(kws, "host", out, prefix="kws")
    proc = cmake_build(out, tmp_path / "build")
    assert "-mcpu" not in proc.stdout and "-static" not in proc.stdout
    _same_as_make(out, tmp_path / "build", "host", tmp_path)


# ---- the GCC toolchain files -------------------------------------------------------------------

def _debian_gcc() -> str:
    gcc = shutil.which("riscv64-linux-gnu-gcc")
    if gcc is None:
        pytest.skip("riscv64-linux-gnu-gcc not installed (Debian package gcc-riscv64-linux-gnu; .ci/run installs it)")
    return gcc


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["rv64gc", "c906"])
def test_debian_gcc_toolchain_builds_and_runs(kws, tmp_path, target):
    """riscv64-linux-gnu-gcc.cmake. The c906 kernels use _Float16, which GCC has on RISC-V from
    version 13 on (Debian 12 ships GCC 12): there only the scalar target is built."""
    gcc = _debian_gcc()
    if target == "c906" and _gcc_major(gcc) < 13:
        pytest.skip(f"{gcc} is GCC {_gcc_major(gcc)}: _Float16 on RISC-V (the c906 kernels) needs GCC >= 13")
    out = tmp_path / "out"
    compiled = _compile(kws, target, out, prefix="kws")
    proc = cmake_build(out, tmp_path / "build", toolchain_define(target, "gcc"))
    assert f"-march={TARGETS[target].march} -mabi=lp64d" in proc.stdout
    assert "riscv64-linux-gnu-gcc" in proc.stdout and "-static" in proc.stdout
    x = _inputs(compiled.manifest, seed=2)
    (got,) = run_model(tmp_path / "build" / "model", get_target(target), None, x,
                       compiled.manifest["outputs"], tmp_path / "io")
    (ref,) = compiled.model.reference(x)
    tol = 2e-2 if target == "c906" else 1e-4     # c906 runs the float16 scheme
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.qemu
def test_thead_toolchain_by_prefix(kws, tmp_path):
    """riscv64-thead-gcc.cmake takes the compiler by prefix. T-Head's Xuantie GCC cannot be
    installed here, so Debian's cross GCC stands in, named by HHBC_THEAD_PREFIX (environment)."""
    _debian_gcc()
    out = tmp_path / "out"
    compiled = _compile(kws, "rv64gc", out, prefix="kws")
    proc = cmake_build(out, tmp_path / "build", toolchain_define("rv64gc", "thead"),
                       env=_env(HHBC_THEAD_PREFIX="riscv64-linux-gnu-"))
    assert "riscv64-linux-gnu-gcc" in proc.stdout and "-march=rv64gc -mabi=lp64d" in proc.stdout
    x = _inputs(compiled.manifest, seed=4)
    (got,) = run_model(tmp_path / "build" / "model", get_target("rv64gc"), None, x,
                       compiled.manifest["outputs"], tmp_path / "io")
    np.testing.assert_allclose(got, compiled.model.reference(x)[0], rtol=1e-4, atol=1e-5)


def test_thead_toolchain_names_a_missing_prefix(kws, tmp_path):
    out = tmp_path / "out"
    _compile(kws, "rv64gc", out)
    proc = subprocess.run([_cmake(), "-S", str(out), "-B", str(tmp_path / "build"),
                           toolchain_define("rv64gc", "thead"), "-DHHBC_THEAD_PREFIX=/nonexistent/riscv64-x-"],
                          capture_output=True, text=True, env=_env(), timeout=TIMEOUT_S)
    assert proc.returncode != 0
    assert "/nonexistent/riscv64-x-gcc not found" in proc.stderr.replace("\n", " ")


# ---- two models in one executable ---------------------------------------------------------------

APP_C = r"""
/* app in_kws out_kws in_tiny out_tiny: both models, one executable. */
#include <stdio.h>
#include "kws/model.h"
#include "tiny/model.h"

static int io(const char *path, void *buf, size_t bytes, int writing)
{
    FILE *f = fopen(path, writing ? "wb" : "rb");
    if (!f) return 1;
    size_t n = writing ? fwrite(buf, 1, bytes, f) : fread(buf, 1, bytes, f);
    return (fclose(f) != 0) || n != bytes;
}

int main(int argc, char **argv)
{
    if (argc != 5) return 2;
    if (io(argv[1], kws_input(0), kws_input_bytes(0), 0)) return 3;
    if (io(argv[3], tiny_input(0), tiny_input_bytes(0), 0)) return 3;
    if (kws_run() != 0 || tiny_run() != 0) return 4;
    if (io(argv[2], (void *)kws_output(0), kws_output_bytes(0), 1)) return 3;
    if (io(argv[4], (void *)tiny_output(0), tiny_output_bytes(0), 1)) return 3;
    return 0;
}
"""


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["c906", "host"])
def test_two_models_in_one_executable(kws, tiny, tmp_path, target):
    """Two projects compiled with different --name, pulled in by add_subdirectory(), called from
    one main(): each writes the bytes its own harness writes."""
    app = tmp_path / "app"
    projects = {"kws": kws, "tiny": tiny}
    manifests = {}
    for name, model in projects.items():
        manifests[name] = _compile(model, target, app / name, prefix=name).manifest
    (app / "main.c").write_text(APP_C)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\n"
        "project(app C)\n"
        "add_subdirectory(kws)\n"
        "add_subdirectory(tiny)\n"
        "add_executable(app main.c)\n"
        "target_link_libraries(app PRIVATE kws tiny)\n")
    defines = [] if target == "host" else [toolchain_define(target)]
    cmake_build(app, tmp_path / "build", *defines)
    assert not (tmp_path / "build" / "kws" / "model").exists()     # harnesses: only on request
    cmake_build(app, tmp_path / "build", *defines, target="tiny_run")

    t = get_target(target)
    inputs = {name: _inputs(manifests[name], seed=k) for k, name in enumerate(projects)}
    args = []
    for name in projects:
        (array,) = inputs[name]
        array.tofile(tmp_path / f"in_{name}.bin")
        args += [str(tmp_path / f"in_{name}.bin"), str(tmp_path / f"out_{name}.bin")]
    run_binary(tmp_path / "build" / "app", t, None, args)

    # Each model alone: kws through the make harness, tiny through its CMake harness.
    (alone_kws,) = run_model(build(app / "kws", t), t, None, inputs["kws"], manifests["kws"]["outputs"],
                             tmp_path / "kws_alone")
    (alone_tiny,) = run_model(tmp_path / "build" / "tiny" / "model", t, None, inputs["tiny"],
                              manifests["tiny"]["outputs"], tmp_path / "tiny_alone")
    for name, alone in (("kws", alone_kws), ("tiny", alone_tiny)):
        both = (tmp_path / f"out_{name}.bin").read_bytes()
        assert both == (tmp_path / f"{name}_alone" / "out_0.bin").read_bytes(), name
        assert alone.size > 0 and np.isfinite(alone).all()


# ---- the toolchain files themselves ---------------------------------------------------------------

def test_cmake_file_per_target_and_compiler():
    for name, target in TARGETS.items():
        if target.is_host:
            continue
        for compiler, file in hhbc.toolchain.CMAKE_TOOLCHAINS.items():
            path = hhbc.toolchain.cmake_file(name, compiler)
            assert path.is_file() and path.name == file
    assert hhbc.toolchain.cmake_file("c906").name == "riscv64-zig.cmake"


def test_cmake_file_errors_name_the_choices():
    with pytest.raises(HhbcError, match="'host' needs no CMake toolchain file.*c906"):
        hhbc.toolchain.cmake_file("host")
    with pytest.raises(HhbcError, match=r"unknown target 'k210' \(choose from: c906, c908"):
        hhbc.toolchain.cmake_file("k210")
    with pytest.raises(HhbcError, match=r"unknown compiler 'clang'.*zig, gcc, thead"):
        hhbc.toolchain.cmake_file("c906", "clang")


def _fake_zig(folder: Path) -> Path:
    """folder/ziglang/zig: a script running the real zig (zig finds its lib/ from its own path),
    so which lookup step found zig shows in the cache."""
    import ziglang

    zig = folder / "ziglang" / "zig"
    zig.parent.mkdir(parents=True)
    zig.write_text(f"#!/bin/sh\nexec {Path(ziglang.__file__).parent / 'zig'} \"$@\"\n")
    zig.chmod(0o755)
    return zig


def test_zig_toolchain_lookup_order(kws, tmp_path):
    """riscv64-zig.cmake finds zig: beside hhbc in site-packages (a wheel install), through
    HHBC_PYTHON (an editable install, whose hhbc is not beside ziglang), and ZIG before both;
    a ZIG that does not exist is named."""
    out = tmp_path / "out"
    _compile(kws, "c906", out)

    def configure(name: str, toolchain: Path, *defines: str, env: dict) -> str:
        proc = subprocess.run([_cmake(), "-S", str(out), "-B", str(tmp_path / name),
                               f"-DCMAKE_TOOLCHAIN_FILE={toolchain}", *defines],
                              capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
        if proc.returncode != 0:
            return "failed: " + proc.stderr.replace("\n", " ")
        cache = (tmp_path / name / "CMakeCache.txt").read_text()
        return re.search(r"^ZIG:FILEPATH=(.*)$", cache, re.M)[1]

    shipped = hhbc.toolchain.cmake_file("c906")
    # A wheel's layout: site-packages/hhbc/toolchain/cmake/riscv64-zig.cmake beside ziglang/.
    site = tmp_path / "site-packages"
    (site / "hhbc" / "toolchain" / "cmake").mkdir(parents=True)
    wheel_file = site / "hhbc" / "toolchain" / "cmake" / shipped.name
    shutil.copy(shipped, wheel_file)
    beside = _fake_zig(site)
    # An editable install: HHBC_PYTHON names a Python whose ziglang is elsewhere.
    python = tmp_path / "python"
    elsewhere = _fake_zig(tmp_path / "elsewhere")
    python.write_text(f"#!/bin/sh\necho {elsewhere.parent}\n")
    python.chmod(0o755)
    bare = _env(PATH="/usr/bin:/bin")

    assert configure("wheel", wheel_file, env=bare) == str(beside)
    assert configure("wheel_zig", wheel_file, env=_env(PATH="/usr/bin:/bin", ZIG=str(elsewhere))) == str(elsewhere)
    assert configure("editable", shipped, f"-DHHBC_PYTHON={python}", env=bare) == str(elsewhere)
    assert configure("editable_env", shipped, env=_env(PATH="/usr/bin:/bin", HHBC_PYTHON=str(python))) \
        == str(elsewhere)
    assert "ZIG=/nonexistent/zig does not exist" in configure("bad", shipped, env=_env(ZIG="/nonexistent/zig"))


# ---- CMake inside out/ and hhbc's own writes ---------------------------------------------------------

def test_name_cmake_reserves_gets_a_suffix(kws, tmp_path):
    """--name clean: C symbols clean_*, CMake library clean_model (CMake reserves "clean")."""
    out = tmp_path / "out"
    _compile(kws, "host", out, prefix="clean")
    cmake_build(out, tmp_path / "build")
    assert (tmp_path / "build" / "libclean_model.a").is_file() and (tmp_path / "build" / "model").is_file()


def test_in_source_build_is_refused(kws, tmp_path):
    """cmake -S out -B out would write its own Makefile over hhbc's: refused while configuring."""
    out = tmp_path / "out"
    _compile(kws, "host", out)
    makefile = (out / "Makefile").read_bytes()
    proc = subprocess.run([_cmake(), "-S", str(out), "-B", str(out)], capture_output=True, text=True,
                          env=_env(), timeout=TIMEOUT_S)
    assert proc.returncode != 0 and "build outside the generated folder" in proc.stderr
    assert (out / "Makefile").read_bytes() == makefile


def test_build_folder_inside_out_survives_recompile(kws, tiny, tmp_path):
    """out/build/ is not hhbc's: compiling another model into the same out/ leaves it alone, and
    the same build folder then rebuilds the new model."""
    out = tmp_path / "out"
    _compile(kws, "host", out)
    cmake_build(out, out / "build")
    assert (out / "build" / "model").is_file()
    manifest = _compile(tiny, "host", out).manifest
    assert "build/model" not in manifest["files"] and (out / "build" / "CMakeCache.txt").is_file()
    cmake_build(out, out / "build")
    x = _inputs(manifest, seed=9)
    (got,) = run_model(out / "build" / "model", get_target("host"), None, x, manifest["outputs"], tmp_path / "io")
    assert got.shape == (1, 5)
    # the new model's sources only: kws's depthwise kernel went with it
    assert not re.search(r"depthwise", (out / "CMakeLists.txt").read_text())
    assert not (out / "kernels" / "depthwise_conv2d.c").exists()


def test_section_options_place_arena_and_weights(kws, tmp_path):
    """-DHHBC_ARENA_SECTION / -DHHBC_WEIGHTS_SECTION reach model.c and weights.c (quoted as C
    strings by CMake): the firmware has both sections, holding the arena and the weights."""
    from elftools.elf.elffile import ELFFile

    out = tmp_path / "out"
    manifest = _compile(kws, "c906", out, prefix="kws").manifest
    cmake_build(out, tmp_path / "build", toolchain_define("c906"),
                "-DHHBC_ARENA_SECTION=.sram.bss", "-DHHBC_WEIGHTS_SECTION=.flash_weights")
    with open(tmp_path / "build" / "model", "rb") as f:
        sections = {s.name: s["sh_size"] for s in ELFFile(f).iter_sections()}
    assert sections.get(".sram.bss", 0) >= manifest["arena_bytes"], sections
    assert sections.get(".flash_weights", 0) >= manifest["weight_bytes"], sections


@pytest.mark.qemu
def test_profile_markers_through_cmake_c_flags(kws, tmp_path):
    """-DCMAKE_C_FLAGS=-DHHBC_PROFILE gives the per-layer markers: every layer's instruction
    count equals the make build's (make CFLAGS_EXTRA=-DHHBC_PROFILE): the same code."""
    from hhbc.profile import count_instructions

    out = tmp_path / "out"
    manifest = _compile(kws, "c906", out, prefix="kws").manifest
    cmake_build(out, tmp_path / "build", toolchain_define("c906"), "-DCMAKE_C_FLAGS=-DHHBC_PROFILE")
    t = get_target("c906")
    by_make = build(out, t, extra_cflags="-DHHBC_PROFILE")
    counts = {}
    for name, binary in (("make", by_make), ("cmake", tmp_path / "build" / "model")):
        args = []
        for k, array in enumerate(_inputs(manifest, seed=6)):
            array.tofile(tmp_path / f"in_{k}.bin")
            args.append(str(tmp_path / f"in_{k}.bin"))
        args += [str(tmp_path / f"{name}_out_{k}.bin") for k in range(len(manifest["outputs"]))]
        regions = count_instructions(binary, t, None, args)
        counts[name] = {r: c for r, c in regions.items() if r != 0}
    assert len(counts["cmake"]) == len(manifest["layers"]), sorted(counts["cmake"])
    assert counts["cmake"] == counts["make"]
    print("per-layer instructions:", {r: c["total"] for r, c in sorted(counts["cmake"].items())})
