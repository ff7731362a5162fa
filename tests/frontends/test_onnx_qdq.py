"""ONNX QDQ graphs (QuantizeLinear/DequantizeLinear around float ops) through the int8 kernels:
small graphs built here, compared with onnxruntime on host and under QEMU on c908 and c906:
bit-identical (the ONNX rounding flavour of the int8 kernels, onnxruntime fusing each group into
its int8 kernels), and the QDQ features hhbc refuses, each by node in one line.

Kernel by kernel, on inputs chosen to land on rounding ties: tests/kernels/test_int8_onnx_kernels.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.errors import HhbcError
from hhbc.frontends import load_model
from hhbc.targets import get_target

pytest.importorskip("onnxruntime")

IN_SCALE, IN_ZP = 0.05, -3
OUT_SCALE, OUT_ZP = 0.08, 5


class _Graph:
    """A QDQ graph under construction: nodes, initializers, fresh names."""

    def __init__(self, seed: int = 0):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}{self.k}"

    def const(self, array: np.ndarray, base: str = "c") -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def qdq(self, x: str, scale: float, zp: int, dtype=np.int8) -> str:
        """x -> QuantizeLinear -> DequantizeLinear (one activation's quantization)."""
        s, z = self.const(np.float32(scale), "s"), self.const(dtype(zp), "z")
        q, dq = self.name("q"), self.name("dq")
        self.nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [q], name=self.name("Q")))
        self.nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [dq], name=self.name("DQ")))
        return dq

    def weight(self, shape: tuple[int, ...], per_channel: bool, axis: int = 0,
               dyadic: bool = False) -> tuple[str, np.ndarray]:
        """dequantize(int8 weight) with per-channel (along axis) or per-tensor scales; dyadic:
        powers of two and small weights (every float product and sum exact)."""
        if dyadic:
            w = self.rng.integers(-8, 9, size=shape, dtype=np.int8)
            scale = (2.0 ** -self.rng.integers(3, 7, size=shape[axis]) if per_channel
                     else np.array(2.0 ** -5)).astype(np.float32)
        else:
            w = self.rng.integers(-127, 128, size=shape, dtype=np.int8)
            scale = (self.rng.uniform(0.002, 0.01, size=shape[axis]) if per_channel
                     else np.array(0.005)).astype(np.float32)
        zp = np.zeros(scale.shape, np.int8)
        out = self.name("w")
        attrs = {"axis": axis} if per_channel else {}
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(w, "wq"), self.const(scale, "ws"),
                                                                self.const(zp, "wz")], [out],
                                           name=self.name("DQw"), **attrs))
        return out, scale

    def bias(self, channels: int, w_scale: np.ndarray, in_scale: float = IN_SCALE) -> str:
        """dequantize(int32 bias) at input scale x weight scale, as quantizers write it."""
        scale = (np.float32(in_scale) * w_scale).astype(np.float32)
        b = self.rng.integers(-2000, 2000, size=channels, dtype=np.int32)
        out = self.name("b")
        zp = np.zeros(scale.shape, np.int32)
        attrs = {"axis": 0} if scale.size > 1 else {}
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(b, "bq"), self.const(scale, "bs"),
                                                                self.const(zp, "bz")], [out],
                                           name=self.name("DQb"), **attrs))
        return out

    def model(self, inputs: dict[str, list[int]], output: str, out_shape: list[int]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "qdq",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, out_shape)], self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _conv_case(per_channel: bool, groups: int = 1, stride: int = 1, relu: bool = False,
               clip: tuple[float, float] | None = None, out_quant: tuple[float, int] = (OUT_SCALE, OUT_ZP),
               in_quant: tuple[float, int] = (IN_SCALE, IN_ZP), dyadic: bool = False) -> onnx.ModelProto:
    g = _Graph()
    cin, cout = (6, 6) if groups > 1 else (5, 7)
    x = g.qdq("x", *in_quant)
    w, ws = g.weight((cout, cin // groups, 3, 3), per_channel, dyadic=dyadic)
    y = "conv"
    g.nodes.append(helper.make_node("Conv", [x, w, g.bias(cout, ws, in_quant[0])], [y], name="conv", pads=[1, 1, 1, 1],
                                    strides=[stride, stride], group=groups))
    if relu:
        g.nodes.append(helper.make_node("Relu", [y], ["relu"], name="relu"))
        y = "relu"
    if clip is not None:
        bounds = [g.const(np.float32(v), "clip") for v in clip]
        g.nodes.append(helper.make_node("Clip", [y, *bounds], ["clip"], name="clip"))
        y = "clip"
    out = g.qdq(y, *out_quant)
    side = (9 - 1) // stride + 1
    return g.model({"x": [1, cin, 9, 9]}, out, [1, cout, side, side])


def _gemm_case(per_channel: bool) -> onnx.ModelProto:
    g = _Graph(1)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    w, ws = g.weight((10, 24), per_channel)    # Gemm transB=1: W is [N, K]
    g.nodes.append(helper.make_node("Gemm", [x, w, g.bias(10, ws)], ["y"], name="fc", transB=1))
    return g.model({"x": [1, 24]}, g.qdq("y", OUT_SCALE, OUT_ZP), [1, 10])


def _add_case() -> onnx.ModelProto:
    g = _Graph(2)
    a = g.qdq("a", IN_SCALE, IN_ZP)
    b = g.qdq("b", 0.03, 7)
    g.nodes.append(helper.make_node("Add", [a, b], ["y"], name="add"))
    return g.model({"a": [1, 4, 6, 6], "b": [1, 4, 6, 6]}, g.qdq("y", OUT_SCALE, OUT_ZP), [1, 4, 6, 6])


def _pool_case(same_quant: bool, pad: int = 0, count_include_pad: int = 0) -> onnx.ModelProto:
    g = _Graph(3)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("AveragePool", [x], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                                    pads=[pad] * 4, count_include_pad=count_include_pad))
    scale, zp = (IN_SCALE, IN_ZP) if same_quant else (0.02, -10)
    side = (9 + 2 * pad - 3) // 2 + 1
    return g.model({"x": [1, 5, 9, 9]}, g.qdq("y", scale, zp), [1, 5, side, side])


def _global_pool_case() -> onnx.ModelProto:
    """A window over the whole image: onnxruntime's integer-sum path."""
    g = _Graph(4)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("AveragePool", [x], ["y"], name="gap", kernel_shape=[6, 6]))
    return g.model({"x": [1, 8, 6, 6]}, g.qdq("y", 0.01, 2), [1, 8, 1, 1])


