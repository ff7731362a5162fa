"""Bit-exact tests of the ONNX rounding flavour of the int8 kernels against onnxruntime.

Each case is a single-op QDQ graph (int8 graph inputs -> DequantizeLinear -> op ->
QuantizeLinear -> int8 graph output) that onnxruntime fuses into its int8 kernel
(QLinearConv, QGemm, QLinearAdd, QLinearAveragePool; the graph is checked to be fused, so
the reference is never a float fallback), or a bare DequantizeLinear -> QuantizeLinear
(requantize) / QuantizeLinear (quantize). The C case gets the same int8 tensors and the
parameters hhbc/lower/quantized.py would give it, prepared by the same fixedpoint.onnx_*
functions; the output must equal onnxruntime's byte for byte.

Scales are chosen so that many rescaled values land exactly on .5 (power-of-two scale
ratios, small accumulators): a kernel that rounded ties away from zero, or rescaled in
another order or precision, fails (flipping hhbc_fp_round_even_f32 to round half away
fails every tie case). Cases with unremarkable scales check the float32 operation order.

The C driver and case format are tests/kernels/test_int8_kernels.py's (I8Driver, Case):
host cc with sanitizers, and every case in one program under QEMU for c908 and c906.
"""

from __future__ import annotations

import functools
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from c_harness import needs_cc
from test_int8_kernels import Case, I8Driver, broadcast_c, run_cases

from hhbc.quantize import fixedpoint as fp

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

KERNELS = ["conv2d", "depthwise_conv2d", "dense", "add", "pool2d", "requantize", "quantize"]
F32 = np.float32


# =====================================================================================
# onnxruntime: single-op QDQ graphs
# =====================================================================================

