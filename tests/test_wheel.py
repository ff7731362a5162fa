"""The built wheel alone gives a working `hhbc compile`: templates and kernels ship inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(dist), str(ROOT)], check=True, capture_output=True, text=True)
    (whl,) = dist.glob("hhbc-*.whl")
    return whl


def test_wheel_contains_templates_kernels_and_toolchain(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("hhbc/templates/model.c.j2", "hhbc/templates/Makefile.j2",
                     "hhbc/kernels/include/hhbc_kernels.h", "hhbc/kernels/ref/conv2d.c",
                     "hhbc/kernels/ref/conv2d_body.h", "hhbc/kernels/rvv/conv2d.c", "hhbc/kernels/c906/hhbc_rvv071.h",
                     "hhbc/toolchain/insn_count.c", "hhbc/templates/CMakeLists.txt.j2",
                     "hhbc/templates/weights.h.j2", "hhbc/toolchain/cmake/riscv64-zig.cmake",
                     "hhbc/toolchain/cmake/riscv64-linux-gnu-gcc.cmake",
                     "hhbc/toolchain/cmake/riscv64-thead-gcc.cmake"):
        assert required in names, required
    kernel_sources = {p.relative_to(ROOT / "hhbc").as_posix() for p in (ROOT / "hhbc/kernels").rglob("*.[ch]")}
    assert {f"hhbc/{k}" for k in kernel_sources} <= names


@pytest.mark.slow
def test_clean_venv_install_compiles_and_builds(wheel, tmp_path):
    """pip install of the wheel into a fresh venv (dependencies from the registry)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    model = tmp_path / "kws.onnx"
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_kws_dscnn.py"), str(model)], check=True,
                   capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([str(venv / "bin" / "hhbc"), "compile", str(model), "--target", "c908", "-o", "out",
                           "--build"], capture_output=True, text=True, cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = work / "out"
    for name in ("model.c", "model.h", "weights.c", "main.c", "Makefile", "manifest.json", "model",
                 "kernels/hhbc_kernels.h", "kernels/rvv_conv2d.c", "kernels/hhbc_rvv.h"):
        assert (out / name).exists(), name
    assert sorted(p.name for p in work.iterdir()) == ["out"]   # nothing written outside -o

    # Caffe and frozen TensorFlow models compile with neither framework installed.
    for framework in ("tensorflow", "cv2", "caffe"):
        probe = subprocess.run([str(py), "-c", f"import {framework}"], capture_output=True)
        assert probe.returncode != 0, f"{framework} should not be in the clean venv"
    for name, path, extra in _framework_models(tmp_path):
        proc = subprocess.run([str(venv / "bin" / "hhbc"), "compile", str(path), "--target", "c906",
                               "-o", f"out_{name}", "--build", *extra], capture_output=True, text=True, cwd=work)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
        assert (work / f"out_{name}" / "model").exists()


def _framework_models(tmp_path: Path):
    """A small Caffe net (hhbc's own protobuf schema) and a frozen GraphDef (written by TensorFlow)."""
    sys.path.insert(0, str(ROOT / "tests" / "frontends"))
    from caffe_cases import Net, conv_layer

    net = conv_layer(Net({"data": (1, 3, 8, 8)}), "conv1", "data", "conv1", 3, 4, pad=1)
    net.add("relu1", "ReLU", "conv1", "conv1")
    caffe_dir = tmp_path / "caffe"
    caffe_dir.mkdir()
    yield "caffe", net.write(caffe_dir, "net"), []

    tf = pytest.importorskip("tensorflow", reason="TensorFlow writes the test GraphDef (test extra)")
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 8, 8, 3], name="x")
        w = np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype(np.float32)
        tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), name="y")
    pb = tmp_path / "net.pb"
    pb.write_bytes(graph.as_graph_def().SerializeToString())
    yield "tf", pb, ["-on", "y"]