def _max_pool_case(same_quant: bool, kernel: int = 3, pad: int = 0) -> onnx.ModelProto:
    """onnxruntime drops the Q/DQ pair and runs MaxPool on int8 when both sides share their
    quantization, else the float MaxPool then QuantizeLinear (exact: dequantize is monotone).
    A 2x2 window at stride 2 with padding 1 sees one or two real values at the border: the
    padding must lose against any int8 value (not pad with the zero point)."""
    g = _Graph(5)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("MaxPool", [x], ["y"], name="maxpool", kernel_shape=[kernel, kernel],
                                    strides=[2, 2], pads=[pad] * 4))
    scale, zp = (IN_SCALE, IN_ZP) if same_quant else (0.03, 4)
    side = (9 + 2 * pad - kernel) // 2 + 1
    return g.model({"x": [1, 5, 9, 9]}, g.qdq("y", scale, zp), [1, 5, side, side])


def _global_avg_pool_case(out_quant: tuple[float, int], side: int) -> onnx.ModelProto:
    """GlobalAveragePool: onnxruntime's QLinearGlobalAveragePool (integer sum, one float32 scale)."""
    g = _Graph(6)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["y"], name="gap"))
    return g.model({"x": [1, 16, side, side]}, g.qdq("y", *out_quant), [1, 16, 1, 1])


