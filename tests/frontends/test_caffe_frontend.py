"""Caffe frontend: files, inputs (-in/-is), outputs (-on), phases, names, and the kernels chosen."""

from __future__ import annotations

import numpy as np
import pytest
import tvm
from caffe_cases import CASES, Enum, Net, conv_layer   # tests/frontends/caffe_cases.py

from hhbc.compiler import compile_model
from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions, load_model
from hhbc.frontends.caffe_schema import caffe_messages
from hhbc.frontends.protoschema import build_messages
from hhbc.targets import get_target

HOST = get_target("host")


def _case(case_id: str):
    return next(c for c in CASES if c.id == case_id)


def test_nested_enums_scope_their_values():
    """Caffe has MAX in two enums; nesting each in its message keeps both."""
    classes = build_messages("t_nested", {"P": [("pool", 1, "P.Method")], "E": [("op", 1, "E.Op")]},
                             enums={"P.Method": {"MAX": 0, "AVE": 1}, "E.Op": {"SUM": 1, "MAX": 2}})
    from google.protobuf import text_format

    assert text_format.Parse("pool: AVE", classes["P"]()).pool == 1
    assert text_format.Parse("op: MAX", classes["E"]()).op == 2
    with pytest.raises(ValueError, match="no message"):
        build_messages("t_bad", {"P": []}, enums={"Q.Method": {"A": 0}})


def test_schema_reads_pooling_and_eltwise_enums():
    from google.protobuf import text_format

    net = text_format.Parse('layer { name: "p" type: "Pooling" pooling_param { pool: AVE } }\n'
                            'layer { name: "e" type: "Eltwise" eltwise_param { operation: MAX } }\n'
                            'layer { name: "x" type: "Foo" weight_filler { type: "xavier" } param { lr_mult: 1 } }',
                            caffe_messages()["NetParameter"](), allow_unknown_field=True)
    assert net.layer[0].pooling_param.pool == 1 and net.layer[1].eltwise_param.operation == 2
    assert net.layer[1].HasField("eltwise_param") and not net.layer[0].HasField("eltwise_param")
    # Caffe's defaults
    assert net.layer[1].eltwise_param.coeff == [] and caffe_messages()["ConvolutionParameter"]().bias_term


def _two_input_net() -> Net:
    net = Net({"a": (2, 3, 4, 4), "b": (1, 3, 4, 4)}, input_style="shape")
    net.add("sum", "Eltwise", ["a", "b"], "s")
    return net.add("relu", "ReLU", "s", "s")


def test_declared_batch_becomes_one_with_a_note(tmp_path, capsys):
    path = _two_input_net().write(tmp_path, "two")
    model = load_model(path)
    assert [(i.name, i.shape) for i in model.inputs] == [("a", (1, 3, 4, 4)), ("b", (1, 3, 4, 4))]
    assert "input 'a' is declared with batch 2; using 1" in capsys.readouterr().err


def test_is_by_order_and_by_in_name(tmp_path):
    path = _two_input_net().write(tmp_path, "two")
    model = load_model(path, ImportOptions(input_shapes=((1, 3, 6, 5), (1, 3, 6, 5))))
    assert [i.shape for i in model.inputs] == [(1, 3, 6, 5), (1, 3, 6, 5)]
    assert model.outputs[0].shape == (1, 3, 6, 5)
    model = load_model(path, ImportOptions(input_names=("b", "a"), input_shapes=((2, 3, 4, 4), (2, 3, 4, 4))))
    assert [i.shape for i in model.inputs] == [(2, 3, 4, 4), (2, 3, 4, 4)]
    with pytest.raises(HhbcError, match="2 input"):
        load_model(path, ImportOptions(input_shapes=((1, 3, 4, 4),)))


@pytest.mark.parametrize("style", ["layer", "shape", "dim"])
def test_input_declaration_styles(tmp_path, style):
    net = Net({"x": (1, 2, 3, 4)}, input_style=style).add("sig", "Sigmoid", "x", "y")
    model = load_model(net.write(tmp_path, style))
    assert [(i.name, i.shape) for i in model.inputs] == [("x", (1, 2, 3, 4))]
    assert [(o.name, o.shape) for o in model.outputs] == [("y", (1, 2, 3, 4))]


def test_input_layer_with_two_tops(tmp_path):
    text = ('layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 1 dim: 4 } '
            'shape { dim: 1 dim: 4 } } }\nlayer { name: "m" type: "Eltwise" bottom: "a" bottom: "b" top: "m" '
            'eltwise_param { operation: PROD } }\n')
    (tmp_path / "two.prototxt").write_text(text)
    model = load_model(tmp_path / "two.prototxt")
    assert [i.name for i in model.inputs] == ["a", "b"] and model.outputs[0].name == "m"


def _branchy() -> Net:
    net = Net({"data": (1, 2, 4, 4)})
    net.add("sl", "Slice", "data", ["a", "b"], slice_param={"slice_point": [1]})
    net.add("relu_a", "ReLU", "a", "a")
    net.add("sig_b", "Sigmoid", "b", "b2")
    return net.add("tanh_a", "TanH", "a", "a")


def test_default_outputs_are_unread_blob_versions_in_layer_order(tmp_path):
    model = load_model(_branchy().write(tmp_path, "b"))
    assert [o.name for o in model.outputs] == ["b2", "a"]   # `a` after its last in-place layer


