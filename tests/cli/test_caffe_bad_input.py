"""Bad Caffe input: one line naming the file and the layer, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import assert_one_line_error

from hhbc.frontends.caffe_schema import caffe_messages

pytestmark = pytest.mark.filterwarnings("ignore")

NET = """name: "small"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 8
input_dim: 8
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc" inner_product_param { num_output: 5 } }
"""


def _caffemodel(path: Path, blobs: dict[str, list[tuple[int, ...]]], legacy: bool = False) -> Path:
    net = caffe_messages()["NetParameter"]()
    rng = np.random.default_rng(0)
    for name, shapes in blobs.items():
        layer = net.layer.add(name=name)
        for shape in shapes:
            blob = layer.blobs.add()
            if legacy:
                blob.num, blob.channels, blob.height, blob.width = (1,) * (4 - len(shape)) + tuple(shape)
            else:
                blob.shape.dim.extend(shape)
            blob.data.extend(rng.standard_normal(int(np.prod(shape))).astype(np.float32).tolist())
    path.write_bytes(net.SerializeToString())
    return path


GOOD_BLOBS = {"conv1": [(4, 3, 3, 3), (4,)], "fc": [(5, 256), (5,)]}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _compile(cli, workdir, path, *extra):
    return cli("compile", str(path), "--target", "host", "-o", "out", *extra, cwd=workdir)


def test_good_net_compiles(cli, workdir):
    """The baseline the error cases below break one thing of."""
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    proc = _compile(cli, workdir, "small.prototxt")
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "out" / "model.c").is_file()


def test_unknown_layer_types_listed_together(cli, workdir):
    text = NET + """layer { name: "roi_pool" type: "ROIPooling" bottom: "fc" top: "roi" }
layer { name: "proposal" type: "Python" bottom: "roi" top: "p" }
layer { name: "ok_relu" type: "ReLU" bottom: "p" top: "q" }
layer { name: "roi_pool2" type: "ROIPooling" bottom: "q" top: "r" }
"""
    (workdir / "small.prototxt").write_text(text)
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    line = assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "small.prototxt", "ROIPooling",
                                  "Python", "'roi_pool'", "'proposal'", "'roi_pool2'")
    assert "ok_relu" not in line and "conv1" not in line
    assert not (workdir / "out").exists()


@pytest.mark.parametrize("blobs,needles", [
    ({"conv1": [(4, 3, 3, 3)], "fc": GOOD_BLOBS["fc"]}, ["'conv1'", "1 blob(s)", "needs 2", "[4]"]),
    ({"conv1": [(4, 3, 5, 5), (4,)], "fc": GOOD_BLOBS["fc"]}, ["'conv1'", "[4, 3, 5, 5]", "[4, 3, 3, 3]"]),
    ({"conv1": GOOD_BLOBS["conv1"], "fc": [(5, 200), (5,)]}, ["'fc'", "[5, 200]", "[5, 256]"]),
    ({"conv1": GOOD_BLOBS["conv1"]}, ["no weights for layer 'fc'", "InnerProduct"]),
], ids=["conv_blob_count", "conv_kernel_shape", "fc_input_size", "layer_missing"])
def test_caffemodel_not_matching_prototxt(cli, workdir, blobs, needles):
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "small.caffemodel", blobs)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "small.caffemodel", *needles)
    assert not (workdir / "out").exists()


def test_legacy_blob_dims_checked_too(cli, workdir):
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "small.caffemodel", {"conv1": GOOD_BLOBS["conv1"], "fc": [(5, 250), (5,)]}, legacy=True)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "'fc'", "[1, 1, 5, 250]", "[5, 256]")


def test_missing_caffemodel(cli, workdir):
    (workdir / "small.prototxt").write_text(NET)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "small.prototxt", "'conv1'", "'fc'",
                           "small.caffemodel", "--weights")
    assert not (workdir / "out").exists()


def test_weights_option(cli, workdir):
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "trained_iter_100.caffemodel", GOOD_BLOBS)
    _caffemodel(workdir / "other.caffemodel", {"conv1": GOOD_BLOBS["conv1"]})   # two candidates: none chosen
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "--weights")
    proc = _compile(cli, workdir, "small.prototxt", "--weights", "trained_iter_100.caffemodel")
    assert proc.returncode == 0, proc.stderr
    assert_one_line_error(_compile(cli, workdir, "small.prototxt", "--weights", "nope.caffemodel"),
                           "--weights nope.caffemodel", "no such file")


def test_caffemodel_path_finds_prototxt(cli, workdir):
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    proc = _compile(cli, workdir, "small.caffemodel")
    assert proc.returncode == 0, proc.stderr
    _caffemodel(workdir / "lonely.caffemodel", GOOD_BLOBS)
    assert_one_line_error(_compile(cli, workdir, "lonely.caffemodel"), "lonely.caffemodel", "lonely.prototxt")


def test_unparsable_prototxt_names_the_line(cli, workdir):
    text = NET.replace('layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }',
                       'layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1"')
    (workdir / "small.prototxt").write_text(text)
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "small.prototxt:10:", "not a valid Caffe prototxt")


def test_garbage_caffemodel(cli, workdir):
    (workdir / "small.prototxt").write_text(NET)
    (workdir / "small.caffemodel").write_bytes(np.random.default_rng(1).integers(0, 256, 4096, np.uint8).tobytes())
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "small.caffemodel", "not a valid .caffemodel")


def test_bottom_never_produced(cli, workdir):
    (workdir / "small.prototxt").write_text(NET + 'layer { name: "sig" type: "Sigmoid" bottom: "nowhere" top: "s" }\n')
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt"), "layer 'sig' (Sigmoid)", "'nowhere'")


@pytest.mark.parametrize("args,needles", [
    (["-on", "missing"], ["-on 'missing'"]),
    (["-in", "conv1", "-is", "1 3 8 8"], ["-in 'conv1'", "inputs: data"]),
    (["-is", "1 3 8"], ["-is", "rank 3", "'data'"]),
    (["-is", "1 3 6 6"], ["layer 'fc' (InnerProduct)", "[5, 144]", "[5, 256]"]),
], ids=["unknown_output", "in_not_an_input", "is_wrong_rank", "is_changes_fc_input"])
def test_bad_io_options(cli, workdir, args, needles):
    (workdir / "small.prototxt").write_text(NET)
    _caffemodel(workdir / "small.caffemodel", GOOD_BLOBS)
    assert_one_line_error(_compile(cli, workdir, "small.prototxt", *args), *needles)