def _flatten_gemm_case(op: str) -> onnx.ModelProto:
    """Conv features flattened (torch's x.flatten(1)) into a Gemm, Q/DQ around the Flatten as
    onnxruntime's quantizer writes it: onnxruntime drops that pair and runs QGemm. hhbc keeps the
    map NHWC and permutes the Gemm's weight rows at compile time instead of transposing."""
    g = _Graph(7)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    w, ws = g.weight((4, 3, 3, 3), True)
    g.nodes.append(helper.make_node("Conv", [x, w, g.bias(4, ws)], ["c"], name="conv", pads=[1, 1, 1, 1]))
    c = g.qdq("c", 0.1, 1)
    if op == "Flatten":
        g.nodes.append(helper.make_node("Flatten", [c], ["f"], name="flatten", axis=1))
    else:
        g.nodes.append(helper.make_node("Reshape", [c, g.const(np.array([1, -1], np.int64))], ["f"], name="flatten"))
    w2, ws2 = g.weight((10, 4 * 5 * 5), True)
    g.nodes.append(helper.make_node("Gemm", [g.qdq("f", 0.1, 1), w2, g.bias(10, ws2, 0.1)], ["y"], name="fc",
                                    transB=1))
    return g.model({"x": [1, 3, 5, 5]}, g.qdq("y", OUT_SCALE, OUT_ZP), [1, 10])


def _concat_case(same_quant: bool) -> onnx.ModelProto:
    """Concat along channels: onnxruntime's QLinearConcat (inputs quantized unlike the output
    requantized through a float32 table, ties to even)."""
    g = _Graph(8)
    a = g.qdq("a", IN_SCALE, IN_ZP)
    b = g.qdq("b", *((IN_SCALE, IN_ZP) if same_quant else (0.03, 7)))
    g.nodes.append(helper.make_node("Concat", [a, b], ["y"], name="concat", axis=1))
    out = g.qdq("y", *((IN_SCALE, IN_ZP) if same_quant else (OUT_SCALE, OUT_ZP)))
    return g.model({"a": [1, 3, 4, 4], "b": [1, 5, 4, 4]}, out, [1, 8, 4, 4])


def _concat_conv_case() -> onnx.ModelProto:
    """Concat of two conv outputs (NHWC maps in hhbc: the channel axis is remapped, no transpose),
    each conv on its own input so that onnxruntime fuses both into QLinearConv."""
    g = _Graph(9)
    outs = []
    for i, quant in enumerate([(0.1, 1), (0.07, -4)]):
        w, ws = g.weight((4, 3, 3, 3), True)
        g.nodes.append(helper.make_node("Conv", [g.qdq(f"x{i}", IN_SCALE, IN_ZP), w, g.bias(4, ws)], [f"c{i}"],
                                        name=f"conv{i}", pads=[1, 1, 1, 1]))
        outs.append(g.qdq(f"c{i}", *quant))
    g.nodes.append(helper.make_node("Concat", outs, ["y"], name="concat", axis=1))
    return g.model({"x0": [1, 3, 5, 5], "x1": [1, 3, 5, 5]}, g.qdq("y", 0.1, 1), [1, 8, 5, 5])


def _shared_input_case() -> onnx.ModelProto:
    """One quantized float input read by two convs: its layout change and quantize are
    emitted once, not once per reader."""
    g = _Graph(9)
    xq = g.qdq("x", IN_SCALE, IN_ZP)
    outs = []
    for i, quant in enumerate([(0.1, 1), (0.07, -4)]):
        w, ws = g.weight((4, 3, 3, 3), True)
        g.nodes.append(helper.make_node("Conv", [xq, w, g.bias(4, ws)], [f"c{i}"], name=f"conv{i}",
                                        pads=[1, 1, 1, 1]))
        outs.append(g.qdq(f"c{i}", *quant))
    g.nodes.append(helper.make_node("Concat", outs, ["y"], name="concat", axis=1))
    return g.model({"x": [1, 3, 5, 5]}, g.qdq("y", 0.1, 1), [1, 8, 5, 5])