def test_outputs_by_blob_or_layer_name(tmp_path):
    path = _branchy().write(tmp_path, "b")
    model = load_model(path, ImportOptions(output_names=("a", "b")))
    assert [o.name for o in model.outputs] == ["a", "b"]
    model = load_model(path, ImportOptions(output_names=("sl",)))   # a layer: its tops as it made them
    assert [o.name for o in model.outputs] == ["a", "b"]
    result = model.reference([np.ones((1, 2, 4, 4), np.float32)])
    assert [r.shape for r in result] == [(1, 1, 4, 4), (1, 1, 4, 4)]


def test_train_phase_layers_are_skipped(tmp_path):
    text = ('input: "x"\ninput_shape { dim: 1 dim: 3 }\n'
            'layer { name: "data" type: "Data" top: "x" include { phase: TRAIN } }\n'
            'layer { name: "relu" type: "ReLU" bottom: "x" top: "y" }\n'
            'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "y" top: "loss" exclude { phase: TEST } }\n'
            'layer { name: "acc" type: "Accuracy" bottom: "y" top: "acc" include { phase: TRAIN } }\n')
    (tmp_path / "phases.prototxt").write_text(text)
    model = load_model(tmp_path / "phases.prototxt")
    assert model.source_ops == {"ReLU": 1} and [o.name for o in model.outputs] == ["y"]


def test_v1_and_v2_give_the_same_model(tmp_path):
    def build(v1: bool) -> Net:
        net = Net({"data": (1, 2, 6, 6)}, input_style="dim", v1=v1)
        conv_layer(net, "conv1", "data", "conv1", 2, 3, pad=1)
        net.add("relu1", "ReLU", "conv1", "conv1")
        return net.add("pool1", "Pooling", "conv1", "pool1", pooling_param={"pool": Enum("AVE"), "kernel_size": 2,
                                                                              "stride": 2})

    v1, v2 = build(True), build(False)
    v1.blobs = v2.blobs   # same weights
    m1 = load_model(v1.write(tmp_path, "v1"))
    m2 = load_model(v2.write(tmp_path, "v2"))
    assert m1.source_ops == m2.source_ops == {"Convolution": 1, "ReLU": 1, "Pooling": 1}
    tvm.ir.assert_structural_equal(m1.mod, m2.mod)
    assert "layers {" in (tmp_path / "v1.prototxt").read_text() and "type: CONVOLUTION" in (
        tmp_path / "v1.prototxt").read_text()


# (case, kernel ops in the generated code, layer names the generated model.c must carry)
KERNELS = [
    ("lrn_across_after_conv_fused", ["transpose", "conv2d", "lrn", "transpose"], ["norm1"]),
    ("deconv_after_conv_relu_fused", ["transpose", "conv2d", "deconv2d", "transpose"], ["up + relu2"]),
    ("bn_scale_inplace_after_conv", ["transpose", "conv2d", "transpose"], ["conv1 + bn1 + scale1 + relu1"]),
    ("slice_channels_three_tops", ["transpose", "conv2d", "strided_slice", "strided_slice", "strided_slice",
                                   "transpose", "transpose"], ["sl"]),
    ("crop_axis2_offsets", ["strided_slice"], ["crop"]),
    ("ip_after_conv_nchw_order", ["transpose", "conv2d", "dense"], ["ip1"]),
]


@pytest.mark.parametrize("case_id,ops,names", KERNELS, ids=[k[0] for k in KERNELS])
def test_kernels_chosen(tmp_path, case_id, ops, names):
    case = _case(case_id)
    compiled = compile_model(case.net.write(tmp_path, case_id), HOST, tmp_path / "out")
    assert [layer["op"] for layer in compiled.manifest["layers"]] == ops
    text = (tmp_path / "out" / "model.c").read_text()
    for name in names:
        assert f"{name}:" in text, name


def test_pooling_edge_case_that_relax_cannot_express(tmp_path, capfd):
    """Caffe keeps a window that starts past the input when pad is 0 and the kernel is
    smaller than the stride; Relax drops it. The importer says so instead of guessing."""
    net = Net({"data": (1, 1, 5, 5)}).add("pool", "Pooling", "data", "p",
                                          pooling_param={"pool": Enum("MAX"), "kernel_size": 1, "stride": 3})
    message = r"layer 'pool' \(Pooling\): pooled size \[2, 2\] differs from Caffe's \[3, 3\]"
    with pytest.raises(HhbcError, match=message):
        load_model(net.write(tmp_path, "edge"))
    assert "BlockBuilder" not in capfd.readouterr().err


def test_lrn_k_note(tmp_path, capsys):
    net = Net({"data": (1, 3, 2, 2)}).add("norm", "LRN", "data", "n", lrn_param={"local_size": 3, "k": 2.0})
    load_model(net.write(tmp_path, "lrn"))
    assert "LRN layer 'norm' has k = 2" in capsys.readouterr().err


def test_weights_not_needed_without_weighted_layers(tmp_path):
    net = Net({"data": (1, 3, 4, 4)}).add("relu", "ReLU", "data", "r")
    (tmp_path / "plain.prototxt").write_text(net.prototxt())   # no .caffemodel anywhere
    model = load_model(tmp_path / "plain.prototxt")
    (out,) = model.reference([-np.ones((1, 3, 4, 4), np.float32)])
    assert out.shape == (1, 3, 4, 4) and not out.any()


def test_reference_without_opencv_names_the_extra(tmp_path, monkeypatch):
    import builtins

    net = Net({"data": (1, 3)}).add("relu", "ReLU", "data", "r")
    model = load_model(net.write(tmp_path, "m"))
    real_import = builtins.__import__

    def no_cv2(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("no cv2")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cv2)
    with pytest.raises(HhbcError, match=r"pip install 'hhbc\[test\]'"):
        model.reference([np.zeros((1, 3), np.float32)])

