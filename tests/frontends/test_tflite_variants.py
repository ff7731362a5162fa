"""The model variants the TFLite converter writes, built with TensorFlow here (tflite_gen.py),
compiled by hhbc, run on host and under QEMU, and compared with the TFLite interpreter:

  * float16 weights behind DEQUANTIZE: against the interpreter on the float16 model, 1e-4;
  * sparse weights (DENSIFY of a CSR tensor): against the interpreter on the sparse model, 1e-4;
  * dynamic-range int8 weights: against a float twin holding the dequantized weights, 1e-4
    (the interpreter's own hybrid kernels also quantize activations; see
    tests/models/test_tflite_hybrid_models.py);
  * int8 with float IO (QUANTIZE first, DEQUANTIZE last): bit-exact with the interpreter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tflite_gen

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

TARGETS = ["host", "c908"]
RTOL = 1e-4
INPUTS = 3
FLOAT32, FLOAT16, INT8 = 0, 1, 9


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, Path]:
    """Each variant converted once per test session."""
    out = tmp_path_factory.mktemp("tflite_variants")
    files = {}
    for name in ("float16_weights", "sparse_weights", "hybrid_weights", "int8_float_io",
                 "sparse_float16_weights", "sparse_hybrid_weights"):
        files[name] = out / f"{name}.tflite"
        files[name].write_bytes(getattr(tflite_gen, name)())
    return files


def _run(path: Path, target: str, tmp_path: Path, seed: int = 11):
    """Compile, build and run `path` on seeded float inputs; (manifest, inputs, outputs)."""
    compiled = compile_model(path, get_target(target), tmp_path / "out")
    elf = build(tmp_path / "out", get_target(target))
    rng = np.random.default_rng(seed)
    sets = [[rng.uniform(-1, 1, i.shape).astype(np.float32) for i in compiled.model.inputs]
            for _ in range(INPUTS)]
    outs = [run_model(elf, get_target(target), compiled.manifest["vlen"], arrays,
                      compiled.manifest["outputs"], tmp_path / f"io{k}") for k, arrays in enumerate(sets)]
    return compiled.manifest, sets, outs


def _rel(got, ref) -> float:
    ref = np.asarray(ref, np.float64)
    return float(np.max(np.abs(np.asarray(got, np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30))


def _kernels(manifest) -> set[str]:
    """op/dtype of every layer (the kernel names depend on the target's variant)."""
    return {f'{layer["op"]}/{layer["dtype"]}' for layer in manifest["layers"]}


def test_generated_files_are_the_variants(variants):
    """The converter really wrote what each test is about."""
    fp16 = tflite_gen.tensor_types(variants["float16_weights"].read_bytes())
    assert sum(t == FLOAT16 for t, _ in fp16.values()) >= 5
    assert "DEQUANTIZE" in tflite_gen.op_names(variants["float16_weights"].read_bytes())
    sparse = tflite_gen.tensor_types(variants["sparse_weights"].read_bytes())
    assert sum(s for _, s in sparse.values()) == 2
    assert tflite_gen.op_names(variants["sparse_weights"].read_bytes()).count("DENSIFY") == 2
    hybrid = tflite_gen.tensor_types(variants["hybrid_weights"].read_bytes())
    assert sum(t == INT8 for t, _ in hybrid.values()) == 4
    ops = tflite_gen.op_names(variants["int8_float_io"].read_bytes())
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"


@pytest.mark.parametrize("target", TARGETS)
def test_float16_weights_match_interpreter(variants, target, tmp_path):
    path = variants["float16_weights"]
    manifest, sets, outs = _run(path, target, tmp_path)
    assert _kernels(manifest) == {"conv2d/float32", "depthwise_conv2d/float32", "dense/float32"}
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert _rel(got[0], ref) <= RTOL


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("variant", ["sparse_weights", "sparse_float16_weights"])
def test_sparse_weights_match_interpreter(variants, variant, target, tmp_path):
    """Sparse float32 weights, and sparse float16 ones (DENSIFY -> DEQUANTIZE), both folded."""
    path = variants[variant]
    manifest, sets, outs = _run(path, target, tmp_path)
    assert _kernels(manifest) == {"dense/float32"}
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert _rel(got[0], ref) <= RTOL


@pytest.mark.parametrize("target", TARGETS)
def test_hybrid_weights_match_dequantized_twin(variants, target, tmp_path):
    path = variants["hybrid_weights"]
    manifest, sets, outs = _run(path, target, tmp_path)
    assert {"conv2d_w8/float32", "depthwise_conv2d_w8/float32", "dense_w8/float32"} <= _kernels(manifest)
    twin = tflite_gen.dequantized_twin(path.read_bytes())
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(twin, arrays)
        assert _rel(got[0], ref) <= RTOL
        (hybrid,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        print(f"hybrid {target}: {_rel(got[0], ref):.2e} vs twin, {_rel(got[0], hybrid):.2e} vs interpreter")


@pytest.mark.parametrize("target", TARGETS)
def test_int8_float_io_bit_exact(variants, target, tmp_path):
    path = variants["int8_float_io"]
    manifest, sets, outs = _run(path, target, tmp_path)
    assert {"quantize_i8/int8", "dequantize_i8/float32", "conv2d_i8/int8"} <= _kernels(manifest)
    assert [io["dtype"] for io in manifest["inputs"] + manifest["outputs"]] == ["float32", "float32"]
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert got[0].dtype == np.float32 and np.array_equal(got[0], ref)


def test_sparse_float16_and_sparse_hybrid_files(variants):
    """DENSIFY of a sparse float16 constant feeding DEQUANTIZE; DENSIFY of a sparse int8 weight."""
    buf = variants["sparse_float16_weights"].read_bytes()
    types = tflite_gen.tensor_types(buf)
    assert any(t == FLOAT16 and s for t, s in types.values())
    ops = tflite_gen.op_names(buf)
    assert ops.count("DENSIFY") == 2 and ops.count("DEQUANTIZE") >= 2
    buf = variants["sparse_hybrid_weights"].read_bytes()
    assert any(t == INT8 and s for t, s in tflite_gen.tensor_types(buf).values())
    assert tflite_gen.op_names(buf).count("DENSIFY") == 2


@pytest.mark.parametrize("target", TARGETS)
def test_sparse_hybrid_weights_match_dequantized_model(variants, target, tmp_path):
    """Sparse int8 weights stay int8 (dense_w8); against the interpreter on the model with those
    weights dequantized (hhbc's reference), and loosely against its own hybrid kernels."""
    path = variants["sparse_hybrid_weights"]
    manifest, sets, outs = _run(path, target, tmp_path)
    assert _kernels(manifest) == {"dense_w8/float32"}
    model = compile_model(path, get_target("host"), tmp_path / "ref").model
    for arrays, got in zip(sets, outs):
        (ref,) = model.reference(arrays)
        assert _rel(got[0], ref) <= RTOL
        (hybrid,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert _rel(got[0], hybrid) <= 5e-2


def test_dequantize_of_int8_constant_is_folded(tmp_path):
    """DEQUANTIZE of an int8 constant (per-channel scales) becomes its float32 values."""
    from hhbc.frontends.tflite import read_tflite
    from hhbc.frontends.tflite_rewrite import plain_weights

    buf = tflite_gen.int8_constant_dequantize()
    path = tmp_path / "deq.tflite"
    path.write_bytes(buf)
    assert "DEQUANTIZE" in tflite_gen.op_names(buf)
    plain = plain_weights(read_tflite(path, buf), buf, path)
    assert "DEQUANTIZE" not in tflite_gen.op_names(plain)
    manifest, sets, outs = _run(path, "host", tmp_path)
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(buf, arrays)
        assert _rel(got[0], ref) <= RTOL


def test_rewritten_model_has_no_float16_or_sparse_tensors(variants):
    """What TVM's importer is handed: float32 constants, no DEQUANTIZE or DENSIFY left."""
    from hhbc.frontends.tflite import read_tflite
    from hhbc.frontends.tflite_rewrite import plain_weights

    for name in ("float16_weights", "sparse_weights", "sparse_float16_weights"):
        buf = variants[name].read_bytes()
        plain = plain_weights(read_tflite(variants[name], buf), buf, variants[name])
        ops = tflite_gen.op_names(plain)
        assert "DEQUANTIZE" not in ops and "DENSIFY" not in ops, ops
        graph = read_tflite(variants[name], plain)
        used = {i for op in graph.ops for i in op.inputs + op.outputs if i >= 0}
        assert all(graph.tensors[i].dtype == "float32" and not graph.tensors[i].sparse for i in used
                   if graph.tensors[i].buffer_bytes and graph.tensors[i].dtype != "int32")
