"""The table of Caffe layer-level differential cases: small nets, one feature each.

Every case is a prototxt written here plus a .caffemodel serialized with hhbc's own
Caffe schema (seeded random weights), and seeded random inputs.
tests/frontends/test_caffe_layers.py compiles each with hhbc, runs it on a target
and compares with OpenCV's Caffe importer, or, where OpenCV departs from Caffe
(noted at the case), with a numpy implementation of Caffe's definition.

To add a case, build a `Net` (inputs, then layers with their blobs) and append a
`case(...)` to the section of its layer type.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hhbc.frontends.caffe_schema import caffe_messages

F32 = np.float32
_rng = np.random.default_rng(4321)


def w(*shape, positive=False, scale=0.5) -> np.ndarray:
    a = (_rng.standard_normal(shape) * scale).astype(F32)
    return np.abs(a) + F32(0.5) if positive else a


class Enum(str):
    """A protobuf text enum value (written without quotes)."""


def _text(params: dict, indent: str) -> str:
    lines = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, dict):
                lines.append(f"{indent}{key} {{\n{_text(v, indent + '  ')}{indent}}}\n")
            elif isinstance(v, Enum):
                lines.append(f"{indent}{key}: {v}\n")
            elif isinstance(v, bool):
                lines.append(f"{indent}{key}: {'true' if v else 'false'}\n")
            elif isinstance(v, str):
                lines.append(f'{indent}{key}: "{v}"\n')
            else:
                lines.append(f"{indent}{key}: {v!r}\n")
    return "".join(lines)


V1_ENUM = {"Convolution": "CONVOLUTION", "ReLU": "RELU", "Pooling": "POOLING", "InnerProduct": "INNER_PRODUCT",
           "Softmax": "SOFTMAX", "Eltwise": "ELTWISE", "Concat": "CONCAT", "Slice": "SLICE", "LRN": "LRN",
           "Power": "POWER", "Dropout": "DROPOUT", "Sigmoid": "SIGMOID", "TanH": "TANH", "Flatten": "FLATTEN",
           "Split": "SPLIT", "Deconvolution": "DECONVOLUTION", "AbsVal": "ABSVAL", "BNLL": "BNLL", "Exp": "EXP"}


@dataclass
class Net:
    """A prototxt under construction: inputs, then layers (with blobs for the .caffemodel)."""

    inputs: dict[str, tuple[int, ...]]
    input_style: str = "layer"      # layer (Input layer) | shape (input + input_shape) | dim (input_dim)
    v1: bool = False                # legacy `layers { type: ENUM }` and num/channels/height/width blobs
    legacy_blobs: bool = False      # V2 layers with legacy-dimension blobs
    layers: list[str] = field(default_factory=list)
    blobs: dict[str, tuple[str, list[np.ndarray]]] = field(default_factory=dict)

    def add(self, name: str, ltype: str, bottoms, tops, blobs=(), **params) -> "Net":
        bottoms = [bottoms] if isinstance(bottoms, str) else list(bottoms)
        tops = [tops] if isinstance(tops, str) else list(tops)
        head = "layers" if self.v1 else "layer"
        body = {"name": name, "type": Enum(V1_ENUM[ltype]) if self.v1 else ltype, "bottom": bottoms, "top": tops}
        self.layers.append(f"{head} {{\n{_text({**body, **params}, '  ')}}}\n")
        if blobs:
            self.blobs[name] = (ltype, [np.asarray(b, F32) for b in blobs])
        return self

    def prototxt(self) -> str:
        head = 'name: "case"\n'
        if self.input_style == "layer":
            for name, shape in self.inputs.items():
                head += _text({"layer": {"name": f"{name}_input", "type": "Input", "top": name,
                                         "input_param": {"shape": {"dim": list(shape)}}}}, "")
        else:
            for name in self.inputs:
                head += f'input: "{name}"\n'
            for shape in self.inputs.values():
                if self.input_style == "shape":
                    head += _text({"input_shape": {"dim": list(shape)}}, "")
                else:
                    head += "".join(f"input_dim: {d}\n" for d in shape)
        return head + "".join(self.layers)

    def caffemodel(self) -> bytes:
        messages = caffe_messages()
        net = messages["NetParameter"](name="case")
        layer_type = messages["V1LayerParameter.LayerType"]
        for name, (ltype, arrays) in self.blobs.items():
            if self.v1:
                layer = net.layers.add(name=name, type=layer_type.values_by_name[V1_ENUM[ltype]].number)
            else:
                layer = net.layer.add(name=name, type=ltype)
            for array in arrays:
                blob = layer.blobs.add()
                if self.v1 or self.legacy_blobs:
                    dims = (1,) * (4 - array.ndim) + array.shape
                    blob.num, blob.channels, blob.height, blob.width = dims
                else:
                    blob.shape.dim.extend(array.shape)
                blob.data.extend(array.reshape(-1).tolist())
        return net.SerializeToString()

    def write(self, directory: Path, stem: str) -> Path:
        path = directory / f"{stem}.prototxt"
        path.write_text(self.prototxt())
        (directory / f"{stem}.caffemodel").write_bytes(self.caffemodel())
        return path


@dataclass
class Case:
    id: str
    net: Net
    types: frozenset                     # the Caffe layer types the case exercises
    positive: bool = False               # inputs in [0.1, 2.1) (Power with a fractional exponent)
    # numpy reference (inputs -> outputs) where OpenCV departs from Caffe; None: OpenCV
    reference: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None
    outputs: tuple[str, ...] = ()        # -on, if not the default

    def input_arrays(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        arrays = []
        for shape in self.net.inputs.values():
            a = rng.standard_normal(shape).astype(F32)
            arrays.append(np.abs(a) + F32(0.1) if self.positive else a)
        return arrays


CASES: list[Case] = []


def case(id: str, net: Net, *types: str, **kwargs) -> None:
    CASES.append(Case(id, net, frozenset(types), **kwargs))


def conv_layer(net: Net, name, bottom, top, cin, cout, k=3, bias=True, group=1, ltype="Convolution", **params):
    kh, kw = (k, k) if isinstance(k, int) else k
    shape = (cin, cout // group, kh, kw) if ltype == "Deconvolution" else (cout, cin // group, kh, kw)
    blobs = [w(*shape)] + ([w(cout)] if bias else [])
    conv = {"num_output": cout, **({"kernel_size": k} if isinstance(k, int) else {}), **params}
    if group != 1:
        conv["group"] = group
    if not bias:
        conv["bias_term"] = False
    return net.add(name, ltype, bottom, top, blobs, convolution_param=conv)


# ================================================================ Convolution
case("conv_3x3_pad1", conv_layer(Net({"data": (1, 3, 8, 8)}), "conv1", "data", "conv1", 3, 4, pad=1),
     "Convolution")
case("conv_stride2_padhw_nobias",
     conv_layer(Net({"data": (1, 4, 9, 7)}), "conv1", "data", "conv1", 4, 6, k=(3, 1), bias=False,
                kernel_h=3, kernel_w=1, stride=2, pad_h=1, pad_w=0), "Convolution")
case("conv_group2_dilation2", conv_layer(Net({"data": (1, 4, 9, 9)}), "conv1", "data", "out", 4, 6, group=2,
                                         dilation=2, pad=2), "Convolution")
case("conv_depthwise_stride2", conv_layer(Net({"data": (1, 5, 8, 8)}, input_style="dim"), "dw", "data", "dw",
                                          5, 5, group=5, stride=2, pad=1), "Convolution")
case("conv_repeated_hw_values", conv_layer(Net({"data": (2, 3, 10, 9)}, input_style="shape"), "conv1", "data",
                                           "conv1", 3, 4, k=(3, 2), kernel_size=[3, 2], stride=[2, 1],
                                           pad=[1, 0], dilation=[1, 2]), "Convolution")

# ================================================================ Deconvolution
case("deconv_k3_s2_p1", conv_layer(Net({"data": (1, 4, 5, 6)}), "up", "data", "up", 4, 3, ltype="Deconvolution",
                                   stride=2, pad=1), "Deconvolution")
case("deconv_group2_k4_s2_nobias",
     conv_layer(Net({"data": (1, 4, 4, 5)}), "up", "data", "up", 4, 6, k=4, group=2, bias=False,
                ltype="Deconvolution", stride=2, pad=1), "Deconvolution")
case("deconv_depthwise_s3_hw", conv_layer(Net({"data": (1, 3, 3, 4)}), "up", "data", "up", 3, 3, k=(3, 2),
                                          group=3, ltype="Deconvolution", kernel_h=3, kernel_w=2, stride_h=3,
                                          stride_w=2, pad_h=0, pad_w=1), "Deconvolution")
_n = Net({"data": (1, 4, 6, 6)})
conv_layer(_n, "conv1", "data", "conv1", 4, 4, pad=1)
_n.add("relu1", "ReLU", "conv1", "conv1")
conv_layer(_n, "up", "conv1", "up", 4, 2, k=2, ltype="Deconvolution", stride=2)
_n.add("relu2", "ReLU", "up", "up")
case("deconv_after_conv_relu_fused", _n, "Deconvolution", "ReLU", "Convolution")


def _deconv_np(x, weight, bias, stride, pad, dilation, group):
    """Caffe's Deconvolution by definition (scatter of each input pixel), float64."""
    n, c, h, wd = x.shape
    _, ocg, kh, kw = weight.shape
    oh = stride * (h - 1) + dilation * (kh - 1) + 1 - 2 * pad
    ow = stride * (wd - 1) + dilation * (kw - 1) + 1 - 2 * pad
    full = np.zeros((n, ocg * group, oh + 2 * pad, ow + 2 * pad))
    icg = c // group
    for ci in range(c):
        g = ci // icg
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nhw,o->nohw", x[:, ci].astype(np.float64), weight[ci, :, i, j])
                full[:, g * ocg:(g + 1) * ocg, i * dilation:i * dilation + stride * (h - 1) + 1:stride,
                     j * dilation:j * dilation + stride * (wd - 1) + 1:stride] += contrib
    out = full[:, :, pad:pad + oh, pad:pad + ow]
    return out + bias.reshape(1, -1, 1, 1) if bias is not None else out