def _lut_case(op: str, after_conv: bool) -> onnx.ModelProto:
    """Sigmoid / Tanh between Q/DQ pairs: a 256-entry int8 table. onnxruntime fuses Sigmoid into
    QLinearSigmoid (a table built from MLAS's float32 logistic); Tanh it runs in float (MLAS's tanh)
    then QuantizeLinear, a function of the int8 input too. The output quantizations are the ones
    quantizers give these ops (1/256 and 1/128 over [0, 1) and [-1, 1))."""
    g = _Graph(10)
    x = g.qdq("x", IN_SCALE, IN_ZP)
    shape = [1, 6, 4, 4]
    if after_conv:   # an NHWC map in hhbc
        w, ws = g.weight((6, 6, 3, 3), True)
        g.nodes.append(helper.make_node("Conv", [x, w, g.bias(6, ws)], ["c"], name="conv", pads=[1, 1, 1, 1]))
        x = g.qdq("c", 0.06, -2)
    g.nodes.append(helper.make_node(op, [x], ["y"], name=op.lower()))
    out = (1 / 256, -128) if op == "Sigmoid" else (1 / 128, 0)
    return g.model({"x": shape}, g.qdq("y", *out), shape)


CASES = {
    "shared-input-two-convs": _shared_input_case,
    "conv-per-channel": lambda: _conv_case(True),
    "conv-per-tensor-s2": lambda: _conv_case(False, stride=2),
    "conv-relu": lambda: _conv_case(True, relu=True),   # onnxruntime: float FusedConv (see below)
    "depthwise-per-channel": lambda: _conv_case(True, groups=6),
    "gemm-per-tensor": lambda: _gemm_case(False),
    "gemm-per-channel": lambda: _gemm_case(True),
    "add": _add_case,
    "avgpool-same-quant": lambda: _pool_case(True),
    "avgpool-requantized": lambda: _pool_case(False),
    "avgpool-padded": lambda: _pool_case(False, pad=1),
    "avgpool-padded-count-pad": lambda: _pool_case(False, pad=1, count_include_pad=1),
    "avgpool-whole-image": _global_pool_case,
    "maxpool-same-quant": lambda: _max_pool_case(True),
    "maxpool-requantized": lambda: _max_pool_case(False),
    "maxpool-padded": lambda: _max_pool_case(True, kernel=2, pad=1),
    "maxpool-padded-requantized": lambda: _max_pool_case(False, kernel=2, pad=1),
    "global-avgpool": lambda: _global_avg_pool_case((0.0123, 7), 7),
    "global-avgpool-same-quant": lambda: _global_avg_pool_case((IN_SCALE, IN_ZP), 5),
    "flatten-gemm": lambda: _flatten_gemm_case("Flatten"),
    "reshape-gemm": lambda: _flatten_gemm_case("Reshape"),
    "concat-same-quant": lambda: _concat_case(True),
    "concat-requantized": lambda: _concat_case(False),
    "concat-conv-maps": _concat_conv_case,
    "sigmoid": lambda: _lut_case("Sigmoid", False),
    "sigmoid-after-conv": lambda: _lut_case("Sigmoid", True),
    "tanh": lambda: _lut_case("Tanh", False),
    "tanh-after-conv": lambda: _lut_case("Tanh", True),
    # ReLU6 as quantizers write it (output 6/255, zero point -128): onnxruntime drops the Clip
    # and runs QLinearConv; the inputs drive many outputs to the top of the range
    "conv-relu6": lambda: _conv_case(True, clip=(0.0, 6.0), out_quant=(6.0 / 255, -128)),
    # A Relu or Clip onnxruntime cannot drop (it narrows the output range) makes it run the
    # float FusedConv, then QuantizeLinear: exact only where float is. Dyadic scales and small
    # weights make every float step exact, so the int8 clamp and the ties of the rescale and
    # of the clip bounds (2.5 / 0.25 = 10, -1.125 / 0.25 = -4.5) are checked exactly.
    "conv-clip-dyadic": lambda: _conv_case(True, clip=(-1.125, 2.5), in_quant=(0.25, 3), out_quant=(0.25, -2),
                                           dyadic=True),
    "conv-relu-dyadic": lambda: _conv_case(False, relu=True, in_quant=(0.25, 3), out_quant=(0.125, 7),
                                           dyadic=True),
}

