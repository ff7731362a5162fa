"""End to end on the real Caffe models in ../shared/models, against OpenCV's Caffe importer.

LeNet (MNIST) must classify the four sample digits; the MTCNN P/R/O-Nets run on the
sample face image. Every output of every model must match OpenCV within hhbc's float
tolerance (max abs err <= 1e-4 * max(1, max|ref|)) on each target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhbc.build import build
from hhbc.compare import compare
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import ImportOptions
from hhbc.runner import run_and_compare
from model_targets import MODEL_TARGETS, spec_target

from hhbc.targets import get_target

pytest.importorskip("cv2", reason="the Caffe reference is OpenCV: pip install 'hhbc[test]'")

TARGETS = MODEL_TARGETS
MTCNN = {   # prototxt (the .caffemodel of the same name sits beside it), input size, outputs
    "det1": ("caffe/mtcnn/det1.prototxt", 12, ["conv4-2", "prob1"]),
    "det2": ("caffe/mtcnn/det2.prototxt", 24, ["conv5-2", "prob1"]),
    "det3": ("caffe/mtcnn/det3.prototxt", 48, ["conv6-2", "conv6-3", "prob1"]),
}


def _digit(models: Path, digit: int) -> np.ndarray:
    """An MNIST sample as LeNet's Caffe example feeds it: pixels / 256 (SOURCES.md)."""
    from PIL import Image

    image = Image.open(models / f"testdata/mnist_images_wonnx/{digit}.jpg").convert("L")
    return (np.asarray(image, np.float32) / 256.0).reshape(1, 1, 28, 28)


def _face(models: Path, size: int) -> np.ndarray:
    """The MTCNN sample image, centre square resized to the net's input, (x - 127.5) / 128, BGR."""
    from PIL import Image

    image = Image.open(models / "caffe/mtcnn/test1.jpg").convert("RGB")
    w, h = image.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    pixels = np.asarray(image.crop(box).resize((size, size), Image.BILINEAR), np.float32)[:, :, ::-1]
    return ((pixels - 127.5) / 128.0).transpose(2, 0, 1)[None].copy()


@pytest.mark.parametrize("target", TARGETS)
def test_lenet_classifies_the_four_digits(models_dir, target, tmp_path):
    """lenet.prototxt finds lenet_iter_10000.caffemodel beside it (the only .caffemodel there)."""
    tgt, vlen = spec_target(target)
    # The logits too: the softmax output saturates and would hide small errors.
    compiled = compile_model(models_dir / "caffe/lenet/lenet.prototxt", tgt, tmp_path / "lenet",
                             options=ImportOptions(output_names=("ip2", "prob")), vlen=vlen)
    assert [i.shape for i in compiled.model.inputs] == [(1, 1, 28, 28)]   # declared batch 64 -> 1
    elf = build(tmp_path / "lenet", tgt)
    for digit in (0, 3, 5, 7):
        image = _digit(models_dir, digit)
        got = run_model(elf, tgt, compiled.manifest["vlen"], [image], compiled.manifest["outputs"],
                        tmp_path / f"io{digit}")
        refs = compiled.model.reference([image])
        for name, g, r in zip(("ip2", "prob"), got, refs):
            c = compare(name, g, r)
            print(f"lenet digit {digit} {target}: {c.line()}")
            assert c.ok, c.line()
        assert int(np.argmax(got[1])) == digit, (digit, got[1])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(MTCNN))
def test_mtcnn_matches_opencv(models_dir, name, target, tmp_path):
    prototxt, size, outputs = MTCNN[name]
    tgt, vlen = spec_target(target)
    result = run_and_compare(models_dir / prototxt, tgt, vlen=vlen, inputs=[_face(models_dir, size)],
                             out_dir=tmp_path / "out")
    assert [o.name for o in result.compiled.model.outputs] == outputs
    for c in result.comparisons:
        print(f"{name} {target}: {c.line()}")
        assert c.ok, c.line()


def test_weights_option_and_caffemodel_path_agree(models_dir, tmp_path):
    """`--weights` with the .prototxt, and the .caffemodel given directly, import the same net."""
    lenet = models_dir / "caffe/lenet"
    by_option = run_and_compare(lenet / "lenet.prototxt", get_target("host"),
                                options=ImportOptions(weights=lenet / "lenet_iter_10000.caffemodel"),
                                inputs=[_digit(models_dir, 3)], out_dir=tmp_path / "a")
    det1 = models_dir / "caffe/mtcnn/det1.caffemodel"
    direct = run_and_compare(det1, get_target("host"), inputs=[_face(models_dir, 12)], out_dir=tmp_path / "b")
    assert by_option.ok and direct.ok
    assert direct.compiled.model.source == det1.with_suffix(".prototxt")