# OpenCV 4.14 ignores a Deconvolution's dilation (its output is 2 rows short); Caffe's definition.
_n = conv_layer(Net({"data": (1, 4, 4, 5)}), "up", "data", "up", 4, 4, group=2, ltype="Deconvolution",
                stride=2, pad=1, dilation=2)
_dw, _db = _n.blobs["up"][1]
case("deconv_dilation2_numpy", _n, "Deconvolution",
     reference=lambda xs, w_=_dw, b_=_db: [_deconv_np(xs[0], w_, b_, 2, 1, 2, 2)])

# ================================================================ InnerProduct
_n = Net({"data": (1, 3, 4, 4)})
conv_layer(_n, "conv1", "data", "conv1", 3, 5, pad=1)
_n.add("ip1", "InnerProduct", "conv1", "ip1", [w(10, 80), w(10)], inner_product_param={"num_output": 10})
case("ip_after_conv_nchw_order", _n, "InnerProduct", "Convolution")
case("ip_axis2", Net({"data": (1, 2, 3, 4)}).add("ip", "InnerProduct", "data", "ip", [w(5, 12), w(5)],
                                                  inner_product_param={"num_output": 5, "axis": 2}), "InnerProduct")
# transpose: the blob is [K][N] (OpenCV ignores the flag and reads it as [N][K])
_tw = w(7, 4)
case("ip_transpose_nobias_numpy", Net({"data": (3, 7)}).add(
    "ip", "InnerProduct", "data", "ip", [_tw], inner_product_param={"num_output": 4, "transpose": True,
                                                                   "bias_term": False}),
     "InnerProduct", reference=lambda xs, w_=_tw: [xs[0].astype(np.float64) @ w_])
