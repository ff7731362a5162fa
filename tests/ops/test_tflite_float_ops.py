"""Op-level float32 tests: tiny float TFLite models, compiled by hhbc, against the TFLite
interpreter's reference kernels (BUILTIN_REF) under hhbc's float tolerance.

The models come from tflite_float_cases.py (converted once per session by TensorFlow's
TFLite converter, no optimization). Each is compiled, built and run on seeded random inputs:
every case natively (`host`), the cases marked `qemu` also on c908 under QEMU.

    pytest tests/ops/test_tflite_float_ops.py -n 2
    pytest tests/ops/test_tflite_float_ops.py -k "prelu and host"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tflite_float_cases import (  # tests/ops is on sys.path
    CASES as ALL_CASES, Case, as_transpose_conv_bias, convert, model_ops, transpose_conv_cases)
from tflite_int8_cases import every_op_on_qemu

from hhbc.build import build
from hhbc.compare import compare
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends.tflite import SUPPORTED_OPS
from hhbc.lower.from_relax import HANDLERS
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

CASES = every_op_on_qemu(ALL_CASES)   # each builtin on c908 at least once

INPUT_SETS = 2


def _params(cases: list[Case]) -> list:
    params = [pytest.param(c, "host", id=f"{c.id}-host") for c in cases]
    params += [pytest.param(c, "c908", id=f"{c.id}-c908", marks=pytest.mark.qemu) for c in cases if c.qemu]
    return params


@pytest.fixture(scope="session")
def tflite_model(tmp_path_factory):
    """case -> path of its .tflite, converted (and checked for its ops) once per session."""
    root = tmp_path_factory.mktemp("tflite_float_ops")
    cache: dict[str, Path] = {}

    def get(case: Case) -> Path:
        if case.id not in cache:
            data = convert(case)
            ops = model_ops(data)
            assert case.ops <= ops, f"{case.id}: the model holds {sorted(ops)}, not {sorted(case.ops)}"
            path = root / f"{case.id}.tflite"
            path.write_bytes(data)
            cache[case.id] = path
        return cache[case.id]
    return get


def test_every_supported_op_has_cases():
    covered = set().union(*(c.ops for c in CASES))
    missing = SUPPORTED_OPS - covered
    assert not missing, f"supported float TFLite ops without an op-level case: {sorted(missing)}"


@pytest.mark.parametrize("case, target_name", _params(CASES))
def test_tflite_float_op(case, target_name, tflite_model, tmp_path):
    if case.needs and case.needs not in HANDLERS:
        pytest.skip(f"{case.needs} has no hhbc handler yet (its kernel is another task's)")
    path = tflite_model(case)
    target = get_target(target_name)
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    model = compiled.model
    problems = []
    for k in range(INPUT_SETS):
        arrays = case.input_arrays([i.shape for i in model.inputs], k)
        got = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"],
                        tmp_path / f"io{k}")
        refs = model.reference(arrays)
        assert len(got) == len(refs), f"{case.id}: hhbc gives {len(got)} outputs, TFLite {len(refs)}"
        for info, g, r in zip(model.outputs, got, refs):
            if g.shape != r.shape or g.dtype != r.dtype:
                problems.append(f"input set {k} {info.name}: hhbc {g.dtype}{list(g.shape)}, "
                                f"TFLite {r.dtype}{list(r.shape)}")
            elif not np.issubdtype(r.dtype, np.floating):
                if not np.array_equal(g, r):
                    problems.append(f"input set {k} {info.name}: {int(np.sum(g != r))} of {r.size} differ")
            else:
                c = compare(info.name, g, r)
                if not c.ok:
                    problems.append(f"input set {k} {c.line()}")
    assert not problems, f"{case.id} on {target_name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("case, target_name", [
    pytest.param(c, t, id=f"{c.id}-{t}", marks=[pytest.mark.qemu] if t != "host" else [])
    for c in transpose_conv_cases() for t in (("host", "c908") if c.qemu else ("host",))])
def test_mediapipe_transpose_conv_bias(case, target_name, tflite_model, tmp_path):
    """Convolution2DTransposeBias, made by rewriting a converted TRANSPOSE_CONV; against the
    interpreter running the original TRANSPOSE_CONV model."""
    original = tflite_model(case)
    path = tmp_path / "custom.tflite"
    path.write_bytes(as_transpose_conv_bias(original.read_bytes()))
    target = get_target(target_name)
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    assert any(layer["op"] == "deconv2d" for layer in compiled.manifest["layers"]), compiled.manifest["layers"]
    reference = compile_model(original, get_target("host"), tmp_path / "ref").model.reference
    for k in range(INPUT_SETS):
        arrays = case.input_arrays([i.shape for i in compiled.model.inputs], k)
        (got,) = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"],
                           tmp_path / f"io{k}")
        (ref,) = reference(arrays)
        c = compare("out", got, ref)
        assert got.shape == ref.shape and c.ok, c.line()


def test_other_custom_ops_are_refused_by_name(tflite_model, tmp_path):
    from hhbc.errors import HhbcError
    from hhbc.frontends.tflite import load_tflite

    data = as_transpose_conv_bias(tflite_model(transpose_conv_cases()[0]).read_bytes())
    data = data.replace(b"Convolution2DTransposeBias", b"Convolution2DTransposeBiaz")
    path = tmp_path / "other.tflite"
    path.write_bytes(data)
    with pytest.raises(HhbcError) as err:
        load_tflite(path)
    message = str(err.value)
    assert "\n" not in message and "custom op 'Convolution2DTransposeBiaz'" in message, message
