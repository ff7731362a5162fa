"""ONNX QDQ models whose int8 weights have nonzero zero points (the int8_asym scheme), per tensor
and per output channel: Conv, depthwise Conv, Gemm and MatMul, built here with onnx.helper,
compiled for host, c908 and c906 and compared with onnxruntime (which fuses each group into
QLinearConv / QGemm / QLinearMatMul) bit for bit. Such layers must run the reference kernels
(the vector int8 kernels assume symmetric weights), symmetric layers of the same model keep
their vector kernels, and a model without weight zero points generates no `weight_zp` at all.

The kernels alone, both rounding flavours, against a numpy model: tests/kernels/test_int8_weight_zp.py."""

from __future__ import annotations

import importlib.util
import copy
from pathlib import Path

import numpy as np
import pytest

from hhbc.build import build
from hhbc.codegen.kernel_table import TABLE, WEIGHT_ZP_OPS
from hhbc.codegen.kernels import select_kernel
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.targets import get_target

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

IN_SCALE, IN_ZP = 0.05, -3
OUT_SCALE, OUT_ZP = 0.08, 5


class _Graph:
    def __init__(self, seed: int):
        self.nodes, self.inits, self.k = [], [], 0
        self.rng = np.random.default_rng(seed)

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}{self.k}"

    def const(self, array, base: str = "c") -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def qdq(self, x: str, scale: float, zp: int) -> str:
        s, z = self.const(np.float32(scale), "s"), self.const(np.int8(zp), "z")
        q, dq = self.name("q"), self.name("dq")
        self.nodes += [helper.make_node("QuantizeLinear", [x, s, z], [q], name=self.name("Q")),
                       helper.make_node("DequantizeLinear", [q, s, z], [dq], name=self.name("DQ"))]
        return dq

    def weight(self, shape: tuple[int, ...], zp: str, axis: int = 0) -> tuple[str, np.ndarray]:
        """dequantize(int8 weight over [-128, 127]); zp: "none" (symmetric), "tensor" (one nonzero
        zero point) or "channel" (one per slice along axis, -128 and 127 among them)."""
        w = self.rng.integers(-128, 128, size=shape, dtype=np.int8)
        channels = shape[axis]
        if zp == "channel":
            scale = self.rng.uniform(0.002, 0.01, size=channels).astype(np.float32)
            z = self.rng.integers(-128, 128, size=channels).astype(np.int8)
            z[0], z[-1] = -128, 127
        else:
            scale, z = np.array(0.005, np.float32), np.int8(0 if zp == "none" else -41)
        out = self.name("w")
        attrs = {"axis": axis} if zp == "channel" else {}
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(w, "wq"), self.const(scale, "ws"),
                                                                self.const(z, "wz")], [out],
                                           name=self.name("DQw"), **attrs))
        return out, scale

    def bias(self, channels: int, w_scale: np.ndarray) -> str:
        scale = (np.float32(IN_SCALE) * w_scale).astype(np.float32)
        b = self.rng.integers(-2000, 2000, size=channels, dtype=np.int32)
        out = self.name("b")
        attrs = {"axis": 0} if scale.size > 1 else {}
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(b, "bq"), self.const(scale, "bs"),
                                                                self.const(np.zeros(scale.shape, np.int32), "bz")],
                                           [out], name=self.name("DQb"), **attrs))
        return out

    def model(self, inputs: dict[str, list[int]], output: str, out_shape: list[int]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "qdq_wzp",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, out_shape)], self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _conv(g: _Graph, x: str, cin: int, cout: int, k: int, zp: str, stride: int = 1, groups: int = 1,
          name: str = "conv") -> str:
    w, ws = g.weight((cout, cin // groups, k, k), zp)
    pad = k // 2
    g.nodes.append(helper.make_node("Conv", [x, w, g.bias(cout, ws)], [name], name=name, pads=[pad] * 4,
                                    strides=[stride, stride], group=groups))
    return name


def _conv_case(zp: str, k: int = 3, stride: int = 1, depthwise: bool = False) -> onnx.ModelProto:
    g = _Graph(11)
    cin, cout = (6, 6) if depthwise else (5, 7)
    y = _conv(g, g.qdq("x", IN_SCALE, IN_ZP), cin, cout, k, zp, stride, cin if depthwise else 1)
    side = (9 - 1) // stride + 1
    return g.model({"x": [1, cin, 9, 9]}, g.qdq(y, OUT_SCALE, OUT_ZP), [1, cout, side, side])


def _gemm_case(zp: str) -> onnx.ModelProto:
    g = _Graph(12)
    w, ws = g.weight((10, 40), zp)   # transB: [N, K], the zero points along N
    g.nodes.append(helper.make_node("Gemm", [g.qdq("x", IN_SCALE, IN_ZP), w, g.bias(10, ws)], ["y"], name="fc",
                                    transB=1))
    return g.model({"x": [2, 40]}, g.qdq("y", OUT_SCALE, OUT_ZP), [2, 10])


def _matmul_case(zp: str) -> onnx.ModelProto:
    g = _Graph(13)
    w, _ = g.weight((40, 12), zp, axis=1)   # [K, N], the zero points along N
    g.nodes.append(helper.make_node("MatMul", [g.qdq("x", IN_SCALE, IN_ZP), w], ["y"], name="mm"))
    return g.model({"x": [3, 40]}, g.qdq("y", OUT_SCALE, OUT_ZP), [3, 12])


def _mixed_case() -> onnx.ModelProto:
    """A symmetric conv, then an asymmetric one, then a symmetric 1x1: only the middle layer
    leaves the vector kernels."""
    g = _Graph(14)
    a = g.qdq(_conv(g, g.qdq("x", IN_SCALE, IN_ZP), 4, 8, 3, "none", name="sym_conv"), 0.1, 2)
    b = g.qdq(_conv(g, a, 8, 8, 3, "channel", name="asym_conv"), 0.1, -6)
    c = _conv(g, b, 8, 6, 1, "none", name="sym_pointwise")
    return g.model({"x": [1, 4, 8, 8]}, g.qdq(c, OUT_SCALE, OUT_ZP), [1, 6, 8, 8])


CASES = {
    "conv-per-tensor": lambda: _conv_case("tensor"),
    "conv-per-channel-s2": lambda: _conv_case("channel", stride=2),
    "conv1x1-per-channel": lambda: _conv_case("channel", k=1),
    "depthwise-per-tensor": lambda: _conv_case("tensor", depthwise=True),
    "depthwise-per-channel": lambda: _conv_case("channel", depthwise=True),
    "gemm-per-tensor": lambda: _gemm_case("tensor"),
    "gemm-per-channel": lambda: _gemm_case("channel"),
    "matmul-per-tensor": lambda: _matmul_case("tensor"),
    "matmul-per-channel": lambda: _matmul_case("channel"),
    "mixed-sym-asym": _mixed_case,
}
WEIGHT_OPS = {"conv2d_i8", "depthwise_conv2d_i8", "dense_i8"}


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_weight_zero_point_matches_onnxruntime_exactly(case, target, tmp_path):
    if target.name != "host" and (importlib.util.find_spec("ziglang") is None
                                  or importlib.util.find_spec("qemu") is None):
        pytest.skip("needs ziglang and xuantie-qemu")
    compiled = compile_model(_save(CASES[case](), tmp_path / "m.onnx"), target, tmp_path / "out")
    layers = [n for n in compiled.graph.nodes if n.op in WEIGHT_OPS]
    assert not {n.op for n in compiled.graph.nodes} & {"conv2d", "dense"}, "float compute kernels"
    asym = [n for n in layers if "weight_zp" in n.consts]
    assert len(asym) == 1, [(n.layer, sorted(n.consts)) for n in layers]
    for n in layers:   # weight zero points: reference kernels only; symmetric layers keep theirs
        if n in asym:
            assert n.impl.variant == "ref", (n.layer, n.impl.function)
        elif target.name == "c908":   # (c906 runs ONNX-flavoured convs on ref anyway)
            assert n.impl.variant != "ref", (n.layer, n.impl.function)
    assert (asym[0].consts["weight_zp"].data != 0).any() and asym[0].consts["weight_zp"].data.dtype == np.int32
    elf = build(tmp_path / "out", target)
    rng = np.random.default_rng(5)
    for k in range(3):
        arrays = [rng.uniform(-140 * IN_SCALE, 140 * IN_SCALE, size=i.shape).astype(np.float32)
                  for i in compiled.model.inputs]
        got = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"],
                        tmp_path / f"io{k}")
        ref = compiled.model.reference(arrays)
        assert got[0].shape == ref[0].shape
        diff = np.abs(got[0].astype(np.float64) - ref[0].astype(np.float64))
        assert not diff.any(), (f"input set {k}: {int((diff > 0).sum())}/{diff.size} outputs differ from "
                                f"onnxruntime, max abs diff {float(diff.max())}")


def test_symmetric_weights_generate_no_weight_zp(tmp_path):
    """Symmetric models keep their generated code: no weight_zp field in any initializer; an
    asymmetric layer names its zero points in one."""
    sym = compile_model(_save(_conv_case("none"), tmp_path / "sym.onnx"), get_target("host"), tmp_path / "sym")
    assert "weight_zp" not in (tmp_path / "sym" / "model.c").read_text()
    assert not any("weight_zp" in n.consts for n in sym.graph.nodes)
    compile_model(_save(_conv_case("tensor"), tmp_path / "asym.onnx"), get_target("host"), tmp_path / "asym")
    assert (tmp_path / "asym" / "model.c").read_text().count(".weight_zp = ") == 1


def _with_consts(node, consts: dict):
    twin = copy.copy(node)
    twin.consts = consts
    return twin


def test_vector_rows_refuse_weight_zero_points(tmp_path):
    """Every vector int8 conv/depthwise/dense row of the kernel table that takes a layer with
    symmetric weights refuses the same layer with a weight zero point, in both flavours (the
    TFLite one: the ONNX layers given a multiplier and shift in place of the float scale), and
    the target then falls back to the reference kernel."""
    nodes = []
    for case in sorted(CASES):
        compiled = compile_model(_save(CASES[case](), tmp_path / f"{case}.onnx"), get_target("host"),
                                 tmp_path / case)
        for n in compiled.graph.nodes:
            if "weight_zp" in n.consts:
                scale = n.consts["scale"]
                tflite = {k: v for k, v in n.consts.items() if k != "scale"}
                tflite["multiplier"] = copy.copy(scale)
                tflite["multiplier"].data = np.full(scale.data.shape, 1 << 30, np.int32)
                tflite["shift"] = copy.copy(scale)
                tflite["shift"].data = np.full(scale.data.shape, -8, np.int32)
                nodes += [n, _with_consts(n, tflite)]
    rows = [r for r in TABLE if r.vector and r.op in WEIGHT_ZP_OPS]
    assert len(rows) >= 10, [r.function for r in rows]   # c908 x4, rvv x3, c906 x3
    for row in rows:
        takes = [n for n in nodes if n.op == row.op
                 and row.supports(_with_consts(n, {k: v for k, v in n.consts.items() if k != "weight_zp"}))]
        assert takes, f"{row.function}: no test layer it takes"
        assert not any(row.supports(n) for n in takes), row.function
    for name in ("c908", "c906", "rvv"):
        for n in nodes:
            assert select_kernel(n, get_target(name)).variant == "ref", (name, n.layer)