case("ip_legacy_blob_dims", Net({"data": (2, 6)}, legacy_blobs=True).add(
    "ip", "InnerProduct", "data", "ip", [w(3, 6), w(3)], inner_product_param={"num_output": 3}), "InnerProduct")


# ================================================================ Pooling
def pool(net: Net, name, bottom, top, **params) -> Net:
    params = {k: Enum(v) if k == "pool" else v for k, v in params.items()}
    return net.add(name, "Pooling", bottom, top, pooling_param=params)


case("pool_max_k3_s2_ceil", pool(Net({"data": (1, 3, 10, 11)}), "pool1", "data", "pool1", pool="MAX",
                                 kernel_size=3, stride=2), "Pooling")
case("pool_ave_k3_s2_p1_ceil", pool(Net({"data": (1, 3, 6, 7)}), "pool1", "data", "pool1", pool="AVE",
                                    kernel_size=3, stride=2, pad=1), "Pooling")
# ceil would give 4 windows; the last starts in the padding, so Caffe keeps 3
case("pool_ave_k2_s2_p1_clipped_window", pool(Net({"data": (1, 2, 5, 5)}), "pool1", "data", "pool1", pool="AVE",
                                              kernel_size=2, stride=2, pad=1), "Pooling")
case("pool_max_k2_s2_p1_clipped_window", pool(Net({"data": (1, 2, 5, 7)}), "pool1", "data", "pool1", pool="MAX",
                                              kernel_size=2, stride=2, pad=1), "Pooling")
case("pool_ave_hw_params", pool(Net({"data": (1, 3, 9, 8)}), "pool1", "data", "pool1", pool="AVE", kernel_h=3,
                                kernel_w=2, stride_h=2, stride_w=3, pad_h=1, pad_w=1), "Pooling")
case("pool_ave_floor_ceil_mode_false", pool(Net({"data": (1, 2, 8, 8)}), "pool1", "data", "pool1", pool="AVE",
                                            kernel_size=3, stride=2, pad=1, ceil_mode=False), "Pooling")
case("pool_global_ave", pool(Net({"data": (1, 4, 5, 7)}), "gap", "data", "gap", pool="AVE",
                             global_pooling=True), "Pooling")
_n = conv_layer(Net({"data": (1, 3, 6, 5)}), "conv1", "data", "conv1", 3, 6, pad=1)
case("pool_global_max_after_conv", pool(_n, "gmp", "conv1", "gmp", pool="MAX", global_pooling=True), "Pooling")


def _pool_np(x, kind, k, s, p, ceil):
    """Caffe's pooling by definition: AVE divides by the window clipped to the padded input."""
    from hhbc.frontends.caffe_layers import caffe_pool_size

    n, c, h, wd = x.shape
    oh, ow = caffe_pool_size(h, k, s, p, ceil), caffe_pool_size(wd, k, s, p, ceil)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s - p, j * s - p
            he, we = min(hs + k, h + p), min(ws + k, wd + p)
            win = x[:, :, max(hs, 0):min(he, h), max(ws, 0):min(we, wd)].astype(np.float64)
            out[:, :, i, j] = win.max(axis=(2, 3)) if kind == "MAX" else win.sum(axis=(2, 3)) / ((he - hs) * (we - ws))
    return out


# BVLC's round_mode (OpenCV's caffe.proto has ceil_mode instead and rejects it)
case("pool_round_mode_floor_numpy", pool(Net({"data": (1, 2, 8, 8)}), "pool1", "data", "pool1", pool="AVE",
                                         kernel_size=3, stride=2, pad=1, round_mode=Enum("FLOOR")), "Pooling",
     reference=lambda xs: [_pool_np(xs[0], "AVE", 3, 2, 1, False)])

