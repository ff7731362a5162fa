"""Layer-level differential tests of the Caffe frontend: every supported layer type,
compiled by hhbc, against OpenCV's Caffe importer (or Caffe's definition in numpy
where OpenCV departs from Caffe; see caffe_cases.py).

Each case's prototxt and .caffemodel are written by the test (hhbc's own schema,
seeded weights), compiled for the target, built, run (natively for `host`, under
QEMU for `c908`) and compared output by output under hhbc's float tolerance.

    pytest tests/frontends/test_caffe_layers.py -n 2
    pytest tests/frontends/test_caffe_layers.py -k "host and lrn"
"""

from __future__ import annotations

import pytest
from caffe_cases import CASES   # tests/frontends/caffe_cases.py (pytest puts this folder on sys.path)

from hhbc.build import build
from hhbc.compare import compare
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import ImportOptions
from hhbc.frontends.caffe import SUPPORTED_OPS
from hhbc.frontends.caffe_layers import CONVERTERS
from hhbc.targets import get_target

pytest.importorskip("cv2", reason="the Caffe reference is OpenCV: pip install 'hhbc[test]'")


@pytest.fixture(scope="module", params=["host", pytest.param("c908", marks=pytest.mark.qemu)])
def target(request):
    return get_target(request.param)


def test_supported_ops_are_the_converters():
    assert SUPPORTED_OPS == set(CONVERTERS)


def test_every_layer_type_has_cases():
    covered = set().union(*(c.types for c in CASES))
    missing = set(CONVERTERS) - covered - {"Input"}
    assert not missing, f"Caffe layer types without a differential case: {sorted(missing)}"
    assert covered <= set(CONVERTERS), sorted(covered - set(CONVERTERS))
    for layer_type in sorted(set(CONVERTERS) - {"Input"}):
        n = sum(layer_type in c.types for c in CASES)
        assert n >= 2, f"{layer_type}: only {n} case(s); cover several shapes/attributes"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_caffe_layer(case, target, tmp_path):
    path = case.net.write(tmp_path, case.id)
    shapes = tuple(case.net.inputs.values())
    # Declared batches above 1 are compiled as 1 unless -is says otherwise.
    options = ImportOptions(input_shapes=shapes if any(s[0] > 1 for s in shapes) else (),
                            output_names=case.outputs)
    inputs = case.input_arrays()
    compiled = compile_model(path, target, tmp_path / "out", options=options)
    elf = build(tmp_path / "out", target)
    model = compiled.model
    got = run_model(elf, target, compiled.manifest["vlen"], inputs, compiled.manifest["outputs"], tmp_path / "io")
    if case.reference is None:
        refs, source = model.reference(inputs), "OpenCV"
    else:
        refs, source = case.reference(inputs), "numpy (Caffe's definition)"
    comparisons = [compare(info.name, g, r) for info, g, r in zip(model.outputs, got, refs)]
    report = f"{case.id} on {target.name} vs {source}:\n" + "\n".join(c.line() for c in comparisons)
    assert len(got) == len(refs), report
    for g, r, info in zip(got, refs, model.outputs):
        assert g.shape == r.shape, f"{info.name}: hhbc shape {g.shape}, reference {r.shape}\n{report}"
    assert all(c.ok for c in comparisons), report
