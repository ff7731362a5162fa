"""Malformed TensorFlow (.pb) and Caffe (.prototxt/.caffemodel) models: one clean error line.

Every case breaks one thing of a small valid model, the kind of damage a fuzzer or a hand
edit makes (a zero stride, a list where a string belongs, a constant whose bytes disagree
with its dims, a bottom nothing produced, a huge declared shape), and checks the CLI's
contract for bad input: exit 2 and exactly one stderr line (C-level writes included),
`hhbc: error: FILE: ...` naming the node or layer and its op or type. The graphs are built
with hhbc's own protobuf schemas, so no framework is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhbc.cli import main
from hhbc.frontends.caffe_schema import caffe_messages
from hhbc.frontends.tensorflow_schema import messages as tf_messages

pytestmark = pytest.mark.filterwarnings("ignore")


def _compile(model: Path, out: Path, capfd) -> tuple[int, list[str]]:
    capfd.readouterr()
    code = main(["compile", str(model), "--target", "host", "-o", str(out), "-q"])
    err = capfd.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_culprit(model: Path, tmp_path: Path, capfd, *needles: str, source: Path | None = None) -> str:
    """Exit 2, one stderr line `hhbc: error: SOURCE: ...` (SOURCE: the file at fault, by
    default the model) holding every needle."""
    code, lines = _compile(model, tmp_path / "out", capfd)
    assert code == 2, lines
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"hhbc: error: {source or model}: "), line
    for needle in needles:
        assert needle in line, line
    return line


# ====================================================================== TensorFlow GraphDef
class G:
    """A GraphDef under construction with hhbc's own schema."""

    def __init__(self):
        self.graph = tf_messages()["GraphDef"]()

    def node(self, name: str, op: str, inputs=(), **attrs):
        node = self.graph.node.add(name=name, op=op)
        node.input.extend(inputs)
        for key, value in attrs.items():
            attr = node.attr[key]
            if isinstance(value, bool):
                attr.b = value
            elif isinstance(value, int):
                attr.i = value
            elif isinstance(value, float):
                attr.f = value
            elif isinstance(value, str):
                attr.s = value.encode()
            elif isinstance(value, list) and all(isinstance(v, int) for v in value):
                attr.list.i.extend(value)
            elif isinstance(value, list):
                attr.list.s.extend(v.encode() for v in value)
            elif isinstance(value, tuple):   # ("type", n) / ("shape", dims)
                kind, data = value
                if kind == "type":
                    attr.type = data
                else:
                    attr.shape.dim.add()   # touch, then fill
                    del attr.shape.dim[:]
                    for d in data:
                        attr.shape.dim.add(size=d)
            else:   # a TensorProto
                attr.tensor.CopyFrom(value)
        return node

    def placeholder(self, name: str = "x", shape=(1, 8, 8, 3)):
        return self.node(name, "Placeholder", dtype=("type", 1), shape=("shape", list(shape)))

    def const(self, name: str, array=None, *, dims=None, dtype: int = 1, content: bytes | None = None,
              values=None):
        tensor = tf_messages()["TensorProto"](dtype=dtype)
        if array is not None:
            array = np.asarray(array, np.float32 if dtype == 1 else np.int32)
            dims = array.shape if dims is None else dims
            content = array.tobytes() if content is None else content
        for d in dims or ():
            tensor.tensor_shape.dim.add(size=d)
        if content is not None:
            tensor.tensor_content = content
        if values is not None:
            tensor.float_val.extend(values)
        return self.node(name, "Const", dtype=("type", dtype), value=tensor)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.graph.SerializeToString())
        return path


def _conv_graph(**conv_attrs) -> G:
    g = G()
    g.placeholder()
    g.const("w", np.ones((3, 3, 3, 4)))
    attrs = {"T": ("type", 1), "strides": [1, 1, 1, 1], "padding": "SAME", "data_format": "NHWC"}
    attrs.update(conv_attrs)
    g.node("conv", "Conv2D", ["x", "w"], **attrs)
    return g


def test_tf_baseline_compiles(tmp_path, capfd):
    """The graph the cases below break one thing of."""
    code, lines = _compile(_conv_graph().write(tmp_path / "m.pb"), tmp_path / "out", capfd)
    assert code == 0, lines