# ================================================================ activations
_n = conv_layer(Net({"data": (1, 3, 6, 6)}), "conv1", "data", "conv1", 3, 4, pad=1)
case("relu_inplace_after_conv", _n.add("relu1", "ReLU", "conv1", "conv1"), "ReLU", "Convolution")
case("relu_negative_slope", Net({"data": (1, 3, 4, 5)}).add("lrelu", "ReLU", "data", "y",
                                                            relu_param={"negative_slope": 0.1}), "ReLU")
_n = conv_layer(Net({"data": (1, 3, 6, 6)}), "conv1", "data", "conv1", 3, 5, pad=1)
case("prelu_per_channel_inplace", _n.add("prelu1", "PReLU", "conv1", "conv1", [w(5)]), "PReLU")
case("prelu_channel_shared", Net({"data": (1, 4, 3, 3)}).add("prelu", "PReLU", "data", "y", [w(1)],
                                                             prelu_param={"channel_shared": True}), "PReLU")
_n = Net({"data": (1, 12)}).add("ip", "InnerProduct", "data", "ip", [w(6, 12), w(6)],
                                inner_product_param={"num_output": 6})
case("prelu_after_ip_2d", _n.add("prelu", "PReLU", "ip", "ip", [w(6)]), "PReLU", "InnerProduct")
case("sigmoid", Net({"data": (1, 3, 4, 4)}).add("sig", "Sigmoid", "data", "y"), "Sigmoid")
_n = conv_layer(Net({"data": (1, 2, 5, 5)}), "conv1", "data", "conv1", 2, 3, pad=1)
case("sigmoid_inplace_after_conv", _n.add("sig", "Sigmoid", "conv1", "conv1"), "Sigmoid")
case("tanh", Net({"data": (2, 3, 3, 4)}).add("tanh", "TanH", "data", "data2"), "TanH")
case("dropout_inplace", conv_layer(Net({"data": (1, 2, 4, 4)}), "conv1", "data", "conv1", 2, 3).add(
    "drop", "Dropout", "conv1", "conv1", dropout_param={"dropout_ratio": 0.3}), "Dropout")

# ================================================================ BatchNorm, Scale
_n = conv_layer(Net({"data": (1, 3, 6, 6)}), "conv1", "data", "conv1", 3, 4, pad=1, bias=False)
_n.add("bn1", "BatchNorm", "conv1", "conv1", [w(4), w(4, positive=True), np.array([3.5], F32)],
       batch_norm_param={"use_global_stats": True, "eps": 1e-4})
_n.add("scale1", "Scale", "conv1", "conv1", [w(4), w(4)], scale_param={"bias_term": True})
_n.add("relu1", "ReLU", "conv1", "conv1")
case("bn_scale_inplace_after_conv", _n, "BatchNorm", "Scale", "ReLU")
_n = Net({"data": (1, 5, 4, 3)})
_n.add("bn", "BatchNorm", "data", "bn", [w(5), w(5, positive=True), np.array([0.25], F32)])
case("bn_alone_factor", _n, "BatchNorm")
_n = Net({"data": (1, 3, 4, 4)}).add("bn", "BatchNorm", "data", "bn", [w(3), w(3, positive=True), np.zeros(1, F32)])
case("bn_factor_zero", _n, "BatchNorm")
case("scale_no_bias", Net({"data": (1, 4, 3, 5)}).add("sc", "Scale", "data", "y", [w(4)]), "Scale")
case("scale_axis2_num_axes2_bias", Net({"data": (1, 2, 3, 4)}).add(
    "sc", "Scale", "data", "y", [w(3, 4), w(3, 4)], scale_param={"axis": 2, "num_axes": 2, "bias_term": True}),
    "Scale")
_n = Net({"data": (1, 4, 3, 3), "gate": (1, 4)})
case("scale_two_bottoms_axis0", _n.add("sc", "Scale", ["data", "gate"], "y", scale_param={"axis": 0}), "Scale")

# ================================================================ Eltwise, Concat, Split
_n = Net({"a": (1, 3, 4, 4), "b": (1, 3, 4, 4), "c": (1, 3, 4, 4)}, input_style="shape")
case("eltwise_sum_coeffs", _n.add("sum", "Eltwise", ["a", "b", "c"], "y",
                                  eltwise_param={"operation": Enum("SUM"), "coeff": [1.0, -1.0, 0.5]}), "Eltwise")
_n = conv_layer(Net({"data": (1, 3, 5, 5)}), "conv1", "data", "conv1", 3, 3, pad=1)
case("eltwise_sum_residual", _n.add("res", "Eltwise", ["data", "conv1"], "res"), "Eltwise")
_n = Net({"a": (1, 2, 3, 4), "b": (1, 2, 3, 4)})
case("eltwise_prod", _n.add("prod", "Eltwise", ["a", "b"], "y", eltwise_param={"operation": Enum("PROD")}),
     "Eltwise")
_n = Net({"a": (2, 3, 4), "b": (2, 3, 4), "c": (2, 3, 4)}, input_style="shape")
case("eltwise_max_3", _n.add("max", "Eltwise", ["a", "b", "c"], "y", eltwise_param={"operation": Enum("MAX")}),
     "Eltwise")