class _Graph:
    """A single-op QDQ graph: int8 (or float) graph inputs, one int8 graph output."""

    def __init__(self):
        self.nodes: list = []
        self.inits: list = []
        self.k = 0
        self.quant: dict[str, tuple[float, int]] = {}   # graph input / output -> (scale, zp)

    def const(self, array, base: str = "c") -> str:
        self.k += 1
        name = f"{base}{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def dq(self, x: str, scale, zp, axis: int | None = None) -> str:
        """DequantizeLinear(x) with a constant scale / zero point (per-axis when axis is given)."""
        self.k += 1
        out = f"dq{self.k}"
        attrs = {} if axis is None else {"axis": axis}
        if np.size(scale) == 1:
            self.quant.setdefault(x, (float(scale), int(zp)))
        self.nodes.append(helper.make_node("DequantizeLinear", [x, self.const(scale, "s"), self.const(zp, "z")],
                                           [out], **attrs))
        return out

    def dq_const(self, q: np.ndarray, scale, axis: int | None = None) -> str:
        """A dequantized constant (weights int8, bias int32), zero point 0."""
        zp = np.zeros(np.shape(scale), q.dtype)
        return self.dq(self.const(q, "q"), scale, zp, axis)

    def q(self, x: str, scale: float, zp: int, out: str = "y") -> str:
        self.quant[out] = (float(F32(scale)), zp)
        self.nodes.append(helper.make_node("QuantizeLinear", [x, self.const(F32(scale), "s"),
                                                              self.const(np.int8(zp), "z")], [out]))
        return out

    def run(self, feeds: dict[str, np.ndarray], fused_op: str | None) -> np.ndarray:
        """onnxruntime's int8 output; fused_op: the op its optimizer must have made of the
        group (else the reference would not be the int8 kernel under test). onnxruntime fuses
        a group only between float tensors, QuantizeLinear -> DequantizeLinear on each input
        and after the output: those are added, fed and read back exactly (the floats lie on
        the quantization grids)."""
        if fused_op is not None:
            return self._run_float_io(feeds, fused_op)
        return self._run(feeds, None)

    def _run_float_io(self, feeds: dict[str, np.ndarray], fused_op: str) -> np.ndarray:
        float_feeds = {}
        for name, q in feeds.items():
            scale, zp = self.quant[name]
            self.nodes.insert(0, helper.make_node("QuantizeLinear", [f"{name}_f", self.const(F32(scale), "s"),
                                                                     self.const(np.int8(zp), "z")], [name]))
            float_feeds[f"{name}_f"] = (F32(scale) * (q.astype(np.int32) - zp).astype(F32)).astype(F32)
        scale, zp = self.quant["y"]
        for node in self.nodes:
            node.output[:] = ["y_q" if o == "y" else o for o in node.output]
        self.nodes.append(helper.make_node("DequantizeLinear", ["y_q", self.const(F32(scale), "s"),
                                                                self.const(np.int8(zp), "z")], ["y"]))
        y = self._run(float_feeds, fused_op)
        q = np.rint(y.astype(np.float64) / np.float64(F32(scale))) + zp
        assert np.all((q >= -128) & (q <= 127)) and np.all(F32(scale) * (q - zp).astype(F32) == y)
        return q.astype(np.int8)

    def _run(self, feeds: dict[str, np.ndarray], fused_op: str | None) -> np.ndarray:
        types = {np.dtype(np.int8): TensorProto.INT8, np.dtype(np.float32): TensorProto.FLOAT}
        graph = helper.make_graph(
            self.nodes, "single_op",
            [helper.make_tensor_value_info(n, types[a.dtype], list(a.shape)) for n, a in feeds.items()],
            [helper.make_tensor_value_info("y", TensorProto.INT8 if fused_op is None else TensorProto.FLOAT,
                                           None)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if fused_op is not None:
            ops = _optimized_ops(model, opts)
            assert ops[fused_op] == 1, f"onnxruntime did not fuse the group into {fused_op}: {dict(ops)}"
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        (y,) = sess.run(["y"], feeds)
        assert y.dtype == (np.int8 if fused_op is None else np.float32)
        return y


def _optimized_ops(model, opts) -> Counter:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        opts.optimized_model_filepath = str(Path(d) / "opt.onnx")
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        ops = Counter(n.op_type for n in onnx.load(opts.optimized_model_filepath).graph.node)
    opts.optimized_model_filepath = ""
    return ops


def _nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _ints(rng, lo: int, hi: int, shape) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=shape).astype(np.int8)


# =====================================================================================
# cases: (onnxruntime reference, the C call with hhbc's ONNX-flavour parameters)
# =====================================================================================

def _conv_case(label: str, rng, *, cin: int, cout: int, groups: int, xq, xs: float, xz: int,
               w: np.ndarray, ws: np.ndarray, ys: float, yz: int, stride: int = 1, pad: int = 1,
               bias: bool = True) -> tuple[str, Case]:
    """Conv (NCHW in onnxruntime), checked through conv2d_i8 or depthwise_conv2d_i8 (NHWC)."""
    g = _Graph()
    per_channel = ws.size > 1
    axis = 0 if per_channel else None
    inputs = [g.dq("x", F32(xs), np.int8(xz)), g.dq_const(w, ws.astype(F32) if per_channel else F32(ws[0]), axis)]
    b = rng.integers(-300, 300, size=cout).astype(np.int32)
    if bias:
        bs = (F32(xs) * ws.astype(F32)).astype(F32)
        inputs.append(g.dq_const(b, bs if per_channel else bs[0], axis))
    g.nodes.append(helper.make_node("Conv", inputs, ["conv"], pads=[pad] * 4, strides=[stride] * 2,
                                    group=groups))
    g.q("conv", ys, yz)
    y = g.run({"x": xq}, "QLinearConv")

    depthwise = groups == cin and groups > 1 and w.shape[1] == 1
    kh, kw = w.shape[2:]
    if depthwise:
        w_c = np.ascontiguousarray(w.reshape(cout, kh, kw).transpose(1, 2, 0))
    else:
        w_c = np.ascontiguousarray(w.transpose(0, 2, 3, 1))
    scale = fp.onnx_conv_scales(xs, ws.astype(F32), ys)
    arrays = dict(x=_nhwc(xq), w=w_c, fs=scale)
    if bias:
        arrays["b"] = b
    body = f"""
hhbc_conv2d_i8_params p = {{.weight = w, .bias = {'b' if bias else 'NULL'}, .multiplier = NULL,
    .shift = NULL, .per_channel = {int(per_channel)}, .kernel_h = {kh}, .kernel_w = {kw},
    .stride_h = {stride}, .stride_w = {stride}, .dilation_h = 1, .dilation_w = 1,
    .pad_top = {pad}, .pad_left = {pad}, .groups = {groups}, .input_zp = {xz}, .output_zp = {yz},
    .act_min = -128, .act_max = 127, .scale = fs}};
{'hhbc_depthwise_conv2d_i8' if depthwise else 'hhbc_conv2d_i8'}(&t_x, &t_out, &p);
"""
    kernel = "depthwise_conv2d" if depthwise else "conv2d"
    label = (f"{label}: Conv x{list(xq.shape)} w{list(w.shape)} g{groups} s{stride} p{pad} "
             f"{'per-channel' if per_channel else 'per-tensor'} bias={bias} {xs}/{xz} -> {ys}/{yz}")
    return kernel, Case(label, body, _nhwc(y), arrays, dict(x=arrays["x"].shape))


def conv_cases(rng) -> list[tuple[str, Case]]:
    cases = []
    # ties: x scale 0.5, y scale 0.25, weight scales 2^-2..2^-5: requant scale 2^-1..2^-4,
    # small weights and inputs keep float(acc) * scale in range and often on .5
    pow2 = (2.0 ** -np.arange(2, 6)).astype(F32)
    for cin, cout, groups, per_channel, stride in [(4, 8, 1, True, 1), (4, 8, 1, False, 2),
                                                   (6, 6, 2, True, 1), (8, 8, 8, True, 1),
                                                   (8, 8, 8, False, 2), (4, 8, 4, True, 1)]:
        xq = _ints(rng, -9, 15, (1, cin, 7, 7))
        w = _ints(rng, -3, 3, (cout, cin // groups, 3, 3))
        ws = np.resize(pow2, cout) if per_channel else pow2[1:2]
        cases.append(_conv_case("ties", rng, cin=cin, cout=cout, groups=groups, xq=xq, xs=0.5, xz=3,
                                w=w, ws=ws, ys=0.25, yz=-5, stride=stride))
    # no bias, 1x1
    xq = _ints(rng, -20, 20, (1, 6, 5, 5))
    cases.append(_conv_case("ties 1x1", rng, cin=6, cout=5, groups=1, xq=xq, xs=0.5, xz=0,
                            w=_ints(rng, -2, 2, (5, 6, 1, 1)), ws=np.resize(pow2, 5), ys=0.25, yz=0,
                            pad=0, bias=False))
    # float32 operation order: unremarkable scales, full-range data
    for cin, cout, groups, per_channel in [(5, 7, 1, True), (5, 7, 1, False), (6, 6, 6, True),
                                           (6, 6, 6, False)]:
        xq = _ints(rng, -128, 127, (1, cin, 6, 6))
        w = _ints(rng, -127, 127, (cout, cin // groups, 3, 3))
        n = 9 * cin // groups
        ws = (rng.uniform(0.5, 2.0, size=cout if per_channel else 1) * 0.113 / 0.0371 / (n * 40)).astype(F32)
        cases.append(_conv_case("generic", rng, cin=cin, cout=cout, groups=groups, xq=xq, xs=0.0371, xz=3,
                                w=w, ws=ws, ys=0.113, yz=-7))
    return cases


def _dense_case(label: str, rng, *, xq, xs, xz, w, ws, ys, yz, bias: bool) -> tuple[str, Case]:
    """Gemm (transB=1, W [N, K]) -> QGemm, checked through dense_i8."""
    g = _Graph()
    n, k = w.shape
    per_channel = ws.size > 1
    axis = 0 if per_channel else None
    inputs = [g.dq("x", F32(xs), np.int8(xz)), g.dq_const(w, ws.astype(F32) if per_channel else F32(ws[0]), axis)]
    b = rng.integers(-300, 300, size=n).astype(np.int32)
    if bias:
        bs = (F32(xs) * ws.astype(F32)).astype(F32)
        inputs.append(g.dq_const(b, bs if per_channel else bs[0], axis))
    g.nodes.append(helper.make_node("Gemm", inputs, ["fc"], transB=1))
    g.q("fc", ys, yz)
    y = g.run({"x": xq}, "QGemm")
    m = xq.shape[0]
    arrays = dict(x=xq, w=np.ascontiguousarray(w), fs=fp.onnx_conv_scales(xs, ws.astype(F32), ys))
    if bias:
        arrays["b"] = b
    body = f"""
hhbc_dense_i8_params p = {{.weight = w, .bias = {'b' if bias else 'NULL'}, .multiplier = NULL,
    .shift = NULL, .real_scale = NULL, .per_channel = {int(per_channel)}, .m = {m}, .n = {n},
    .k = {k}, .input_zp = {xz}, .output_zp = {yz}, .act_min = -128, .act_max = 127, .scale = fs}};
hhbc_dense_i8(&t_x, &t_out, &p);
"""
    label = (f"{label}: Gemm [{m}x{k}]x[{n}x{k}]^T {'per-channel' if per_channel else 'per-tensor'} "
             f"bias={bias} {xs}/{xz} -> {ys}/{yz}")
    return "dense", Case(label, body, y, arrays, dict(x=xq.shape))


def dense_cases(rng) -> list[tuple[str, Case]]:
    cases = []
    pow2 = (2.0 ** -np.arange(2, 6)).astype(F32)
    for per_channel, bias in [(True, True), (False, True), (True, False)]:
        xq = _ints(rng, -20, 26, (64, 12))
        ws = np.resize(pow2, 16) if per_channel else pow2[:1]
        cases.append(_dense_case("ties", rng, xq=xq, xs=0.5, xz=3, w=_ints(rng, -3, 3, (16, 12)), ws=ws,
                                 ys=0.25, yz=9, bias=bias))
    for per_channel in (True, False):
        k = 24
        ws = (rng.uniform(0.5, 2.0, size=10 if per_channel else 1) * 0.113 / 0.0371 / (k * 40)).astype(F32)
        cases.append(_dense_case("generic", rng, xq=_ints(rng, -128, 127, (32, k)), xs=0.0371, xz=3,
                                 w=_ints(rng, -127, 127, (10, k)), ws=ws, ys=0.113, yz=-7, bias=True))
    return cases


def _add_case(label: str, a, b, sa, za, sb, zb, sc, zc) -> tuple[str, Case]:
    """Add -> QLinearAdd (numpy broadcasting of the ONNX shapes), checked through add_i8."""
    g = _Graph()
    g.nodes.append(helper.make_node("Add", [g.dq("a", F32(sa), np.int8(za)), g.dq("b", F32(sb), np.int8(zb))],
                                    ["sum"]))
    g.q("sum", sc, zc)
    y = g.run({"a": a, "b": b}, "QLinearAdd")
    o = fp.onnx_add_params(sa, za, sb, zb, sc, zc)
    body = f"""
hhbc_add_i8_params p = {{.shape = {broadcast_c(a.shape, b.shape, y.shape)},
    .a_zp = {za}, .b_zp = {zb}, .output_zp = {zc}, .act_min = -128, .act_max = 127, .onnx = 1,
    .a_ratio = {float(o.a_ratio).hex()}f, .b_ratio = {float(o.b_ratio).hex()}f, .fixed = {float(o.fixed).hex()}f}};
hhbc_add_i8(&t_a, &t_b, &t_out, &p);
"""
    label = f"{label}: Add {list(a.shape)}+{list(b.shape)} {sa}/{za} + {sb}/{zb} -> {sc}/{zc}"
    return "add", Case(label, body, y, dict(a=a, b=b), dict(a=a.shape, b=b.shape))


def add_cases(rng) -> list[tuple[str, Case]]:
    # every pair of int8 values
    qa, qb = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    a, b = qa.astype(np.int8).reshape(1, 1, 256, 256), qb.astype(np.int8).reshape(1, 1, 256, 256)
    cases = [_add_case("ties", a, b, 0.5, 0, 0.25, 1, 0.5, 2),
             _add_case("ties", a, b, 0.25, -3, 0.125, 7, 0.5, -1),
             _add_case("generic", a, b, 0.05, -3, 0.03, 7, 0.08, 5),
             _add_case("generic", a, b, 0.0052774, -128, 0.0104364, 21, 0.01124046, -26)]
    x = _ints(rng, -128, 127, (2, 4, 6, 6))
    for shape in [(1, 4, 1, 1), (6,), (1, 1, 6, 6), (2, 4, 6, 1)]:
        cases.append(_add_case("ties broadcast", x, _ints(rng, -128, 127, shape), 0.5, 1, 0.25, -2, 0.5, 3))
    cases.append(_add_case("ties broadcast", _ints(rng, -128, 127, (4, 1, 1)), x, 0.25, 0, 0.5, 5, 0.5, 0))
    return cases


def _pool_case(label: str, xq, k: int, stride: int, pad: int, cip: int, xs, xz, ys, yz) -> tuple[str, Case]:
    """AveragePool -> QLinearAveragePool, checked through pool2d_i8 in the path the lowering
    picks (whole unpadded image: integer sum; any other window: float)."""
    g = _Graph()
    g.nodes.append(helper.make_node("AveragePool", [g.dq("x", F32(xs), np.int8(xz))], ["avg"],
                                    kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4,
                                    count_include_pad=cip))
    g.q("avg", ys, yz)
    y = g.run({"x": xq}, "QLinearAveragePool")
    whole = (k, k) == xq.shape[2:] and pad == 0
    body = f"""
hhbc_pool2d_i8_params p = {{.kind = HHBC_POOL_AVG, .kernel_h = {k}, .kernel_w = {k},
    .stride_h = {stride}, .stride_w = {stride}, .pad_top = {pad}, .pad_left = {pad},
    .act_min = -128, .act_max = 127, .rounding = {'HHBC_POOL_ONNX_WHOLE' if whole else 'HHBC_POOL_ONNX_FLOAT'},
    .count_include_pad = {cip}, .input_zp = {xz}, .output_zp = {yz},
    .input_scale = {float(F32(xs)).hex()}f, .output_scale = {float(F32(ys)).hex()}f,
    .scale = {fp.onnx_whole_pool_scale(xs, k * k, ys).hex()}f}};
hhbc_pool2d_i8(&t_x, &t_out, &p);
"""
    label = (f"{label}: AveragePool x{list(xq.shape)} k{k} s{stride} p{pad} count_include_pad={cip} "
             f"{'whole' if whole else 'float'} {xs}/{xz} -> {ys}/{yz}")
    x = _nhwc(xq)
    return "pool2d", Case(label, body, _nhwc(y), dict(x=x), dict(x=x.shape))


def pool_cases(rng) -> list[tuple[str, Case]]:
    cases = []
    # whole image (integer sum): 2x2 -> sum / 4 at equal scales lands on .5 a quarter of the time
    cases.append(_pool_case("ties", _ints(rng, -128, 127, (2, 64, 2, 2)), 2, 2, 0, 0, 0.5, 3, 0.5, -4))
    cases.append(_pool_case("ties", _ints(rng, -128, 127, (1, 64, 4, 4)), 4, 4, 0, 0, 0.25, 0, 0.5, 1))
    cases.append(_pool_case("generic", _ints(rng, -128, 127, (1, 64, 8, 8)), 8, 8, 0, 0, 0.0371, 3, 0.0113, -7))
    # float path: windows inside, clipped by padding, counted with or without the padding
    x = _ints(rng, -128, 127, (1, 16, 8, 8))
    cases.append(_pool_case("ties", x, 2, 2, 0, 0, 0.5, 3, 0.5, -4))
    for cip in (0, 1):
        cases.append(_pool_case("ties", x, 2, 2, 1, cip, 0.5, 3, 0.5, -4))
        cases.append(_pool_case("ties", _ints(rng, -128, 127, (1, 16, 9, 9)), 3, 2, 1, cip, 0.5, 3, 0.25, 0))
        cases.append(_pool_case("generic", _ints(rng, -128, 127, (1, 16, 9, 9)), 3, 2, 1, cip, 0.0371, 3,
                                0.0113, -7))
    return cases


def _requantize_case(label: str, s1: float, z1: int, s2: float, z2: int) -> tuple[str, Case]:
    """DequantizeLinear -> QuantizeLinear of every int8 value, checked through requantize_i8."""
    xq = np.arange(-128, 128).astype(np.int8).reshape(1, 256)
    g = _Graph()
    g.q(g.dq("x", F32(s1), np.int8(z1)), s2, z2)
    y = g.run({"x": xq}, None)
    m, s = fp.requant_multiplier(s1, s2)
    body = f"""
hhbc_requantize_i8_params p = {{.rq = {{.input_zp = {z1}, .output_zp = {z2}, .multiplier = {m},
    .shift = {s}}}, .act_min = -128, .act_max = 127, .onnx = 1,
    .input_scale = {float(F32(s1)).hex()}f, .output_scale = {float(F32(s2)).hex()}f}};
hhbc_requantize_i8(&t_x, &t_out, &p);
"""
    return "requantize", Case(f"{label}: DQ {s1}/{z1} -> Q {s2}/{z2}", body, y, dict(x=xq), dict(x=xq.shape))


def requantize_cases(rng) -> list[tuple[str, Case]]:
    return [_requantize_case("ties", 0.25, 3, 0.5, 0),
            _requantize_case("ties", 0.125, -7, 0.5, 11),
            _requantize_case("saturation", 0.5, 0, 0.25, 3),
            _requantize_case("generic", 0.05, -3, 0.0371, 7),
            _requantize_case("generic", 0.0371, 7, 0.05, -3)]


def _quantize_case(label: str, x: np.ndarray, scale: float, zp: int) -> tuple[str, Case]:
    """QuantizeLinear float -> int8, checked through quantize_i8."""
    g = _Graph()
    g.q("x", scale, zp)
    y = g.run({"x": x}, None)
    body = f"""
hhbc_affine_i8_params p = {{.scale = {float(F32(scale)).hex()}f, .zero_point = {zp}, .onnx = 1}};
hhbc_quantize_i8(&t_x, &t_out, &p);
"""
    return "quantize", Case(f"{label}: Q x{list(x.shape)} {scale}/{zp}", body, y, dict(x=x), dict(x=x.shape))


def quantize_cases(rng) -> list[tuple[str, Case]]:
    k = np.arange(-140, 140, dtype=np.float64)
    cases = []
    for scale, zp in [(0.25, -3), (0.0371, 7)]:
        s = float(F32(scale))
        x = np.concatenate([(k + 0.5) * s, (k - 0.5) * s, k * s, [0.0, -0.0, 1e6, -1e6, 3e38, -3e38]])
        cases.append(_quantize_case("ties and saturation", x.astype(F32).reshape(1, -1), scale, zp))
    cases.append(_quantize_case("random", rng.uniform(-6, 6, size=(4, 100)).astype(F32), 0.0371, 7))
    return cases


@functools.lru_cache(maxsize=None)
def all_cases() -> dict[str, list[Case]]:
    """Every case, by kernel (onnxruntime runs once per module)."""
    rng = np.random.default_rng(2024)
    by_kernel: dict[str, list[Case]] = {k: [] for k in KERNELS}
    for make in (conv_cases, dense_cases, add_cases, pool_cases, requantize_cases, quantize_cases):
        for kernel, case in make(rng):
            by_kernel[kernel].append(case)
    return by_kernel


# =====================================================================================
# tests
# =====================================================================================

MIN_CASES = {"conv2d": 6, "depthwise_conv2d": 5, "dense": 5, "add": 9, "pool2d": 10,
             "requantize": 5, "quantize": 3}


@needs_cc
@pytest.mark.parametrize("kernel", KERNELS)
def test_onnx_flavour_matches_onnxruntime(kernel, tmp_path):
    assert run_cases(tmp_path, kernel, all_cases()[kernel], MIN_CASES[kernel],
                     reference="onnxruntime") >= MIN_CASES[kernel]


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("target", ["c908", "c906"])
def test_onnx_flavour_riscv64_qemu(tmp_path, target):
    """Every case in one program, zig cc -O2 for the target's -mcpu (c908: RVV, the compiler
    may vectorize), under QEMU: the float32 rescaling and its ties must not depend on the
    machine (no contraction into fused multiply-adds, no other rounding mode)."""
    if importlib.util.find_spec("ziglang") is None or importlib.util.find_spec("qemu") is None:
        pytest.skip("needs ziglang and xuantie-qemu")
    drv = I8Driver(tmp_path, f"onnx_all_{target}", KERNELS, "onnxruntime")
    for kernel in KERNELS:
        for case in all_cases()[kernel]:
            drv.case(case)
    drv.run(target)


# =====================================================================================
# the Sigmoid / Tanh tables (lut_i8 only looks them up: the table is what must be exact)
# =====================================================================================

def _lut_reference(op: str, xs: float, xz: int, ys: float, yz: int) -> np.ndarray:
    """onnxruntime on every int8 input: Sigmoid fused into QLinearSigmoid (checked), Tanh in float."""
    xq = np.arange(-128, 128).astype(np.int8).reshape(1, 256)
    g = _Graph()
    g.nodes.append(helper.make_node(op, [g.dq("x", F32(xs), np.int8(xz))], ["f"]))
    g.q("f", ys, yz)
    return g.run({"x": xq}, "QLinearSigmoid" if op == "Sigmoid" else None).reshape(-1)


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh"])
def test_onnx_lut_tables_match_onnxruntime(op):
    """fixedpoint.onnx_lut_table against onnxruntime over all 256 inputs, for the output
    quantizations quantizers give these ops and for random ones, input scales from a narrow to
    a saturating range. Sigmoid exact (QLinearSigmoid's table); Tanh onnxruntime runs in float:
    within one step (see tests/frontends/test_onnx_qdq.py, STEP_BOUND), measured exact here."""
    rng = np.random.default_rng(11)
    natural = (1 / 256, -128) if op == "Sigmoid" else (1 / 128, 0)
    scales = [(float(rng.uniform(0.005, 0.2)), int(rng.integers(-60, 60)),
               *(natural if k % 2 == 0 else (float(rng.uniform(0.002, 0.02)), int(rng.integers(-128, 20)))))
              for k in range(60)]
    if op == "Sigmoid":   # ties: sigmoid(0) = 0.5 is 2.5 / 8.5 output steps (to even, not away from 0)
        scales += [(0.1, 0, 0.2, 0), (0.07, 5, 1 / 17, -100)]
    for xs, xz, ys, yz in scales:
        ref = _lut_reference(op, xs, xz, ys, yz).astype(np.int32)
        table = fp.onnx_lut_table(op.lower(), xs, xz, ys, yz)
        got = table[np.arange(-128, 128) & 0xFF].astype(np.int32)
        diff = np.abs(got - ref)
        assert diff.max() <= (0 if op == "Sigmoid" else 1), (op, xs, xz, ys, yz, np.flatnonzero(diff))