@pytest.mark.parametrize("attrs, needle", [
    ({"strides": "SAME"}, "attribute 'strides' must be a list of integers, not the string 'SAME'"),
    ({"padding": [1, 2]}, "attribute 'padding' must be a string, not a list [1, 2]"),
    ({"data_format": 7}, "attribute 'data_format' must be a string"),
    ({"dilations": 1.5}, "attribute 'dilations' must be a list of integers, not float 1.5"),
], ids=["string_for_int_list", "int_list_for_string", "int_for_string", "float_for_int_list"])
def test_tf_attribute_of_the_wrong_kind(tmp_path, capfd, attrs, needle):
    assert_culprit(_conv_graph(**attrs).write(tmp_path / "m.pb"), tmp_path, capfd, "Conv2D node 'conv'", needle)


@pytest.mark.parametrize("attrs, needle", [
    ({"strides": [1, 0, 1, 1]}, "strides [1, 0, 1, 1]: every entry must be between 1 and"),
    ({"dilations": [1, 1, 0, 1]}, "dilations [1, 1, 0, 1]: every entry must be between 1 and"),
    ({"strides": [1, 1 << 40, 1, 1]}, "strides"),
    ({"strides": [1, 1, 1]}, "must have 4 entries"),
    ({"padding": "EXPLICIT", "explicit_paddings": [0, 0, -1, 0, 0, 0, 0, 0]}, "explicit_paddings"),
], ids=["stride_0", "dilation_0", "stride_huge", "stride_rank", "negative_pad"])
def test_tf_conv_geometry(tmp_path, capfd, attrs, needle):
    assert_culprit(_conv_graph(**attrs).write(tmp_path / "m.pb"), tmp_path, capfd, "Conv2D node 'conv'", needle)


def test_tf_placeholder_dtype_of_the_wrong_kind(tmp_path, capfd):
    g = _conv_graph()
    g.graph.node[0].attr["dtype"].Clear()
    g.graph.node[0].attr["dtype"].shape.dim.add(size=1)
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Placeholder node 'x'",
                   "attribute 'dtype' must be a data type, not a list [1]")