# Cases onnxruntime computes in float between the pair (no int8 kernel): compared within a bound,
# in output steps. Tanh: MLAS's float tanh, whose float32 operation order depends on the build
# (portable code or FMA3 assembly; the FMA form moves one table entry in ~400000 by one step,
# measured over random scales), while hhbc's table follows the portable code. Measured exact here.
STEP_BOUND = {"tanh": (1, 1 / 128), "tanh-after-conv": (1, 1 / 128)}

# every case runs on host; these also under QEMU on each riscv target
RISCV_CASES = ["conv-per-channel", "depthwise-per-channel", "gemm-per-channel", "add",
               "avgpool-padded-count-pad", "avgpool-whole-image", "conv-relu6", "conv-clip-dyadic",
               "maxpool-padded-requantized", "global-avgpool", "flatten-gemm", "concat-conv-maps",
               "sigmoid-after-conv", "tanh-after-conv"]
TARGETS = ["host", "c908", "c906"]


def _save(model: onnx.ModelProto, tmp_path: Path) -> Path:
    onnx.checker.check_model(model)
    path = tmp_path / "qdq.onnx"
    onnx.save(model, str(path))
    return path


def _case_params():
    for target in TARGETS:
        for case in sorted(CASES):
            if target == "host":
                yield pytest.param(case, target, id=f"{case}-{target}")
            elif case in RISCV_CASES:
                yield pytest.param(case, target, id=f"{case}-{target}", marks=[pytest.mark.qemu, pytest.mark.slow])


@pytest.mark.parametrize("case, target", list(_case_params()))
def test_qdq_graph_matches_onnxruntime_exactly(case, target, tmp_path):
    if target != "host" and (importlib.util.find_spec("ziglang") is None
                             or importlib.util.find_spec("qemu") is None):
        pytest.skip("needs ziglang and xuantie-qemu")
    path = _save(CASES[case](), tmp_path)
    tgt = get_target(target)
    compiled = compile_model(path, tgt, tmp_path / "out")
    kernels = {n.op for n in compiled.graph.nodes}
    assert not kernels & {"conv2d", "dense", "binary", "pool2d"}, kernels   # no float compute kernels
    elf = build(tmp_path / "out", tgt)
    rng = np.random.default_rng(7)
    for k in range(3):
        # inputs over the input quantization's range, and a little beyond (saturation)
        arrays = [rng.uniform(-140 * IN_SCALE, 140 * IN_SCALE, size=i.shape).astype(np.float32)
                  for i in compiled.model.inputs]
        got = run_model(elf, tgt, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"],
                        tmp_path / f"io{k}")
        ref = compiled.model.reference(arrays)
        assert got[0].shape == ref[0].shape
        steps, step = STEP_BOUND.get(case, (0, 0.0))
        diff = np.abs(got[0].astype(np.float64) - ref[0].astype(np.float64))
        bad = diff > steps * step * (1 + 1e-6)
        assert not bad.any(), (f"input set {k}: {int(bad.sum())}/{bad.size} outputs differ by more than "
                               f"{steps} step(s), max abs diff {float(np.max(diff))}")


def test_shared_input_is_converted_once(tmp_path):
    compiled = compile_model(_save(_shared_input_case(), tmp_path), get_target("host"), tmp_path / "out")
    ops = [n.op for n in compiled.graph.nodes]
    assert ops.count("quantize_i8") == 1 and ops.count("conv2d_i8") == 2, ops
    assert ops.count("transpose") == 2, ops   # NCHW -> NHWC at the input, back at the output