_n = conv_layer(Net({"data": (1, 3, 5, 5)}), "c1", "data", "c1", 3, 2, pad=1)
conv_layer(_n, "c2", "data", "c2", 3, 4, k=1)
case("concat_channels_after_convs", _n.add("cat", "Concat", ["c1", "data", "c2"], "cat"), "Concat")
_n = Net({"a": (1, 2, 3, 4), "b": (1, 2, 5, 4)})
case("concat_axis2", _n.add("cat", "Concat", ["a", "b"], "cat", concat_param={"axis": 2}), "Concat")
_n = Net({"a": (1, 2, 3, 4), "b": (1, 2, 3, 2)})
# OpenCV ignores the legacy concat_dim (it concatenates along axis 1); Caffe honours it.
case("concat_legacy_concat_dim3_numpy", _n.add("cat", "Concat", ["a", "b"], "cat", concat_param={"concat_dim": 3}),
     "Concat", reference=lambda xs: [np.concatenate(xs, axis=3)])
_n = Net({"data": (1, 3, 4, 4)}).add("split", "Split", "data", ["s1", "s2"])
_n.add("relu", "ReLU", "s1", "r")
_n.add("sig", "Sigmoid", "s2", "g")
case("split_two_branches", _n.add("mul", "Eltwise", ["r", "g"], "y", eltwise_param={"operation": Enum("PROD")}),
     "Split")
_n = Net({"data": (1, 3, 4, 4)}).add("relu", "ReLU", "data", "r")
case("split_tops_are_outputs", _n.add("split", "Split", "r", ["s1", "s2", "s3"]), "Split")

# ================================================================ Softmax, Flatten, Reshape, Permute
case("softmax_channels_4d", Net({"data": (1, 5, 3, 4)}).add("prob", "Softmax", "data", "prob"), "Softmax")
_n = conv_layer(Net({"data": (1, 3, 4, 4)}), "conv1", "data", "conv1", 3, 6, pad=1)
case("softmax_axis3_after_conv", _n.add("prob", "Softmax", "conv1", "prob", softmax_param={"axis": 3}), "Softmax")
case("softmax_2d", Net({"data": (3, 10)}).add("prob", "Softmax", "data", "prob"), "Softmax")
_n = conv_layer(Net({"data": (1, 3, 4, 4)}), "conv1", "data", "conv1", 3, 4, pad=1)
case("flatten_after_conv", _n.add("flat", "Flatten", "conv1", "flat"), "Flatten")
case("flatten_axis2_end_axis3", Net({"data": (2, 3, 4, 5)}).add(
    "flat", "Flatten", "data", "flat", flatten_param={"axis": 2, "end_axis": 3}), "Flatten")
_n = conv_layer(Net({"data": (1, 3, 4, 6)}), "conv1", "data", "conv1", 3, 4, pad=1)
case("reshape_zero_minus1", _n.add("rs", "Reshape", "conv1", "rs", reshape_param={"shape": {"dim": [0, -1, 4]}}),
     "Reshape")
case("reshape_axis_num_axes", Net({"data": (2, 6, 4)}).add(
    "rs", "Reshape", "data", "rs", reshape_param={"shape": {"dim": [3, 2]}, "axis": 1, "num_axes": 1}), "Reshape")
case("reshape_copy_dims", Net({"data": (1, 4, 3, 2)}).add(
    "rs", "Reshape", "data", "rs", reshape_param={"shape": {"dim": [0, 2, -1, 0]}}), "Reshape")
_n = conv_layer(Net({"data": (1, 3, 4, 5)}), "conv1", "data", "conv1", 3, 6, pad=1)
_n.add("perm", "Permute", "conv1", "perm", permute_param={"order": [0, 2, 3, 1]})
case("permute_nhwc_flatten_ssd", _n.add("flat", "Flatten", "perm", "flat"), "Permute", "Flatten")
# Caffe (SSD) appends the axes an order leaves out; OpenCV requires them all.
case("permute_partial_order_numpy", Net({"data": (2, 3, 4, 5)}).add(
    "perm", "Permute", "data", "perm", permute_param={"order": [0, 3, 1]}), "Permute",
     reference=lambda xs: [xs[0].transpose(0, 3, 1, 2)])

# ================================================================ Slice, Crop
_n = conv_layer(Net({"data": (1, 3, 4, 4)}), "conv1", "data", "conv1", 3, 6, pad=1)
case("slice_channels_three_tops", _n.add("sl", "Slice", "conv1", ["a", "b", "c"],
                                         slice_param={"axis": 1, "slice_point": [1, 4]}), "Slice")
# Without slice_point Caffe splits evenly; OpenCV fails on such a Slice.
_n = Net({"data": (1, 2, 6, 5)}).add("sl", "Slice", "data", ["top", "bottom"], slice_param={"axis": 2})
case("slice_even_axis2_numpy", _n.add("relu", "ReLU", "bottom", "bottom_relu"), "Slice",
     reference=lambda xs: [xs[0][:, :, :3], np.maximum(xs[0][:, :, 3:], 0)])
case("slice_legacy_slice_dim", Net({"data": (4, 6)}).add("sl", "Slice", "data", ["a", "b"],
                                                         slice_param={"slice_dim": 1, "slice_point": [2]}), "Slice")
_n = Net({"data": (1, 3, 8, 9), "ref": (1, 3, 5, 4)})
case("crop_axis2_offsets", _n.add("crop", "Crop", ["data", "ref"], "crop",
                                  crop_param={"axis": 2, "offset": [1, 3]}), "Crop")
