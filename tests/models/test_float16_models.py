"""Every float model of the zoo in the float16 scheme (-qs float16) on the vector cores, against
its framework within float16's tolerance (1e-2 of max|reference|). The errors are printed
(`pytest -s` / `-rA`) so that they can be reported."""

from __future__ import annotations

import pytest
from test_caffe_models import MTCNN, _digit, _face
from test_real_models import ONNX_MODELS
from test_real_models import _inputs as onnx_inputs
from test_tf_models import ARM_MODELS, _mfcc_scale_input
from test_tf_models import _options as tf_options
from test_tflite_models import FLOAT_MODELS as TFLITE_MODELS
from test_tflite_models import _inputs as tflite_inputs

from hhbc.frontends import ImportOptions
from hhbc.runner import run_and_compare
from hhbc.targets import get_target

TARGETS = ["c906", "c908"]


def _cases():
    """(id, path under models/, inputs(models), options)"""
    for name, rel in ONNX_MODELS.items():
        yield f"onnx-{name}", rel, (lambda m, n=name: onnx_inputs(n, m)), ImportOptions()
    for name, rel in TFLITE_MODELS.items():
        yield f"tflite-{name}", rel, (lambda m, n=name: tflite_inputs(n, m)), ImportOptions()
    for name, (rel, size, _) in MTCNN.items():
        yield f"caffe-{name}", rel, (lambda m, s=size: [_face(m, s)]), ImportOptions()
    yield "caffe-lenet", "caffe/lenet/lenet.prototxt", (lambda m: [_digit(m, 3)]), ImportOptions()
    for name, (rel, _, _) in ARM_MODELS.items():
        opts = tf_options(name)
        yield f"tf-{name}", rel, (lambda m, o=opts: [_mfcc_scale_input(o.input_shapes[0])]), opts


CASES = list(_cases())


@pytest.mark.qemu
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float16_model_matches_framework(models_dir, case, target, tmp_path):
    label, rel, inputs, options = case
    if label.startswith("tflite"):
        pytest.importorskip("ai_edge_litert")
    if label.startswith("caffe"):
        pytest.importorskip("cv2", reason="the Caffe reference is OpenCV: pip install 'hhbc[test]'")
    if label.startswith("tf-"):
        pytest.importorskip("tensorflow")
    result = run_and_compare(models_dir / rel, get_target(target), inputs=inputs(models_dir), options=options,
                             out_dir=tmp_path / "out", scheme="float16")
    assert result.compiled.manifest["scheme"] == "float16"
    for c in result.comparisons:
        print(f"float16 {label} {target}: {c.line()}")
        assert c.ok, c.line()