def test_tf_pool_window_zero(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.node("pool", "MaxPool", ["x"], T=("type", 1), ksize=[1, 0, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "MaxPool node 'pool'", "ksize [1, 0, 2, 1]")


def test_tf_filter_channels_do_not_divide(tmp_path, capfd):
    g = G()
    g.placeholder(shape=(1, 8, 8, 5))
    g.const("w", np.ones((3, 3, 2, 4)))
    g.node("conv", "Conv2D", ["x", "w"], T=("type", 1), strides=[1, 1, 1, 1], padding="SAME")
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Conv2D node 'conv'", "does not match 5 input channels")


def test_tf_missing_required_attribute(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.node("c", "Const", dtype=("type", 1))
    g.node("add", "AddV2", ["x", "c"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Const node 'c'", "has no 'value' attribute")


def test_tf_input_that_nothing_produces(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.node("add", "AddV2", ["x", "ghost"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "AddV2 node 'add'",
                   "reads 'ghost', which no node of the graph produces")


def test_tf_output_index_that_nothing_produces(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.node("relu", "Relu", ["x:3"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Relu node 'relu'", "reads output 3 of 'x'")


def test_tf_cycle(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.node("a", "AddV2", ["x", "b"], T=("type", 1))
    g.node("b", "Relu", ["a"], T=("type", 1))
    g.node("out", "Relu", ["b"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "node '", "the graph has a cycle")


def test_tf_unknown_dtype_enum(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.const("c", dims=[1], dtype=77, content=b"\0\0\0\0")
    g.node("add", "AddV2", ["x", "c"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Const node 'c'", "DataType(77)")


def test_tf_tensor_content_disagrees_with_dims(tmp_path, capfd):
    g = G()
    g.placeholder()
    g.const("c", np.ones(3), dims=[2, 2])
    g.node("add", "AddV2", ["x", "c"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Const node 'c'", "holds 3 values for shape [2, 2]")


def test_tf_huge_constant_is_refused_before_allocation(tmp_path, capfd):
    """One value, "splat" over 2^40 elements: refused on its declared size."""
    g = G()
    g.placeholder()
    g.const("c", dims=[1 << 20, 1 << 20], values=[1.0])
    g.node("add", "AddV2", ["x", "c"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Const node 'c'", "above the weight limit",
                   "--max-weights")


@pytest.mark.parametrize("op", ["Fill", "Tile", "BroadcastTo"])
def test_tf_huge_shape_op_is_refused_before_allocation(tmp_path, capfd, op):
    g = G()
    g.placeholder(shape=(1, 4))
    huge = [1 << 16, 1 << 16]
    if op == "Fill":
        g.const("dims", np.array(huge), dtype=3)
        g.const("v", np.array(1.0))
        g.node("big", "Fill", ["dims", "v"], T=("type", 1))
        g.node("out", "AddV2", ["x", "big"], T=("type", 1))
    elif op == "Tile":
        g.const("reps", np.array(huge), dtype=3)
        g.node("big", "Tile", ["x", "reps"], T=("type", 1))
    else:
        g.const("shape", np.array(huge), dtype=3)
        g.node("big", "BroadcastTo", ["x", "shape"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, f"{op} node 'big'", "above the", "limit")


def test_tf_division_by_a_constant_zero(tmp_path, capfd):
    """TVM's constant folding aborts on x / 0."""
    g = G()
    g.placeholder()
    g.const("zero", np.array(0.0))
    g.node("div", "RealDiv", ["x", "zero"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "RealDiv node 'div'", "divides by a constant")


def test_tf_empty_tensor(tmp_path, capfd):
    """A resize to 0x0: TVM's lowering would divide by the empty extents."""
    g = G()
    g.placeholder()
    g.const("size", np.array([0, 0]), dtype=3)
    g.node("rs", "ResizeBilinear", ["x", "size"], T=("type", 1))
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "ResizeBilinear node 'rs'",
                   "output 0 has shape [1, 0, 0, 3]: empty tensors are not supported")


def test_tf_shape_mismatch_inside_tvm_is_worded_as_the_node(tmp_path, capfd):
    """The per-node backstop: TVM's own check, without its op repr, naming node and op."""
    g = G()
    g.placeholder("a", (2, 3))
    g.placeholder("b", (4, 5))
    g.node("mm", "BatchMatMulV2", ["a", "b"], T=("type", 1))
    line = assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "BatchMatMulV2 node 'mm'", "cannot import it")
    assert "ir.Op(" not in line and "Metadata" not in line, line


def test_tf_newline_in_a_name_stays_one_line(tmp_path, capfd):
    g = _conv_graph(strides=[1, 0, 1, 1])
    g.graph.node[2].name = "conv\nname"
    line = assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Conv2D node 'conv\\nname'")
    assert "\n" not in line


def test_tf_name_that_is_not_utf8(tmp_path, capfd):
    """The protobuf runtime hands such a string over as bytes."""
    data = _conv_graph().graph.SerializeToString().replace(b"conv", b"co\xffv")
    (tmp_path / "m.pb").write_bytes(data)
    assert_culprit(tmp_path / "m.pb", tmp_path, capfd, "node 2 ('co", "its name is not valid UTF-8")


# ====================================================================== Caffe
HEAD = 'name: "m"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n'


def _caffe(tmp_path: Path, layers: str, blobs: dict[str, list[np.ndarray]] | None = None,
           head: str = HEAD, raw: bytes | None = None) -> Path:
    path = tmp_path / "m.prototxt"
    path.write_text(head + layers)
    if raw is not None:
        (tmp_path / "m.caffemodel").write_bytes(raw)
    elif blobs is not None:
        net = caffe_messages()["NetParameter"]()
        for name, arrays in blobs.items():
            layer = net.layer.add(name=name)
            for a in arrays:
                blob = layer.blobs.add()
                blob.shape.dim.extend(np.shape(a))
                blob.data.extend(np.asarray(a, np.float32).reshape(-1).tolist())
        (tmp_path / "m.caffemodel").write_bytes(net.SerializeToString())
    return path


def _conv(params: str, name: str = "conv1", bottom: str = "data", top: str = "conv1") -> str:
    return (f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{top}" '
            f"convolution_param {{ {params} }} }}\n")


CONV_BLOBS = {"conv1": [np.ones((4, 3, 3, 3)), np.zeros(4)]}


def test_caffe_baseline_compiles(tmp_path, capfd):
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3 pad: 1"), CONV_BLOBS)
    code, lines = _compile(path, tmp_path / "out", capfd)
    assert code == 0, lines


@pytest.mark.parametrize("params, needle", [
    ("num_output: 4 kernel_size: 3 stride: 0", "stride 0 must be positive"),
    ("num_output: 4 kernel_size: 0", "kernel 0 must be positive"),
    ("num_output: 4 kernel_size: 3 dilation: 0", "dilation 0 must be positive"),
    ("num_output: 4 kernel_size: 3 pad: 100000", "pad 100000 is above"),
    ("num_output: 4 kernel_size: 3 group: 0", "group 0 must be positive"),
    ("num_output: 4 kernel_size: 3 group: 2", "not divisible by group 2"),
    ("num_output: 0 kernel_size: 3", "num_output 0 must be positive"),
    ("num_output: 4 kernel_size: 9", "does not fit the 8x8 input"),
], ids=["stride_0", "kernel_0", "dilation_0", "pad_huge", "group_0", "group_not_dividing", "num_output_0",
        "kernel_bigger_than_input"])
def test_caffe_convolution_geometry(tmp_path, capfd, params, needle):
    path = _caffe(tmp_path, _conv(params), CONV_BLOBS)
    assert_culprit(path, tmp_path, capfd, "layer 'conv1' (Convolution)", needle)


@pytest.mark.parametrize("params, needle", [
    ("pool: MAX kernel_size: 2 stride: 0", "stride 0 must be positive"),
    ("pool: AVE kernel_size: 0", "kernel 0 must be positive"),
], ids=["stride_0", "kernel_0"])
def test_caffe_pooling_geometry(tmp_path, capfd, params, needle):
    layer = f'layer {{ name: "pool1" type: "Pooling" bottom: "data" top: "pool1" pooling_param {{ {params} }} }}\n'
    assert_culprit(_caffe(tmp_path, layer), tmp_path, capfd, "layer 'pool1' (Pooling)", needle)


def test_caffe_inner_product_num_output_0(tmp_path, capfd):
    layer = 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 0 } }\n'
    path = _caffe(tmp_path, layer, {"fc": [np.ones((1, 192))]})
    assert_culprit(path, tmp_path, capfd, "layer 'fc' (InnerProduct)", "num_output 0 must be positive")


def test_caffe_lrn_local_size_0(tmp_path, capfd):
    layer = 'layer { name: "norm" type: "LRN" bottom: "data" top: "norm" lrn_param { local_size: 0 } }\n'
    assert_culprit(_caffe(tmp_path, layer), tmp_path, capfd, "layer 'norm' (LRN)", "local_size 0")


def test_caffe_bottom_no_layer_produced(tmp_path, capfd):
    layer = 'layer { name: "relu" type: "ReLU" bottom: "ghost" top: "relu" }\n'
    assert_culprit(_caffe(tmp_path, layer), tmp_path, capfd, "layer 'relu' (ReLU)",
                   "bottom 'ghost' is not produced by any earlier layer")


def test_caffe_in_place_layer_before_its_producer(tmp_path, capfd):
    """An in-place ReLU on conv1 written above the layer that makes conv1."""
    layers = 'layer { name: "relu" type: "ReLU" bottom: "conv1" top: "conv1" }\n' + _conv("num_output: 4 kernel_size: 3")
    assert_culprit(_caffe(tmp_path, layers, CONV_BLOBS), tmp_path, capfd, "layer 'relu' (ReLU)",
                   "bottom 'conv1' is not produced")


def test_caffe_huge_tile_is_refused_before_it_is_built(tmp_path, capfd):
    layer = 'layer { name: "t" type: "Tile" bottom: "data" top: "t" tile_param { axis: 1 tiles: 2000000000 } }\n'
    assert_culprit(_caffe(tmp_path, layer), tmp_path, capfd, "layer 't' (Tile)", "above the limit")


def test_caffe_shape_mismatch_inside_tvm_is_worded_as_the_layer(tmp_path, capfd):
    head = HEAD + 'input: "other"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 5\ninput_dim: 8\n'
    layer = 'layer { name: "cat" type: "Concat" bottom: "data" bottom: "other" top: "cat" concat_param { axis: 1 } }\n'
    line = assert_culprit(_caffe(tmp_path, layer, head=head), tmp_path, capfd, "layer 'cat' (Concat)",
                          "cannot convert")
    assert "ir.Op(" not in line, line


def test_caffe_newline_in_a_layer_name_stays_one_line(tmp_path, capfd):
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3 stride: 0", name="conv\\nname"),
                  {"conv\nname": CONV_BLOBS["conv1"]})
    line = assert_culprit(path, tmp_path, capfd, "layer 'conv\\nname' (Convolution)")
    assert "\n" not in line


def test_caffe_nesting_too_deep_for_the_parser(tmp_path, capfd):
    path = _caffe(tmp_path, "foo { " * 400 + "}" * 400 + "\n")
    assert_culprit(path, tmp_path, capfd, "not a valid Caffe prototxt", "nested too deep")


# ---------------------------------------------------------------------- .caffemodel
def test_caffemodel_blob_shape_disagrees_with_its_data(tmp_path, capfd):
    net = caffe_messages()["NetParameter"]()
    layer = net.layer.add(name="conv1")
    blob = layer.blobs.add()
    blob.shape.dim.extend([4, 3, 3, 3])
    blob.data.extend([0.5] * 10)
    layer.blobs.add().shape.dim.extend([4])
    layer.blobs[1].data.extend([0.0] * 4)
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3"), raw=net.SerializeToString())
    line = assert_culprit(path, tmp_path, capfd, "layer 'conv1' (Convolution)", "blob 0 has shape [4, 3, 3, 3] holding 10",
                  source=tmp_path / "m.caffemodel")
    assert "the prototxt needs [4, 3, 3, 3]" in line


def test_caffemodel_wrong_blob_count(tmp_path, capfd):
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3"), {"conv1": [np.ones((4, 3, 3, 3))]})
    assert_culprit(path, tmp_path, capfd, "layer 'conv1' (Convolution)", "has 1 blob(s)", "needs 2",
                  source=tmp_path / "m.caffemodel")


def test_caffemodel_blob_with_a_huge_declared_shape(tmp_path, capfd):
    net = caffe_messages()["NetParameter"]()
    layer = net.layer.add(name="conv1")
    blob = layer.blobs.add()
    blob.shape.dim.extend([1 << 40, 1 << 40, 3, 3])
    blob.data.extend([0.5] * 4)
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3 bias_term: false"), raw=net.SerializeToString())
    assert_culprit(path, tmp_path, capfd, "layer 'conv1' (Convolution)", "blob 0 has shape",
                   source=tmp_path / "m.caffemodel")


def test_caffemodel_that_is_not_protobuf(tmp_path, capfd):
    path = _caffe(tmp_path, _conv("num_output: 4 kernel_size: 3"), raw=b"\xff\xff\xff\xff garbage")
    code, lines = _compile(path, tmp_path / "out", capfd)
    assert code == 2 and len(lines) == 1 and "not a valid .caffemodel" in lines[0], lines


# ---------------------------------------------------------------------- notes and errors
def test_caffe_note_is_held_back_when_the_import_fails(tmp_path, capfd):
    """A batch-2 input's note, then a bad layer: the error line comes alone."""
    head = HEAD.replace("input_dim: 1\n", "input_dim: 2\n", 1)
    layer = 'layer { name: "sig" type: "Sigmoid" bottom: "ghost" top: "sig" }\n'
    assert_culprit(_caffe(tmp_path, layer, head=head), tmp_path, capfd, "layer 'sig' (Sigmoid)", "bottom 'ghost'")


def test_caffe_note_is_printed_when_the_import_succeeds(tmp_path, capfd):
    head = HEAD.replace("input_dim: 1\n", "input_dim: 2\n", 1)
    path = _caffe(tmp_path, 'layer { name: "sig" type: "Sigmoid" bottom: "data" top: "sig" }\n', head=head)
    code, lines = _compile(path, tmp_path / "out", capfd)
    assert code == 0 and any("declared with batch 2; using 1" in line for line in lines), lines


def test_tf_note_is_held_back_when_the_import_fails(tmp_path, capfd):
    """A symbolic batch's note, then a zero stride: the error line comes alone."""
    g = _conv_graph(strides=[1, 0, 1, 1])
    del g.graph.node[0].attr["shape"].shape.dim[:]
    for d in (-1, 8, 8, 3):
        g.graph.node[0].attr["shape"].shape.dim.add(size=d)
    assert_culprit(g.write(tmp_path / "m.pb"), tmp_path, capfd, "Conv2D node 'conv'", "strides [1, 0, 1, 1]")
    g.graph.node[2].attr["strides"].list.i[1] = 1   # the same graph, valid: the note is printed
    code, lines = _compile(g.write(tmp_path / "ok.pb"), tmp_path / "out2", capfd)
    assert code == 0 and any("symbolic batch" in line for line in lines), lines