def _refusal(model: onnx.ModelProto, tmp_path: Path) -> str:
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    with pytest.raises(HhbcError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_uint8_qdq_is_refused_by_node(tmp_path):
    g = _Graph()
    out = g.qdq(g.qdq("x", IN_SCALE, 128, np.uint8), OUT_SCALE, 0)
    message = _refusal(g.model({"x": [1, 4]}, out, [1, 4]), tmp_path)
    assert "uint8" in message and "'Q" in message


def test_missing_zero_point_is_uint8_and_refused(tmp_path):
    g = _Graph()
    s = g.const(np.float32(0.1))
    g.nodes += [helper.make_node("QuantizeLinear", ["x", s], ["q"], name="quant_in"),
                helper.make_node("DequantizeLinear", ["q", s], ["y"], name="dequant_in")]
    message = _refusal(g.model({"x": [1, 4]}, "y", [1, 4]), tmp_path)
    assert "'quant_in'" in message and "uint8" in message


def test_per_channel_activation_is_refused(tmp_path):
    g = _Graph()
    s, z = g.const(np.full(4, 0.1, np.float32)), g.const(np.zeros(4, np.int8))
    g.nodes += [helper.make_node("QuantizeLinear", ["x", s, z], ["q"], name="act_q", axis=1),
                helper.make_node("DequantizeLinear", ["q", s, z], ["y"], name="act_dq", axis=1)]
    message = _refusal(g.model({"x": [1, 4, 2, 2]}, "y", [1, 4, 2, 2]), tmp_path)
    assert "per-channel" in message and "'act_q'" in message


def test_qoperator_format_is_refused(tmp_path):
    g = _Graph()
    names = [g.const(np.float32(0.1)), g.const(np.int8(0))]
    w = g.const(np.ones((2, 1, 1, 1), np.int8))
    g.nodes.append(helper.make_node("QuantizeLinear", ["x", *names], ["q"], name="q_in"))
    g.nodes.append(helper.make_node("QLinearConv", ["q", *names, w, *names, *names], ["c"], name="qconv"))
    g.nodes.append(helper.make_node("DequantizeLinear", ["c", *names], ["y"], name="dq_out"))
    message = _refusal(g.model({"x": [1, 1, 3, 3]}, "y", [1, 2, 3, 3]), tmp_path)
    assert "QLinearConv" in message and "'qconv'" in message and "QDQ" in message


def test_float_op_between_qdq_pairs_is_refused(tmp_path):
    """A quantized layer with no int8 kernel is an error naming it, never float behind the user's back."""
    g = _Graph()
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("Sqrt", [x], ["y"], name="the_sqrt"))
    path = _save(g.model({"x": [1, 8]}, g.qdq("y", OUT_SCALE, OUT_ZP), [1, 8]), tmp_path)
    with pytest.raises(HhbcError) as err:
        compile_model(path, get_target("host"), tmp_path / "out")
    assert "the_sqrt" in str(err.value) and "\n" not in str(err.value)


def test_flattened_map_not_read_by_a_gemm_is_refused(tmp_path):
    """The NHWC map flattened in NCHW order is only supported into a Gemm/MatMul (its weight rows
    absorb the order); as a graph output it would need an int8 transpose."""
    g = _Graph()
    x = g.qdq("x", IN_SCALE, IN_ZP)
    w, ws = g.weight((4, 3, 3, 3), True)
    g.nodes.append(helper.make_node("Conv", [x, w, g.bias(4, ws)], ["c"], name="conv", pads=[1, 1, 1, 1]))
    g.nodes.append(helper.make_node("Flatten", [g.qdq("c", 0.1, 1)], ["f"], name="the_flatten", axis=1))
    path = _save(g.model({"x": [1, 3, 5, 5]}, g.qdq("f", 0.1, 1), [1, 100]), tmp_path)
    with pytest.raises(HhbcError) as err:
        compile_model(path, get_target("host"), tmp_path / "out")
    assert "'the_flatten'" in str(err.value) and "flattened" in str(err.value) and "\n" not in str(err.value)


def test_max_pool_ceil_mode_is_refused(tmp_path):
    g = _Graph()
    x = g.qdq("x", IN_SCALE, IN_ZP)
    g.nodes.append(helper.make_node("MaxPool", [x], ["y"], name="the_pool", kernel_shape=[2, 2], strides=[2, 2],
                                    ceil_mode=1))
    path = _save(g.model({"x": [1, 2, 5, 5]}, g.qdq("y", IN_SCALE, IN_ZP), [1, 2, 3, 3]), tmp_path)
    with pytest.raises(HhbcError) as err:
        compile_model(path, get_target("host"), tmp_path / "out")
    assert "'the_pool'" in str(err.value) and "ceil_mode" in str(err.value) and "\n" not in str(err.value)