_n = conv_layer(Net({"data": (1, 3, 6, 6), "ref": (1, 2, 4, 4)}), "conv1", "data", "conv1", 3, 5, pad=1)
case("crop_axis1_single_offset_after_conv", _n.add("crop", "Crop", ["conv1", "ref"], "crop",
                                                   crop_param={"axis": 1, "offset": [1]}), "Crop")

# ================================================================ Power, LRN
case("power_square_scale_shift", Net({"data": (1, 3, 4, 4)}).add(
    "pw", "Power", "data", "pw", power_param={"power": 2.0, "scale": 0.5, "shift": 1.0}), "Power")
case("power_sqrt", Net({"data": (1, 2, 3, 3)}).add(
    "pw", "Power", "data", "pw", power_param={"power": 0.5, "scale": 2.0}), "Power", positive=True)
case("power_affine_only_inplace", conv_layer(Net({"data": (1, 2, 4, 4)}), "conv1", "data", "conv1", 2, 3).add(
    "pw", "Power", "conv1", "conv1", power_param={"scale": -1.5, "shift": 0.25}), "Power")
_n = conv_layer(Net({"data": (1, 3, 5, 5)}), "conv1", "data", "conv1", 3, 8, pad=1)
case("lrn_across_after_conv_fused", _n.add("norm1", "LRN", "conv1", "norm1",
                                           lrn_param={"local_size": 5, "alpha": 0.5, "beta": 0.75}), "LRN")
case("lrn_across_size3_on_input", Net({"data": (1, 4, 3, 3)}).add(
    "norm", "LRN", "data", "norm", lrn_param={"local_size": 3, "alpha": 2.0, "beta": 0.6}), "LRN")
case("lrn_across_wider_than_channels", Net({"data": (1, 3, 2, 4)}).add(
    "norm", "LRN", "data", "norm", lrn_param={"local_size": 7, "alpha": 1.5, "beta": 0.9}), "LRN")
case("lrn_within_channel", Net({"data": (1, 3, 5, 6)}).add(
    "norm", "LRN", "data", "norm", lrn_param={"local_size": 3, "alpha": 1.0, "beta": 0.75,
                                              "norm_region": Enum("WITHIN_CHANNEL")}), "LRN")


def _lrn_np(x, size, alpha, beta, k):
    """Caffe's across-channel LRN by definition, float64."""
    x = x.astype(np.float64)
    pre = (size - 1) // 2
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - pre), min(x.shape[1], c - pre + size)
        out[:, c] = x[:, c] * (k + alpha / size * (x[:, lo:hi] ** 2).sum(axis=1)) ** -beta
    return out


# OpenCV's Caffe importer ignores k and rejects even sizes; Caffe's definition instead.
_n = conv_layer(Net({"data": (1, 3, 4, 4)}), "conv1", "data", "conv1", 3, 6, pad=1)
_cw, _cb = _n.blobs["conv1"][1]
_n.add("norm1", "LRN", "conv1", "norm1", lrn_param={"local_size": 4, "alpha": 0.7, "beta": 0.75, "k": 2.0})


case("lrn_k2_even_size_numpy", _n, "LRN",
     reference=lambda xs, cw=_cw, cb=_cb: [_lrn_np(_conv_np(xs[0], cw, cb, 1), 4, 0.7, 0.75, 2.0)])


def _conv_np(x, weight, bias, pad):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oc, _, kh, kw = weight.shape
    h, wd = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = np.zeros((x.shape[0], oc, h, wd))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,oc->nohw", x[:, :, i:i + h, j:j + wd], weight[:, :, i, j])
    return out + bias.reshape(1, -1, 1, 1)


# ================================================================ AbsVal, Exp, Log, ELU, BNLL
case("absval_after_conv", conv_layer(Net({"data": (1, 2, 5, 5)}), "conv1", "data", "conv1", 2, 3, pad=1).add(
    "abs", "AbsVal", "conv1", "conv1"), "AbsVal")
case("absval_rank2", Net({"data": (2, 7)}).add("abs", "AbsVal", "data", "abs"), "AbsVal")
case("exp_default", Net({"data": (1, 3, 4, 4)}).add("e", "Exp", "data", "e"), "Exp")
case("exp_base2_scale_shift", Net({"data": (1, 2, 3, 5)}).add(
    "e", "Exp", "data", "e", exp_param={"base": 2.0, "scale": 0.5, "shift": -1.0}), "Exp")
case("log_default", Net({"data": (1, 3, 4, 4)}).add("l", "Log", "data", "l"), "Log", positive=True)
case("log_base10_scale_shift", Net({"data": (1, 2, 3, 3)}).add(   # OpenCV's Log ignores log_param
    "l", "Log", "data", "l", log_param={"base": 10.0, "scale": 2.0, "shift": 0.5}), "Log", positive=True,
     reference=lambda xs: [np.log10(0.5 + 2.0 * xs[0].astype(np.float64))])
case("elu_default", Net({"data": (1, 3, 4, 5)}).add("elu", "ELU", "data", "elu"), "ELU")
case("elu_alpha_inplace_after_conv", conv_layer(Net({"data": (1, 3, 5, 5)}), "conv1", "data", "conv1", 3, 4).add(
    "elu", "ELU", "conv1", "conv1", elu_param={"alpha": 0.3}), "ELU")
