"""The --guard build: canaries after every arena tensor, checked after every layer.

A kernel copy in out/kernels/ is broken on purpose (it writes one element past its output) and
the run must stop naming that layer (index and model name) and the tensor; an unbroken guard
build runs clean and matches the framework; without --guard nothing of it is generated.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from hhbc.compiler import compile_model
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from make_kws_dscnn import build_model  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from conftest import run_cli  # noqa: E402

# Wraps the reference kernel: the real one under another name, then one float past the end.
OVERRUN = """
void {fn}(const hhbc_tensor *in, const hhbc_tensor *out, const {params} *p)
{{
    size_t n = 1;
    {fn}_real(in, out, p);
    for (int d = 0; d < out->ndim; d++) n *= (size_t)out->dim[d];
    ((float *)out->data)[n] = 1.0f;   /* one element past the end */
}}
"""


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "kws_dscnn.onnx"
    onnx.save(build_model(), str(path))
    return path


def _make(project: Path) -> None:
    proc = subprocess.run(["make", "-C", str(project), "--no-print-directory"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr     # -Wall -Wextra -Werror: warning-free
    assert "warning" not in proc.stderr


def _run(project: Path, tmp: Path, manifest: dict) -> subprocess.CompletedProcess:
    x = np.random.default_rng(0).standard_normal(manifest["inputs"][0]["shape"]).astype(np.float32)
    x.tofile(tmp / "in_0.bin")
    return subprocess.run([str(project / "model"), str(tmp / "in_0.bin"), str(tmp / "out_0.bin")],
                          capture_output=True, text=True, timeout=60)


def test_a_kernel_writing_past_its_output_is_named(demo_model, tmp_path):
    out = tmp_path / "out"
    compiled = compile_model(demo_model, get_target("host"), out, guard=True)
    manifest = compiled.manifest
    assert manifest["guard_bytes"] == 16
    # break the dense kernel (the fully connected layer before the softmax): its layer is the one named
    (index, layer), = [(k, l) for k, l in enumerate(manifest["layers"]) if l["kernel"] == "hhbc_dense_f32"]
    kernel = out / "kernels" / "dense.c"
    text = kernel.read_text()
    assert "#define HHBC_KERNEL hhbc_dense_f32\n" in text
    text = text.replace("#define HHBC_KERNEL hhbc_dense_f32\n", "#define HHBC_KERNEL hhbc_dense_f32_real\n")
    kernel.write_text(text + OVERRUN.format(fn="hhbc_dense_f32", params="hhbc_dense_params"))
    _make(out)
    proc = _run(out, tmp_path, manifest)
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    name = layer["name"] or layer["op"]
    model_c = (out / "model.c").read_text()
    assert f"/* [{index}] {name}:" in model_c          # as the layer comment calls it
    tensor = re.search(r"tensor '([^']*)'", lines[0])[1]
    assert re.fullmatch(rf"model: arena guard: layer \[{index}\] {re.escape(name)} wrote past the end of tensor "
                        rf"'{re.escape(tensor)}' \(canary byte 0, arena offset \d+\)", lines[0]), lines[0]
    assert tensor == compiled.graph.nodes[index].output.storage().name   # the dense layer's own output


def test_an_unbroken_guard_build_runs_clean_and_matches(demo_model, tmp_path):
    proc = run_cli("run", str(demo_model), "--target", "host", "--guard", "-q", "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and all(line.endswith(" ok") for line in proc.stdout.splitlines()), proc.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    plain = compile_model(demo_model, get_target("host"), tmp_path / "plain").manifest
    assert manifest["arena_bytes"] > plain["arena_bytes"]     # the gaps
    assert "guard_bytes" not in plain
    for name in ("model.c", "main.c", "model.h"):
        assert "guard" not in (tmp_path / "plain" / name).read_text().lower(), name
    assert "model_guard_check(" in (tmp_path / "out" / "model.c").read_text()


def test_guarded_plan_keeps_every_canary_clear_of_live_tensors(demo_model, tmp_path):
    from hhbc.lower.memory import GUARD_BYTES, canaries, lifetimes, plan_memory

    graph = compile_model(demo_model, get_target("host"), tmp_path / "out").graph
    plain, guarded = plan_memory(graph), plan_memory(graph, guard=True)
    assert plain.guard_bytes == 0 and guarded.guard_bytes == GUARD_BYTES
    spans = list(lifetimes(graph).values())
    found = canaries(graph, guarded)
    assert len(found) == len(spans)
    for t, offset, first, last in found:
        assert offset == guarded.offset(t) + t.nbytes
        for u, f, l in spans:   # no tensor alive at the same time overlaps the canary
            if u is not t and f <= last and first <= l:
                lo = guarded.offset(u)
                assert lo + u.nbytes <= offset or lo >= offset + GUARD_BYTES, (t.name, u.name)
