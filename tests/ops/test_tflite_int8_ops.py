"""Op-level int8 tests: tiny fully-int8 TFLite models, compiled by hhbc, bit for bit against
the TFLite interpreter's reference kernels (BUILTIN_REF).

The models come from tflite_int8_cases.py (converted once per session by TensorFlow's
post-training full-integer quantization). Each is compiled, built and run on seeded random
inputs: every case natively (`host`), a representative few also under QEMU (`c908`, `c906`).

    pytest tests/ops/test_tflite_int8_ops.py -n 2
    pytest tests/ops/test_tflite_int8_ops.py -k "conv2d and host"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tflite_int8_cases import (  # tests/ops is on sys.path
    CASES as BASE_CASES, FLOAT_IO_CASES, WEIGHT_OPS, Case, convert, every_op_on_qemu, model_ops,
    weight_scale_counts)

from tflite_int8_math_cases import CASES as MATH_CASES
from tflite_int8_math2_cases import CASES as MATH2_CASES
from tflite_int8_resample_cases import CASES as RESAMPLE_CASES

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends.tflite_int8 import INT8_OPS
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")



CASES = every_op_on_qemu(BASE_CASES + MATH_CASES + RESAMPLE_CASES + MATH2_CASES)
INPUT_SETS = 3
QEMU_TARGETS = ("c908", "c906")


def _params(cases: list[Case]) -> list:
    """Every case on host; the cases marked `qemu` also on each RISC-V target."""
    params = [pytest.param(c, "host", id=f"{c.id}-host") for c in cases]
    params += [pytest.param(c, t, id=f"{c.id}-{t}", marks=pytest.mark.qemu)
               for c in cases if c.qemu for t in QEMU_TARGETS]
    return params


@pytest.fixture(scope="session")
def tflite_model(tmp_path_factory):
    """case -> path of its .tflite, converted (and checked) once per session."""
    root = tmp_path_factory.mktemp("tflite_int8_ops")
    cache: dict[str, Path] = {}

    def get(case: Case) -> Path:
        if case.id not in cache:
            data = convert(case)
            _check_converted(case, data)
            path = root / f"{case.id}.tflite"
            path.write_bytes(data)
            cache[case.id] = path
        return cache[case.id]
    return get


def _check_converted(case: Case, data: bytes) -> None:
    """The converter emitted what the case is named for: its ops, per-channel or per-tensor weights."""
    ops = model_ops(data)
    assert case.ops <= ops, f"{case.id}: the converter emitted {sorted(ops)}, not {sorted(case.ops)}"
    if case.ops & WEIGHT_OPS:
        counts = weight_scale_counts(data)
        per_channel = all(n > 1 for n in counts)
        assert counts and (per_channel if case.per_channel else all(n == 1 for n in counts)), \
            f"{case.id}: weight scale counts {counts}, per-channel expected: {case.per_channel}"


def test_every_int8_op_has_cases():
    covered = set().union(*(c.ops for c in CASES + FLOAT_IO_CASES))
    missing = INT8_OPS - covered
    assert not missing, f"int8 TFLite ops without an op-level case: {sorted(missing)}"


def _random_inputs(model, case: Case) -> list[list[np.ndarray]]:
    """Seeded input sets: the full int8 range, and last one of only -128/127 (saturation); for
    float IO, normals at the calibration spread, and last 4x wider (clamped by QUANTIZE)."""
    rng = np.random.default_rng(case.seed() + 1)
    ranges = case.ranges or (1.0,) * len(case.inputs)
    sets = []
    for k in range(INPUT_SETS):
        extreme = k == INPUT_SETS - 1
        if case.float_io:
            sets.append([(rng.standard_normal(i.shape) * r * (4 if extreme else 1)).astype(np.float32)
                         for i, r in zip(model.inputs, ranges)])
        elif extreme:
            sets.append([rng.choice(np.array([-128, 127], np.int8), size=i.shape) for i in model.inputs])
        else:
            sets.append([rng.integers(-128, 128, size=i.shape, dtype=np.int8) for i in model.inputs])
    return sets


def _interpreter_io(path: Path) -> dict[str, tuple[float, int]]:
    """Tensor name -> (scale, zero point) of the model's inputs and outputs, per the interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    return {d["name"]: d["quantization"] for d in interp.get_input_details() + interp.get_output_details()}


def _mismatches(got: list[np.ndarray], refs: list[np.ndarray], label: str) -> list[str]:
    """One line per output that is not bit-identical: dtype/shape, or max abs diff and count."""
    lines = []
    for k, (g, r) in enumerate(zip(got, refs)):
        if g.dtype != r.dtype or g.shape != r.shape:
            lines.append(f"{label} output {k}: hhbc {g.dtype}{g.shape}, TFLite {r.dtype}{r.shape}")
        elif not np.array_equal(g, r):
            diff = np.abs(g.astype(np.float64) - r.astype(np.float64))
            lines.append(f"{label} output {k}: max abs diff {diff.max():g}, "
                         f"{int(np.count_nonzero(diff))}/{diff.size} elements differ")
    if len(got) != len(refs):
        lines.append(f"{label}: hhbc gives {len(got)} outputs, TFLite {len(refs)}")
    return lines


def _compile_run_compare(case: Case, target_name: str, tflite_model, tmp_path: Path):
    """Compile, build, run INPUT_SETS input sets; assert every output bit-identical."""
    path = tflite_model(case)
    target = get_target(target_name)
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    problems = []
    for k, arrays in enumerate(_random_inputs(compiled.model, case)):
        got = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"],
                        tmp_path / f"io{k}")
        # the model's own reference: BUILTIN_REF, or the builtin kernels where TFLite's reference
        # kernel is broken (int8 SUM; hhbc/frontends/tflite.py)
        refs = compiled.model.reference(arrays)
        problems += _mismatches(got, refs, f"{case.id} on {target_name}, input set {k}")
    for line in problems:
        print(line)
    assert not problems, "\n".join(problems)
    return path, compiled


@pytest.mark.parametrize("case, target_name", _params(CASES))
def test_tflite_int8_op(case, target_name, tflite_model, tmp_path):
    path, compiled = _compile_run_compare(case, target_name, tflite_model, tmp_path)
    expected = _interpreter_io(path)
    manifest = compiled.manifest
    assert len(manifest["inputs"]) == len(case.inputs)
    for io in manifest["inputs"] + manifest["outputs"]:
        scale, zero_point = expected[io["name"]]
        if io in manifest["outputs"] and io["dtype"] in ("int32", "int64"):   # ARG_MAX/ARG_MIN indices
            assert (scale, zero_point) == (0.0, 0) and not io.get("quant"), io
            continue
        assert io["dtype"] == "int8", io
        assert io["quant"]["scale"] == [pytest.approx(scale, rel=1e-7)], (io, scale)
        assert io["quant"]["zero_point"] == [zero_point], (io, zero_point)


@pytest.mark.parametrize("case, target_name", _params(FLOAT_IO_CASES))
def test_tflite_int8_op_float_io(case, target_name, tflite_model, tmp_path):
    """int8 compute behind float32 IO: QUANTIZE at the input, DEQUANTIZE at the output."""
    _, compiled = _compile_run_compare(case, target_name, tflite_model, tmp_path)
    manifest = compiled.manifest
    assert len(manifest["inputs"]) == len(case.inputs)
    assert all(io["dtype"] == "float32" for io in manifest["inputs"] + manifest["outputs"]), manifest