case("bnll", Net({"data": (1, 3, 4, 4)}).add("b", "BNLL", "data", "b"), "BNLL")
_n = Net({"data": (1, 2, 3, 3)}).add("pw", "Power", "data", "pw", power_param={"scale": 40.0})
case("bnll_large_inputs", _n.add("b", "BNLL", "pw", "b"), "BNLL", "Power")

# OpenCV's Caffe importer has no Clip or Swish layer: numpy references (Caffe's definitions).
case("clip", Net({"data": (1, 3, 4, 4)}).add("c", "Clip", "data", "c", clip_param={"min": -0.5, "max": 0.75}),
     "Clip", reference=lambda xs: [np.clip(xs[0], -0.5, 0.75)])
case("clip_relu6_inplace", Net({"data": (1, 2, 5, 5)}).add("pw", "Power", "data", "pw", power_param={"scale": 4.0}).add(
    "c", "Clip", "pw", "pw", clip_param={"min": 0.0, "max": 6.0}), "Clip", "Power",
     reference=lambda xs: [np.clip(4.0 * xs[0], 0.0, 6.0)])
# OpenCV has no Threshold layer either: Caffe's definition, x > threshold ? 1 : 0
case("threshold_default", Net({"data": (1, 3, 4, 4)}).add("t", "Threshold", "data", "t"), "Threshold",
     reference=lambda xs: [(xs[0] > 0).astype(F32)])
case("threshold_value_exact_ties", Net({"data": (1, 2, 3, 3)}).add("pw", "Power", "data", "pw", power_param={
    "scale": 0.0, "shift": 0.25}).add("t", "Threshold", "pw", "t", threshold_param={"threshold": 0.25}),
     "Threshold", "Power", reference=lambda xs: [np.zeros_like(xs[0])])
case("threshold_value", Net({"data": (2, 7)}).add("t", "Threshold", "data", "t", threshold_param={"threshold": 0.3}),
     "Threshold", reference=lambda xs: [(xs[0] > F32(0.3)).astype(F32)])
case("swish_default", Net({"data": (1, 3, 4, 4)}).add("s", "Swish", "data", "s"), "Swish",
     reference=lambda xs: [xs[0] / (1.0 + np.exp(-xs[0].astype(np.float64)))])
case("swish_beta", Net({"data": (2, 6)}).add("s", "Swish", "data", "s", swish_param={"beta": 1.7}), "Swish",
     reference=lambda xs: [xs[0] / (1.0 + np.exp(-1.7 * xs[0].astype(np.float64)))])

# ================================================================ Bias, Reduction, Tile
# OpenCV's Caffe importer has no Bias or Reduction layer and reads no tile_param: numpy references.
_b = w(3)
case("bias_channel_blob", Net({"data": (1, 3, 4, 4)}).add("bias", "Bias", "data", "bias", [_b]), "Bias",
     reference=lambda xs, b_=_b: [xs[0] + b_.reshape(1, 3, 1, 1)])
case("bias_second_bottom_axis2", Net({"data": (1, 2, 3, 4), "b": (3, 4)}).add(
    "bias", "Bias", ["data", "b"], "bias", bias_param={"axis": 2}), "Bias",
     reference=lambda xs: [xs[0] + xs[1].reshape(1, 1, 3, 4)])
case("reduction_sum_axis1", Net({"data": (1, 3, 4, 5)}).add("r", "Reduction", "data", "r",
                                                             reduction_param={"axis": 1}), "Reduction",
     reference=lambda xs: [xs[0].astype(np.float64).sum(axis=(1, 2, 3))])
case("reduction_mean_axis2_coeff", Net({"data": (1, 3, 4, 5)}).add(
    "r", "Reduction", "data", "r", reduction_param={"operation": Enum("MEAN"), "axis": 2, "coeff": 0.5}),
    "Reduction", reference=lambda xs: [0.5 * xs[0].astype(np.float64).mean(axis=(2, 3))])
case("reduction_asum_sumsq", Net({"data": (1, 4, 3, 2)}).add(
    "ra", "Reduction", "data", "ra", reduction_param={"operation": Enum("ASUM"), "axis": 1}).add(
    "rs", "Reduction", "data", "rs", reduction_param={"operation": Enum("SUMSQ"), "axis": -1}), "Reduction",
     reference=lambda xs: [np.abs(xs[0].astype(np.float64)).sum(axis=(1, 2, 3)),
                           np.square(xs[0].astype(np.float64)).sum(axis=3)])
case("tile_channels", Net({"data": (1, 2, 3, 4)}).add("t", "Tile", "data", "t", tile_param={"tiles": 3}), "Tile",
     reference=lambda xs: [np.tile(xs[0], (1, 3, 1, 1))])
case("tile_axis_w", Net({"data": (1, 2, 3, 4)}).add("t", "Tile", "data", "t",
                                                     tile_param={"axis": 3, "tiles": 2}), "Tile",
     reference=lambda xs: [np.tile(xs[0], (1, 1, 1, 2))])

# ================================================================ ArgMax
# OpenCV's Caffe importer has no ArgMax layer: numpy references (Caffe's definition: the
# index as float; on a tie, the last index, as Caffe's descending sort of (value, index)).
def _caffe_argmax(x, axis=None, out_max_val=False):
    if axis is not None:
        if out_max_val:
            return x.max(axis=axis, keepdims=True)
        last = x.shape[axis] - 1 - np.argmax(np.flip(x, axis), axis=axis)
        return np.expand_dims(last, axis).astype(F32)
    flat = x.reshape(x.shape[0], -1)
    index = (flat.shape[1] - 1 - np.argmax(flat[:, ::-1], axis=1)).astype(F32)
    shape = (x.shape[0], 1, 1) + (1,) * (x.ndim - 3)
    if out_max_val:
        return np.concatenate([index.reshape(shape), flat.max(axis=1).reshape(shape)], axis=1)
    return index.reshape(shape)


case("argmax_flat", Net({"data": (1, 3, 4, 5)}).add("a", "ArgMax", "data", "a"), "ArgMax",
     reference=lambda xs: [_caffe_argmax(xs[0])])
case("argmax_channels", Net({"data": (1, 6, 3, 4)}).add("a", "ArgMax", "data", "a", argmax_param={"axis": 1}),
     "ArgMax", reference=lambda xs: [_caffe_argmax(xs[0], 1)])
case("argmax_flat_out_max_val", Net({"data": (1, 4, 3, 3)}).add("a", "ArgMax", "data", "a", argmax_param={
    "out_max_val": True}), "ArgMax", reference=lambda xs: [_caffe_argmax(xs[0], out_max_val=True)])
case("argmax_axis_out_max_val", Net({"data": (1, 4, 3, 5)}).add("a", "ArgMax", "data", "a", argmax_param={
    "axis": -1, "out_max_val": True}), "ArgMax", reference=lambda xs: [_caffe_argmax(xs[0], 3, True)])
# Ties (ReLU makes zeros): Caffe gives the last index of the maximum
case("argmax_ties_last_index", Net({"data": (1, 5, 2, 3)}).add("p", "Power", "data", "p", power_param={
    "scale": -1.0, "shift": -5.0}).add("r", "ReLU", "p", "r").add("a", "ArgMax", "r", "a", argmax_param={"axis": 1}),
     "ArgMax", "Power", "ReLU", reference=lambda xs: [_caffe_argmax(np.maximum(-xs[0] - 5.0, 0), 1)])

# ================================================================ V1 `layers {}` nets
_n = Net({"data": (1, 2, 8, 8)}, input_style="dim", v1=True)
conv_layer(_n, "conv1", "data", "conv1", 2, 4, pad=1)
_n.add("relu1", "ReLU", "conv1", "conv1")
pool(_n, "pool1", "conv1", "pool1", pool="MAX", kernel_size=2, stride=2)
_n.add("norm1", "LRN", "pool1", "norm1", lrn_param={"local_size": 3, "alpha": 0.1, "beta": 0.75})
_n.add("ip1", "InnerProduct", "norm1", "ip1", [w(6, 64), w(6)], inner_product_param={"num_output": 6})
_n.add("drop", "Dropout", "ip1", "ip1")
_n.add("prob", "Softmax", "ip1", "prob")
case("v1_conv_pool_lrn_ip_softmax", _n, "Convolution", "ReLU", "Pooling", "LRN", "InnerProduct", "Dropout",
     "Softmax")
_n = Net({"data": (1, 4, 4, 4)}, input_style="dim", v1=True)
_n.add("split", "Split", "data", ["d1", "d2"])
_n.add("sl", "Slice", "d1", ["s1", "s2"], slice_param={"slice_point": [1]})
_n.add("sig", "Sigmoid", "s1", "s1")
_n.add("tanh", "TanH", "s2", "s2")
_n.add("cat", "Concat", ["s1", "s2"], "cat")
_n.add("sum", "Eltwise", ["cat", "d2"], "sum", eltwise_param={"coeff": [2.0, 0.5]})
_n.add("pw", "Power", "sum", "sum", power_param={"power": 2.0})
conv_layer(_n, "up", "sum", "up", 4, 2, k=2, ltype="Deconvolution", stride=2)
_n.add("flat", "Flatten", "up", "flat")
case("v1_split_slice_eltwise_deconv", _n, "Split", "Slice", "Sigmoid", "TanH", "Concat", "Eltwise", "Power",
     "Deconvolution", "Flatten")
_n = Net({"data": (1, 3, 4, 4)}, input_style="dim", v1=True)
_n.add("abs", "AbsVal", "data", "abs")
_n.add("bnll", "BNLL", "data", "bnll")
_n.add("exp", "Exp", "bnll", "bnll")
_n.add("sum", "Eltwise", ["abs", "bnll"], "sum")
case("v1_absval_bnll_exp", _n, "AbsVal", "BNLL", "Exp", "Eltwise")

# ================================================================ outputs
_n = conv_layer(Net({"data": (1, 3, 5, 5)}), "conv1", "data", "conv1", 3, 4, pad=1)
_n.add("relu1", "ReLU", "conv1", "conv1")
pool(_n, "pool1", "conv1", "pool1", pool="MAX", kernel_size=2, stride=2)
case("outputs_by_on_inplace_blob", _n, "ReLU", outputs=("conv1", "pool1"))

